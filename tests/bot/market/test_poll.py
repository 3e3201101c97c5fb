"""MarketPoller against the fake market: healthy, hanging, failing, lying and unreachable sources."""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import economics as econ
from bot.market.poll import MAX_ANSWER_BYTES, MarketPoller
from bot.market.snapshot import Quote, Snapshot
from bot.market.view import build_view
from bot.settings import PRICE_SOURCES, Settings, load_settings
from tests.fakes import bad_bodies
from tests.fakes.market import NETWORK_ROUTES, FakeMarket


def settings_for(market: FakeMarket, tmp_path: Path, **extra: object) -> Settings:
    env = {k.lower(): v for k, v in market.env().items()} | extra
    return load_settings(**env, hashfloor_db=tmp_path / "hashfloor.db")


def poll(market: FakeMarket, tmp_path: Path, **extra: object) -> Snapshot:
    return MarketPoller(
        settings_for(market, tmp_path, **extra), clock=lambda: 1_750_000_000.0
    ).poll()


def quote(snap: Snapshot, source: str) -> Quote:
    (q,) = [q for q in snap.quotes if q.source == source]
    return q


@pytest.fixture
def market() -> Iterator[FakeMarket]:
    with FakeMarket() as fake:
        # socketserver listens with a backlog of 5 and one poll opens 10 connections at once: Linux
        # drops the SYNs past the backlog and retries them after 1 s, which is the timeout of the
        # hanging-source tests. A deeper backlog, as any real server has.
        fake.server.socket.listen(128)
        yield fake


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: connections are refused at once."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def test_all_healthy(market: FakeMarket, tmp_path: Path) -> None:
    snap = poll(market, tmp_path)

    assert snap.taken_at == 1_750_000_000.0  # time comes from the clock it was given
    assert [q.source for q in snap.quotes] == list(PRICE_SOURCES)
    for q in snap.quotes:
        assert (q.price_usd, q.error) == (91_000.0, None), q
        assert q.latency_ms >= 0
    assert snap.price_usd == 91_000.0
    assert snap.fresh
    assert snap.used_sources == PRICE_SOURCES

    net = snap.network
    assert net.source == "mempool"
    assert net.error is None
    assert net.difficulty == 152e12
    assert net.hashrate_hs == pytest.approx(152e12 * 2**32 / 600)
    assert net.tip_height == 925_000
    assert net.fees_per_block_btc == pytest.approx(0.02)
    assert net.next_adjustment_percent == 1.25
    assert net.next_adjustment_at == 1_764_000_000.0
    assert net.next_adjustment_blocks == 1_000
    assert net.previous_adjustment_percent == -0.5
    assert net.previous_adjustment_at == 1_764_000_000.0 - 14 * 86_400

    # The hashprice inputs are complete: DESIGN §4's vector comes out of one poll.
    view = build_view(snap, snap, [], snap.taken_at)
    assert view.subsidy_btc == 3.125
    assert view.hashvalue_btc_per_th_day == pytest.approx(4.162e-7, rel=1e-3)
    assert view.hashprice_usd_per_ph_day == pytest.approx(37.88, abs=0.005)
    assert view.blocks_to_halving == econ.blocks_to_next_halving(925_000)

    # Every source and every network route was asked exactly once.
    assert {r: market.hits[r] for r in (*PRICE_SOURCES, *NETWORK_ROUTES)} == dict.fromkeys(
        (*PRICE_SOURCES, *NETWORK_ROUTES), 1
    )


def test_sources_that_differ_slightly_give_the_median(market: FakeMarket, tmp_path: Path) -> None:
    for usd, source in zip((90_800, 90_900, 91_000, 91_100, 91_300), PRICE_SOURCES, strict=True):
        market.set_price(usd, source)
    snap = poll(market, tmp_path)
    assert snap.price_usd == 91_000
    assert snap.fresh


def test_one_source_hanging_costs_one_timeout(market: FakeMarket, tmp_path: Path) -> None:
    market.override("coingecko", delay=30)
    start = time.monotonic()
    snap = poll(market, tmp_path, hashfloor_http_timeout=1)
    elapsed = time.monotonic() - start

    assert elapsed < 10  # a 30 s hang did not hold the poll (loose: not a benchmark)
    hung = quote(snap, "coingecko")
    assert (hung.price_usd, hung.error) == (None, "timed out")
    assert snap.fresh
    assert snap.price_usd == 91_000
    assert snap.used_sources == ("coinbase", "kraken", "bitstamp", "mempool")
    assert snap.network.error is None


def test_a_hanging_mempool_route_is_filled_by_the_fallback(
    market: FakeMarket, tmp_path: Path
) -> None:
    market.override("mempool_hashrate", delay=30)
    start = time.monotonic()
    snap = poll(market, tmp_path, hashfloor_http_timeout=1)
    assert time.monotonic() - start < 10

    net = snap.network
    assert net.error is None
    assert net.source == "mempool+blockchain.info"
    assert net.difficulty == 152e12
    assert net.hashrate_hs == pytest.approx(152e12 * 2**32 / 600)
    assert net.tip_height == 925_000  # still mempool's


@pytest.mark.parametrize(
    "status, body, reason",
    [
        (500, "Internal Server Error", "HTTP 500"),
        (200, "<html><body><h1>502 Bad Gateway</h1></body></html>", "HTML instead of JSON"),
        (429, '{"message": "slow down"}', "rate limited (HTTP 429)"),
        (451, '{"code":0,"msg":"Service unavailable from a restricted location"}', "HTTP 451"),
        (200, '{"data": {"amount": "9100', "invalid JSON"),
        (200, '{"data": {"base": "BTC", "currency": "USD", "amount": "0"}}', "not positive"),
    ],
)
def test_one_source_fails_the_others_are_fresh(
    market: FakeMarket, tmp_path: Path, status: int, body: str, reason: str
) -> None:
    market.override("coinbase", status=status, body=body)
    snap = poll(market, tmp_path)

    failed = quote(snap, "coinbase")
    assert failed.price_usd is None
    assert reason in failed.error
    assert snap.fresh
    assert snap.price_usd == 91_000
    assert snap.used_sources == ("kraken", "bitstamp", "coingecko", "mempool")


def test_a_liar_is_discarded(market: FakeMarket, tmp_path: Path) -> None:
    market.set_price(1, "kraken")
    snap = poll(market, tmp_path)
    assert quote(snap, "kraken").price_usd == 1.0  # what it said is kept for the record
    assert snap.fresh
    assert snap.price_usd == 91_000
    assert "kraken" not in snap.used_sources


def test_mempool_network_down_falls_back_to_blockchain_info(
    market: FakeMarket, tmp_path: Path
) -> None:
    for route in ("mempool", *NETWORK_ROUTES):
        market.override(route, status=503, body="<html>maintenance</html>")
    snap = poll(market, tmp_path)

    net = snap.network
    assert net.source == "blockchain.info"
    assert net.error is None
    assert net.difficulty == 152e12
    assert net.tip_height == 925_000
    assert net.fees_per_block_btc == pytest.approx(0.02)
    assert net.hashrate_hs == pytest.approx(152e12 * 2**32 / 600)
    # Only mempool gives the next adjustment: unknown this poll.
    assert net.next_adjustment_percent is None
    assert quote(snap, "mempool").error == "HTTP 503"
    assert snap.fresh


def test_only_mempool_fees_down(market: FakeMarket, tmp_path: Path) -> None:
    market.override("mempool_fees", status=500, body="")
    market.fees_btc = 0.5  # what blockchain.info says; mempool would have said the same
    snap = poll(market, tmp_path)
    net = snap.network
    assert net.source == "mempool+blockchain.info"
    assert net.error is None
    assert net.fees_per_block_btc == pytest.approx(0.5)
    assert net.next_adjustment_blocks == 1_000  # mempool's parts are kept


def test_both_network_sources_down(market: FakeMarket, tmp_path: Path) -> None:
    for route in NETWORK_ROUTES:
        market.override(route, status=500, body="")
    market.override("blockchain_info", status=429, body="")
    snap = poll(market, tmp_path)

    net = snap.network
    assert net.source is None
    assert net.difficulty is None and net.tip_height is None and net.fees_per_block_btc is None
    assert "mempool adjustment: HTTP 500" in net.error
    assert "mempool fees: HTTP 500" in net.error
    assert "blockchain.info: rate limited (HTTP 429)" in net.error
    # Prices do not depend on the network data.
    assert snap.fresh
    assert snap.price_usd == 91_000


def test_all_sources_unreachable(closed_port: int, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    names = (*PRICE_SOURCES, "blockchain_info")
    settings = load_settings(
        **{f"hashfloor_{n}_url": url for n in names}, hashfloor_db=tmp_path / "x.db"
    )
    snap = MarketPoller(settings).poll()

    assert [(q.source, q.price_usd, q.error) for q in snap.quotes] == [
        (s, None, "unreachable") for s in PRICE_SOURCES
    ]
    assert snap.price_usd is None
    assert not snap.fresh
    assert snap.used_sources == ()
    assert snap.network.source is None
    assert "blockchain.info: unreachable" in snap.network.error


def test_only_configured_sources_are_asked(market: FakeMarket, tmp_path: Path) -> None:
    snap = poll(market, tmp_path, hashfloor_price_sources="kraken,bitstamp")
    assert [q.source for q in snap.quotes] == ["kraken", "bitstamp"]
    assert market.hits["coinbase"] == 0
    assert snap.fresh


def test_poll_can_run_twice_in_one_poller(market: FakeMarket, tmp_path: Path) -> None:
    poller = MarketPoller(settings_for(market, tmp_path))
    first = poller.poll()
    market.set_price(92_000)
    second = poller.poll()
    assert (first.price_usd, second.price_usd) == (91_000, 92_000)


def test_polls_share_one_tls_context(
    market: FakeMarket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Building one loads the CA bundle (tens of ms of CPU): once per poller, not once per poll.
    made = []
    real = ssl.create_default_context

    def counting(*args: object, **kwargs: object) -> ssl.SSLContext:
        made.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counting)
    poller = MarketPoller(settings_for(market, tmp_path))
    for _ in range(3):
        assert poller.poll().fresh
    assert len(made) == 1


# --- bounded inputs (DESIGN §10) ---------------------------------------------------------------


def polled_with_peak(market: FakeMarket, tmp_path: Path) -> tuple[Snapshot, int]:
    """A poll and the most memory Python held at once during it (tracemalloc)."""
    tracemalloc.start()
    try:
        snap = poll(market, tmp_path, hashfloor_http_timeout=5)
        return snap, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "answer",
    ["endless", "gzip bomb", "50 MB with its length", "50 MB without a length", "gzip of 50 MB"],
)
def test_an_oversized_answer_fails_its_source_with_a_short_reason_in_bounded_memory(
    market: FakeMarket, tmp_path: Path, answer: str
) -> None:
    fifty_mb = b'{"data": {"amount": "91000", "pad": "' + b"x" * (50 << 20) + b'"}}'
    if answer == "endless":
        market.override("coinbase", chunks=bad_bodies.endless)
    elif answer == "gzip bomb":
        market.override("coinbase", body=bad_bodies.gzip_bomb(256), headers=bad_bodies.GZIP)
    elif answer == "50 MB with its length":
        market.override("coinbase", body=fifty_mb)
    elif answer == "50 MB without a length":
        market.override("coinbase", chunks=lambda: bad_bodies.stream_of(50 << 20))
    else:
        market.override("coinbase", body=gzip.compress(fifty_mb), headers=bad_bodies.GZIP)
    snap, peak = polled_with_peak(market, tmp_path)
    assert quote(snap, "coinbase").error == "answer larger than 1 MiB"
    # The other sources are unaffected, and the poll held at most a few caps' worth of memory
    # (the bytes above are built before tracing starts; unbounded reads held 50-900 MB).
    assert snap.fresh and snap.price_usd == 91_000.0
    assert peak < 12 * MAX_ANSWER_BYTES, f"{peak / 2**20:.0f} MiB"


def test_a_gzipped_answer_within_the_cap_is_read(market: FakeMarket, tmp_path: Path) -> None:
    body = json.dumps({"data": {"base": "BTC", "currency": "USD", "amount": "91000.00"}})
    market.override("coinbase", body=gzip.compress(body.encode()), headers=bad_bodies.GZIP)
    snap = poll(market, tmp_path)
    assert quote(snap, "coinbase").price_usd == 91_000.0


def test_an_encoding_not_asked_for_fails_its_source(market: FakeMarket, tmp_path: Path) -> None:
    market.override("kraken", body=b"\x8b\x00", headers={"Content-Encoding": "br"})
    snap = poll(market, tmp_path)
    assert quote(snap, "kraken").error == "unsupported content encoding 'br'"


def test_a_slow_resolver_does_not_hold_the_poll_past_its_deadline(
    market: FakeMarket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DESIGN §10: a poll's deadline covers name resolution too. The stub resolver holds its
    lookup until the test lets it go; the poll must come back while the lookup is still held."""
    resolving, release, resolved = threading.Event(), threading.Event(), threading.Event()
    real = socket.getaddrinfo

    def slow(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("slow-dns.test", b"slow-dns.test"):  # httpcore passes bytes
            return real(host, *args, **kwargs)
        resolving.set()
        release.wait(30)  # a resolver that takes 30 s, unless the test ends it sooner
        resolved.set()
        return real("127.0.0.1", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    slow_url = market.url.replace("127.0.0.1", "slow-dns.test")
    try:
        snap = poll(market, tmp_path, hashfloor_http_timeout=1, hashfloor_coingecko_url=slow_url)
        assert resolving.is_set() and not resolved.is_set()
    finally:
        release.set()
    assert quote(snap, "coingecko").error == "timed out"
    assert snap.fresh and snap.price_usd == 91_000.0


# --- BTC in other currencies: the rates' source --------------------------------------------


def test_the_poll_keeps_btc_in_every_currency_mempool_quotes(
    market: FakeMarket, tmp_path: Path
) -> None:
    snap = poll(market, tmp_path)
    assert snap.btc_prices == {
        "USD": 91_000,
        "EUR": 83_720,
        "GBP": 71_890,
        "CAD": 125_580,
        "CHF": 80_080,
        "AUD": 139_230,
        "JPY": 14_105_000,
    }
    view = build_view(snap, snap, [], snap.taken_at)
    assert view.rates["EUR"].per_usd == pytest.approx(0.92)
    assert view.rates["EUR"].at == snap.taken_at
    assert market.hits["mempool"] == 1  # one answer gives the USD quote and the rates


def test_unpleasant_price_answers_give_no_rate(market: FakeMarket, tmp_path: Path) -> None:
    market.set_fiat("EUR", None)  # key missing
    market.set_fiat("GBP", 0)
    market.set_fiat("CAD", -1.38)
    snap = poll(market, tmp_path)
    assert set(snap.btc_prices) == {"USD", "CHF", "AUD", "JPY"}
    assert set(build_view(snap, snap, [], snap.taken_at).rates) == {"USD", "CHF", "AUD", "JPY"}

    market.override("mempool", body="<html><body>Cloudflare</body></html>")
    snap = poll(market, tmp_path)
    assert snap.btc_prices == {} and snap.fresh  # the other sources still make a price
    assert build_view(snap, snap, [], snap.taken_at).rates == {}


def test_rates_come_from_mempool_even_when_it_is_not_a_price_source(
    market: FakeMarket, tmp_path: Path
) -> None:
    snap = poll(market, tmp_path, hashfloor_price_sources="coinbase,kraken")
    assert [q.source for q in snap.quotes] == ["coinbase", "kraken"]
    assert snap.btc_prices["EUR"] == 83_720
    market.override("mempool", status=500, body="")
    assert poll(market, tmp_path, hashfloor_price_sources="coinbase,kraken").btc_prices == {}
