"""A fake of mempool's history endpoints on loopback, answering as mempool's backend does.

- `GET /api/v1/historical-price?currency=USD`: every price, newest first, as
  `{"prices": [{"time": s, "USD": usd}, …], "exchangeRates": {"USDEUR": …, …}}`.
- `…&timestamp=T`: only the price nearest at or before T (mempool's `LIMIT 1`), or its placeholder
  `{"time": 1279497600, "USD": 0}` when there is none. `timestamp_returns_all=True` plays a server
  that answers the whole history instead.
- `GET /api/v1/mining/difficulty-adjustments[/<interval>]`: `[[time s, height, difficulty,
  ratio], …]`, highest height first; an interval (`1m`, `1y`, …) keeps the rows of that span
  before the fake's `now`.

- `GET /api/v1/mining/blocks/fees/<interval>`: `[{"avgHeight", "timestamp", "avgFees", "USD"}, …]`
  as BlocksRepository.$getHistoricalBlockFees groups blocks: AVG per bucket of
  `UNIX_TIMESTAMP DIV getTimeRange(interval)` seconds (24 h for an interval mempool does not name,
  such as `all`, which has no time limit either), fees in sats, cast to integers; `USD` the price
  of the bucket. Buckets come in no particular order (the SQL has no ORDER BY): newest first here.

Every request is recorded (path and query); a route's answer can be replaced (status, body) to
play a rate limit, a server error, an HTML page or a truncated body.

    with FakeMempoolHistory(now=...) as fake:
        fake.add_price(1_704_067_200, 42_000.0)
        fake.add_adjustment(1_703_311_464, 822_528, 72_006_146_478_567.1, 1.06983)
        fake.add_block(1_713_571_767, 840_000, 3_700_000_000)  # fees in sats
        fake.override("prices", status=429, body="Too Many Requests")
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.fakes import bad_bodies

PRICES_PATH = "/api/v1/historical-price"
ADJUSTMENTS_PATH = "/api/v1/mining/difficulty-adjustments"
FEES_PATH = "/api/v1/mining/blocks/fees"
# mempool's bucket per interval (mining.ts getTimeRange); any other interval: 24 h.
BUCKET_S = {
    "24h": 1,
    "3d": 1,
    "1w": 300,
    "1m": 1800,
    "3m": 7200,
    "6m": 10800,
    "1y": 28800,
    "2y": 28800,
    "3y": 43200,
    "4y": 43200,
}
# mempool's intervals (Common.getSqlInterval), as days back from now.
INTERVAL_DAYS = {
    "24h": 1,
    "3d": 3,
    "1w": 7,
    "1m": 30,
    "3m": 91,
    "6m": 182,
    "1y": 365,
    "2y": 730,
    "3y": 1095,
    "4y": 1461,
}
EXCHANGE_RATES = {
    "USDEUR": 0.92,
    "USDGBP": 0.79,
    "USDCAD": 1.37,
    "USDCHF": 0.88,
    "USDAUD": 1.51,
    "USDJPY": 151.6,
}
NO_PRICE_PLACEHOLDER = {"time": 1279497600, "USD": 0}


@dataclass
class Override:
    status: int = 200
    body: bytes = b""
    truncate_to: int | None = None  # send a Content-Length larger than the body, then close
    headers: dict[str, str] | None = None
    # sent chunk by chunk with no Content-Length (tests/fakes/bad_bodies.py)
    chunks: Callable[[], Iterable[bytes]] | None = None


class FakeMempoolHistory:
    def __init__(self, now: float = 1_754_000_000.0, timestamp_returns_all: bool = False) -> None:
        self.lock = threading.Lock()
        self.now = now
        self.timestamp_returns_all = timestamp_returns_all
        self.prices: dict[int, float] = {}
        self.adjustments: dict[int, tuple[int, int, float, float]] = {}
        self.blocks: dict[int, tuple[int, float]] = {}  # height -> (time, fees in sats)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.overrides: dict[str, Override] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    # --- control --------------------------------------------------------------------------

    def add_price(self, time: int, usd: float) -> None:
        with self.lock:
            self.prices[int(time)] = usd

    def add_adjustment(self, time: int, height: int, difficulty: float, ratio: float = 1.0) -> None:
        with self.lock:
            self.adjustments[height] = (int(time), height, difficulty, ratio)

    def add_block(self, time: int, height: int, fees_sats: float) -> None:
        with self.lock:
            self.blocks[height] = (int(time), fees_sats)

    def override(
        self,
        route: str,
        status: int = 200,
        body: str | bytes = b"",
        truncate_to: int | None = None,
        headers: dict[str, str] | None = None,
        chunks: Callable[[], Iterable[bytes]] | None = None,
    ) -> None:
        """route: "prices", "adjustments" or "fees"."""
        data = body.encode() if isinstance(body, str) else body
        with self.lock:
            self.overrides[route] = Override(status, data, truncate_to, headers, chunks)

    def clear(self) -> None:
        with self.lock:
            self.overrides.clear()

    def requests_to(self, route: str) -> list[dict[str, str]]:
        path = {"prices": PRICES_PATH, "fees": FEES_PATH}.get(route, ADJUSTMENTS_PATH)
        with self.lock:
            return [q for p, q in self.requests if p.startswith(path)]

    def paths(self) -> list[str]:
        with self.lock:
            return [p for p, _ in self.requests]

    def env(self) -> dict[str, str]:
        return {"HASHFLOOR_MEMPOOL_URL": self.url}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeMempoolHistory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- bodies of the real shapes --------------------------------------------------------

    def prices_body(self, query: dict[str, str]) -> bytes:
        currency = query.get("currency", "USD")
        timestamp = int(query.get("timestamp") or 0)
        rows = sorted(self.prices.items(), reverse=True)  # ORDER BY time DESC
        if timestamp and not self.timestamp_returns_all:
            rows = [r for r in rows if r[0] <= timestamp][:1]
            prices = [{"time": t, currency: p, "USD": p} for t, p in rows] or [
                {"time": NO_PRICE_PLACEHOLDER["time"], currency: 0, "USD": 0}
            ]
        else:
            prices = [{"time": t, currency: p, "USD": p} for t, p in rows]
        return json.dumps({"prices": prices, "exchangeRates": EXCHANGE_RATES}).encode()

    def adjustments_body(self, interval: str | None) -> bytes:
        rows = sorted(self.adjustments.values(), key=lambda r: r[1], reverse=True)
        if interval in INTERVAL_DAYS:
            since = self.now - INTERVAL_DAYS[interval] * 86_400
            rows = [r for r in rows if since <= r[0] <= self.now]
        return json.dumps([list(r) for r in rows]).encode()

    def fees_body(self, interval: str) -> bytes:
        # A block after the fake's now has not been mined yet.
        rows = sorted((t, h, f) for h, (t, f) in self.blocks.items() if t <= self.now)
        if interval in INTERVAL_DAYS:  # Common.getSqlInterval: the span before now
            since = self.now - INTERVAL_DAYS[interval] * 86_400
            rows = [r for r in rows if since <= r[0] <= self.now]
        div = BUCKET_S.get(interval, 86_400)
        groups: dict[int, list[tuple[int, int, float]]] = {}
        for row in rows:
            groups.setdefault(row[0] // div, []).append(row)
        prices = sorted(self.prices.items())
        out = []
        for _, got in sorted(groups.items(), reverse=True):
            n = len(got)
            stamp = round(sum(r[0] for r in got) / n)
            usd = next((p for t, p in reversed(prices) if t <= stamp), 0)
            out.append(
                {
                    "avgHeight": round(sum(r[1] for r in got) / n),
                    "timestamp": stamp,
                    "avgFees": round(sum(r[2] for r in got) / n),
                    "USD": usd,
                }
            )
        return json.dumps(out).encode()

    # --- the server -----------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                path = parts.path.rstrip("/")
                with fake.lock:
                    fake.requests.append((path, query))
                    if path == PRICES_PATH:
                        route, body = "prices", fake.prices_body(query)
                    elif path == ADJUSTMENTS_PATH or path.startswith(ADJUSTMENTS_PATH + "/"):
                        interval = path.removeprefix(ADJUSTMENTS_PATH).strip("/") or None
                        route, body = "adjustments", fake.adjustments_body(interval)
                    elif path.startswith(FEES_PATH + "/"):
                        interval = path.removeprefix(FEES_PATH + "/")
                        route, body = "fees", fake.fees_body(interval)
                    else:
                        route, body = "", b"not found"
                    ov = fake.overrides.get(route)
                if not route:
                    self._send(404, body)
                elif ov is not None and ov.chunks is not None:
                    self._stream(ov.status, ov.chunks(), ov.headers)
                elif ov is not None:
                    self._send(ov.status, ov.body or body, ov.truncate_to, ov.headers)
                else:
                    self._send(200, body)

            def _send(
                self,
                status: int,
                data: bytes,
                truncate_to: int | None = None,
                headers: dict[str, str] | None = None,
            ) -> None:
                ctype = "text/html" if data.lstrip().startswith(b"<") else "application/json"
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data if truncate_to is None else data[:truncate_to])
                    if truncate_to is not None:
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _stream(
                self, status: int, chunks: Iterable[bytes], headers: dict | None = None
            ) -> None:
                bad_bodies.send_stream(self, status, chunks, headers)

        return Handler
