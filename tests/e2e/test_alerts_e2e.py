"""Alerts end to end: `python -m bot run` against FakeMarket and FakeSlack (DESIGN §5, §8).

Subscriptions arrive as signed /hashfloor requests; what the bot posted is read from FakeSlack and
its SQLite file. Polls run every second (HASHFLOOR_ALLOW_FAST_POLL=1).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.alerts import engine, rules
from bot.alerts.targets import resolve
from bot.market.snapshot import Network, Quote, Snapshot
from storage import alerts, snapshots
from storage.db import Storage
from storage.migrations import migrate
from tests.e2e.alert_harness import (
    POLL_S,
    BotProcess,
    accepted_posts,
    alert_posts,
    all_sources,
    blocks_text,
    wait_until,
)
from tests.fakes.market import PRICE_SOURCES, FakeMarket
from tests.fakes.slack import FakeSlack

pytestmark = pytest.mark.e2e

ABOVE = 91_000.0
BELOW = 70_000.0  # under the CoinShares cash cost ($79,995, 2025-Q4)
RECOVERED = 82_000.0  # over the cash cost's 1% recovery band ($80,795)
# A crossing needs two fresh polls; then the delivery worker is woken at once. The allowance
# covers the polls' own run time and the HTTP round trips.
TWO_POLLS = 2 * POLL_S + 3


@pytest.fixture
def market() -> Iterator[FakeMarket]:
    with FakeMarket(price=ABOVE) as fake:
        yield fake


def started(bot: BotProcess) -> BotProcess:
    bot.start()
    wait_until(lambda: bot.healthz()[0] == 200, 15, "the first fresh poll")
    return bot


def test_one_alert_per_subscribed_channel_and_the_recovery_in_its_thread_editing_it(
    bot: BotProcess, market: FakeMarket, slack: FakeSlack
) -> None:
    started(bot)
    for channel in ("C0ALERTS1", "C0ALERTS2"):
        reply = bot.subscribe(channel)
        assert "this is not an alert" in blocks_text(reply)
        assert "above CoinShares cash cost" in reply["text"]
    bot.wait_polls(2)
    assert accepted_posts(slack) == []  # subscribing is not crossing

    market.set_price(BELOW)
    dropped = time.monotonic()
    slack.wait_for(lambda _: len(accepted_posts(slack)) == 2, timeout=TWO_POLLS)
    print(f"both alerts arrived {time.monotonic() - dropped:.2f}s after the drop")
    bot.wait_polls(3)
    alerts_by_channel = {c.args["channel"]: c for c in accepted_posts(slack)}
    assert sorted(alerts_by_channel) == ["C0ALERTS1", "C0ALERTS2"]
    assert len(accepted_posts(slack)) == 2  # exactly one each, however many polls stay below
    for call in alerts_by_channel.values():
        assert "fell below CoinShares cash cost" in call.args["text"]
        assert "thread_ts" not in call.args
        buttons = [b for b in call.args["blocks"] if b["type"] == "actions"][0]["elements"]
        assert [b["text"]["text"] for b in buttons] == ["Snooze 24h", "Breakeven"]

    # One channel wants its recoveries top-level.
    r = bot.command("threads off", "C0ALERTS2", response_name="threads-off")
    assert r.status_code == 200, r.text
    wait_until(lambda: slack.responses("threads-off"), 10, "the reply to threads off")
    assert "top-level" in slack.responses("threads-off")[-1]["text"]
    assert "Recoveries: top-level (threads off)" in blocks_text(bot.status("C0ALERTS2"))

    market.set_price(RECOVERED)
    slack.wait_for(lambda _: len(accepted_posts(slack)) == 4, timeout=TWO_POLLS)
    # One message per episode: each alert is edited to say it recovered, after its recovery.
    slack.wait_for(lambda _: len([c for c in slack.calls_to("chat.update") if c.ok]) == 2, 10)
    bot.wait_polls(3)
    posts = accepted_posts(slack)
    assert len(posts) == 4
    for channel, alert in alerts_by_channel.items():
        recovery = accepted_posts(slack, channel)[1]
        assert "recovered above CoinShares cash cost" in recovery.args["text"]
        if channel == "C0ALERTS1":
            assert recovery.args["thread_ts"] == alert.response["ts"]
        else:
            assert "thread_ts" not in recovery.args
        (update,) = [c for c in slack.calls_to("chat.update") if c.args["channel"] == channel]
        assert update.at > recovery.at
        shown = slack.message(channel, alert.response["ts"])
        assert shown is not None and shown["text"].startswith("Recovered ")
        assert ": BTC recovered above CoinShares cash cost" in shown["text"]
        assert "BTC $82,000" in shown["text"]
        assert "(was: BTC fell below CoinShares cash cost" in shown["text"]
        shown_blocks = blocks_text(shown)
        assert "Recovered" in shown_blocks and "fell below CoinShares cash cost" in shown_blocks
        buttons = [b for b in shown["blocks"] if b["type"] == "actions"][0]["elements"]
        assert [b["text"]["text"] for b in buttons] == ["Breakeven"]
    kinds = [(r["kind"], r["status"]) for r in bot.db.outbox()]
    assert sorted(kinds) == sorted([("alert", "sent"), ("recovery", "sent"), ("edit", "sent")] * 2)
    status, health = bot.healthz()
    assert status == 200 and health["pending_deliveries"] == 0


def test_a_lying_source_and_an_html_page_raise_no_alert(
    bot: BotProcess, market: FakeMarket, slack: FakeSlack
) -> None:
    honest = 81_000.0  # just over the cash cost's band ($80,795); a mean with $1 would be far below
    market.set_price(honest)
    started(bot)
    bot.subscribe("C0LIES")
    market.set_price(1.0, "coinbase")
    market.override("kraken", body="<!DOCTYPE html><html><body>Just a moment...</body></html>")
    bot.wait_polls(4)
    snap = bot.db.latest_snapshot()
    assert snap is not None and snap["fresh"] == 1 and snap["price_usd"] == honest
    assert "coinbase" not in snap["used_sources"] and "kraken" not in snap["used_sources"]
    assert accepted_posts(slack) == []
    (rule,) = bot.db.rules("C0LIES")
    assert rule["state"] == "above" and rule["pending"] is None


def premade_db(path: Path, channel: str, last_fresh_at: float, price: float) -> None:
    """A database as a bot that ran earlier left it: a subscription, and a last fresh poll."""
    storage = Storage(path)
    db = storage.db
    migrate(db)
    net = Network(difficulty=152e12, tip_height=925_000, fees_per_block_btc=0.02, source="mempool")
    quotes = tuple(Quote(s, price, None, 20.0) for s in PRICE_SOURCES)
    snapshots.insert(db, Snapshot(last_fresh_at, quotes, price, True, PRICE_SOURCES, net))
    target = resolve("cash", engine.benchmark_lines(db, "T0HASHFLR", last_fresh_at), None, net)
    assert target is not None
    state = rules.initial_state(price, True, target.line.value_usd, last_fresh_at)
    alerts.add_rule(
        db,
        "T0HASHFLR",
        channel,
        "cash",
        state,
        target.line.value_usd,
        target.version,
        "U0E2EUSER",
        last_fresh_at - 3600,
    )
    storage.close()


def test_sources_down_turn_healthz_red_and_their_return_raises_no_alert(
    bot: BotProcess, market: FakeMarket, slack: FakeSlack
) -> None:
    # The last good poll was 6 minutes ago and every price source is failing now.
    premade_db(bot.db_path, "C0DOWN", time.time() - 360, ABOVE)
    all_sources(market, status=500, body='{"error": "internal"}')
    bot.start()
    bot.wait_polls(3, fresh=False)
    status, health = bot.healthz()
    assert status == 503
    assert health["ok"] is False and health["data_age_s"] > 300
    assert health["last_poll_fresh"] is False and health["price_usd"] == ABOVE
    # One source comes back alone, quoting below the line: a lone quote is not fresh data.
    market.clear("mempool")
    market.set_price(BELOW, "mempool")
    bot.wait_polls(3, fresh=False)
    assert bot.healthz()[0] == 503
    assert accepted_posts(slack) == []
    (rule,) = bot.db.rules("C0DOWN")
    assert rule["state"] == "above" and rule["pending"] is None

    market.clear()
    market.set_price(ABOVE)
    wait_until(lambda: bot.healthz()[0] == 200, 10, "/healthz green again")
    bot.wait_polls(4, fresh=True)
    assert accepted_posts(slack) == []
    assert bot.db.outbox() == []
    (rule,) = bot.db.rules("C0DOWN")
    assert rule["state"] == "above" and rule["transitions"] == 0


def test_three_429s_in_a_row_still_give_exactly_one_message(
    bot: BotProcess, market: FakeMarket, slack: FakeSlack
) -> None:
    started(bot)
    bot.subscribe("C0LIMITED")
    slack.fail("chat.postMessage", times=3, status=429, retry_after=1)
    market.set_price(BELOW)
    slack.wait_for(lambda _: accepted_posts(slack), timeout=TWO_POLLS + 3 * 1 + 3)
    bot.wait_polls(3)
    calls = alert_posts(slack)
    assert [c.status for c in calls] == [429, 429, 429, 200]
    assert len(accepted_posts(slack, "C0LIMITED")) == 1
    (row,) = bot.db.outbox()
    assert row["status"] == "sent" and row["attempts"] == 4


@pytest.mark.parametrize(
    ("shape", "status"), [("html", 200), ("html", 502), ("empty", 200), ("truncated", 200)]
)
def test_answers_that_are_not_slacks_json_are_retried_until_exactly_one_message(
    bot: BotProcess, market: FakeMarket, slack: FakeSlack, shape: str, status: int
) -> None:
    """DESIGN §5: a proxy's HTML page, an empty or a truncated body is transient, never final."""
    started(bot)
    bot.subscribe("C0PROXY")
    slack.fail("chat.postMessage", times=2, shape=shape, status=status)
    market.set_price(BELOW)
    # Backoff 1 s, then 2 s after the two bad answers.
    slack.wait_for(lambda _: accepted_posts(slack), timeout=TWO_POLLS + 3 + 5)
    bot.wait_polls(3)
    assert [c.status for c in alert_posts(slack)] == [status, status, 200]
    assert len(accepted_posts(slack, "C0PROXY")) == 1
    (row,) = bot.db.outbox()
    assert row["status"] == "sent" and row["attempts"] == 3
    assert row["ts"] == accepted_posts(slack)[0].response["ts"]


def test_an_archived_channel_pauses_its_subscription_and_status_says_so(
    bot: BotProcess, market: FakeMarket, slack: FakeSlack
) -> None:
    started(bot)
    bot.subscribe("C0ARCHIVED")
    bot.subscribe("C0OPEN")
    slack.fail("chat.postMessage", error="is_archived", channel="C0ARCHIVED", times=None)
    market.set_price(BELOW)
    slack.wait_for(lambda _: accepted_posts(slack, "C0OPEN"), timeout=TWO_POLLS)
    wait_until(
        lambda: bot.db.rules("C0ARCHIVED")[0]["paused_reason"] == "is_archived", 10, "the pause"
    )
    archived = blocks_text(bot.status("C0ARCHIVED"))
    assert "paused" in archived and "is_archived" in archived
    assert "paused" not in blocks_text(bot.status("C0OPEN"))
    # The paused rule is left alone: the recovery goes to the open channel only.
    market.set_price(RECOVERED)
    slack.wait_for(lambda _: len(accepted_posts(slack, "C0OPEN")) == 2, timeout=TWO_POLLS)
    refused = [c for c in alert_posts(slack) if not c.ok]
    assert [c.args["channel"] for c in refused] == ["C0ARCHIVED"]
    assert "is_archived" in bot.tail(200)  # logged for the operator
