"""bot.benchmarks: which shipped line is current at a time, and when a line is old (DESIGN §4)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot import benchmarks
from bot import economics as econ
from bot.benchmarks import OLD_AFTER_DAYS, current, line_age, old_note, quarter_last_day
from bot.lines import CostLine
from storage import costs


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "period, last_day",
    [
        ("2025-Q1", date(2025, 3, 31)),
        ("2025-Q2", date(2025, 6, 30)),
        ("2025-Q3", date(2025, 9, 30)),
        ("2025-Q4", date(2025, 12, 31)),
        ("2024-q1", date(2024, 3, 31)),  # people type lower case
        ("2025-Q5", None),
        ("2025", None),
        ("banana", None),
    ],
)
def test_quarter_last_day(period, last_day):
    assert quarter_last_day(period) == last_day


# 2025-Q4 ended on 2025-12-31: 2026-01-01 is day 1, 2026-09-27 day 270, 2026-09-28 day 271.
@pytest.mark.parametrize(
    "period, now, days, old",
    [
        ("2025-Q4", "2025-12-31T12:00", 0, False),
        ("2025-Q4", "2026-01-01T00:00", 1, False),
        ("2025-Q4", "2026-09-27T00:00", 270, False),
        ("2025-Q4", "2026-09-27T23:59:59", 270, False),  # still day 270 all day
        ("2025-Q4", "2026-09-28T00:00", 271, True),
        ("2025-Q4", "2026-11-30T06:00", 334, True),
        ("2025-Q2", "2025-11-24T16:00", 147, False),
        ("2025-Q2", "2026-03-27T00:00", 270, False),
        ("2025-Q2", "2026-03-28T00:00", 271, True),
        ("2024-Q4", "2025-11-24T16:00", 328, True),  # the 2024 leap day counts nowhere here
        ("2023-Q4", "2024-09-26T00:00", 270, False),  # 2024 is a leap year: Feb 29 counted
        ("2023-Q4", "2024-09-27T00:00", 271, True),
    ],
)
def test_a_line_is_old_after_270_days(period, now, days, old):
    age = line_age(period, ts(now))
    assert age is not None
    assert (age.days, age.old) == (days, old)
    assert bool(old_note(period, ts(now))) is old
    assert OLD_AFTER_DAYS == 270


@pytest.mark.parametrize(
    "period, now, words",
    [
        # The next report (on the following quarter) is due ~3 months after that quarter ends.
        ("2025-Q2", "2025-11-24T16:00", "next report expected around 31 Dec 2025"),
        ("2025-Q2", "2025-12-31T23:00", "next report expected around 31 Dec 2025"),
        ("2025-Q2", "2026-01-01T00:00", "next report overdue since about 31 Dec 2025"),
        ("2025-Q4", "2026-05-01T00:00", "next report expected around 30 Jun 2026"),
        ("2025-Q3", "2026-01-01T00:00", "next report expected around 31 Mar 2026"),
    ],
)
def test_next_report_wording(period, now, words):
    age = line_age(period, ts(now))
    assert age is not None and age.next_words == words


@pytest.mark.parametrize(
    "period, now, note",
    [
        ("2025-Q4", "2026-09-27T12:00", ""),
        (
            "2025-Q4",
            "2026-09-28T12:00",
            "old: 2025-Q4 ended 271 days ago, next report overdue since about 30 Jun 2026",
        ),
        (
            "2025-Q2",
            "2026-11-30T06:00",
            "old: 2025-Q2 ended 518 days ago, next report overdue since about 31 Dec 2025",
        ),
        ("2025-Q2", "2025-11-24T16:00", ""),
        (None, "2030-01-01T00:00", ""),  # a line without a quarter is never marked
        ("2025", "2030-01-01T00:00", ""),
    ],
)
def test_old_note(period, now, note):
    assert old_note(period, ts(now)) == note


def test_line_age_of_no_quarter_is_none():
    assert line_age(None, 0.0) is None
    assert line_age("", 0.0) is None
    assert line_age("2025-H1", 0.0) is None


def shipped(kind: str, period: str, value: float, published: str | None = None) -> CostLine:
    return CostLine(kind, f"CoinShares {kind} ({period})", value, "src", period, published)


LINES = [
    shipped("cash", "2024-Q4", 82_162),
    shipped("allin", "2024-Q4", 137_018),
    shipped("cash", "2025-Q2", 74_600),
    shipped("allin", "2025-Q2", 137_800),
    shipped("cash", "2025-Q4", 79_995, "2026-03-25"),
    CostLine("cost:7", "Acme Mining cash cost", 65_000, None, "2025-Q3"),
]


@pytest.mark.parametrize(
    "now, cash, allin",
    [
        # Each kind takes the latest quarter with a value of that kind, once it was published.
        ("2025-11-24T16:00", "2025-Q2", "2025-Q2"),
        ("2026-03-24T23:59:59", "2025-Q2", "2025-Q2"),
        ("2026-03-25T00:00", "2025-Q4", "2025-Q2"),
        ("2026-11-30T06:00", "2025-Q4", "2025-Q2"),
    ],
)
def test_current_lines_by_kind_and_publication(now, cash, allin):
    got = current(LINES, ts(now))
    assert [(line.key, line.period) for line in got] == [
        ("cash", cash),
        ("allin", allin),
        ("cost:7", "2025-Q3"),  # a workspace's own line is kept as it comes
    ]


def test_current_ignores_order_and_rows_without_a_quarter():
    lines = [*reversed(LINES), CostLine("cash", "odd", 1.0, None, "banana")]
    got = current(lines, ts("2026-11-30T06:00"))
    assert [(line.key, line.value_usd) for line in got][:2] == [
        ("cash", 79_995),
        ("allin", 137_800),
    ]


def test_published_at():
    assert benchmarks.published_at("2026-03-25") == ts("2026-03-25T00:00")
    assert benchmarks.published_at(None) is None


# --- DESIGN §4's benchmark table, row by row ----------------------------------------------------

DESIGN_4_TABLE = [
    # quarter, cash, all-in, words the source must hold (the publication and its date)
    ("2024-Q1", 47_200, None, ("CoinShares", "2024", "as reported in the press")),
    ("2024-Q2", 49_500, 96_100, ("CoinShares", "2024", "as reported in the press")),
    ("2024-Q3", 55_950, 106_000, ('"Brief Q3 Earnings Update"', "2024-12")),
    ("2024-Q4", 82_162, 137_018, ("CoinShares", "2025-04", "as reported in the press")),
    ("2025-Q2", 74_600, 137_800, ("CoinShares Bitcoin Mining Report (J. Butterfill)",)),
    (
        "2025-Q4",
        79_995,
        None,
        ("CoinShares Bitcoin Mining Report Q1 2026 (published 2026-03-25)", "in the press"),
    ),
]


@pytest.mark.parametrize("quarter, cash, allin, source_words", DESIGN_4_TABLE)
def test_each_shipped_row_is_designs(quarter, cash, allin, source_words):
    rows = {r["kind"]: r for r in costs.shipped_rows() if r["quarter"] == quarter}
    assert {k: r["value_usd"] for k, r in rows.items()} == {
        k: v for k, v in (("cash", cash), ("allin", allin)) if v is not None
    }
    for r in rows.values():
        assert all(w in r["source"] for w in source_words), r["source"]


def test_design_4_table_is_all_that_ships():
    assert sorted({r["quarter"] for r in costs.shipped_rows()}) == [q for q, *_ in DESIGN_4_TABLE]
    # "No all-in figure was published for 2025-Q4": each kind takes its own latest quarter.
    lines = [
        CostLine(r["kind"], r["kind"], r["value_usd"], r["source"], r["quarter"], r["published"])
        for r in costs.shipped_rows()
    ]
    got = current(lines, ts("2026-11-30T06:00"))
    assert [(line.key, line.period, line.value_usd) for line in got] == [
        ("cash", "2025-Q4", 79_995),
        ("allin", "2025-Q2", 137_800),
    ]


@pytest.mark.parametrize(
    "line, margin",
    [
        # margin over a cost line = (price − line) / line, at the vector price BTC $91,000
        (79_995, "+13.76%"),
        (74_600, "+21.98%"),
        (137_800, "-33.96%"),
        (82_162, "+10.76%"),
    ],
)
def test_margin_over_each_current_and_past_line_at_the_vector_price(line, margin):
    assert f"{econ.margin_over_line(91_000, line):+.2%}" == margin
