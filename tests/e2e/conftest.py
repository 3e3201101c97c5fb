"""Fixtures the end-to-end alert tests share: the fake Slack and one `hashfloor run` process on
the test's own fake market (each test file defines `market` with the data it needs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.alert_harness import BotProcess
from tests.fakes.market import FakeMarket
from tests.fakes.slack import FakeSlack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def bot(tmp_path: Path, market: FakeMarket, slack: FakeSlack) -> Iterator[BotProcess]:
    proc = BotProcess(tmp_path, market, slack)
    yield proc
    code = proc.stop()
    print(proc.tail())  # shown when the test failed
    assert code in (None, 0), f"the bot did not stop cleanly ({code})"
