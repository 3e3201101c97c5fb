"""The backtest chart: BTC price and the lines over the period, with the alerts marked.

Each line is drawn as it stood on each day (a benchmark steps at each quarter, a fleet line at
each difficulty adjustment); ▼ marks an alert that the price crossed below a line, ▲ one that it
recovered, in the line's colour. A period where prices span more than a factor of 8 is drawn on a
log scale, so that early years stay readable. A gap in the data breaks the price line.

matplotlib is imported only here, with the Agg backend and its object API (as the digest chart).
"""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime
from pathlib import Path

from bot import fmt
from bot.backtest.replay import BacktestResult
from bot.backtest.series import POLL_SECONDS
from bot.digest.chart import LINE_COLOURS, OTHER_COLOURS, PLAIN_TEXT, PRICE_COLOUR

SIZE_IN = (10.0, 5.6)
DPI = 150
LOG_SPAN = 8.0


def render_chart(result: BacktestResult, path: str | Path | None = None) -> bytes:
    """Draw the chart; return the PNG bytes and, with `path`, write them there."""
    import matplotlib

    matplotlib.use("Agg")
    with matplotlib.rc_context(PLAIN_TEXT):  # line names are drawn as typed, never as mathtext
        return _render(result, path)


def _render(result: BacktestResult, path: str | Path | None) -> bytes:
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    fig = Figure(figsize=SIZE_IN, dpi=DPI)
    fig.subplots_adjust(left=0.09, right=0.98, top=0.86, bottom=0.2)
    ax = fig.add_subplot()
    fig.suptitle(
        "Backtest: BTC price against the cost lines",
        x=0.09,
        ha="left",
        y=0.965,
        fontsize=13,
        fontweight="bold",
    )
    points = result.points
    period = f"{fmt.day(result.start)} – {fmt.day(result.end)}" if points else "no data"
    fig.text(
        0.09,
        0.895,
        f"{period} · {len(points):,} {result.poll} polls · {len(result.alerts)} alerts",
        fontsize=9,
        color="#555555",
    )

    base = _num(0.0)  # matplotlib's day number of the unix epoch
    gap = POLL_SECONDS[result.poll] * 1.5
    x: list[float] = []
    y: list[float] = []
    for i, p in enumerate(points):
        if i and p.time - points[i - 1].time > gap:
            x.append(base + (p.time + points[i - 1].time) / 2 / 86_400)
            y.append(math.nan)
        x.append(base + p.time / 86_400)
        y.append(p.price_usd)
    handles = []
    if points:
        (price_line,) = ax.plot(x, y, color=PRICE_COLOUR, lw=1.3, zorder=3, label="BTC price")
        handles.append(price_line)

    colours = _colours([r.key for r in result.lines])
    xs = [base + p.time / 86_400 for p in points]
    values_all = [p.price_usd for p in points]
    for report in result.lines:
        colour = colours[report.key]
        # A hashprice rule's line is in $/PH/day, not on this axis: only its alerts are marked,
        # on the price curve.
        price_line = report.metric == "price"
        ys = [v if v is not None and price_line else math.nan for v in report.values]
        values_all += [v for v in report.values if v is not None and price_line]
        if price_line and any(v is not None for v in report.values):
            (h,) = ax.plot(
                xs, ys, color=colour, lw=1.4, ls=(0, (5, 2)), drawstyle="steps-post", zorder=2,
                label=report.label,
            )  # fmt: skip
            handles.append(h)
        for alert in report.alerts:
            down = alert.event == "crossed_below"
            ax.plot(
                [_num(alert.time)], [alert.price_usd], marker="v" if down else "^", ms=8,
                color=colour, markeredgecolor="#222222", markeredgewidth=0.6, zorder=5, ls="none",
            )  # fmt: skip

    if result.alerts:
        handles += [
            Line2D([], [], marker="v", ls="none", color="#888888", markeredgecolor="#222222",
                   label="alert: crossed below"),
            Line2D([], [], marker="^", ls="none", color="#888888", markeredgecolor="#222222",
                   label="alert: recovered"),
        ]  # fmt: skip

    positive = [v for v in values_all if v > 0]
    if positive and max(positive) / min(positive) > LOG_SPAN:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt.usd(v)))
    locator = mdates.AutoDateLocator(tz=UTC, minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))
    ax.set_ylabel("US$ per BTC", fontsize=9, color="#333333")
    ax.tick_params(labelsize=8.5, colors="#333333")
    ax.grid(True, color="#e6e6e6", lw=0.7)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if not points:
        ax.text(0.5, 0.5, "No prices in this period", transform=ax.transAxes, ha="center",
                va="center", color="#666666")  # fmt: skip
    if handles:
        fig.legend(
            handles=handles, loc="lower left", bbox_to_anchor=(0.09, 0.01), ncol=3, fontsize=8,
            frameon=False,
        )  # fmt: skip

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    png = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(png)
    return png


def _colours(keys: list[str]) -> dict[str, str]:
    others = iter(OTHER_COLOURS * (len(keys) // len(OTHER_COLOURS) + 1))
    return {key: LINE_COLOURS.get(key) or next(others) for key in keys}


def _num(unix_s: float) -> float:
    import matplotlib.dates as mdates

    return mdates.date2num(datetime.fromtimestamp(unix_s, UTC))
