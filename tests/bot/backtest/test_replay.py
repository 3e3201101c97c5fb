from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts import rules
from bot.backtest import replay as replay_module
from bot.backtest.lines import (
    LineSpec,
    Step,
    benchmark_line,
    fixed_line,
    fleet_line,
    hashprice_line,
)
from bot.backtest.replay import Run, replay
from bot.backtest.series import HeightModel, Point, to_points
from storage import costs
from storage.workspaces import Fleet

DAY = 86_400


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def daily(first: str, prices: list[float | None]) -> list[Point]:
    """One point a day from `first`; None leaves the day out (no data)."""
    start = ts(first)
    return [Point(start + n * DAY, p) for n, p in enumerate(prices) if p is not None]


def shipped(kind: str) -> LineSpec:
    rows = costs.shipped_rows()
    return benchmark_line(kind, rows)


LINE = fixed_line("below:50000", "alert level $50,000", 50_000)

# A series worked out by hand against a line at $50,000 (the band above it ends at $50,500).
HAND = [
    52_000,  # 12-24 first poll: above, taken silently
    49_000,  # 12-25 below: 1st vote
    51_000,  # 12-26 above the band: the vote is cancelled
    49_500,  # 12-27 below: 1st vote
    49_800,  # 12-28 below: 2nd vote → ALERT crossed below
    50_200,  # 12-29 in the band: stays below, but not below the line
    50_600,  # 12-30 above the band: 1st vote up
    50_400,  # 12-31 in the band: cancelled
    51_000,  # 01-01 above: 1st vote
    52_000,  # 01-02 above: 2nd vote → ALERT recovered
    49_000,  # 01-03 below: 1st vote
    None,  # 01-04 no data: a missing poll neither confirms nor cancels
    48_000,  # 01-05 below: 2nd vote → ALERT crossed below
]


def test_hand_series_alerts():
    result = replay(daily("2024-12-24", HAND), [LINE])
    got = [(a.time, a.event, a.price_usd, round(a.margin, 4)) for a in result.alerts]
    assert got == [
        (ts("2024-12-28"), "crossed_below", 49_800, -0.004),
        (ts("2025-01-02"), "recovered_above", 52_000, 0.04),
        (ts("2025-01-05"), "crossed_below", 48_000, -0.04),
    ]
    (line,) = result.lines
    assert line.start_state == "above"
    assert line.first_time == ts("2024-12-24")
    assert line.final_state == "below"
    assert line.alerts == result.alerts
    assert line.silent_changes == ()


def test_hand_series_days_below():
    (line,) = replay(daily("2024-12-24", HAND), [LINE]).lines
    # below the line (price < $50,000): 12-25, 12-27, 12-28, 01-03, 01-05
    assert line.days_observed == 12
    assert line.days_below == 5
    # 01-03 and 01-05 are not a run: the day between them has no data
    assert line.longest_run == Run(ts("2024-12-27"), ts("2024-12-28"), 2)
    y2024, y2025 = line.years
    assert (y2024.year, y2024.days_observed, y2024.days_below) == (2024, 8, 3)
    assert y2024.longest_run == Run(ts("2024-12-27"), ts("2024-12-28"), 2)
    assert (y2025.year, y2025.days_observed, y2025.days_below) == (2025, 4, 2)
    assert y2025.longest_run == Run(ts("2025-01-03"), ts("2025-01-03"), 1)


def test_a_run_across_new_year_is_split_in_the_years():
    prices = [60_000, 40_000, 40_000, 40_000, 40_000, 60_000]  # 12-29 … 01-03
    (line,) = replay(daily("2024-12-29", prices), [LINE]).lines
    assert line.longest_run == Run(ts("2024-12-30"), ts("2025-01-02"), 4)
    assert [(y.year, y.days_below, y.longest_run.days) for y in line.years] == [
        (2024, 2, 2),
        (2025, 2, 2),
    ]


@pytest.mark.parametrize(
    "prices, events",
    [
        ([60_000] * 5, []),
        ([40_000] * 5, []),  # starts below, silently, and stays
        ([60_000, 40_000], []),  # one poll below is not confirmed
        ([60_000, 40_000, 40_000], ["crossed_below"]),
        ([60_000, 40_000, 60_000, 40_000, 60_000], []),  # flapping never confirms
        ([40_000, 50_400, 50_500, 50_000], []),  # within the band: not recovered
        ([40_000, 50_501, 50_501], ["recovered_above"]),
        ([60_000, 49_999, 49_999, 60_000, 60_000], ["crossed_below", "recovered_above"]),
    ],
)
def test_confirmation_and_band(prices, events):
    result = replay(daily("2025-03-01", prices), [LINE])
    assert [a.event for a in result.alerts] == events


def test_the_replay_runs_the_live_rule_code(monkeypatch):
    calls = []
    live_step = rules.step

    def spy(state, obs, now):
        calls.append((obs.price_usd, obs.line_usd, obs.fresh, obs.line_moved, now))
        return live_step(state, obs, now)

    monkeypatch.setattr(rules, "step", spy)
    points = daily("2025-03-01", [60_000, 40_000, 40_000])
    replay(points, [LINE])
    assert calls == [
        (60_000, 50_000, True, False, ts("2025-03-01")),
        (40_000, 50_000, True, False, ts("2025-03-02")),
        (40_000, 50_000, True, False, ts("2025-03-03")),
    ]
    assert replay_module.rules is rules


def test_a_new_quarter_that_moves_the_line_is_not_a_crossing():
    # $48,000 is above 2024-Q1's $47,200 and below 2024-Q2's $49,500.
    prices = [48_000] * 5 + [50_100, 50_100]  # 03-29 … 04-04
    result = replay(daily("2024-03-29", prices), [shipped("cash"), shipped("allin")])
    cash, allin = result.lines
    assert cash.start_state == "above"
    # 04-01 the line moves above the price; 04-02 confirms: below, silently
    assert [(c.time, c.state) for c in cash.silent_changes] == [(ts("2024-04-02"), "below")]
    # then the price really recovers above the new line (band ends at $49,995): that posts
    assert [(a.time, a.event, a.period) for a in result.alerts] == [
        (ts("2024-04-04"), "recovered_above", "2024-Q2")
    ]
    assert cash.days_below == 2  # 04-01 and 04-02 below $49,500; 04-03 is above it
    assert cash.values[:3] == (47_200, 47_200, 47_200)
    assert cash.values[3] == 49_500
    # all-in has no 2024-Q1 value: unknown until 04-01, then taken silently
    assert allin.first_time == ts("2024-04-01")
    assert allin.start_state == "below"
    assert allin.days_observed == 4
    assert allin.values[:3] == (None, None, None)
    assert allin.alerts == ()


def test_before_the_first_quarter_the_rule_waits():
    result = replay(daily("2023-12-25", [10_000] * 5), [shipped("cash")])
    (cash,) = result.lines
    assert cash.first_time is None
    assert cash.start_state is None
    assert cash.final_state == "unknown"
    assert cash.days_observed == 0
    assert cash.years == ()


def test_fleet_line_moves_with_difficulty_silently():
    fleet = fleet_line(Fleet(17.5, 0.05, 0.02), 0.02)
    day = ts("2025-01-01")
    # breakeven $51,483 at 152e12; the difficulty doubles on day 3: the line doubles too
    points = [
        Point(day, 60_000, 152e12),
        Point(day + DAY, 60_000, 152e12),
        Point(day + 2 * DAY, 60_000, 304e12),
        Point(day + 3 * DAY, 60_000, 304e12),
        Point(day + 4 * DAY, 110_000, 304e12),
        Point(day + 5 * DAY, 110_000, 304e12),
    ]
    result = replay(points, [fleet])
    (line,) = result.lines
    assert [c.state for c in line.silent_changes] == ["below"]
    assert [a.event for a in result.alerts] == ["recovered_above"]
    assert result.alerts[0].line_usd == pytest.approx(2 * 51_483, abs=2)


def test_a_hashprice_that_falls_with_a_retarget_is_a_crossing_the_fleet_line_moving_is_not():
    """DESIGN §5.1: the same retarget moves the fleet's breakeven (a line: silent) and the
    hashprice (a metric: an alert). $37.88/PH/day at 152e12; 5% harder gives $36.08."""
    hashprice, fleet = hashprice_line("hashprice:usd:37"), fleet_line(Fleet(17.5, 0.05, 0.02))
    day = ts("2025-01-01")
    harder = 152e12 * 1.05
    points = [
        Point(day + n * DAY, 91_000.0, d, 0.02)
        for n, d in enumerate([152e12, 152e12, harder, harder, harder, 152e12, 152e12])
    ]
    result = replay(points, [hashprice, fleet])
    hp, fl = result.lines
    assert [(a.line_key, a.event, a.time) for a in result.alerts] == [
        ("hashprice:usd:37", "crossed_below", day + 3 * DAY),
        ("hashprice:usd:37", "recovered_above", day + 6 * DAY),
    ]
    alert = result.alerts[0]
    assert (alert.metric, alert.price_usd, alert.line_usd) == ("hashprice_usd", 91_000.0, 37.0)
    assert alert.value == pytest.approx(36.08, abs=0.01)
    assert alert.margin == pytest.approx(36.08 / 37 - 1, abs=1e-3)
    assert hp.metric == "hashprice_usd" and hp.days_below == 3
    assert fl.alerts == () and fl.days_below == 0  # the price stays far above the breakeven


def test_a_hashprice_rule_replays_the_fee_history():
    """Same price and difficulty every day; fees fall from 0.5 to 0.02 BTC a block: the
    hashprice falls from $43.66 to $37.88 under a $40 threshold, then recovers when they rise."""
    day = ts("2025-01-01")
    fees = [0.5, 0.5, 0.02, 0.02, 0.02, 0.5, 0.5]
    points = [Point(day + n * DAY, 91_000.0, 152e12, f) for n, f in enumerate(fees)]
    result = replay(points, [hashprice_line("hashprice:usd:40")])
    assert [(a.event, a.time) for a in result.alerts] == [
        ("crossed_below", day + 3 * DAY),
        ("recovered_above", day + 6 * DAY),
    ]
    # Without the history (the assumed 0.02 every day) it would have sat below from the start.
    flat = replay([Point(p.time, p.price_usd, p.difficulty) for p in points],
                  [hashprice_line("hashprice:usd:40")])  # fmt: skip
    assert flat.alerts == () and flat.lines[0].start_state == "below"


def test_fleet_line_without_difficulty_waits():
    fleet = fleet_line(Fleet(17.5, 0.05, 0.02))
    points = daily("2025-01-01", [60_000, 60_000])
    (line,) = replay(points, [fleet], heights=HeightModel()).lines
    assert line.first_time is None and line.days_observed == 0


def test_hourly_polls_count_hours():
    start = ts("2025-01-01")
    rows = [(start + h * 3600, 40_000.0 if 2 <= h < 8 else 60_000.0, None) for h in range(24)]
    result = replay(to_points(rows, "hourly"), [LINE], poll="hourly")
    (line,) = result.lines
    assert line.days_below == pytest.approx(6 / 24)
    assert line.longest_run == Run(start + 2 * 3600, start + 7 * 3600, pytest.approx(6 / 24))
    assert [(a.time, a.event) for a in result.alerts] == [
        (start + 3 * 3600, "crossed_below"),
        (start + 9 * 3600, "recovered_above"),
    ]


def test_alerts_of_all_lines_in_time_order():
    a = fixed_line("below:50000", "a", 50_000)
    b = fixed_line("below:45000", "b", 45_000)
    prices = [60_000, 48_000, 48_000, 40_000, 40_000]
    result = replay(daily("2025-01-01", prices), [b, a])
    assert [(a.line_key, a.time) for a in result.alerts] == [
        ("below:50000", ts("2025-01-03")),
        ("below:45000", ts("2025-01-05")),
    ]


def test_points_must_be_one_per_period_in_order():
    day = ts("2025-01-01")
    with pytest.raises(ValueError, match="one per daily period"):
        replay([Point(day, 1.0), Point(day + 3600, 1.0)], [LINE])
    with pytest.raises(ValueError):
        replay([Point(day + DAY, 1.0), Point(day, 1.0)], [LINE])


def test_empty_history():
    result = replay([], [LINE])
    assert result.alerts == () and result.start is None
    assert result.lines[0].final_state == "unknown"


def test_a_line_step_without_history_before_it():
    spec = LineSpec("x", "x", (Step(ts("2025-01-03"), 50_000.0, "p"),))
    result = replay(daily("2025-01-01", [40_000] * 4), [spec])
    assert result.lines[0].first_time == ts("2025-01-03")
    assert result.lines[0].values == (None, None, 50_000.0, 50_000.0)


def test_ten_years_of_days_stay_in_step():
    start = ts("2016-01-01")
    n = 3653
    points = [Point(start + i * DAY, 50_000 + (-1) ** (i // 10) * 5_000) for i in range(n)]
    (line,) = replay(points, [LINE]).lines
    # ten days above, ten below: the first block (i // 10 = 0) is above
    assert line.days_below == sum(1 for i in range(n) if (i // 10) % 2 == 1)
    assert line.longest_run.days == 10
    assert len(line.years) == 10
    assert sum(y.days_observed for y in line.years) == n
    assert timedelta(seconds=line.longest_run.end - line.longest_run.start).days == 9
