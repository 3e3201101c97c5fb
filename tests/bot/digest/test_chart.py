import io
import math
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from bot.digest.chart import LINE_COLOURS, _series, _spread, render_chart
from bot.lines import CostLine
from bot.market.snapshot import Snapshot

NOW = 1_795_424_400.0  # Mon 23 Nov 2026 09:00 UTC
DAY = 86_400.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

CASH = CostLine("cash", "CoinShares cash cost (2025-Q2)", 74_600.0)
ALLIN = CostLine("allin", "CoinShares all-in cost (2025-Q2)", 137_800.0)


def snaps(start_days_ago: float, price, step_s: float = 900.0, fresh: bool = True):
    """Snapshots every `step_s` from `start_days_ago` to now; `price(t)` gives each price."""
    out = []
    t = NOW - start_days_ago * DAY
    while t <= NOW:
        out.append(Snapshot(taken_at=t, quotes=(), price_usd=price(t), fresh=fresh))
        t += step_s
    return out


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def wave(t: float) -> float:
    return 80_000 + 8_000 * math.sin(t / DAY)


@pytest.mark.parametrize(
    "snapshots, lines",
    [
        (snaps(90, wave), [CASH, ALLIN]),
        (snaps(7, wave), [CASH, ALLIN]),  # a bot a week old: no history before the week
        (snaps(2, wave), [CASH]),
        ([], [CASH, ALLIN]),  # nothing at all
        ([], []),
        (snaps(90, wave, fresh=False), [CASH]),  # only stale polls: no prices
        (snaps(0.01, wave), [CASH]),  # a single snapshot
        (snaps(7, lambda t: 91_000.0), []),  # a flat price, no lines
    ],
)
def test_png_of_the_expected_size(snapshots, lines):
    png = render_chart(snapshots, lines, NOW)
    assert png_size(png) == (1200, 750)  # 8 × 5 in at 150 dpi: sharp when shown at 800×500
    assert png.endswith(b"IEND\xaeB`\x82")


def test_writes_to_a_path_and_to_a_buffer(tmp_path: Path):
    snapshots = snaps(7, wave)
    path = tmp_path / "chart.png"
    png = render_chart(snapshots, [CASH], NOW, path)
    assert path.read_bytes() == png
    buffer = io.BytesIO()
    assert render_chart(snapshots, [CASH], NOW, buffer) == png
    assert buffer.getvalue() == png
    assert render_chart(snapshots, [CASH], NOW, str(tmp_path / "again.png")) == png


def shade_pixels(png: bytes, colour: str, alpha: float) -> int:
    """Pixels of `colour` at `alpha` over white (the shading), give or take antialiasing."""
    import matplotlib.image
    import numpy as np

    image = matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3]
    rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    shade = 1 - alpha + alpha * rgb
    return int((np.abs(image - shade).max(axis=-1) < 0.02).sum())


@pytest.mark.parametrize("lift", [3_000, 20_000])  # the line in the week panel, or off it
def test_area_below_a_line_is_shaded(lift):
    colour = LINE_COLOURS["cash"]
    below_part_of_the_week = render_chart(snaps(7, wave), [CASH], NOW)  # dips to 72,000
    always_above = render_chart(snaps(7, lambda t: wave(t) + lift), [CASH], NOW)
    # the line's own antialiased edges give a few pixels of that colour; the shading thousands
    assert shade_pixels(below_part_of_the_week, colour, 0.2) > 2_000
    assert shade_pixels(always_above, colour, 0.2) < 400


def test_data_outside_the_90_days_is_ignored():
    recent = snaps(7, wave)
    old_and_future = [
        Snapshot(taken_at=NOW - 200 * DAY, quotes=(), price_usd=1.0, fresh=True),
        Snapshot(taken_at=NOW + DAY, quotes=(), price_usd=1e9, fresh=True),
    ]
    assert render_chart(recent + old_and_future, [CASH], NOW) == render_chart(recent, [CASH], NOW)


def test_matplotlib_is_imported_only_to_draw():
    code = (
        "import sys\n"
        "import bot.digest.chart, bot.digest.contents, bot.digest.render, bot.digest.schedule\n"
        "assert 'matplotlib' not in sys.modules, 'imported at module import'\n"
        "from bot.digest.chart import render_chart\n"
        "render_chart([], [], 1795424400.0)\n"
        "import matplotlib\n"
        "assert matplotlib.get_backend().lower() == 'agg', matplotlib.get_backend()\n"
    )
    root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, timeout=120)


@pytest.mark.parametrize(
    "times_h, breaks",
    [
        ([0, 1, 2, 3], 0),  # regular polls
        ([0, 1, 2, 3, 10, 11], 1),  # a 7-hour hole
        ([0, 1, 2, 2.9, 3.8, 5.5], 0),  # a missed poll is not a gap (under the 1.12 h minimum)
    ],
)
def test_gaps_break_the_price_line(times_h, breaks):
    x, y = _series([(NOW + h * 3600, 1.0) for h in times_h], min_gap_s=7 * DAY / 150)
    assert sum(math.isnan(v) for v in y) == breaks
    assert len(x) == len(y) == len(times_h) + breaks
    assert x == sorted(x)


@pytest.mark.parametrize(
    "wanted, gap, expected",
    [
        ([0.2, 0.5, 0.8], 0.1, [0.2, 0.5, 0.8]),  # far enough apart: left alone
        ([0.5, 0.52], 0.1, [0.5, 0.6]),  # pushed up
        ([0.95, 0.97, 1.0], 0.1, [0.8, 0.9, 1.0]),  # pushed down from the top edge
        ([-0.3, 0.0], 0.1, [0.0, 0.1]),  # clamped into the axes
        ([0.5] * 11, 0.2, [-0.5 + 0.2 * i for i in range(11)]),  # too many: centred, past edges
    ],
)
def test_spread_labels(wanted, gap, expected):
    placed = _spread(wanted, gap)
    assert placed == pytest.approx(expected)
    assert all(b - a >= gap - 1e-9 for a, b in zip(placed, placed[1:], strict=False))


@pytest.mark.parametrize("name", ["$\\undefined$", "$x^{$", "Acme $5 and $10", "a_b^c \\frac"])
def test_line_names_are_plain_text(name):
    """A line named `$\\undefined$` once failed every digest chart (matplotlib mathtext)."""
    own = CostLine("cost:10", f"{name} cash cost", 81_000.0)
    png = render_chart(snaps(90, wave), [CASH, own], NOW)
    assert png_size(png) == (1200, 750)


def test_an_old_line_is_marked_in_the_chart_legend():
    from bot.digest.chart import _name

    old = CostLine("cash", "CoinShares cash cost (2025-Q2)", 74_600.0, "src", "2025-Q2")
    fresh = CostLine("cash", "CoinShares cash cost (2026-Q3)", 80_000.0, "src", "2026-Q3")
    assert _name(old, NOW) == "CoinShares cash cost (2025-Q2) (old)"
    assert _name(fresh, NOW) == "CoinShares cash cost (2026-Q3)"
    assert _name(CASH, NOW) == CASH.label  # no quarter: nothing to judge
