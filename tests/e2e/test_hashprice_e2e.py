"""Hashprice rules end to end (DESIGN §5.1): `python -m bot run` against FakeMarket and FakeSlack.

The price never moves here: the fake network's difficulty does, as a retarget would. A metric
that moves is a crossing, so the retarget gives exactly one alert, and the retarget back exactly
one recovery, in the alert's thread (and the alert edited to say it recovered).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.alert_harness import POLL_S, BotProcess, accepted_posts, blocks_text, wait_until
from tests.fakes.market import FakeMarket
from tests.fakes.slack import FakeSlack

pytestmark = pytest.mark.e2e

PRICE = 75_000.0
D = 152e12  # hashprice $31.22/PH/day at $75,000: above $30 and its 1% band ($30.30)
HARDER = D * 1.05  # after a +5% retarget: $29.73/PH/day, below $30
TWO_POLLS = 2 * POLL_S + 3


@pytest.fixture
def market() -> Iterator[FakeMarket]:
    with FakeMarket(price=PRICE, difficulty=D) as fake:
        yield fake


def retarget(market: FakeMarket, difficulty: float) -> None:
    with market.lock:
        market.difficulty = difficulty


def test_a_retarget_gives_one_hashprice_alert_and_one_recovery_in_its_thread(
    bot: BotProcess, market: FakeMarket, slack: FakeSlack
) -> None:
    bot.start()
    wait_until(lambda: bot.healthz()[0] == 200, 15, "the first fresh poll")
    reply = bot.subscribe("C0HASH", "hashprice below 30")
    assert "Hashprice $31.22/PH/day is 4.1% above your threshold of $30/PH/day" in reply["text"]
    bot.wait_polls(2)
    assert accepted_posts(slack) == []  # subscribing is not crossing
    (rule,) = bot.db.rules("C0HASH")
    assert (rule["line_key"], rule["state"]) == ("hashprice:usd:30", "above")

    retarget(market, HARDER)
    slack.wait_for(lambda _: accepted_posts(slack), timeout=TWO_POLLS)
    bot.wait_polls(3)
    (alert,) = accepted_posts(slack)  # exactly one, however many polls stay below
    assert alert.args["channel"] == "C0HASH" and "thread_ts" not in alert.args
    assert alert.args["text"] == (
        "Hashprice fell below $30/PH/day: $29.73/PH/day, -0.9% vs $30/PH/day "
        "(BTC $75,000, difficulty 159.60 trillion)"
    )
    assert "Behind it: BTC $75,000, difficulty 159.60 trillion" in blocks_text(alert.args)

    retarget(market, D)
    slack.wait_for(lambda _: len(accepted_posts(slack)) == 2, timeout=TWO_POLLS)
    # One message per episode: the alert is edited to say it recovered.
    slack.wait_for(lambda _: [c for c in slack.calls_to("chat.update") if c.ok], 10)
    bot.wait_polls(3)
    alert, recovery = accepted_posts(slack)  # exactly one recovery
    assert recovery.args["text"].startswith("Hashprice recovered above $30/PH/day: $31.22/PH/day")
    assert recovery.args["thread_ts"] == alert.response["ts"]
    (update,) = slack.calls_to("chat.update")
    assert update.args["ts"] == alert.response["ts"]
    assert "(was: Hashprice fell below $30/PH/day" in update.args["text"]
    shown = slack.message("C0HASH", alert.response["ts"])
    assert shown is not None and shown["text"].startswith("Recovered ")
    assert "Hashprice recovered above $30/PH/day" in shown["text"]
    assert "*Hashprice $31.22/PH/day*" in blocks_text(shown)  # in hashprice's words
    assert [(r["kind"], r["status"]) for r in bot.db.outbox()] == [
        ("alert", "sent"),
        ("recovery", "sent"),
        ("edit", "sent"),
    ]
    status = bot.status("C0HASH")
    assert "hashprice below $30/PH/day: *hashprice above*" in blocks_text(status)
    assert "last message " in blocks_text(status)
