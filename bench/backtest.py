"""Backtest speed: 10 years of daily points and 5 years of hourly points through five rules.

    python bench/backtest.py [--repeat 5]

Goals (issue 6): under 1 s for the daily decade, under 5 s for the hourly five years. Measures what
`hashfloor backtest` does after the download: turn cached rows into polls (one per day or hour,
with the difficulty in force), replay them through the live alert rules, and (separately) read
the same history from a CSV file's text. Prices are a seeded random walk, difficulty adjusts every
two weeks, so the rules cross their lines many times; the figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bot.backtest import csv_input, series
from bot.backtest.lines import benchmark_line, fixed_line, fleet_line
from bot.backtest.replay import replay
from storage import costs
from storage.workspaces import Fleet

DAY = 86_400
GOALS_S = {"daily": 1.0, "hourly": 5.0}
# Roughly the real path: (start, price then, price at the end, difficulty then, height then).
PERIODS = {
    "daily": (datetime(2015, 8, 1, tzinfo=UTC), 280.0, 115_000.0, 5.2e10, 368_000),
    "hourly": (datetime(2020, 8, 1, tzinfo=UTC), 11_000.0, 115_000.0, 1.6e13, 642_000),
}


def history(poll: series.Poll, years: int, seed: int = 6) -> tuple[list, list[series.Adjustment]]:
    """Rows (s, usd, None), one per poll for `years`, and an adjustment every 14 days."""
    start_dt, p0, p1, difficulty, height = PERIODS[poll]
    start, step_s = start_dt.timestamp(), series.POLL_SECONDS[poll]
    rng = random.Random(seed)
    n = int(years * 365.25 * DAY // step_s)
    drift = math.log(p1 / p0) / n
    vol = 0.035 * math.sqrt(step_s / DAY)
    price, rows = p0, []
    for i in range(n):
        price *= math.exp(rng.gauss(drift, vol))
        rows.append((start + i * step_s, price, None))
    adjustments = []
    t = start
    while t < start + n * step_s:
        adjustments.append(series.Adjustment(t, height, difficulty))
        difficulty *= math.exp(rng.gauss(0.02, 0.04))
        height += 2016
        t += 14 * DAY
    return rows, adjustments


def lines() -> list:
    rows = costs.shipped_rows()
    return [
        benchmark_line("cash", rows),
        benchmark_line("allin", rows),
        fleet_line(Fleet(30.0, 0.05, 0.02)),
        fixed_line("below:80000", "alert level $80,000", 80_000),
        fixed_line("below:10000", "alert level $10,000", 10_000),
    ]


def timed(fn: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def run(poll: series.Poll, years: int, repeat: int) -> None:
    rows, adjustments = history(poll, years)
    specs = lines()

    def whole():
        points = series.with_adjustments(series.to_points(rows, poll), adjustments)
        return replay(points, specs, poll, series.HeightModel(adjustments))

    times, result = timed(whole, repeat)
    text = "date,price_usd\n" + "".join(
        f"{datetime.fromtimestamp(t, UTC).isoformat()},{p:.2f}\n" for t, p, _ in rows
    )
    csv_times, parsed = timed(lambda: csv_input.parse_csv(text), repeat)
    assert len(parsed.rows) == len(rows) and not parsed.problems

    best, median = min(times), statistics.median(times)
    goal = GOALS_S[poll]
    print(
        f"{poll:>6}: {years} years, {len(result.points):,} polls × {len(specs)} rules = "
        f"{len(result.points) * len(specs):,} steps, {len(result.alerts):,} alerts"
    )
    print(
        f"        replay (points + rules): best {best:.3f} s, median {median:.3f} s "
        f"(goal < {goal:g} s: {'met' if median < goal else 'MISSED'})"
    )
    print(
        f"        CSV parse ({len(text) / 1e6:.1f} MB): best {min(csv_times):.3f} s, "
        f"median {statistics.median(csv_times):.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    run("daily", 10, args.repeat)
    run("hourly", 5, args.repeat)


if __name__ == "__main__":
    main()
