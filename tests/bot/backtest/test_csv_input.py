from datetime import UTC, datetime

import pytest

from bot.backtest.csv_input import CsvError, Problem, parse_csv, parse_difficulty, parse_time


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-03-01", ts("2024-03-01T00:00")),
        ("2024-03-01T14:00", ts("2024-03-01T14:00")),
        ("2024-03-01 14:00:00", ts("2024-03-01T14:00")),
        ("2024-03-01T14:00Z", ts("2024-03-01T14:00")),
        ("2024-03-01T16:00+02:00", ts("2024-03-01T14:00")),
        (" 2024-03-01 ", ts("2024-03-01T00:00")),
    ],
)
def test_parse_time(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["", "01/03/2024", "2024-02-30", "yesterday", "2024-13-01"])
def test_parse_time_rejects(text):
    with pytest.raises(ValueError):
        parse_time(text)


def test_rows_in_any_order_come_out_in_time_order():
    got = parse_csv("date,price_usd,difficulty\n2024-01-03,3,\n2024-01-01,1,72T\n2024-01-02,2,\n")
    assert got.rows == (
        (ts("2024-01-01"), 1.0, 72e12),
        (ts("2024-01-02"), 2.0, None),
        (ts("2024-01-03"), 3.0, None),
    )
    assert got.problems == ()
    assert got.has_difficulty


def test_header_columns_in_any_order_and_case_extra_columns_ignored():
    got = parse_csv("Volume,PRICE_USD,Date\n9,42000,2024-01-01\n")
    assert got.rows == ((ts("2024-01-01"), 42_000.0, None),)
    assert not got.has_difficulty


def test_bad_rows_are_reported_by_line_number_and_skipped():
    text = "\n".join(
        [
            "date,price_usd,difficulty",  # line 1
            "2024-01-01,42000,",  # 2: fine
            "2024-02-30,42000,",  # 3: no such day
            "2024-01-02,abc,",  # 4: not a number
            "",  # 5: blank, not a row
            "2024-01-03,-5,",  # 6: not positive
            "2024-01-04,42000,nan",  # 7: difficulty not a number
            "2024-01-01,43000,",  # 8: the same time as line 2
            "2024-01-05",  # 9: too few columns
            '2024-01-06,"43,500",',  # 10: fine (a quoted thousands separator)
            "2024-01-07,0.001,",  # 11: not a plausible price
            "2024-01-08,inf,",  # 12
            "2024-01-09,$44000,1e14",  # 13: fine
        ]
    )
    got = parse_csv(text)
    assert [p.line for p in got.problems] == [3, 4, 6, 7, 8, 9, 11, 12]
    assert [r[1] for r in got.rows] == [42_000.0, 43_500.0, 44_000.0]
    assert got.rows[-1][2] == 1e14
    reasons = {p.line: p.reason for p in got.problems}
    assert "2024-02-30" in reasons[3]
    assert "'abc' is not a number" in reasons[4]
    assert "line 2" in reasons[8]
    assert "difficulty" in reasons[7]


def test_line_numbers_count_physical_lines_of_quoted_fields():
    text = 'date,price_usd,note\n2024-01-01,1,"two\nlines"\nbad,2,x\n'
    assert parse_csv(text).problems == (Problem(4, parse_csv(text).problems[0].reason),)


def test_byte_order_mark_and_leading_blank_lines():
    got = parse_csv("\ufeff\n\ndate,price_usd\n2024-01-01,1\n")
    assert got.rows == ((ts("2024-01-01"), 1.0, None),)


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "empty"),
        ("\n\n", "empty"),
        ("time,price\n2024-01-01,1\n", "date, price_usd missing"),
        ("2024-01-01,42000\n", "header row"),
    ],
)
def test_header_problems_fail_the_file(text, words):
    with pytest.raises(CsvError, match=words):
        parse_csv(text)


# --- difficulty: the whole number or with a unit; never a number in the wrong unit ---------------

Y2024 = ts("2024-03-01")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("152T", 152e12),
        ("152 T", 152e12),
        ("152.00 T", 152e12),
        ("152.00 trillion", 152e12),  # as `hashfloor check` prints it
        ("152t", 152e12),
        ("1.52e14", 152e12),
        ("152e12", 152e12),
        ("152,000,000,000,000", 152e12),
        ("0.152P", 152e12),
        ("72006146478567.1", 72_006_146_478_567.1),  # mempool's own figure
    ],
)
def test_difficulty_forms(text, expected):
    assert parse_difficulty(text, Y2024) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text, words",
    [
        ("152", "if you meant 152 trillion, write 152T or 1.52e14"),
        ("152.5", "write 152.5T or 1.525e14"),
        ("0.152", "write the whole number or add a unit: 152T"),
        ("152000", "too small for Bitcoin (over 4e10 since 2015)"),  # in millions
        ("1e20", "far above any Bitcoin difficulty"),
        ("152X", "is not a number; write it as 152T"),
        ("152 TH", "is not a number"),  # a hashrate unit, not a difficulty's
        ("abc", "is not a number"),
        ("nan", "is not a number"),
        ("-5", "is not a number"),
    ],
)
def test_values_that_cannot_be_a_difficulty_are_refused_with_the_form(text, words):
    with pytest.raises(ValueError, match="difficulty") as info:
        parse_difficulty(text, Y2024)
    assert words in str(info.value)


def test_early_history_may_have_a_small_difficulty():
    # consensus only keeps it at 1 or more; in 2010 it was in the thousands
    assert parse_difficulty("150", ts("2010-03-01")) == 150.0
    with pytest.raises(ValueError, match="at least 1"):
        parse_difficulty("0.5", ts("2010-03-01"))


def test_a_difficulty_in_trillions_is_a_skipped_row_with_its_line_number():
    got = parse_csv("date,price_usd,difficulty\n2025-01-01,60000,152\n2025-01-02,50000,152T\n")
    assert got.rows == ((ts("2025-01-02"), 50_000.0, 152e12),)
    (problem,) = got.problems
    assert problem.line == 2 and "write 152T or 1.52e14" in problem.reason
