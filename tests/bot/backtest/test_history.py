import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.backtest import history
from bot.backtest.history import (
    HistoryError,
    adjustment_interval,
    daily_fees,
    parse_adjustments,
    parse_fees,
    parse_prices,
    price_plan,
    refresh,
)
from bot.market.parsers import SourceError
from storage import history as store
from storage.db import Storage
from storage.migrations import migrate
from tests.fakes import bad_bodies
from tests.fakes.mempool_history import FakeMempoolHistory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "market"
DAY = 86_400
T0 = 1_735_689_600  # 2025-01-01 00:00 UTC


# --- answers in the real shapes ---------------------------------------------------------------


def test_parse_prices_fixture():
    body = (FIXTURES / "mempool_historical_price_eur.json").read_bytes()
    assert parse_prices(200, body) == [(1_499_904_000, 2254.9)]


def test_parse_adjustments_fixture():
    body = (FIXTURES / "mempool_difficulty_adjustments_1m.json").read_bytes()
    assert parse_adjustments(200, body) == [(1_703_311_464, 822_528, 72_006_146_478_567.1, 1.06983)]


def test_parse_prices_whole_history_newest_first():
    body = json.dumps(
        {
            "prices": [
                {"time": T0 + DAY, "USD": 95_000},
                {"time": T0, "USD": 94_000.5},
                {"time": 1_279_497_600, "USD": 0},  # mempool's "no price" placeholder
            ],
            "exchangeRates": {"USDEUR": 0.92},
        }
    )
    assert parse_prices(200, body) == [(T0, 94_000.5), (T0 + DAY, 95_000.0)]


@pytest.mark.parametrize(
    "status, body, words",
    [
        (429, "Too Many Requests", "HTTP 429"),
        (500, '{"error": "Failed to get historical prices"}', "HTTP 500"),
        (200, "<html><body>Cloudflare</body></html>", "HTML"),
        (200, '{"prices": [{"time": 1735689600, "USD": 9', "invalid JSON"),
        (200, "null", "no prices"),
        (200, '{"prices": {}}', "not a list"),
        (200, '{"prices": [{"time": 1735689600}]}', "USD"),
        (200, '{"prices": [{"time": 1735689600000, "USD": 1}]}', "time"),  # ms, not s
        (200, '{"prices": [{"time": 1735689600, "USD": -3}]}', "plausible"),
        (200, '{"prices": [{"time": 1735689600, "USD": "abc"}]}', "not a number"),
        (200, "", "empty"),
    ],
)
def test_parse_prices_rejects(status, body, words):
    with pytest.raises(SourceError, match=words):
        parse_prices(status, body)


@pytest.mark.parametrize(
    "body, words",
    [
        ('{"a": 1}', "not a list"),
        ("[[1703311464, 822528]]", "not \\[time"),
        ('[[1703311464, 822528, "x", 1]]', "difficulty"),
        ("[[1703311464, 822528, 0, 1]]", "not positive"),
        ("[[1703311464, -1, 5, 1]]", "height"),
        ("[[1703311464, 822528, 5, 1]", "invalid JSON"),
    ],
)
def test_parse_adjustments_rejects(body, words):
    with pytest.raises(SourceError, match=words):
        parse_adjustments(200, body)


def test_parse_fees_in_mempools_shape_in_any_order():
    body = json.dumps(
        [
            {"avgHeight": 876_150, "timestamp": T0 + DAY + 40_000, "avgFees": 3_100_000, "USD": 0},
            {"avgHeight": 876_010, "timestamp": T0 + 43_000, "avgFees": 2_050_000, "USD": 94_000},
        ]
    )
    assert parse_fees(200, body) == [
        (T0 + 43_000, 876_010, 2_050_000.0),
        (T0 + DAY + 40_000, 876_150, 3_100_000.0),
    ]


@pytest.mark.parametrize(
    "body, words",
    [
        ('{"avgFees": 1}', "not a list of fee buckets"),
        ("[[1735689600, 876000, 2000000]]", "not an object"),
        ('[{"avgHeight": 876000, "timestamp": 1735689600}]', "avgFees"),
        ('[{"avgHeight": 876000, "timestamp": 1735689600000, "avgFees": 1}]', "timestamp"),
        ('[{"avgHeight": 876000, "timestamp": 1735689600, "avgFees": -5}]', "in sats"),
        ('[{"avgHeight": 876000, "timestamp": 1735689600, "avgFees": 2e14}]', "in sats"),
        ('[{"avgHeight": "x", "timestamp": 1735689600, "avgFees": 1}]', "avgHeight"),
        ("<html><body>502</body></html>", "HTML"),
        ('[{"avgHeight": 876000, "timest', "invalid JSON"),
    ],
)
def test_parse_fees_rejects(body, words):
    with pytest.raises(SourceError, match=words):
        parse_fees(200, body)


def test_daily_fees_are_the_mean_of_each_utc_days_buckets():
    rows = [(T0 + 60, 10, 1_000.0), (T0 + 80_000, 20, 3_000.0), (T0 + DAY + 5, 30, 7_000.0)]
    assert daily_fees(rows) == [
        (T0 // DAY, T0 + 40_030, 15, 2_000.0),
        (T0 // DAY + 1, T0 + DAY + 5, 30, 7_000.0),
    ]


# --- what to ask for --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "last, fetched, now, plan",
    [
        (None, None, T0, None),  # nothing cached: the whole history
        # last cached row 2025-01-01, fetched the day after: ask for 01-02 and 01-03 (today)
        (T0, T0 + DAY + 5, T0 + 2 * DAY + 3600, [T0 + 2 * DAY - 1, T0 + 2 * DAY + 3600]),
        # fetched while 01-01 was still running: ask for 01-01 again
        (T0 + 3600, T0 + 7200, T0 + DAY + 60, [T0 + DAY - 1, T0 + DAY + 60]),
        # a run later the same day: that day only
        (T0 + 3600, T0 + 7200, T0 + 9000, [T0 + 9000]),
        # fetched at the cached day's end: up to date
        (T0, T0 + DAY, T0 + DAY, [T0 + DAY]),
        # a gap of more than MAX_DAY_REQUESTS days: the whole history again
        (T0, T0 + DAY, T0 + 40 * DAY, None),
    ],
)
def test_price_plan(last, fetched, now, plan):
    assert price_plan(last, fetched, now) == plan


@pytest.mark.parametrize(
    "last, now, interval",
    [
        (None, T0, None),
        (T0 - 3 * 3600, T0, "3d"),  # 0.125 day old → +1 day margin → 2 days
        (T0 - 5 * DAY, T0, "1w"),
        (T0 - 14 * DAY, T0, "1m"),
        (T0 - 27 * DAY, T0, "1m"),
        (T0 - 28 * DAY, T0, "3m"),
        (T0 - 400 * DAY, T0, "2y"),
        (T0 - 2000 * DAY, T0, None),
    ],
)
def test_adjustment_interval(last, now, interval):
    assert adjustment_interval(last, now) == interval


# --- against a fake mempool -------------------------------------------------------------------


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    s = Storage(tmp_path / "h.db")
    migrate(s.db)
    yield s
    s.close()


def seeded(fake: FakeMempoolHistory, days: int, hourly_tail: int = 0) -> None:
    """Daily prices for `days` days from T0, then hourly ones for `hourly_tail` more days."""
    for d in range(days):
        fake.add_price(T0 + d * DAY, 90_000 + d)
    for h in range(hourly_tail * 24):
        fake.add_price(T0 + days * DAY + h * 3600, 95_000 + h)
    for n in range(days // 14 + 1):
        fake.add_adjustment(T0 + n * 14 * DAY + 600, 876_000 + n * 2016, 1.1e14 + n * 1e12)
    for b in range((days + hourly_tail) * 4):  # a block every 6 hours: fees of its day's
        fake.add_block(T0 + b * 6 * 3600 + 300, 876_000 + b, day_fees_sats(b // 4))


def day_fees_sats(day: int) -> int:
    """Day d's fees per block in the fake: 0.02 BTC, 0.001 BTC more each day."""
    return 2_000_000 + 100_000 * day


def test_first_run_downloads_everything(storage):
    now = T0 + 60 * DAY + 3600
    with FakeMempoolHistory(now=now) as fake:
        seeded(fake, 60)
        got = refresh(storage, fake.url, now)
        assert fake.requests_to("prices") == [{"currency": "USD"}]
        assert fake.paths()[-2:] == [
            "/api/v1/mining/difficulty-adjustments",
            "/api/v1/mining/blocks/fees/all",  # no time limit, a bucket per UTC day
        ]
    assert (got.full_prices, got.prices_added, got.price_requests) == (True, 60, 1)
    assert (got.full_adjustments, got.adjustments_added) == (True, 5)
    assert (got.full_fees, got.fee_days_stored, got.fee_requests) == (True, 60, 1)
    assert store.counts(storage.db) == (60, 5)
    assert store.prices(storage.db)[0] == (T0, 90_000.0)
    fees = store.fees(storage.db)
    assert fees[0] == (T0 // DAY, 2_000_000.0) and fees[-1] == (T0 // DAY + 59, 7_900_000.0)


def test_second_run_downloads_only_what_is_new(storage):
    first = T0 + 59 * DAY + 3600  # during the 60th day, whose price is out
    with FakeMempoolHistory(now=first) as fake:
        seeded(fake, 60)
        refresh(storage, fake.url, first)
        # three days later: three new daily prices and one adjustment
        later = T0 + 62 * DAY + 7200
        fake.now = later
        for d in (60, 61, 62):
            fake.add_price(T0 + d * DAY, 90_000 + d)
        fake.add_adjustment(T0 + 61 * DAY, 876_000 + 5 * 2016, 1.2e14)
        for b in range(240, 252):
            fake.add_block(T0 + b * 6 * 3600 + 300, 876_000 + b, day_fees_sats(b // 4))
        fake.requests.clear()

        got = refresh(storage, fake.url, later)

        timestamps = [int(q["timestamp"]) for q in fake.requests_to("prices")]
        # day 59 again (it was still running when fetched), then 60, 61 and today (62)
        assert timestamps == [T0 + 60 * DAY - 1, T0 + 61 * DAY - 1, T0 + 62 * DAY - 1, later]
        assert all(q["currency"] == "USD" for q in fake.requests_to("prices"))
        assert fake.paths()[-2:] == [
            "/api/v1/mining/difficulty-adjustments/1m",
            "/api/v1/mining/blocks/fees/1w",  # the fees on file reach day 59
        ]
    assert (got.full_prices, got.price_requests, got.prices_added) == (False, 4, 3)
    assert (got.full_adjustments, got.adjustments_added) == (False, 1)
    assert store.counts(storage.db) == (63, 6)
    # Day 59 replaced (it was still running: one block then, four now), 60–62 added; the days
    # before stay as the full download gave them, whole days.
    assert got.full_fees is False and got.fee_days_stored == 4
    fees = dict(store.fees(storage.db))
    assert len(fees) == 63
    assert [fees[T0 // DAY + d] for d in (0, 58, 59, 62)] == [
        day_fees_sats(d) for d in (0, 58, 59, 62)
    ]


def test_a_run_with_nothing_new_adds_nothing(storage):
    now = T0 + 30 * DAY
    with FakeMempoolHistory(now=now) as fake:
        seeded(fake, 30)
        refresh(storage, fake.url, now)
        fake.requests.clear()
        got = refresh(storage, fake.url, now + 60)
        # today's price, the last month's adjustments, the last days' fees
        assert len(fake.requests) == 3
    assert (got.prices_added, got.adjustments_added) == (0, 0)
    assert got.fee_days_stored == 1  # the last day, again: it was still running


def test_a_server_answering_the_whole_history_keeps_only_new_days(storage):
    first = T0 + 20 * DAY + 60
    with FakeMempoolHistory(now=first, timestamp_returns_all=True) as fake:
        seeded(fake, 20)
        refresh(storage, fake.url, first)
        later = T0 + 25 * DAY + 60
        for d in range(20, 26):
            fake.add_price(T0 + d * DAY, 1_000 + d)
        fake.requests.clear()
        got = refresh(storage, fake.url, later)
        # the first answer had everything: no more day-by-day requests
        assert len(fake.requests_to("prices")) == 1
    assert got.prices_added == 6
    assert store.prices(storage.db)[-1] == (T0 + 25 * DAY, 1_025.0)


def test_a_long_gap_downloads_the_whole_history_and_keeps_only_new_rows(storage):
    first = T0 + 10 * DAY + 60
    with FakeMempoolHistory(now=first) as fake:
        seeded(fake, 10)
        refresh(storage, fake.url, first)
        later = T0 + 100 * DAY
        fake.now = later
        for d in range(10, 100):
            fake.add_price(T0 + d * DAY, 2_000 + d)
        fake.add_price(T0 + 5 * DAY, 1.0)  # a changed old row: not new, not taken
        fake.requests.clear()
        got = refresh(storage, fake.url, later)
        assert fake.requests_to("prices") == [{"currency": "USD"}]
    assert (got.full_prices, got.prices_added) == (True, 90)
    assert dict(store.prices(storage.db))[T0 + 5 * DAY] == 90_005.0


def test_the_last_fee_day_is_replaced_and_a_day_cut_by_the_interval_is_not_kept(storage):
    """Day 9's blocks pay more as the day goes on: a part of the day averages differently from
    the whole. The first run sees day 10 until 06:30; the second asks for `3d`, whose answer
    starts at 02:00 on day 9 (a part of it) and has all of day 10."""
    day9, day10 = T0 + 9 * DAY, T0 + 10 * DAY
    first = day10 + 6 * 3600 + 1800
    with FakeMempoolHistory(now=first) as fake:
        for b, sats in enumerate((1_000_000, 2_000_000, 3_000_000, 6_000_000)):
            fake.add_block(day9 + b * 6 * 3600 + 300, 876_000 + b, sats)
        for b, sats in enumerate((1_000_000, 3_000_000, 5_000_000, 7_000_000)):
            fake.add_block(day10 + b * 6 * 3600 + 300, 876_004 + b, sats)
        refresh(storage, fake.url, first)
        assert dict(store.fees(storage.db)) == {
            day9 // DAY: 3_000_000.0,
            day10 // DAY: 2_000_000.0,  # 00:05 and 06:05 only
        }
        later = T0 + 12 * DAY + 2 * 3600
        fake.now = later
        fake.requests.clear()
        got = refresh(storage, fake.url, later)
        assert fake.paths()[-1] == "/api/v1/mining/blocks/fees/3d"
    assert got.fee_days_stored == 1
    assert dict(store.fees(storage.db)) == {
        day9 // DAY: 3_000_000.0,  # not the 3d answer's part of it (from 02:00: 3.67M)
        day10 // DAY: 4_000_000.0,  # the whole day now
    }


def test_hourly_rows_are_stored_as_they_come(storage):
    now = T0 + 12 * DAY
    with FakeMempoolHistory(now=now) as fake:
        seeded(fake, 10, hourly_tail=2)
        got = refresh(storage, fake.url, now)
    assert got.prices_added == 10 + 48


@pytest.mark.parametrize(
    "route, status, body, truncate_to, words",  # route: which answer fails
    [
        ("prices", 429, "Too Many Requests", None, "rate limited \\(HTTP 429\\)"),
        ("prices", 500, '{"error":"Failed to get historical prices"}', None, "HTTP 500"),
        ("prices", 200, "<!DOCTYPE html><html>maintenance</html>", None, "HTML instead of JSON"),
        ("prices", 200, '{"prices":[{"time":1735689600,"USD":9', None, "truncated or not JSON"),
        ("prices", 200, None, 30, "closed before the answer was complete"),
        ("adjustments", 503, "<html>Bad gateway</html>", None, "HTTP 503"),
        ("adjustments", 200, "[[1735689600, 876000, 1e14, 1.0], [17", None, "truncated"),
        ("fees", 502, "<html>Bad gateway</html>", None, "HTTP 502"),
        ("fees", 200, "<!DOCTYPE html><html>maintenance</html>", None, "HTML instead of JSON"),
        ("fees", 200, '[{"avgHeight": 876000, "timestamp": 17356', None, "truncated or not JSON"),
        ("fees", 200, '[{"avgHeight": 876000, "timestamp": 1735689600}]', None, "avgFees"),
    ],
)
def test_errors_are_one_line_and_keep_the_cache(storage, route, status, body, truncate_to, words):
    first = T0 + 10 * DAY + 60
    with FakeMempoolHistory(now=first) as fake:
        seeded(fake, 10)
        refresh(storage, fake.url, first)
        before = (store.prices(storage.db), store.adjustments(storage.db))
        fees_before = store.fees(storage.db)
        assert len(fees_before) == 10  # days 0–9
        for d in range(10, 20):
            fake.add_price(T0 + d * DAY, 1.0 + d)
        fake.now = T0 + 60 * DAY  # a long gap: the whole history, in one answer
        if body is None:
            body = fake.prices_body({"currency": "USD"})
        fake.override(route, status, body, truncate_to)
        with pytest.raises(HistoryError, match=words) as exc:
            refresh(storage, fake.url, T0 + 60 * DAY)
    message = str(exc.value)
    assert "\n" not in message
    assert fake.url in message
    task = {"prices": history.PRICES_TASK, "fees": history.FEES_TASK}.get(
        route, history.ADJUSTMENTS_TASK
    )
    assert message.startswith(task)  # names what failed
    if route == "prices":
        assert (store.prices(storage.db), store.adjustments(storage.db)) == before
    assert store.fees(storage.db) == fees_before  # fees are last: never touched by a failure


def test_unreachable_server(storage):
    with FakeMempoolHistory() as fake:
        url = fake.url
    with pytest.raises(HistoryError, match="unreachable"):
        refresh(storage, url, T0, timeout_s=1.0)
    assert store.counts(storage.db) == (0, 0)


def test_progress_is_reported(storage):
    seen: list[tuple[str, float, float | None]] = []
    now = T0 + 5 * DAY
    with FakeMempoolHistory(now=now) as fake:
        seeded(fake, 5)
        refresh(storage, fake.url, now, progress=lambda *a: seen.append(a))
        refresh(storage, fake.url, now + 2 * DAY, progress=lambda *a: seen.append(a))
    tasks = {t for t, _, _ in seen}
    assert tasks == {history.PRICES_TASK, history.ADJUSTMENTS_TASK, history.FEES_TASK}
    # the full download counts bytes up to the Content-Length, then ends complete
    byte_steps = [(done, total) for t, done, total in seen if t == history.PRICES_TASK][:3]
    assert byte_steps[0] == (0, None)
    assert byte_steps[1][1] and byte_steps[1][0] == byte_steps[1][1]
    # the day-by-day requests (days 5, 6 and 7) count requests
    day_steps = [
        (done, total) for t, done, total in seen if t == history.PRICES_TASK and total == 3
    ]
    assert day_steps[-1] == (3, 3)


@pytest.mark.parametrize("answer", ["endless", "gzip bomb"])
def test_an_oversized_download_fails_in_one_line_within_the_cap(storage, answer):
    now = T0 + 10 * DAY
    with FakeMempoolHistory(now=now) as fake:
        seeded(fake, 10)
        if answer == "endless":
            fake.override("prices", chunks=bad_bodies.endless)
        else:
            fake.override("prices", body=bad_bodies.gzip_bomb(256), headers=bad_bodies.GZIP)
        tracemalloc.start()
        try:
            with pytest.raises(HistoryError, match="answer larger than 32 MiB") as exc:
                refresh(storage, fake.url, now)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert str(exc.value).startswith(history.PRICES_TASK) and "\n" not in str(exc.value)
    assert peak < 3 * history.MAX_ANSWER_BYTES, f"{peak / 2**20:.0f} MiB"
    assert store.counts(storage.db) == (0, 0)
