"""A fake of the market APIs: one loopback HTTP server answering every source on its real path.

Bodies have the real shapes (see tests/fixtures/market/); the values are whatever the test sets.
Per source, a test can replace the answer (status, body) or add a delay, to play a source that fails,
hangs, rate-limits or lies.

    with FakeMarket(price=91_000, difficulty=152e12, fees_btc=0.02) as market:
        market.override("kraken", status=429, body="")
        market.override("coinbase", delay=30)          # hangs
        env = market.env()                              # HASHFLOOR_*_URL → this server
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests.fakes import bad_bodies

PRICE_SOURCES = ("coinbase", "kraken", "bitstamp", "coingecko", "mempool")

# path (without query) → route name
ROUTES = {
    "/v2/prices/BTC-USD/spot": "coinbase",
    "/0/public/Ticker": "kraken",
    "/api/v2/ticker/btcusd/": "bitstamp",
    "/api/v3/simple/price": "coingecko",
    "/api/v1/prices": "mempool",
    "/api/v1/difficulty-adjustment": "mempool_adjustment",
    "/api/v1/mining/hashrate/3d": "mempool_hashrate",
    "/api/blocks/tip/height": "mempool_tip",
    "/api/v1/mining/reward-stats/144": "mempool_fees",
    "/stats": "blockchain_info",
}
NETWORK_ROUTES = ("mempool_adjustment", "mempool_hashrate", "mempool_tip", "mempool_fees")
# Units of each currency per US$ that mempool's /api/v1/prices implies by default (EUR is DESIGN
# §4.1's 0.92: BTC $91,000 = €83,720).
FIAT_PER_USD = {"EUR": 0.92, "GBP": 0.79, "CAD": 1.38, "CHF": 0.88, "AUD": 1.53, "JPY": 155.0}


@dataclass
class Override:
    status: int | None = None
    body: str | bytes | None = None
    delay: float = 0.0
    headers: dict[str, str] | None = None
    # A body sent chunk by chunk with no Content-Length (ends when the iterable does, or when the
    # client hangs up): an endless or a huge answer (tests/fakes/bad_bodies.py).
    chunks: Callable[[], Iterable[bytes]] | None = None


class FakeMarket:
    def __init__(
        self,
        price: float = 91_000.0,
        difficulty: float = 152e12,
        fees_btc: float = 0.02,
        height: int = 925_000,
        adjustment_percent: float = 1.25,
        adjustment_at: float = 1_764_000_000.0,
        remaining_blocks: int = 1_000,
    ) -> None:
        self.lock = threading.Lock()
        self.prices = {s: float(price) for s in PRICE_SOURCES}
        self.difficulty = difficulty
        self.fees_btc = fees_btc
        self.height = height
        self.adjustment_percent = adjustment_percent
        self.adjustment_at = adjustment_at
        self.remaining_blocks = remaining_blocks
        # BTC in other currencies as /api/v1/prices quotes it, per unit of the US$ price; a value
        # of None leaves the key out of the answer (set_fiat).
        self.fiat_per_usd: dict[str, float | None] = dict(FIAT_PER_USD)
        self.overrides: dict[str, Override] = {}
        self.date_offset_s = 0.0  # how far this "server's" clock is from the real one
        self.hits: Counter[str] = Counter()
        self._stopping = threading.Event()
        # One poll opens 10 connections at once; the default backlog of 5 drops some for 1 s.
        ThreadingHTTPServer.request_queue_size = 128
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    # --- control --------------------------------------------------------------------------

    def set_price(self, usd: float, *sources: str) -> None:
        with self.lock:
            for s in sources or PRICE_SOURCES:
                self.prices[s] = float(usd)

    def set_fiat(self, currency: str, per_usd: float | None) -> None:
        """What mempool quotes for `currency`: `per_usd` × the US$ price (0 or negative are sent
        as they are, as a broken answer would); None leaves the key out."""
        with self.lock:
            self.fiat_per_usd[currency] = per_usd

    def set_network(
        self,
        height: int | None = None,
        difficulty: float | None = None,
        adjustment_percent: float | None = None,
        remaining_blocks: int | None = None,
    ) -> None:
        """Move the chain: e.g. the tip past a multiple of 2,016 with a new difficulty is a
        retarget; a few blocks to go with a large estimate is what a heads-up waits for."""
        with self.lock:
            if height is not None:
                self.height = height
            if difficulty is not None:
                self.difficulty = difficulty
            if adjustment_percent is not None:
                self.adjustment_percent = adjustment_percent
            if remaining_blocks is not None:
                self.remaining_blocks = remaining_blocks

    def override(
        self,
        route: str,
        status: int | None = None,
        body: str | bytes | None = None,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
        chunks: Callable[[], Iterable[bytes]] | None = None,
    ) -> None:
        """Replace a route's answer; route is a price source or one of NETWORK_ROUTES."""
        with self.lock:
            self.overrides[route] = Override(status, body, delay, headers, chunks)

    def clear(self, *routes: str) -> None:
        with self.lock:
            for r in routes or list(self.overrides):
                self.overrides.pop(r, None)

    def env(self) -> dict[str, str]:
        return {
            f"HASHFLOOR_{name.upper()}_URL": self.url
            for name in (*PRICE_SOURCES, "blockchain_info")
        }

    def close(self) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeMarket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- bodies of the real shapes --------------------------------------------------------

    def body(self, route: str) -> str:
        p = self.prices
        if route == "coinbase":
            return json.dumps(
                {"data": {"base": "BTC", "currency": "USD", "amount": f"{p['coinbase']:.2f}"}}
            )
        if route == "kraken":
            last = f"{p['kraken']:.5f}"
            ticker = {
                "a": [last, "1", "1.000"],
                "b": [last, "1", "1.000"],
                "c": [last, "0.01"],
                "o": last,
            }
            return json.dumps({"error": [], "result": {"XXBTZUSD": ticker}})
        if route == "bitstamp":
            return json.dumps({"timestamp": str(int(time.time())), "last": f"{p['bitstamp']:.0f}"})
        if route == "coingecko":
            return json.dumps({"bitcoin": {"usd": p["coingecko"]}})
        if route == "mempool":
            # Whole units, as mempool publishes them (tests/fixtures/market/mempool_prices.json).
            body: dict[str, int] = {"time": int(time.time()), "USD": round(p["mempool"])}
            for code, per_usd in self.fiat_per_usd.items():
                if per_usd is not None:
                    body[code] = round(p["mempool"] * per_usd)
            return json.dumps(body)
        if route == "mempool_adjustment":
            return json.dumps(
                {
                    "progressPercent": 50.4,
                    "difficultyChange": self.adjustment_percent,
                    "estimatedRetargetDate": int(self.adjustment_at * 1000),
                    "remainingBlocks": self.remaining_blocks,
                    "remainingTime": 600_000_000,
                    "previousRetarget": -0.5,
                    "previousTime": int(self.adjustment_at - 14 * 86400),
                    "nextRetargetHeight": self.height + self.remaining_blocks,
                    "timeAvg": 600_000,
                }
            )
        if route == "mempool_hashrate":
            return json.dumps(
                {
                    "hashrates": [],
                    "difficulty": [],
                    "currentHashrate": self.difficulty * 2**32 / 600,
                    "currentDifficulty": self.difficulty,
                }
            )
        if route == "mempool_tip":
            return str(self.height)
        if route == "mempool_fees":
            total_fee = round(self.fees_btc * 144 * 100_000_000)
            return json.dumps(
                {
                    "startBlock": self.height - 143,
                    "endBlock": self.height,
                    "totalReward": str(total_fee + 144 * 312_500_000),
                    "totalFee": str(total_fee),
                    "totalTx": "500000",
                }
            )
        if route == "blockchain_info":
            return json.dumps(
                {
                    "timestamp": int(time.time() * 1000),
                    "market_price_usd": p["coinbase"],
                    "hash_rate": self.difficulty * 2**32 / 600 / 1e9,
                    "total_fees_btc": round(self.fees_btc * 144 * 100_000_000),
                    "n_blocks_mined": 144,
                    "n_blocks_total": self.height,
                    "difficulty": self.difficulty,
                }
            )
        raise KeyError(route)

    # --- the server -----------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def date_time_string(self, timestamp: float | None = None) -> str:
                # The Date header, as a server whose clock is `date_offset_s` off would send it.
                now = time.time() if timestamp is None else timestamp
                return super().date_time_string(now + fake.date_offset_s)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                route = ROUTES.get(urlsplit(self.path).path)
                if route is None:
                    self._send(404, "text/plain", b"not found")
                    return
                with fake.lock:
                    fake.hits[route] += 1
                    ov = fake.overrides.get(route)
                    body = fake.body(route)
                if ov and ov.delay:
                    # Sleep in slices so close() is not held up by a hanging route.
                    fake._stopping.wait(ov.delay)
                status = ov.status if ov and ov.status is not None else 200
                if ov and ov.chunks is not None:
                    self._stream(status, ov.chunks(), ov.headers)
                    return
                if ov and ov.body is not None:
                    body = ov.body
                data = body.encode() if isinstance(body, str) else body
                ctype = "text/plain" if route == "mempool_tip" else "application/json"
                if data.lstrip().startswith(b"<"):
                    ctype = "text/html"
                self._send(status, ctype, data, ov.headers if ov else None)

            def _send(
                self, status: int, ctype: str, data: bytes, headers: dict | None = None
            ) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): that is the point of a delay

            def _stream(
                self, status: int, chunks: Iterable[bytes], headers: dict | None = None
            ) -> None:
                bad_bodies.send_stream(
                    self, status, chunks, headers, stopping=fake._stopping.is_set
                )

        return Handler
