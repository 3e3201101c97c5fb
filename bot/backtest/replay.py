"""Replay history through the alert rules: what would have fired, and how long the price stayed
below each line (DESIGN §6).

The rules are the live ones — `bot.alerts.rules.step`, not a copy — so a backtest fires exactly
where the bot would have, confirmation and hysteresis band included. Each replayed point is one
fresh poll (history is already an aggregate of several exchanges). A rule starts unknown and takes
its first state silently, as a new subscription does; where no line is in force (before the first
quarter of a benchmark, or a fleet line on a day without a known difficulty) the rule sees nothing,
as with stale data. When the line in force changes between two points (a new quarter's benchmark,
a difficulty adjustment under a fleet line) the step says so (`line_moved`), so the change of line
is never reported as a crossing.

A hashprice rule (`LineSpec.metric`) compares each day's hashprice, from that day's difficulty,
subsidy, fees and price, with a fixed threshold: the same state machine with hashprice in place of
the price, as live. Days below count the polls whose metric was below the line (price < line, as `classify` says),
each poll standing for its period: a day (daily) or an hour (hourly). A run below is a stretch of
consecutive periods below; a period without data, or without a line, ends it. Per-year figures
split a run at New Year (UTC).

Pure: points and line specs in, a result out; no I/O and no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.alerts import rules
from bot.backtest.lines import LineSpec
from bot.backtest.series import POLL_SECONDS, SECONDS_PER_DAY, HeightModel, Point, Poll, bucket


@dataclass(frozen=True)
class Alert:
    """A message the bot would have posted."""

    time: float
    line_key: str
    line_label: str
    period: str | None  # the benchmark quarter in force, if any
    line_usd: float  # the line, in the metric's unit ($/PH/day for a hashprice rule)
    price_usd: float  # the BTC price then
    margin: float  # (metric − line) / line
    event: rules.Event
    metric: str = "price"  # price | hashprice_usd | hashprice_sats
    value: float | None = None  # the metric then (the price, or the hashprice)


@dataclass(frozen=True)
class Change:
    """A state change that posted nothing: the line moved under the price."""

    time: float
    state: rules.Direction
    line_usd: float
    price_usd: float


@dataclass(frozen=True)
class Run:
    """Consecutive polls below a line: from the first to the last of them."""

    start: float
    end: float
    days: float


@dataclass(frozen=True)
class YearStats:
    year: int
    days_observed: float  # polls with a price and a line, in days
    days_below: float
    longest_run: Run | None


@dataclass(frozen=True)
class LineReport:
    key: str
    label: str
    first_time: float | None  # the first poll with the line in force
    start_state: rules.Direction | None  # where the price stood then (taken silently)
    final_state: rules.State
    days_observed: float
    days_below: float
    longest_run: Run | None
    years: tuple[YearStats, ...]
    silent_changes: tuple[Change, ...]
    values: tuple[float | None, ...]  # the line in force at each point (for the chart)
    alerts: tuple[Alert, ...]
    metric: str = "price"  # what the line is compared with (the chart draws price lines only)


@dataclass(frozen=True)
class BacktestResult:
    poll: Poll
    points: tuple[Point, ...]
    lines: tuple[LineReport, ...]
    alerts: tuple[Alert, ...]  # every line's, in time order

    @property
    def start(self) -> float | None:
        return self.points[0].time if self.points else None

    @property
    def end(self) -> float | None:
        return self.points[-1].time if self.points else None


@dataclass
class _Runs:
    """Running count of consecutive polls below; remembers the longest."""

    start_i: int = -1
    last_bucket: int = 0
    count: int = 0
    best: tuple[int, int, int] | None = None  # (count, start index, end index)

    def below(self, i: int, b: int) -> None:
        if self.count and self.last_bucket == b - 1:
            self.count += 1
        else:
            self.start_i, self.count = i, 1
        self.last_bucket = b
        if self.best is None or self.count > self.best[0]:
            self.best = (self.count, self.start_i, i)

    def end(self) -> None:
        self.count = 0


@dataclass
class _Year:
    observed: int = 0
    below: int = 0
    runs: _Runs = field(default_factory=_Runs)


def replay(
    points: Sequence[Point],
    lines: Sequence[LineSpec],
    poll: Poll = "daily",
    heights: HeightModel | None = None,
) -> BacktestResult:
    """Run every line's rule over the points (one per poll period, in time order)."""
    buckets = [bucket(p.time, poll) for p in points]
    if any(b >= c for b, c in zip(buckets, buckets[1:], strict=False)):
        raise ValueError(f"points must be one per {poll} period, in time order (see to_points)")
    heights = heights or HeightModel()
    years = _years(points)
    period_days = POLL_SECONDS[poll] / SECONDS_PER_DAY
    reports = tuple(
        _replay_line(spec, points, buckets, years, period_days, heights) for spec in lines
    )
    order = {spec.key: n for n, spec in enumerate(lines)}
    alerts = sorted(
        (a for r in reports for a in r.alerts), key=lambda a: (a.time, order[a.line_key])
    )
    return BacktestResult(poll, tuple(points), reports, tuple(alerts))


def _replay_line(
    spec: LineSpec,
    points: Sequence[Point],
    buckets: Sequence[int],
    years: Sequence[int],
    period_days: float,
    heights: HeightModel,
) -> LineReport:
    values = spec.values(points, heights)
    metrics = spec.metric_values(points, heights)
    state = rules.RuleState()
    prev_line: float | None = None
    first_time: float | None = None
    start_state: rules.Direction | None = None
    alerts: list[Alert] = []
    silent: list[Change] = []
    runs = _Runs()
    per_year: dict[int, _Year] = {}
    observed = below_count = 0

    for i, p in enumerate(points):
        value, metric = values[i], metrics[i]
        if value is None or metric is None:
            runs.end()
            per_year.get(years[i], _Year()).runs.end()
            continue
        line_usd, period = value
        moved = prev_line is not None and line_usd != prev_line
        prev_line = line_usd
        # The metric moving (a hashprice falling with a retarget) is a crossing; the line
        # moving (a new quarter, a fleet's breakeven after a retarget) is not.
        obs = rules.Observation(metric, True, line_usd, line_moved=moved)
        res = rules.step(state, obs, p.time)
        if state.state == "unknown":
            first_time, start_state = p.time, res.state.last_announced
        elif res.event is not None:
            alerts.append(
                Alert(
                    p.time,
                    spec.key,
                    spec.label,
                    period,
                    line_usd,
                    p.price_usd,
                    (metric - line_usd) / line_usd,
                    res.event,
                    spec.metric,
                    metric,
                )
            )
        elif res.silent_transition and res.state.state in ("above", "below"):
            silent.append(Change(p.time, res.state.state, line_usd, p.price_usd))
        state = res.state

        year = per_year.setdefault(years[i], _Year())
        observed += 1
        year.observed += 1
        if metric < line_usd:  # the "below" zone of `rules.classify`
            below_count += 1
            year.below += 1
            runs.below(i, buckets[i])
            year.runs.below(i, buckets[i])  # each year counts its own runs: split at New Year
        else:
            runs.end()
            year.runs.end()

    def run(best: tuple[int, int, int] | None) -> Run | None:
        if best is None:
            return None
        count, start_i, end_i = best
        return Run(points[start_i].time, points[end_i].time, count * period_days)

    return LineReport(
        key=spec.key,
        label=spec.label,
        first_time=first_time,
        start_state=start_state,
        final_state=state.state,
        days_observed=observed * period_days,
        days_below=below_count * period_days,
        longest_run=run(runs.best),
        years=tuple(
            YearStats(y, acc.observed * period_days, acc.below * period_days, run(acc.runs.best))
            for y, acc in sorted(per_year.items())
        ),
        silent_changes=tuple(silent),
        values=tuple(v[0] if v else None for v in values),
        alerts=tuple(alerts),
        metric=spec.metric,
    )


def _years(points: Sequence[Point]) -> list[int]:
    cache: dict[int, int] = {}
    out = []
    for p in points:
        day = int(p.time // SECONDS_PER_DAY)
        if day not in cache:
            cache[day] = datetime.fromtimestamp(day * SECONDS_PER_DAY, UTC).year
        out.append(cache[day])
    return out
