from datetime import UTC, datetime

import pytest

from bot import economics as econ
from bot.backtest.series import (
    KNOWN_BLOCKS,
    Adjustment,
    HeightModel,
    Point,
    between,
    carry_difficulty,
    to_points,
    with_adjustments,
    with_fees,
)


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "rows, poll, expected",
    [
        # one row a day: kept as it is
        (
            [(ts("2024-01-01"), 100.0, None), (ts("2024-01-02"), 110.0, None)],
            "daily",
            [Point(ts("2024-01-01"), 100.0), Point(ts("2024-01-02"), 110.0)],
        ),
        # hourly rows, daily poll: the day's last price; rows given out of order
        (
            [
                (ts("2024-01-01T23:00"), 130.0, None),
                (ts("2024-01-01T00:00"), 100.0, None),
                (ts("2024-01-01T12:00"), 120.0, None),
            ],
            "daily",
            [Point(ts("2024-01-01T23:00"), 130.0)],
        ),
        # hourly poll: one point per hour, the hour's last row
        (
            [
                (ts("2024-01-01T00:10"), 100.0, None),
                (ts("2024-01-01T00:50"), 101.0, 5.0),
                (ts("2024-01-01T01:20"), 102.0, None),
            ],
            "hourly",
            [Point(ts("2024-01-01T00:50"), 101.0, 5.0), Point(ts("2024-01-01T01:20"), 102.0)],
        ),
        # the day's difficulty is the last one given that day, even on an earlier row
        (
            [(ts("2024-01-01T01:00"), 100.0, 7.0), (ts("2024-01-01T02:00"), 101.0, None)],
            "daily",
            [Point(ts("2024-01-01T02:00"), 101.0, 7.0)],
        ),
        # a missing day stays missing
        (
            [(ts("2024-01-01"), 1.0, None), (ts("2024-01-03"), 3.0, None)],
            "daily",
            [Point(ts("2024-01-01"), 1.0), Point(ts("2024-01-03"), 3.0)],
        ),
        ([], "daily", []),
    ],
)
def test_to_points(rows, poll, expected):
    assert to_points(rows, poll) == expected


def test_between_is_start_inclusive_end_exclusive():
    points = [Point(ts(f"2024-01-0{d}"), float(d)) for d in range(1, 6)]
    got = between(points, ts("2024-01-02"), ts("2024-01-04"))
    assert [p.price_usd for p in got] == [2.0, 3.0]
    assert between(points, None, None) == points


def test_with_adjustments_takes_the_difficulty_in_force():
    adjustments = [
        Adjustment(ts("2024-01-10"), 2016, 20.0),
        Adjustment(ts("2024-01-01"), 0, 10.0),  # order does not matter
    ]
    points = [
        Point(ts("2023-12-31"), 1.0),  # before any adjustment: unknown
        Point(ts("2024-01-01"), 1.0),  # at the adjustment: the new difficulty
        Point(ts("2024-01-09T23:00"), 1.0),
        Point(ts("2024-01-10"), 1.0),
        Point(ts("2024-02-01"), 1.0, 99.0),  # a difficulty given already is kept
    ]
    got = [p.difficulty for p in with_adjustments(points, adjustments)]
    assert got == [None, 10.0, 10.0, 20.0, 99.0]


def test_with_fees_takes_the_days_average_or_the_latest_before():
    day = 86_400
    fee_days = [(int(ts("2024-01-03") // day), 5_000_000.0), (int(ts("2024-01-01") // day), 2e6)]
    points = [
        Point(ts("2023-12-31T12:00"), 1.0),  # before the fee history: None (the assumed constant)
        Point(ts("2024-01-01T23:00"), 1.0, 10.0),  # its day's average, difficulty kept
        Point(ts("2024-01-02T05:00"), 1.0),  # a day without a row: the day before's
        Point(ts("2024-01-03T00:00"), 1.0),
    ]
    got = with_fees(points, fee_days)
    assert [p.fees_btc for p in got] == [None, 0.02, 0.02, 0.05]
    assert got[1].difficulty == 10.0 and [p.time for p in got] == [p.time for p in points]


def test_carry_difficulty():
    points = [Point(1.0, 1.0), Point(2.0, 1.0, 5.0), Point(3.0, 1.0), Point(4.0, 1.0, 6.0)]
    assert [p.difficulty for p in carry_difficulty(points)] == [None, 5.0, 5.0, 6.0]


HALVING_840K = dict(KNOWN_BLOCKS)[840_000]


@pytest.mark.parametrize(
    "time, subsidy",
    [
        # the subsidy of the block being mined: 839,999 earns 6.25, the halving block 840,000
        # already 3.125, so the subsidy halves when block 839,999 is found
        (HALVING_840K - 1_200, 6.25),  # tip about 839,998
        (HALVING_840K - 1, 3.125),  # tip 839,999: block 840,000 is being mined
        (HALVING_840K, 3.125),
        (ts("2024-01-01"), 6.25),
        (ts("2025-06-01"), 3.125),
        (ts("2021-01-01"), 6.25),
        (ts("2013-01-01"), 25.0),
        (ts("2010-01-01"), 50.0),
        (ts("2008-01-01"), 50.0),  # before the genesis block: height 0
    ],
)
def test_subsidy_by_date_from_the_halvings(time, subsidy):
    assert HeightModel().subsidy_btc(time) == subsidy


def test_height_after_the_last_anchor_runs_at_the_target_spacing():
    model = HeightModel()
    assert model.height_at(HALVING_840K + 600 * 1000) == 841_000
    # the next halving (no anchor for it yet): block 1,050,000 is mined once the tip is 1,049,999
    assert model.subsidy_btc(HALVING_840K + 209_999 * 600 - 1) == 3.125
    assert model.subsidy_btc(HALVING_840K + 209_999 * 600) == 1.5625


def test_adjustments_anchor_the_height():
    # An adjustment at 850,000 that came late: the height follows it, not the 600 s estimate.
    late = HALVING_840K + 10_000 * 600 + 86_400 * 10
    model = HeightModel([Adjustment(late, 850_000, 1.0)])
    assert model.height_at(late) == 850_000
    assert model.height_at(late + 6_000) == 850_010
    midway = HALVING_840K + (late - HALVING_840K) / 2
    assert model.height_at(midway) == 845_000
    # between two anchors the estimate never reaches the next anchor's height
    assert model.height_at(late - 1) == 849_999


def test_anchors_out_of_order_are_dropped():
    # a block stamped before the one under it (block times may run backwards a little)
    model = HeightModel([Adjustment(HALVING_840K - 100, 840_100, 1.0)])
    assert model.height_at(HALVING_840K) == 840_000
    assert model.subsidy_btc(HALVING_840K) == econ.block_subsidy_btc(840_001)


def test_an_adjustment_contradicting_a_halving_is_left_out():
    # "height 820,000" stamped after the real block 840,000: bad data, the halving stays
    bad = Adjustment(HALVING_840K + 30 * 86_400, 820_000, 1.0)
    model = HeightModel([bad])
    assert model.subsidy_btc(HALVING_840K + 86_400) == 3.125
    assert model.height_at(HALVING_840K) == 840_000
