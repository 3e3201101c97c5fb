"""Behind a proxy: every client the bot makes reads HTTPS_PROXY (README "Behind a proxy").

The market poller and the history download use httpx, Slack's Web API client uses slack_sdk; each
must send its HTTPS requests to the proxy (a CONNECT) instead of connecting out itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.backtest import history
from bot.backtest.history import HistoryError
from bot.market.poll import MarketPoller
from bot.settings import Settings
from bot.slack.client import make_client
from bot.slack.token_check import check_bot_token
from storage.db import Storage
from storage.migrations import migrate
from tests.fakes.proxy import FakeProxy


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProxy]:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with FakeProxy() as fake:
        monkeypatch.setenv("HTTPS_PROXY", fake.url)
        yield fake


def settings(tmp_path: Path) -> Settings:
    # The real sources' https URLs: only the proxy is ever connected to (conftest guards it).
    return Settings(hashfloor_db=tmp_path / "p.db", slack_bot_token="xoxb-1-2-proxy")


def test_the_market_poll_goes_through_the_proxy(tmp_path: Path, proxy: FakeProxy) -> None:
    snap = MarketPoller(settings(tmp_path)).poll()
    assert not snap.fresh
    for host in ("api.coinbase.com", "api.kraken.com", "www.bitstamp.net", "mempool.space"):
        assert f"CONNECT {host}:443" in proxy.requests


def test_the_history_download_goes_through_the_proxy(tmp_path: Path, proxy: FakeProxy) -> None:
    storage = Storage(tmp_path / "h.db")
    migrate(storage.db)
    try:
        with pytest.raises(HistoryError):
            history.refresh(storage, "https://mempool.space", now=1_764_000_000.0)
    finally:
        storage.close()
    assert "CONNECT mempool.space:443" in proxy.requests


def test_slack_calls_go_through_the_proxy(tmp_path: Path, proxy: FakeProxy) -> None:
    client = make_client(settings(tmp_path), "xoxb-1-2-proxy", retries=False)
    assert client.proxy == proxy.url
    check = check_bot_token(settings(tmp_path))  # Slack "unreachable": the proxy refused
    assert check.warn and not check.fatal
    assert "CONNECT slack.com:443" in proxy.requests
