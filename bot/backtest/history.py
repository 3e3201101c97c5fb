"""Price and difficulty history from mempool (`HASHFLOOR_MEMPOOL_URL`), cached in SQLite.

The first run downloads everything: `/api/v1/historical-price?currency=USD` (every price mempool
has, newest first) and `/api/v1/mining/difficulty-adjustments` (every adjustment, newest first).
Later runs ask only for what is new:

- prices: mempool answers `&timestamp=T` with the one price nearest at or before T, so each
  missing UTC day is one small request for its last price (up to `MAX_DAY_REQUESTS` days; a longer
  gap downloads the whole history again). The last cached day is asked again when it was still
  running when fetched. A server that answers the whole history instead is handled too: whatever
  comes back, only rows newer than the cache are kept.
- adjustments: the smallest of mempool's intervals (`/difficulty-adjustments/1m` …) that reaches
  back past the last adjustment on file; only adjustments above its height are kept.

- fees: `/api/v1/mining/blocks/fees/{interval}` (mempool's mining-routes.ts, BlocksRepository
  `$getHistoricalBlockFees`): `[{"avgHeight", "timestamp", "avgFees" (sats), "USD"}, …]`, one row
  per bucket of blocks. An interval mempool does not name (`all`) has no time limit and buckets of
  24 h, UTC days: the whole history, once. Later runs ask for the smallest named interval reaching
  back past the last cached day (its buckets are shorter: a day is the mean of its buckets); the
  first day of such an answer is cut by the interval's start and is not kept, and the last cached
  day is replaced (it may have been still running when fetched).

Each answer is stored in its own transaction, so a failure half-way keeps what came before it, and
a failed download leaves the cache as it was. Errors are `HistoryError`: one line for people.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bot.market import bounded, parsers
from bot.market.parsers import SourceError
from bot.market.poll import USER_AGENT, reason
from storage import history
from storage.db import Storage

PRICES_PATH = "/api/v1/historical-price"
ADJUSTMENTS_PATH = "/api/v1/mining/difficulty-adjustments"
FEES_PATH = "/api/v1/mining/blocks/fees"
PRICES_TASK = "BTC/USD prices"
ADJUSTMENTS_TASK = "difficulty adjustments"
FEES_TASK = "fees per block"
# No block ever paid this much in fees (the record is under 300 BTC): a larger average is not a
# fee in sats (a wrong unit, or not mempool's answer).
MAX_FEES_SATS = 1_000 * 100_000_000
# mempool's intervals and the fewest days each is sure to reach back (a month can be 28 days).
ADJUSTMENT_INTERVALS: tuple[tuple[str, int], ...] = (
    ("24h", 1),
    ("3d", 3),
    ("1w", 7),
    ("1m", 28),
    ("3m", 89),
    ("6m", 181),
    ("1y", 365),
    ("2y", 730),
    ("3y", 1095),
    ("4y", 1460),
)
MAX_DAY_REQUESTS = 31
# The whole daily price history is about 1 MB; anything past this is not mempool's answer.
MAX_ANSWER_BYTES = 32 << 20
DAY_S = 86_400
# Block times: nothing before the genesis block, nothing past 2100 (a time in ms would be).
MIN_TIME = 1_231_006_505
MAX_TIME = 4_102_444_800

# (task, completed, total or None): how far a download has got, for a progress bar.
ProgressFn = Callable[[str, float, float | None], None]


class HistoryError(Exception):
    """A download failed; the message is one line for people."""


@dataclass
class RefreshReport:
    price_requests: int = 0
    prices_added: int = 0
    full_prices: bool = False
    adjustment_requests: int = 0
    adjustments_added: int = 0
    full_adjustments: bool = False
    fee_requests: int = 0
    fee_days_stored: int = 0
    full_fees: bool = False


# --- answers (pure) ---------------------------------------------------------------------------


def _time(value: Any, what: str) -> int:
    t = parsers.number(value, what)
    if not MIN_TIME <= t <= MAX_TIME:
        raise SourceError(f"{what} {t:g} is not a time in seconds since 1970 after 2009")
    return int(t)


def parse_prices(status: int, body: bytes | str) -> list[tuple[int, float]]:
    """`{"prices": [{"time": s, "USD": usd, …}, …], "exchangeRates": {…}}` → (s, usd), oldest first.

    A price of 0 is mempool's "no price" (its placeholder before July 2010) and is left out.
    """
    parsers.check_status(status)
    data = parsers.load_json(body)
    if data is None:
        raise SourceError("no prices in the answer (null)")
    rows = parsers.dig(data, "prices")
    if not isinstance(rows, list):
        raise SourceError("'prices' is not a list")
    out: dict[int, float] = {}
    for n, row in enumerate(rows):
        time = _time(parsers.dig(row, "time"), f"prices[{n}].time")
        usd = parsers.number(parsers.dig(row, "USD"), f"prices[{n}].USD")
        if usd == 0:
            continue
        if not parsers.MIN_PLAUSIBLE_USD <= usd <= parsers.MAX_PLAUSIBLE_USD:
            raise SourceError(f"prices[{n}].USD {usd:g} is not a plausible price")
        out[time] = usd
    return sorted(out.items())


def parse_adjustments(status: int, body: bytes | str) -> list[tuple[int, int, float, float | None]]:
    """`[[time s, height, difficulty, ratio], …]` → the same tuples, lowest height first."""
    parsers.check_status(status)
    data = parsers.load_json(body)
    if not isinstance(data, list):
        raise SourceError("not a list of adjustments")
    out: dict[int, tuple[int, int, float, float | None]] = {}
    for n, row in enumerate(data):
        if not isinstance(row, list) or len(row) < 3:
            raise SourceError(f"adjustment [{n}] is not [time, height, difficulty, ratio]")
        time = _time(row[0], f"adjustment [{n}] time")
        height = parsers.block_count(row[1], f"adjustment [{n}] height")
        difficulty = parsers.positive(row[2], f"adjustment [{n}] difficulty")
        ratio = None
        if len(row) > 3 and row[3] is not None:
            ratio = parsers.number(row[3], f"adjustment [{n}] ratio")
        out[height] = (time, height, difficulty, ratio)
    return [out[h] for h in sorted(out)]


def parse_fees(status: int, body: bytes | str) -> list[tuple[int, int, float]]:
    """`[{"avgHeight": h, "timestamp": s, "avgFees": sats, "USD": usd}, …]` → (s, h, sats),
    oldest first (mempool does not order its buckets)."""
    parsers.check_status(status)
    data = parsers.load_json(body)
    if not isinstance(data, list):
        raise SourceError("not a list of fee buckets")
    out: dict[int, tuple[int, int, float]] = {}
    for n, row in enumerate(data):
        if not isinstance(row, dict):
            raise SourceError(f"fees [{n}] is not an object with avgHeight, timestamp, avgFees")
        time = _time(parsers.dig(row, "timestamp"), f"fees [{n}].timestamp")
        height = parsers.block_count(parsers.dig(row, "avgHeight"), f"fees [{n}].avgHeight")
        sats = parsers.number(parsers.dig(row, "avgFees"), f"fees [{n}].avgFees")
        if not 0 <= sats <= MAX_FEES_SATS:
            raise SourceError(f"fees [{n}].avgFees {sats:g} is not fees per block in sats")
        out[time] = (time, height, sats)
    return [out[t] for t in sorted(out)]


def daily_fees(rows: list[tuple[int, int, float]]) -> list[tuple[int, int, int, float]]:
    """Buckets → one row per UTC day: (day index, mean time, mean height, mean fees in sats)."""
    days: dict[int, list[tuple[int, int, float]]] = {}
    for row in rows:
        days.setdefault(row[0] // DAY_S, []).append(row)
    out = []
    for day, got in sorted(days.items()):
        n = len(got)
        out.append(
            (
                day,
                round(sum(r[0] for r in got) / n),
                round(sum(r[1] for r in got) / n),
                sum(r[2] for r in got) / n,
            )
        )
    return out


# --- what to ask for (pure) -------------------------------------------------------------------


def price_plan(last_time: int | None, fetched_at: float | None, now: float) -> list[int] | None:
    """The `timestamp`s to ask for, one request each, or None to download the whole history."""
    if last_time is None:
        return None
    last_day = int(last_time // DAY_S)
    first = last_day + 1
    if fetched_at is None or int(fetched_at // DAY_S) <= last_day:
        first = last_day  # that day was still running when fetched: it may have more now
    today = int(now // DAY_S)
    days = range(first, today + 1)
    if len(days) > MAX_DAY_REQUESTS:
        return None
    return [min(d * DAY_S + DAY_S - 1, int(now)) for d in days]


def adjustment_interval(last_time: int | None, now: float) -> str | None:
    """The shortest mempool interval reaching back past `last_time`, or None for everything."""
    if last_time is None:
        return None
    gap_days = math.ceil((now - last_time) / DAY_S) + 1
    for name, days in ADJUSTMENT_INTERVALS:
        if days >= gap_days:
            return name
    return None


# --- the download -----------------------------------------------------------------------------


def _reason(exc: BaseException) -> str:
    # A multi-megabyte history download can be cut short: say so where a price poll would not.
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection closed before the answer was complete"
    text = reason(exc)
    return f"{text} (truncated or not JSON)" if text == "invalid JSON" else text


class _Fetcher:
    def __init__(self, client: httpx.Client, base_url: str, progress: ProgressFn) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.progress = progress

    def get(
        self, task: str, path: str, params: dict[str, Any], stream: bool = False
    ) -> tuple[int, bytes]:
        url = self.base_url + path
        try:
            headers = {"Accept-Encoding": bounded.ACCEPT_ENCODING}
            with self.client.stream("GET", url, params=params, headers=headers) as resp:
                size = resp.headers.get("content-length")
                total = float(size) if stream and size and size.isdigit() else None

                def progress(raw: int) -> None:
                    # bytes on the wire, as Content-Length counts them (before gzip is undone)
                    self.progress(task, raw, total)

                body = bounded.read(resp, MAX_ANSWER_BYTES, progress if stream else None)
                return resp.status_code, body
        except (httpx.HTTPError, SourceError) as exc:
            raise HistoryError(f"{task} from {self.base_url}: {_reason(exc)}") from None


def refresh(
    storage: Storage,
    base_url: str,
    now: float,
    timeout_s: float = 10.0,
    progress: ProgressFn | None = None,
    client: httpx.Client | None = None,
) -> RefreshReport:
    """Bring the cache up to date with mempool at `base_url`; raises HistoryError on failure."""
    report = RefreshReport()
    own = client is None
    client = client or httpx.Client(
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0)),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
    )
    fetcher = _Fetcher(client, base_url, progress or (lambda *_: None))
    try:
        _refresh_prices(storage, fetcher, now, report)
        _refresh_adjustments(storage, fetcher, now, report)
        _refresh_fees(storage, fetcher, now, report)
    finally:
        if own:
            client.close()
    return report


def _parse(task: str, base_url: str, parse: Callable[[int, bytes], Any], got: tuple) -> Any:
    try:
        return parse(*got)
    except SourceError as exc:
        raise HistoryError(f"{task} from {base_url}: {_reason(exc)}") from None


def _refresh_prices(storage: Storage, f: _Fetcher, now: float, report: RefreshReport) -> None:
    db = storage.db
    last = history.last_price_time(db)
    plan = price_plan(last, history.fetched_at(db, history.PRICES), now)
    params: dict[str, Any] = {"currency": "USD"}

    def store(rows: list[tuple[int, float]]) -> None:
        new = [r for r in rows if last is None or r[0] > last]
        with storage.transaction():
            report.prices_added += history.add_prices(db, new)
            history.set_fetched_at(db, history.PRICES, now)

    if plan is None:
        report.full_prices = True
        report.price_requests += 1
        f.progress(PRICES_TASK, 0, None)
        got = f.get(PRICES_TASK, PRICES_PATH, params, stream=True)
        store(_parse(PRICES_TASK, f.base_url, parse_prices, got))
        f.progress(PRICES_TASK, 1, 1)
        return
    f.progress(PRICES_TASK, 0, len(plan) or 1)
    for n, timestamp in enumerate(plan, start=1):
        report.price_requests += 1
        got = f.get(PRICES_TASK, PRICES_PATH, {**params, "timestamp": timestamp})
        rows = _parse(PRICES_TASK, f.base_url, parse_prices, got)
        store(rows)
        f.progress(PRICES_TASK, n, len(plan))
        if len(rows) > 1:
            break  # the server sent more than the one nearest price: we have all there is
    f.progress(PRICES_TASK, len(plan) or 1, len(plan) or 1)


def _refresh_adjustments(storage: Storage, f: _Fetcher, now: float, report: RefreshReport) -> None:
    db = storage.db
    last = history.last_adjustment(db)
    interval = adjustment_interval(last[0] if last else None, now)
    path = ADJUSTMENTS_PATH if interval is None else f"{ADJUSTMENTS_PATH}/{interval}"
    report.full_adjustments = interval is None
    report.adjustment_requests += 1
    f.progress(ADJUSTMENTS_TASK, 0, None)
    got = f.get(ADJUSTMENTS_TASK, path, {}, stream=True)
    rows = _parse(ADJUSTMENTS_TASK, f.base_url, parse_adjustments, got)
    new = [r for r in rows if last is None or r[1] > last[1]]
    with storage.transaction():
        report.adjustments_added += history.add_adjustments(db, new)
        history.set_fetched_at(db, history.ADJUSTMENTS, now)
    f.progress(ADJUSTMENTS_TASK, 1, 1)


def _refresh_fees(storage: Storage, f: _Fetcher, now: float, report: RefreshReport) -> None:
    db = storage.db
    last = history.last_fee_day(db)
    interval = adjustment_interval(last[1] if last else None, now)
    report.full_fees = interval is None
    report.fee_requests += 1
    f.progress(FEES_TASK, 0, None)
    got = f.get(FEES_TASK, f"{FEES_PATH}/{interval or 'all'}", {}, stream=True)
    days = daily_fees(_parse(FEES_TASK, f.base_url, parse_fees, got))
    if interval is not None and days:
        first = days[0][0]  # cut by the interval's start: a part of that day only
        days = [d for d in days if d[0] > first and (last is None or d[0] >= last[0])]
    with storage.transaction():
        report.fee_days_stored += history.put_fees(db, days)
        history.set_fetched_at(db, history.FEES, now)
    f.progress(FEES_TASK, 1, 1)
