import struct
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.backtest.chart import render_chart
from bot.backtest.lines import fixed_line, fleet_line
from bot.backtest.replay import replay
from bot.backtest.series import Point
from storage.workspaces import Fleet

DAY = 86_400
START = datetime(2024, 1, 1, tzinfo=UTC).timestamp()


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def wavy(n: int, low: float, high: float, step: float = DAY) -> list[Point]:
    mid, amp = (low + high) / 2, (high - low) / 2
    return [
        Point(START + i * step, mid + amp * (1 if (i // 15) % 2 else -1), 90e12) for i in range(n)
    ]


@pytest.mark.parametrize(
    "points, poll",
    [
        (wavy(400, 40_000, 70_000), "daily"),
        (wavy(400, 5_000, 120_000), "daily"),  # a log scale
        (wavy(24 * 60, 50_000, 60_000, step=3600), "hourly"),
        ([], "daily"),
        (wavy(1, 50_000, 50_000), "daily"),
    ],
)
def test_writes_a_png(tmp_path, points, poll):
    lines = [
        fixed_line("below:55000", "alert level $55,000", 55_000),
        fleet_line(Fleet(20, 0.06, 0)),
    ]
    result = replay(points, lines, poll)
    path = tmp_path / "chart.png"
    png = render_chart(result, path)
    assert path.read_bytes() == png
    assert png_size(png) == (1500, 840)
    assert png.endswith(b"IEND\xaeB`\x82")


def test_alerts_are_drawn():
    line = fixed_line("below:55000", "alert level $55,000", 55_000)
    result = replay(wavy(120, 40_000, 70_000), [line])
    assert result.alerts
    quiet = replace(result, alerts=(), lines=tuple(replace(r, alerts=()) for r in result.lines))
    assert render_chart(result) != render_chart(quiet)


def test_matplotlib_is_not_imported_by_the_replay():
    code = (
        "import sys; import bot.backtest.replay, bot.backtest.history, bot.cli.backtest; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_line_names_are_plain_text():
    """A line named `$\\undefined$` is drawn as typed, not parsed as mathtext."""
    line = fixed_line("cost:10", "$\\undefined$ cash cost", 55_000)
    png = render_chart(replay(wavy(120, 40_000, 70_000), [line]))
    assert png_size(png) == (1500, 840)


def test_a_hashprice_threshold_is_not_drawn_on_the_price_axis():
    """$75/PH/day is not US$ 75 per BTC: the chart leaves a hashprice rule's line out (its
    alerts are marked on the price curve) and is then the chart without that rule."""
    from bot.backtest.lines import hashprice_line

    points = wavy(120, 40_000, 70_000)
    price = fixed_line("below:55000", "alert level $55,000", 55_000)
    both = replay(points, [price, hashprice_line("hashprice:usd:75")])
    assert any(a.line_key == "hashprice:usd:75" for a in both.alerts)
    lines = tuple(r if r.metric == "price" else replace(r, alerts=()) for r in both.lines)
    alerts = tuple(a for a in both.alerts if a.metric == "price")
    quiet = replace(both, lines=lines, alerts=alerts)
    assert render_chart(quiet) == render_chart(replay(points, [price]))
    assert render_chart(both) != render_chart(quiet)  # its alerts are marked
