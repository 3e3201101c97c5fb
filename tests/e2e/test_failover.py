"""Fail-over (DESIGN §7, §10): two `hashfloor run` on one database, as in a rolling deploy.

The first holds the scheduler lock; the second answers Slack and stands by. When the first gets
SIGTERM, the second takes over polling, alerts and delivery within two poll intervals, and a
crossing after the hand-over reaches the channel exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.alert_harness import POLL_S, BotProcess, accepted_posts, wait_until
from tests.fakes.market import FakeMarket
from tests.fakes.slack import FakeSlack

pytestmark = pytest.mark.e2e

ABOVE = 91_000.0
BELOW = 70_000.0  # under the CoinShares cash cost ($79,995, 2025-Q4)
CHANNEL = "C0FAILOVER"


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[BotProcess, BotProcess, FakeMarket, FakeSlack]]:
    db_path = tmp_path / "hashfloor.db"
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    with FakeMarket(price=ABOVE) as market, FakeSlack() as slack:
        old = BotProcess(tmp_path / "old", market, slack, db_path=db_path)
        new = BotProcess(tmp_path / "new", market, slack, db_path=db_path)
        yield old, new, market, slack
        for proc in (old, new):
            code = proc.stop()
            print(proc.tail())  # shown when the test failed
            assert code in (None, 0), f"the bot did not stop cleanly ({code})"


def alerts(slack: FakeSlack) -> list:
    """The alerts posted (subscribing posts a confirmation in the channel too)."""
    return [c for c in accepted_posts(slack) if "fell below" in c.args["text"]]


def role(bot: BotProcess) -> str:
    return bot.healthz()[1]["role"]


def test_the_standby_takes_over_when_the_holder_gets_sigterm(pair) -> None:
    old, new, market, slack = pair
    old.start()
    wait_until(lambda: old.healthz()[0] == 200, 15, "the first fresh poll")
    new.start()
    assert role(old) == "scheduler"
    assert role(new) == "standby"
    assert "stands by" in new.tail() or "standby" in new.tail()

    new.subscribe(CHANNEL)  # the standby answers Slack
    old.wait_polls(2)
    assert alerts(slack) == []

    assert old.stop() == 0
    polls = new.db.count("market_snapshots")
    # Two poll intervals, plus the time a poll takes against the fakes.
    wait_until(lambda: role(new) == "scheduler", 2 * POLL_S + 3, "the standby to take over")
    wait_until(lambda: new.db.count("market_snapshots") > polls, 2 * POLL_S + 3, "a poll")

    market.set_price(BELOW)
    slack.wait_for(lambda _: len(alerts(slack)) == 1, timeout=2 * POLL_S + 5)
    new.wait_polls(3)
    (alert,) = alerts(slack)  # exactly once
    assert alert.args["channel"] == CHANNEL
    assert "fell below CoinShares cash cost" in alert.args["text"]
    assert [r["status"] for r in new.db.outbox()] == ["sent"]
    status, health = new.healthz()
    assert status == 200 and health["role"] == "scheduler"
