"""Difficulty retargets end to end (DESIGN §5.1): `python -m bot run` against FakeMarket and
FakeSlack; the fake chain crosses a multiple of 2,016 with a new difficulty.

Values: the real retarget at block 822,528, from 67,305,906,902,031.39 to 72,006,146,478,567.1
(mempool's difficulty-adjustments fixture).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.alert_harness import BotProcess, accepted_posts, wait_until
from tests.fakes.market import FakeMarket
from tests.fakes.slack import FakeSlack

pytestmark = pytest.mark.e2e

BOUNDARY = 822_528
D_OLD = 67_305_906_902_031.39
D_NEW = 72_006_146_478_567.1
CHANNELS = ("C0RETARGET1", "C0RETARGET2")


@pytest.fixture
def market() -> Iterator[FakeMarket]:
    with FakeMarket(price=91_000.0, difficulty=D_OLD, height=BOUNDARY - 3) as fake:
        yield fake


def retargets(slack: FakeSlack) -> list:
    return [c for c in accepted_posts(slack) if "Difficulty retargeted" in c.args.get("text", "")]


def subscribed(bot: BotProcess) -> None:
    bot.start()
    wait_until(lambda: bot.healthz()[0] == 200, 15, "the first fresh poll")
    for channel in CHANNELS:
        confirmation = bot.subscribe(channel, "adjustment 5")
        assert "to difficulty retargets (heads-up past ±5%)" in confirmation["text"]
    bot.subscribe("C0CASHONLY", "cash")  # no retarget rule: no retarget message
    bot.wait_polls(2)


def outbox_retargets(bot: BotProcess) -> list[dict]:
    return bot.db.rows("SELECT * FROM outbox WHERE kind = 'retarget' ORDER BY id")


def test_a_retarget_gives_one_message_per_subscribed_channel_and_none_after_a_restart(
    bot: BotProcess, market: FakeMarket, slack: FakeSlack
) -> None:
    subscribed(bot)
    market.set_network(height=BOUNDARY + 1, difficulty=D_NEW)
    wait_until(lambda: len(retargets(slack)) >= 2, 15, "the retarget messages")
    posts = retargets(slack)
    assert sorted(c.args["channel"] for c in posts) == sorted(CHANNELS)
    assert "block 822,528: +6.98%" in posts[0].args["text"]
    assert "67.31 trillion → 72.01 trillion" in posts[0].args["text"]
    bot.wait_polls(3)
    market.set_network(height=BOUNDARY + 2)  # the next block: nothing new
    bot.wait_polls(2)
    bot.stop()
    bot.start()
    bot.wait_polls(3)
    assert len(retargets(slack)) == 2
    assert len(outbox_retargets(bot)) == 2
    # The status names the rule as people wrote it, with what it watches now.
    status = bot.status(CHANNELS[0])
    assert "difficulty retargets (heads-up past ±5%)" in str(status)
    assert "72.01 trillion since block 822,528" in str(status)


def test_kill9_right_after_the_retarget_poll_neither_loses_nor_repeats_it(
    bot: BotProcess, market: FakeMarket, slack: FakeSlack
) -> None:
    subscribed(bot)
    market.set_network(height=BOUNDARY + 1, difficulty=D_NEW)
    # Killed as soon as a poll with the new difficulty is stored: before or after its evaluation.
    wait_until(
        lambda: bot.db.rows("SELECT id FROM market_snapshots WHERE difficulty = ?", (D_NEW,)),
        15,
        "a poll of the new difficulty",
        every=0.005,
    )
    bot.kill9()
    bot.start()
    wait_until(lambda: len(outbox_retargets(bot)) >= 2, 15, "the retarget in the outbox")
    wait_until(lambda: all(r["status"] == "sent" for r in outbox_retargets(bot)), 15, "delivery")
    bot.wait_polls(3)
    rows = outbox_retargets(bot)
    assert sorted(r["channel_id"] for r in rows) == sorted(CHANNELS)
    # Each channel has its message; Slack holds no more than one per channel unless a post was
    # in flight at the kill (accepted, not yet marked sent: the outbox's documented window).
    assert {c.args["channel"] for c in retargets(slack)} == set(CHANNELS)
    bot.kill9()
    bot.start()
    bot.wait_polls(3)
    assert outbox_retargets(bot) == rows


def test_a_heads_up_once_when_the_estimate_passes_the_threshold(
    bot: BotProcess, market: FakeMarket, slack: FakeSlack
) -> None:
    subscribed(bot)
    market.set_network(height=BOUNDARY - 100, adjustment_percent=-6.2, remaining_blocks=99)
    wait_until(
        lambda: len([c for c in accepted_posts(slack) if "retarget in" in c.args["text"]]) >= 2,
        15,
        "the heads-ups",
    )
    market.set_network(height=BOUNDARY - 99, remaining_blocks=98)
    bot.wait_polls(3)
    heads_ups = [c for c in accepted_posts(slack) if "retarget in" in c.args["text"]]
    assert sorted(c.args["channel"] for c in heads_ups) == sorted(CHANNELS)
    assert "in 99 blocks" in heads_ups[0].args["text"]
