"""One poll of every market source, concurrently, each under a hard deadline."""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import certifi
import httpx

from bot.market import bounded, parsers
from bot.market.aggregate import aggregate
from bot.market.snapshot import Network, Quote, Snapshot
from bot.settings import Settings

USER_AGENT = "hashfloor/0.1 (+https://github.com/hashfloor)"
# The largest market answer read: the real ones are under 20 KB (mempool's fee stats the most).
MAX_ANSWER_BYTES = 1 << 20


@dataclass(frozen=True)
class Fetched:
    status: int
    body: bytes
    latency_ms: float


def reason(exc: BaseException) -> str:
    """A failed fetch, in a few words for a log line or a table cell."""
    if isinstance(exc, parsers.SourceError):
        return str(exc)
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "unreachable"
    if isinstance(exc, httpx.HTTPError):
        return f"network error: {type(exc).__name__}"
    return f"error: {type(exc).__name__}"


def _btc_prices(source: str, got: Fetched) -> dict[str, float]:
    if source != "mempool":
        return {}
    try:
        return parsers.mempool_btc_prices(got.status, got.body)
    except parsers.SourceError:
        return {}


class _Abandoning(ThreadPoolExecutor):
    """The poll's event loop executor: each call (asyncio runs `getaddrinfo` here) in its own
    daemon thread, and a shutdown that waits for none of them.

    The default executor would make `asyncio.run` wait at exit for a resolver stuck in
    `getaddrinfo`, past the poll's deadline (8 s for a 2 s timeout); a stuck lookup is left to
    finish on its own instead, and never holds the poll or the process's exit.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to the awaiting task, as the pool does
                future.set_exception(exc)

        threading.Thread(target=run, name="poll-resolver", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pass


class MarketPoller:
    """Fetches prices and network state; `poll()` is safe to call from any thread."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.timeout_s = settings.hashfloor_http_timeout
        # Connect gets a short slice: a host that does not answer SYN should fail fast.
        self._timeout = httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 3.0))
        # Loading the CA bundle takes 20-35 ms of CPU (with the GIL held, so slash commands wait);
        # one context serves every poll, on any thread.
        self._ssl = ssl.create_default_context(cafile=certifi.where())

    async def _fetch(self, client: httpx.AsyncClient, url: str) -> Fetched:
        start = time.perf_counter()
        async with client.stream("GET", url) as resp:
            body = await bounded.read_async(resp, MAX_ANSWER_BYTES)
        return Fetched(resp.status_code, body, (time.perf_counter() - start) * 1000)

    async def _get(self, client: httpx.AsyncClient, url: str) -> Fetched:
        # wait_for is the hard total deadline, name resolution included: httpx's timeouts are
        # per read, so a server trickling bytes could otherwise hold the poll for ever.
        return await asyncio.wait_for(self._fetch(client, url), self.timeout_s)

    async def _quote(
        self, client: httpx.AsyncClient, source: str
    ) -> tuple[Quote, dict[str, float]]:
        """One source's US$ price; and, from the same answer, BTC in every currency it quotes."""
        url = self.settings.base_url(source) + parsers.PRICE_PATHS[source]
        start = time.perf_counter()
        try:
            got = await self._get(client, url)
            usd = parsers.PRICE_PARSERS[source](got.status, got.body)
            fiat = _btc_prices(source, got)
            return Quote(source, usd, None, round(got.latency_ms, 1)), fiat
        except Exception as exc:  # every failure is this source's, never the poll's
            ms = round((time.perf_counter() - start) * 1000, 1)
            return Quote(source, None, reason(exc), ms), {}

    async def _fiat_only(self, client: httpx.AsyncClient) -> dict[str, float]:
        """mempool's prices when mempool is not a price source: currencies' rates still come
        from one answer that quotes US$ and the rest together."""
        got, _ = await self._part(
            client,
            self.settings.base_url("mempool"),
            parsers.PRICE_PATHS["mempool"],
            parsers.mempool_btc_prices,
        )
        return got or {}

    async def _part(
        self, client: httpx.AsyncClient, base: str, path: str, parse: Callable[[int, bytes], Any]
    ) -> tuple[Any, str | None]:
        try:
            got = await self._get(client, base + path)
            return parse(got.status, got.body), None
        except Exception as exc:
            return None, reason(exc)

    async def _network(self, client: httpx.AsyncClient) -> Network:
        """mempool first; blockchain.info fills what mempool could not give.

        The fallback is fetched alongside, not after: a hanging mempool costs one timeout, not two.
        """
        base = self.settings.base_url("mempool")
        paths = parsers.MEMPOOL_NETWORK_PATHS
        (
            (adj, adj_err),
            (rate, rate_err),
            (tip, tip_err),
            (fees, fees_err),
            (stats, stats_err),
        ) = await asyncio.gather(
            self._part(client, base, paths["adjustment"], parsers.mempool_difficulty_adjustment),
            self._part(client, base, paths["hashrate"], parsers.mempool_hashrate),
            self._part(client, base, paths["tip"], parsers.mempool_tip_height),
            self._part(client, base, paths["fees"], parsers.mempool_fees_per_block_btc),
            self._part(
                client,
                self.settings.base_url("blockchain_info"),
                parsers.BLOCKCHAIN_INFO_STATS_PATH,
                parsers.blockchain_info_stats,
            ),
        )
        fields: dict[str, Any] = {**(adj or {}), **(rate or {})}
        if tip is not None:
            fields["tip_height"] = tip
        if fees is not None:
            fields["fees_per_block_btc"] = fees
        errors = [
            f"mempool {name}: {err}"
            for name, err in zip(paths, (adj_err, rate_err, tip_err, fees_err), strict=True)
            if err
        ]
        sources = ["mempool"] if fields else []
        needed = ("difficulty", "tip_height", "fees_per_block_btc")
        missing = [k for k in needed if k not in fields]
        if missing and stats:
            for key in missing:
                fields[key] = stats[key]
            fields.setdefault("hashrate_hs", stats["hashrate_hs"])
            sources.append("blockchain.info")
        elif missing:
            errors.append(f"blockchain.info: {stats_err}")
        complete = all(k in fields for k in needed)
        return Network(
            **fields,
            source="+".join(sources) or None,
            error=None if complete else "; ".join(errors),
        )

    async def poll_async(self) -> Snapshot:
        taken_at = self.clock()
        # Name resolution runs in the loop's executor: make it one the deadline can walk away from.
        asyncio.get_running_loop().set_default_executor(_Abandoning(max_workers=1))
        limits = httpx.Limits(max_connections=20, max_keepalive_connections=0)
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Accept-Encoding": bounded.ACCEPT_ENCODING,
        }
        async with httpx.AsyncClient(
            timeout=self._timeout,
            limits=limits,
            headers=headers,
            follow_redirects=True,
            verify=self._ssl,
        ) as client:
            quotes_task = asyncio.gather(
                *(self._quote(client, s) for s in self.settings.price_sources)
            )
            fiat_task = (
                self._fiat_only(client)
                if "mempool" not in self.settings.price_sources
                else asyncio.sleep(0, {})
            )
            answers, network, fiat_only = await asyncio.gather(
                quotes_task, self._network(client), fiat_task
            )
        quotes = [q for q, _ in answers]
        btc_prices = next((f for _, f in answers if f), fiat_only)
        agg = aggregate(quotes)
        return Snapshot(
            taken_at=taken_at,
            quotes=tuple(quotes),
            price_usd=agg.price_usd,
            fresh=agg.fresh,
            used_sources=agg.used,
            network=network,
            btc_prices=btc_prices,
        )

    def poll(self) -> Snapshot:
        """Blocking poll; runs its own event loop, so call it from a worker thread."""
        return asyncio.run(self.poll_async())
