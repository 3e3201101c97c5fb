from datetime import UTC, datetime

import pytest

from bot import economics as econ
from bot.backtest.lines import (
    LineSpec,
    RuleError,
    Step,
    benchmark_line,
    fixed_line,
    fleet_line,
    hashprice_line,
    parse_rules,
    quarter_start,
    within_line,
)
from bot.backtest.series import HeightModel, Point
from storage import costs
from storage.workspaces import Fleet


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def shipped_rows() -> list[dict]:
    """cost_benchmarks rows as storage.costs seeds them (DESIGN §4)."""
    rows = [{"id": n, **row} for n, row in enumerate(costs.shipped_rows())]
    # a workspace's own row never enters the shipped benchmark
    rows.append(
        {"id": 99, "workspace": "T1", "quarter": "2024-Q1", "kind": "allin",
         "value_usd": 1.0, "source": None}
    )  # fmt: skip
    return rows


def in_force(spec: LineSpec, day: str):
    (value,) = spec.values([Point(ts(day), 1.0)], HeightModel())
    return value


@pytest.mark.parametrize(
    "quarter, start",
    [
        ("2024-Q1", "2024-01-01"),
        ("2024-Q2", "2024-04-01"),
        ("2024-Q3", "2024-07-01"),
        ("2024-q4", "2024-10-01"),
    ],
)
def test_quarter_start(quarter, start):
    assert quarter_start(quarter) == ts(start)


@pytest.mark.parametrize("bad", ["2024-Q5", "2024Q1", "Q1-2024", ""])
def test_quarter_start_rejects(bad):
    with pytest.raises(ValueError):
        quarter_start(bad)


@pytest.mark.parametrize(
    "kind, day, expected",
    [
        # before the first quarter with a value: no line (the rule stays unknown)
        ("cash", "2023-12-31T23:59", None),
        ("cash", "2024-01-01", (47_200.0, "2024-Q1")),
        ("cash", "2024-03-31T23:00", (47_200.0, "2024-Q1")),
        ("cash", "2024-04-01", (49_500.0, "2024-Q2")),
        ("cash", "2024-09-30", (55_950.0, "2024-Q3")),
        ("cash", "2024-10-01", (82_162.0, "2024-Q4")),
        # 2025-Q1 has no benchmark: the latest earlier quarter with one is in force
        ("cash", "2025-02-15", (82_162.0, "2024-Q4")),
        ("cash", "2025-04-01", (74_600.0, "2025-Q2")),
        # 2025-Q4's figure counts from the day its report came out (2026-03-25), not before:
        # on 2026-01-15 nobody could have known it
        ("cash", "2026-01-15", (74_600.0, "2025-Q2")),
        ("cash", "2026-03-24T23:59", (74_600.0, "2025-Q2")),
        ("cash", "2026-03-25", (79_995.0, "2025-Q4")),
        ("cash", "2026-06-01", (79_995.0, "2025-Q4")),
        # all-in has no 2024-Q1 value
        ("allin", "2024-02-15", None),
        ("allin", "2024-04-01", (96_100.0, "2024-Q2")),
        ("allin", "2024-12-31", (137_018.0, "2024-Q4")),
        ("allin", "2025-03-31", (137_018.0, "2024-Q4")),
        ("allin", "2025-07-01", (137_800.0, "2025-Q2")),
        ("allin", "2026-06-01", (137_800.0, "2025-Q2")),  # no all-in for 2025-Q4
    ],
)
def test_benchmark_in_force_on_a_day(kind, day, expected):
    assert in_force(benchmark_line(kind, shipped_rows()), day) == expected


def test_benchmark_steps_come_in_quarter_order_whatever_the_row_order():
    rows = list(reversed(shipped_rows()))
    steps = benchmark_line("cash", rows).steps
    assert [s.period for s in steps] == [
        "2024-Q1",
        "2024-Q2",
        "2024-Q3",
        "2024-Q4",
        "2025-Q2",
        "2025-Q4",
    ]


def test_fixed_line_holds_for_every_day():
    spec = fixed_line("below:80000", "alert level $80,000", 80_000)
    assert in_force(spec, "2012-01-01") == (80_000.0, None)
    assert in_force(spec, "2030-01-01") == (80_000.0, None)
    with pytest.raises(RuleError):
        fixed_line("below:0", "nothing", 0)


def test_fleet_line_matches_the_economics_vector():
    # DESIGN §4: D = 152e12, subsidy 3.125, fees 0.02 BTC: 17.5 J/TH at $0.05, 2% fee → $51,483
    spec = fleet_line(Fleet(17.5, 0.05, 0.02), 0.02)
    day = ts("2025-01-01")
    (value,) = spec.values([Point(day, 90_000.0, 152e12)], HeightModel())
    assert value[0] == pytest.approx(51_483, abs=1)
    # no difficulty known that day: no line
    assert spec.values([Point(day, 90_000.0)], HeightModel()) == [None]


def test_fleet_line_follows_difficulty_and_the_halving():
    spec = fleet_line(Fleet(20.0, 0.06, 0.0), 0.0)
    heights = HeightModel()
    before = ts("2024-04-01")  # 6.25 BTC subsidy
    after = ts("2024-05-01")  # 3.125 BTC
    points = [Point(before, 1.0, 80e12), Point(after, 1.0, 80e12), Point(after + 1, 1.0, 160e12)]
    v_before, v_after, v_harder = (v[0] for v in spec.values(points, heights))
    assert v_after == pytest.approx(2 * v_before)  # half the subsidy: twice the breakeven
    assert v_harder == pytest.approx(2 * v_after)  # twice the difficulty: twice the breakeven
    hashvalue = econ.hashvalue_btc_per_th_day(80e12, 6.25, 0.0)
    assert v_before == pytest.approx(econ.fleet_breakeven_price_usd(20.0, 0.06, hashvalue, 0.0))


def test_fleet_line_takes_each_points_fees_and_the_constant_where_there_are_none():
    # DESIGN §4 vector at 0.02 BTC; the same day with 0.5 BTC of fees a block breaks even lower
    spec = fleet_line(Fleet(17.5, 0.05, 0.02), 0.02)
    day = ts("2025-01-01")
    points = [
        Point(day, 90_000.0, 152e12),  # no fee history that day: the constant 0.02
        Point(day + 1, 90_000.0, 152e12, 0.02),
        Point(day + 2, 90_000.0, 152e12, 0.5),
    ]
    constant, same, dearer = (v[0] for v in spec.values(points, HeightModel()))
    assert constant == same == pytest.approx(51_483, abs=1)
    assert dearer == pytest.approx(51_483 * 3.145 / 3.625, abs=1)


def test_hashprice_rules_read_each_days_hashprice_from_its_network():
    # DESIGN §4 vector: D = 152e12, subsidy 3.125, fees 0.02 BTC, BTC $91,000 → $37.88/PH/day
    # (hashvalue 4.162e-7 BTC/TH/day = 41.6 sats/TH/day); the threshold line stays put.
    usd, sats = hashprice_line("hashprice:usd:30"), hashprice_line("hashprice:sats:40")
    day = ts("2025-01-01")
    points = [
        Point(day, 91_000.0, 152e12),  # no fee history: the assumed 0.02
        Point(day + 1, 91_000.0, 152e12, 0.02),
        Point(day + 2, 91_000.0, 304e12, 0.02),  # twice the difficulty: half the hashprice
        Point(day + 3, 91_000.0),  # no difficulty: no hashprice
    ]
    got = usd.metric_values(points, HeightModel())
    assert got[:3] == [pytest.approx(37.88, abs=0.01)] * 2 + [pytest.approx(18.94, abs=0.01)]
    assert got[3] is None
    assert sats.metric_values(points[:1], HeightModel()) == [pytest.approx(41.62, abs=0.01)]
    assert [v[0] for v in usd.values(points, HeightModel())] == [30.0] * 4
    assert usd.label == "hashprice $30/PH/day" and sats.metric == "hashprice_sats"
    # An early warning on it: the threshold × 1.05, the same metric.
    warn = within_line(5, usd)
    assert (warn.key, warn.metric, warn.label) == (
        "within:5:hashprice:usd:30",
        "hashprice_usd",
        "5% above hashprice $30/PH/day",
    )
    assert warn.values(points[:1], HeightModel()) == [(pytest.approx(31.5), None)]


def test_fleet_line_needs_a_power_price():
    with pytest.raises(RuleError, match="free power"):
        fleet_line(Fleet(17.5, 0.0, 0.0))


@pytest.mark.parametrize(
    "text, keys",
    [
        ("cash", ["cash"]),
        ("cash,allin", ["cash", "allin"]),
        (" Cash , ALL-IN ", ["cash", "allin"]),
        ("all", ["cash", "allin"]),
        ("all,fleet,cash", ["cash", "allin", "fleet"]),
        ("below:80000", ["below:80000"]),
        ("below:$80k", ["below:80000"]),
        ("below:1.2m,below:74600.5", ["below:1200000", "below:74600.5"]),
        ("cost:7,cash", ["cost:7", "cash"]),
        ("cash,,allin,", ["cash", "allin"]),
        ("hashprice:30", ["hashprice:usd:30"]),
        ("hashprice:$37.5/ph/day,hashprice:40sats", ["hashprice:usd:37.5", "hashprice:sats:40"]),
        ("hashprice:usd:30,hashprice:sats:40", ["hashprice:usd:30", "hashprice:sats:40"]),
        ("within:5:cash,within:2.5%:below:80000", ["within:5:cash", "within:2.5:below:80000"]),
        ("within:5:all", ["within:5:cash", "within:5:allin"]),
        ("within:10:hashprice:30", ["within:10:hashprice:usd:30"]),
    ],
)
def test_parse_rules(text, keys):
    assert parse_rules(text) == keys


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "no rule"),
        ("cash,gold", "unknown rule 'gold'"),
        ("below:", "a dollar amount such as"),
        ("below:abc", "a dollar amount such as"),
        ("below:-5", "more than zero"),
        ("below:$1", "a BTC price between"),
        ("below:1e400", "a dollar amount"),
        ("cost:99999999999999999999", "no line has that one"),
        ("cost:x", "unknown rule"),
        ("hashprice:abc", "'hashprice:abc': a hashprice level"),
        ("hashprice:0", "a hashprice above 0"),
        ("hashprice:", "try `hashprice below 30`"),
        ("within:5", "within:<pct>:<rule>"),
        ("within:x:cash", "a percentage after `within`"),
        ("within:80:cash", "at most 50%"),
        ("within:5:within:5:cash", "within:<pct>:<rule>"),
        ("within:5:gold", "unknown rule 'within:5:gold'"),
    ],
)
def test_parse_rules_rejects(text, words):
    with pytest.raises(RuleError, match=words):
        parse_rules(text)


def test_step_order_matters_only_through_bisect():
    spec = LineSpec("x", "x", (Step(ts("2024-01-01"), 1.0, "a"), Step(ts("2024-02-01"), 2.0, "b")))
    assert in_force(spec, "2024-01-31T23:59") == (1.0, "a")
    assert in_force(spec, "2024-02-01") == (2.0, "b")
