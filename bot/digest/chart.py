"""The digest's chart: BTC price against the cost lines, as a PNG (DESIGN §6).

Two panels: the last 7 days (large) and the last 90 days (small). Prices are the fresh
snapshots only; a gap in the data (longer than twice the median poll interval, as for hours below
a line) breaks the price line rather than drawing a straight segment across it. Where the price is
below a cost line the area between them is shaded in the line's colour. Each line is labelled at
the right edge; a line far from the week's prices is not allowed to flatten the week panel: it is
named at the top or bottom of the label column with an arrow (▲/▼) and its shading is lighter.
The 90-day panel always shows every line, and a grey band marks the week in it.

matplotlib is imported only when a chart is made (it is slow to import and most processes never
draw), with the Agg backend, and through its object API rather than pyplot, which keeps global
state and is not safe to use from the scheduler's threads.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from bot import benchmarks, fmt
from bot.digest.contents import WEEK_S, fresh_prices, gap_limit_s
from bot.lines import CostLine
from bot.market.snapshot import Snapshot

HISTORY_S = 90 * 86_400
SIZE_IN = (8.0, 5.0)  # laid out for ~800×500 px, the size Slack previews at
DPI = 150  # drawn at 1200×750 so the preview stays sharp on high-density screens
MAX_POINTS = 4000  # longer series are averaged into this many buckets or fewer
MAX_LINES = 8  # more cost lines than this make a chart nobody can read
BAND = 0.12  # a line more than 12% of the price beyond the week's range is named, not drawn

PRICE_COLOUR = "#1d3557"
LINE_COLOURS = {"cash": "#e76f00", "allin": "#c1121f", "fleet": "#2a9d3f", "fleet:main": "#2a9d3f"}
# Every text on a chart is plain text: a line people named `$\undefined$` is drawn as typed,
# not parsed as matplotlib mathtext (which would fail the whole chart).
PLAIN_TEXT = {"text.parse_math": False}
OTHER_COLOURS = ("#7b2cbf", "#0081a7", "#8d6e63", "#d62f8b", "#4a5a68")


def render_chart(
    snapshots: Sequence[Snapshot],
    lines: Sequence[CostLine],
    now: float,
    path_or_buffer: str | Path | IO[bytes] | None = None,
) -> bytes:
    """Draw the chart of the 90 days up to `now`; return the PNG bytes.

    With `path_or_buffer`, the PNG is also written there (a path, or a binary file object).
    """
    import matplotlib

    matplotlib.use("Agg")
    with matplotlib.rc_context(PLAIN_TEXT):
        return _render(snapshots, lines, now, path_or_buffer)


def _render(
    snapshots: Sequence[Snapshot],
    lines: Sequence[CostLine],
    now: float,
    path_or_buffer: str | Path | IO[bytes] | None,
) -> bytes:
    from matplotlib.figure import Figure

    prices = [(t, p) for t, p in fresh_prices(snapshots) if now - HISTORY_S <= t <= now]
    week = [(t, p) for t, p in prices if t >= now - WEEK_S]
    shown = list(lines[:MAX_LINES])
    colours = _colours(shown)

    fig = Figure(figsize=SIZE_IN, dpi=DPI)
    fig.subplots_adjust(left=0.115, right=0.76, top=0.885, bottom=0.085, hspace=0.42)
    grid = fig.add_gridspec(2, 1, height_ratios=(3, 1.1))
    top = fig.add_subplot(grid[0])
    bottom = fig.add_subplot(grid[1])

    title = "BTC price against the cost to mine"
    fig.suptitle(title, x=0.115, ha="left", y=0.975, fontsize=12.5, fontweight="bold")
    subtitle = f"Week to {fmt.when(now)}"
    if len(lines) > len(shown):
        subtitle += f" · {len(lines) - len(shown)} more cost lines not drawn"
    fig.text(0.115, 0.915, subtitle, fontsize=8.5, color="#555555")

    _week_panel(top, week, shown, colours, now)
    _history_panel(bottom, prices, shown, colours, now)

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    png = buffer.getvalue()
    if isinstance(path_or_buffer, str | Path):
        Path(path_or_buffer).write_bytes(png)
    elif path_or_buffer is not None:
        path_or_buffer.write(png)
    return png


def _week_panel(ax, week, lines, colours, now) -> None:
    _style(ax, now - WEEK_S, now, "Last 7 days (UTC)", day_ticks=True)
    values = [line.value_usd for line in lines]
    if week:
        lo, hi = min(p for _, p in week), max(p for _, p in week)
        mid = (lo + hi) / 2
        near = [v for v in values if lo - BAND * mid <= v <= hi + BAND * mid]
        ymin, ymax = _padded(min([lo, *near]), max([hi, *near]))
    elif values:
        ymin, ymax = _padded(min(values), max(values))
    else:
        ymin, ymax = 0.0, 1.0
    ax.set_ylim(ymin, ymax)

    x, y = _series(week, min_gap_s=WEEK_S / 150)
    labels = []
    for line in lines:
        colour = colours[line.key]
        if ymin <= line.value_usd <= ymax:
            ax.axhline(line.value_usd, color=colour, lw=1.3, ls=(0, (5, 3)), zorder=2)
            text = _label_text(_name(line, now), fmt.usd(line.value_usd))
            labels.append(((line.value_usd - ymin) / (ymax - ymin), text, colour))
        else:  # named at the top or bottom of the label column, with an arrow towards it
            above = line.value_usd > ymax
            arrow = "▲" if above else "▼"
            text = _label_text(f"{arrow} {_name(line, now)}", fmt.usd(line.value_usd))
            labels.append((1.0 if above else 0.0, text, colour))
    if x:
        drawn = {line.key for line in lines if ymin <= line.value_usd <= ymax}
        alphas = {line.key: 0.2 if line.key in drawn else 0.08 for line in lines}
        _shade_below(ax, x, y, lines, colours, alphas)
        ax.plot(x, y, color=PRICE_COLOUR, lw=1.7, zorder=3, solid_joinstyle="round")
        t_last, p_last = week[-1]
        labels.append(((p_last - ymin) / (ymax - ymin), f"BTC {fmt.usd(p_last)}", PRICE_COLOUR))
        ax.plot([_num(t_last)], [p_last], "o", color=PRICE_COLOUR, ms=3.5, zorder=4)
    else:
        _empty_note(ax, "No fresh price data in the last 7 days")
    _right_labels(ax, labels, fontsize=8, min_gap=0.14)


def _history_panel(ax, prices, lines, colours, now) -> None:
    _style(ax, now - HISTORY_S, now, "Last 90 days (UTC)", day_ticks=False)
    values = [line.value_usd for line in lines] + [p for _, p in prices]
    ymin, ymax = _padded(min(values), max(values)) if values else (0.0, 1.0)
    ax.set_ylim(ymin, ymax)
    x, y = _series(_thin(prices), min_gap_s=HISTORY_S / 150)
    labels = []
    for line in lines:
        colour = colours[line.key]
        ax.axhline(line.value_usd, color=colour, lw=1.0, ls=(0, (4, 2)), zorder=2)
        labels.append(((line.value_usd - ymin) / (ymax - ymin), fmt.usd(line.value_usd), colour))
    if x:
        _shade_below(ax, x, y, lines, colours, {line.key: 0.15 for line in lines})
        ax.plot(x, y, color=PRICE_COLOUR, lw=1.1, zorder=3)
        ax.axvspan(_num(now - WEEK_S), _num(now), color="#000000", alpha=0.05, lw=0, zorder=1)
        if prices[0][0] > now - HISTORY_S + 2 * 86_400:  # a young bot: say where its data starts
            ax.set_xlabel(f"Last 90 days (UTC) · data from {fmt.day(prices[0][0])}")
    else:
        _empty_note(ax, "No price history yet", fontsize=8)
    _right_labels(ax, labels, fontsize=7, min_gap=0.2)
    ax.yaxis.label.set_size(7.5)


def _style(ax, start: float, end: float, xlabel: str, day_ticks: bool) -> None:
    import matplotlib.dates as mdates
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.set_xlim(_num(start), _num(end))
    ax.set_xlabel(xlabel, fontsize=8.5, color="#333333", labelpad=2)
    ax.set_ylabel("US$ per BTC", fontsize=8.5, color="#333333")
    if day_ticks:
        ax.xaxis.set_major_locator(mdates.DayLocator(tz=UTC))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %d %b", tz=UTC))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6))
    else:
        ax.xaxis.set_major_locator(mdates.MonthLocator(tz=UTC))
        ax.xaxis.set_minor_locator(mdates.DayLocator(bymonthday=(8, 15, 22), tz=UTC))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _day_month(v)))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=3))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt.usd(v)))
    ax.tick_params(labelsize=8, colors="#333333", length=3)
    ax.grid(True, axis="y", color="#e3e3e3", lw=0.7)
    ax.grid(True, axis="x", color="#f0f0f0", lw=0.7)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#999999")


def _shade_below(ax, x, y, lines, colours, alphas: dict[str, float]) -> None:
    """Shade where the price is below each line, in bands that do not overlap.

    Lines are taken from the lowest up; each shades from the price (or the line under it, if
    higher) up to itself, so a price below several lines shows one band per line, not a muddy
    stack of translucent layers.
    """
    import numpy as np

    ys = np.asarray(y, dtype=float)
    floor = ys
    for line in sorted(lines, key=lambda line: line.value_usd):
        level = line.value_usd
        below = np.less(ys, level, where=~np.isnan(ys), out=np.zeros(len(ys), dtype=bool))
        ax.fill_between(
            x, floor, level, where=below, interpolate=True, color=colours[line.key],
            alpha=alphas[line.key], lw=0, zorder=1,
        )  # fmt: skip
        floor = np.fmax(ys, level)


def _right_labels(ax, labels, fontsize: float, min_gap: float) -> None:
    """Labels just right of the axes at their height (axes fraction), pushed apart to not overlap.

    `labels` are (height, text, colour); a label moved away from its line gets a leader to it.
    """
    if not labels:
        return
    wanted = sorted(labels)
    placed = _spread([w for w, _, _ in wanted], min_gap)
    for (want, text, colour), at in zip(wanted, placed, strict=True):
        ax.annotate(
            text, xy=(1.0, want), xycoords="axes fraction", xytext=(1.025, at),
            textcoords="axes fraction", fontsize=fontsize, color=colour, va="center",
            ha="left", fontweight="bold" if text.startswith("BTC") else "normal",
            linespacing=1.05, annotation_clip=False,
            arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.7, "shrinkA": 0,
                        "shrinkB": 0} if abs(at - want) > 0.02 else None,
        )  # fmt: skip


def _spread(wanted: list[float], gap: float) -> list[float]:
    """Positions (axes fraction, sorted) at least `gap` apart, as near their wanted place as may be.

    Clamped to [0, 1] when they fit; many labels in a small panel may run past the edges.
    """
    n = len(wanted)
    lo_edge, hi_edge = 0.0, 1.0
    if gap * (n - 1) > 1.0:
        lo_edge, hi_edge = 0.5 - gap * (n - 1) / 2, 0.5 + gap * (n - 1) / 2
    placed = [min(max(w, lo_edge), hi_edge) for w in wanted]
    for i in range(1, n):  # push up
        placed[i] = max(placed[i], placed[i - 1] + gap)
    if placed and placed[-1] > hi_edge:  # then down from the top, if the push overflowed
        placed[-1] = hi_edge
        for i in range(n - 2, -1, -1):
            placed[i] = min(placed[i], placed[i + 1] - gap)
    return placed


def _empty_note(ax, text: str, fontsize: float = 10) -> None:
    ax.text(
        0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=fontsize,
        color="#666666",
    )  # fmt: skip


def _series(
    points: Sequence[tuple[float, float]], min_gap_s: float
) -> tuple[list[float], list[float]]:
    """x (matplotlib dates) and y, with a NaN wherever the data has a gap, to break the line.

    A gap is what the hours below a line leave out, but at least `min_gap_s` (a few pixels wide),
    so that a few missed polls do not streak the shading with hairlines.
    """
    limit = gap_limit_s([t for t, _ in points])
    limit = max(limit, min_gap_s) if limit is not None else None
    x: list[float] = []
    y: list[float] = []
    for i, (t, p) in enumerate(points):
        if i and limit is not None and t - points[i - 1][0] > limit:
            x.append(_num((t + points[i - 1][0]) / 2))
            y.append(math.nan)
        x.append(_num(t))
        y.append(p)
    return x, y


def _thin(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """At most MAX_POINTS points: long series are averaged over equal time buckets."""
    if len(points) <= MAX_POINTS:
        return list(points)
    start, end = points[0][0], points[-1][0]
    width = (end - start) / (MAX_POINTS / 2) or 1.0
    buckets: dict[int, list[tuple[float, float]]] = {}
    for t, p in points:
        buckets.setdefault(int((t - start) // width), []).append((t, p))
    return [
        (sum(t for t, _ in b) / len(b), sum(p for _, p in b) / len(b))
        for _, b in sorted(buckets.items())
    ]


def _padded(lo: float, hi: float) -> tuple[float, float]:
    pad = max((hi - lo) * 0.08, abs(hi) * 0.005, 1.0)
    return lo - pad, hi + pad


def _colours(lines: Sequence[CostLine]) -> dict[str, str]:
    colours: dict[str, str] = {}
    others = iter(OTHER_COLOURS * (len(lines) // len(OTHER_COLOURS) + 1))
    for line in lines:
        colours[line.key] = LINE_COLOURS.get(line.key) or next(others)
    return colours


def _name(line: CostLine, now: float) -> str:
    """The line's name in the legend, marked when old (the digest's text has the full words)."""
    return line.label + benchmarks.short_mark(line.period, now)


def _label_text(label: str, value: str, width: int = 24) -> str:
    """A line's name wrapped on at most two lines, its value after it."""
    words = " ".join(label.split())
    lines = textwrap.wrap(words, width, break_long_words=True) or [""]
    if len(lines) == 1:
        return f"{lines[0]}\n{value}"
    second = " ".join(lines[1:])
    room = width + 2 - len(value) - 1
    if len(second) > room:
        second = second[: max(room - 1, 0)].rstrip() + "…"
    return f"{lines[0]}\n{second} {value}"


def _day_month(num: float) -> str:
    import matplotlib.dates as mdates

    day = mdates.num2date(num, tz=UTC)
    return f"{day.day} {day:%b}"  # "1 Sep": strftime has no portable unpadded day


def _num(unix_s: float) -> float:
    import matplotlib.dates as mdates

    return mdates.date2num(datetime.fromtimestamp(unix_s, UTC))
