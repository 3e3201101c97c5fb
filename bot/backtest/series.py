"""History as the replay sees it: one price point per poll, the difficulty and the height then.

Pure: plain functions of rows. Rows come from the mempool cache or from a user's CSV; either way
they are (unix s, US$ per BTC, difficulty or None).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from bot import economics as econ

Poll = Literal["daily", "hourly"]
POLL_SECONDS: dict[str, int] = {"daily": 86_400, "hourly": 3_600}
SECONDS_PER_DAY = 86_400

# Consensus history, not a guess: (height, block time in unix s) of the genesis block and each
# halving so far. The subsidy of a day only depends on which side of these heights it falls, so
# anchoring the height estimate on them makes the subsidy exact up to the last halving; after it
# the height runs on at the 600 s target (or on the difficulty adjustments, when we have them).
KNOWN_BLOCKS: tuple[tuple[int, int], ...] = (
    (0, 1_231_006_505),  # 2009-01-03
    (210_000, 1_354_116_278),  # 2012-11-28
    (420_000, 1_468_082_773),  # 2016-07-09
    (630_000, 1_589_225_023),  # 2020-05-11
    (840_000, 1_713_571_767),  # 2024-04-20
)


@dataclass(frozen=True)
class Point:
    """One replayed poll: the price then and, when known, the difficulty in force and the
    average fees per block of its day."""

    time: float  # unix s
    price_usd: float
    difficulty: float | None = None
    fees_btc: float | None = None


@dataclass(frozen=True)
class Adjustment:
    """A difficulty adjustment: from `time` (unix s) and block `height` on, `difficulty` holds."""

    time: float
    height: int
    difficulty: float


def bucket(time: float, poll: Poll) -> int:
    """The index of the poll period (UTC day or hour) that `time` falls in."""
    return int(time // POLL_SECONDS[poll])


def to_points(rows: Iterable[tuple[float, float, float | None]], poll: Poll) -> list[Point]:
    """One point per UTC day (daily) or hour (hourly), in time order.

    A poll at the end of the period would see the period's last price, so that is the one kept;
    the difficulty is the last one given within the period. Periods without rows have no point:
    the replay treats them as polls that saw nothing (a gap).
    """
    last: dict[int, tuple[float, float]] = {}
    diff: dict[int, tuple[float, float]] = {}
    for time, price, difficulty in rows:
        b = bucket(time, poll)
        if b not in last or time >= last[b][0]:
            last[b] = (time, price)
        if difficulty is not None and (b not in diff or time >= diff[b][0]):
            diff[b] = (time, difficulty)
    return [Point(t, p, diff[b][1] if b in diff else None) for b, (t, p) in sorted(last.items())]


def between(points: Sequence[Point], start: float | None, end: float | None) -> list[Point]:
    """Points with start <= time < end (either bound may be None)."""
    return [
        p for p in points if (start is None or p.time >= start) and (end is None or p.time < end)
    ]


def with_adjustments(points: Sequence[Point], adjustments: Sequence[Adjustment]) -> list[Point]:
    """Give each point without a difficulty the one in force then (the latest adjustment at or
    before it); a point before the first known adjustment keeps None."""
    ordered = sorted(adjustments, key=lambda a: a.time)
    times = [a.time for a in ordered]
    out = []
    for p in points:
        if p.difficulty is None:
            i = bisect.bisect_right(times, p.time) - 1
            if i >= 0:
                p = replace(p, difficulty=ordered[i].difficulty)
        out.append(p)
    return out


def with_fees(points: Sequence[Point], fee_days: Sequence[tuple[int, float]]) -> list[Point]:
    """Give each point the average fees per block (BTC) of its UTC day, from (day index, sats)
    rows; a day without a row takes the latest earlier day's (fees move slowly, and mempool's
    last day may lag a little). A point before the first row keeps None."""
    ordered = sorted(fee_days)
    days = [d for d, _ in ordered]
    out = []
    for p in points:
        i = bisect.bisect_right(days, int(p.time // SECONDS_PER_DAY)) - 1
        out.append(replace(p, fees_btc=ordered[i][1] / econ.SATS_PER_BTC) if i >= 0 else p)
    return out


def carry_difficulty(points: Sequence[Point]) -> list[Point]:
    """Difficulty only changes at adjustments, so a CSV may give it only where it changes: a point
    without one takes the last one given before it."""
    out = []
    current: float | None = None
    for p in points:
        if p.difficulty is not None:
            current = p.difficulty
        elif current is not None:
            p = replace(p, difficulty=current)
        out.append(p)
    return out


class HeightModel:
    """Estimates the tip height at a moment from anchors of known (height, time).

    Between two anchors the height grows linearly with time; before the first or after the last it
    grows at one block per 600 s (the target spacing). The genesis and halving blocks are always
    anchors; an adjustment that contradicts the anchors around it (a higher block with an earlier
    time, which block times allow within hours, or plain bad data) is left out, so the estimate
    never goes back and the halvings stay where consensus put them.
    """

    def __init__(self, adjustments: Iterable[Adjustment] = ()) -> None:
        heights = [h for h, _ in KNOWN_BLOCKS]
        times = [t for _, t in KNOWN_BLOCKS]
        for height, time in sorted((a.height, int(a.time)) for a in adjustments):
            i = bisect.bisect_left(heights, height)
            if i < len(heights) and heights[i] == height:
                continue
            if (i == 0 or times[i - 1] < time) and (i == len(times) or time < times[i]):
                heights.insert(i, height)
                times.insert(i, time)
        self._heights = heights
        self._times = times

    def height_at(self, time: float) -> int:
        times, heights = self._times, self._heights
        i = bisect.bisect_right(times, time) - 1
        if i < 0:
            return 0  # before the genesis block
        if i == len(times) - 1:
            return heights[i] + int((time - times[i]) // econ.TARGET_SPACING_S)
        span = times[i + 1] - times[i]
        est = heights[i] + (heights[i + 1] - heights[i]) * (time - times[i]) / span
        return min(int(math.floor(est)), heights[i + 1] - 1)

    def subsidy_btc(self, time: float) -> float:
        """The subsidy of the block being mined at `time` (the one after the tip)."""
        return econ.block_subsidy_btc(self.height_at(time) + 1)
