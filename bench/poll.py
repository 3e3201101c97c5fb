"""Poll-cycle benchmark: wall time of MarketPoller.poll() against fake sources with real latencies.

    python bench/poll.py [--cycles 20]

Each market host is its own loopback FakeMarket; every route answers after a fixed delay of the
order of the real APIs' (50–200 ms). The script first times each route alone (the sum is what a
sequential poll would cost), then measures whole polls:
  (a) every source healthy;
  (b) one price source hanging, with HASHFLOOR_HTTP_TIMEOUT=2.
A concurrent poll should cost about the slowest route in (a), and about the timeout in (b).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.market import parsers  # noqa: E402
from bot.market.poll import MarketPoller  # noqa: E402
from bot.market.snapshot import Snapshot  # noqa: E402
from bot.settings import Settings, load_settings  # noqa: E402
from tests.fakes.market import FakeMarket  # noqa: E402

# host → {route: delay in seconds}; mempool serves its price and the four network routes.
LATENCY_S: dict[str, dict[str, float]] = {
    "coinbase": {"coinbase": 0.080},
    "kraken": {"kraken": 0.140},
    "bitstamp": {"bitstamp": 0.110},
    "coingecko": {"coingecko": 0.190},
    "mempool": {
        "mempool": 0.060,
        "mempool_adjustment": 0.070,
        "mempool_hashrate": 0.120,
        "mempool_tip": 0.050,
        "mempool_fees": 0.100,
    },
    "blockchain_info": {"blockchain_info": 0.170},
}
ROUTE_PATHS = {
    **parsers.PRICE_PATHS,
    **{f"mempool_{k}": v for k, v in parsers.MEMPOOL_NETWORK_PATHS.items()},
    "blockchain_info": parsers.BLOCKCHAIN_INFO_STATS_PATH,
}
HANGING = "coingecko"
HANG_TIMEOUT_S = 2.0


@contextmanager
def fake_hosts() -> Iterator[dict[str, FakeMarket]]:
    with ExitStack() as stack:
        hosts = {}
        for host, routes in LATENCY_S.items():
            fake = stack.enter_context(FakeMarket())
            # socketserver's listen backlog is 5; a poll opens up to 5 connections to mempool at
            # once. Real servers queue far more: without this, dropped SYNs add 1 s retries.
            fake.server.socket.listen(128)
            for route, delay in routes.items():
                fake.override(route, delay=delay)
            hosts[host] = fake
        yield hosts


def settings_for(hosts: dict[str, FakeMarket], db: Path, **extra: object) -> Settings:
    urls = {f"hashfloor_{host}_url": fake.url for host, fake in hosts.items()}
    return load_settings(**urls, hashfloor_db=db, **extra)


def route_latencies(hosts: dict[str, FakeMarket], reps: int = 5) -> dict[str, float]:
    """Each route alone, one request at a time, median of `reps` (seconds)."""
    out = {}
    with httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        for host, routes in LATENCY_S.items():
            for route in routes:
                url = hosts[host].url + ROUTE_PATHS[route]
                times = []
                for _ in range(reps):
                    start = time.perf_counter()
                    client.get(url).raise_for_status()
                    times.append(time.perf_counter() - start)
                out[route] = statistics.median(times)
    return out


def loopback_floor(reps: int = 5) -> float:
    """A request to a route with no delay: the fake server's own cost on this machine."""
    with FakeMarket() as fake, httpx.Client(timeout=10) as client:
        fake.server.socket.listen(128)
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            client.get(fake.url + parsers.PRICE_PATHS["coinbase"]).raise_for_status()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def client_setup(reps: int = 5) -> float:
    """Building an httpx client (its TLS context loads the CA bundle): paid once per poll."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        httpx.AsyncClient()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(poller: MarketPoller, cycles: int, check: Callable[[Snapshot], None]) -> list[float]:
    walls = []
    for _ in range(cycles):
        start = time.perf_counter()
        snap = poller.poll()
        walls.append(time.perf_counter() - start)
        check(snap)
    return walls


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20)
    cycles = parser.parse_args().cycles
    started = time.perf_counter()

    print(f"Poll-cycle benchmark — Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"loopback floor (fake server, no delay): {ms(loopback_floor())}")
    setup = client_setup()
    print(f"httpx client setup (TLS context), once per poll: {ms(setup)}\n")

    with tempfile.TemporaryDirectory() as tmp, fake_hosts() as hosts:
        db = Path(tmp) / "bench.db"
        alone = route_latencies(hosts)
        print("route                  delay set   measured alone")
        for routes in LATENCY_S.values():
            for route, delay in routes.items():
                print(f"  {route:20} {ms(delay)}  {ms(alone[route])}")
        slowest_route = max(alone, key=alone.get)
        slowest = alone[slowest_route]
        sequential = sum(alone.values())
        print(f"  {len(alone)} requests per poll; slowest alone: {slowest_route} {ms(slowest)}")
        print(f"  sum of the latencies (a sequential poll): {ms(sequential)}\n")

        def healthy(snap: Snapshot) -> None:
            assert snap.fresh and snap.network.error is None, snap

        poller = MarketPoller(settings_for(hosts, db))
        poller.poll()  # warm-up: imports, first event loop
        a = measure(poller, cycles, healthy)

        hosts[HANGING].override(HANGING, delay=30)

        def one_hung(snap: Snapshot) -> None:
            (hung,) = [q for q in snap.quotes if q.source == HANGING]
            assert hung.error == "timed out" and snap.fresh, snap

        hang_poller = MarketPoller(settings_for(hosts, db, hashfloor_http_timeout=HANG_TIMEOUT_S))
        b = measure(hang_poller, cycles, one_hung)

    a_med, b_med = statistics.median(a), statistics.median(b)
    print(f"(a) all healthy, {cycles} polls")
    print(f"    median {ms(a_med)}   p90 {ms(p90(a))}   min {ms(min(a))}   max {ms(max(a))}")
    print(f"    slowest single source {ms(slowest)} ({slowest_route})")
    print(f"    median / slowest source = {a_med / slowest:.2f}  (1.00 = perfectly concurrent)")
    print(f"    (median - client setup) / slowest source = {(a_med - setup) / slowest:.2f}")
    print(f"    median / sum of latencies = {a_med / sequential:.2f}  (1.00 = sequential)")
    print(
        f"(b) {HANGING} hanging (30 s), HASHFLOOR_HTTP_TIMEOUT={HANG_TIMEOUT_S:g}, {cycles} polls"
    )
    print(f"    median {ms(b_med)}   p90 {ms(p90(b))}   min {ms(min(b))}   max {ms(max(b))}")
    print(f"    timeout {ms(HANG_TIMEOUT_S)};  median / timeout = {b_med / HANG_TIMEOUT_S:.2f}")
    print(f"\ntotal bench time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
