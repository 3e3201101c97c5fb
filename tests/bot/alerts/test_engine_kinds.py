"""Hashprice rules and early warnings (DESIGN §5.1) through the engine, the commands and storage:
one rule per kind, the same outbox, threads, mute and status as the price lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.market.snapshot import Network
from storage import alerts
from tests.bot.alerts.test_engine import Rig, subscribed

HARDER = Network(difficulty=152e12 * 1.05, tip_height=925_000, fees_per_block_btc=0.02)
NO_NETWORK = Network(error="mempool: timeout; blockchain.info: timeout")
# Hashprice at $73,000: $30.38/PH/day at NET, $28.94 after the +5% retarget (DESIGN §4 vectors).
PRICE = 73_000.0


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.storage.close()


def texts(rig: Rig) -> list[str]:
    return [r["text"] for r in rig.outbox()]


def all_text(reply) -> str:
    return reply.text + "\n" + "\n".join(str(b) for b in reply.blocks)


# --- hashprice ----------------------------------------------------------------------------------


def test_subscribing_to_hashprice_says_where_it_stands(rig: Rig) -> None:
    rig.poll(91_000.0)
    reply = subscribed(rig, "C1", "subscribe hashprice below 30")
    assert (
        "Hashprice $37.88/PH/day is 26.3% above your threshold of $30/PH/day: you will be "
        "alerted if it falls below it." in reply.text
    )
    (rule,) = rig.rules("C1")
    assert (rule["line_key"], rule["state"]) == ("hashprice:usd:30", "above")
    subscribed(rig, "C1", "subscribe hashprice below 45 sats")
    assert rig.rules("C1")[1]["line_key"] == "hashprice:sats:45"
    assert rig.rules("C1")[1]["state"] == "below"  # 41.6 sats/TH/day now
    assert rig.outbox() == []


def test_a_retarget_alone_crosses_a_hashprice_rule_once_and_it_recovers_in_the_thread(
    rig: Rig,
) -> None:
    rig.poll(PRICE)
    subscribed(rig, "C1", "subscribe hashprice below 30")
    rig.poll(PRICE, network=HARDER)
    assert rig.outbox() == []  # one poll is not a confirmation
    for _ in range(3):
        rig.poll(PRICE, network=HARDER)
    (alert,) = rig.outbox()
    assert alert["kind"] == "alert"
    assert alert["text"] == (
        "Hashprice fell below $30/PH/day: $28.94/PH/day, -3.5% vs $30/PH/day "
        "(BTC $73,000, difficulty 159.60 trillion)"
    )
    assert "Behind it: BTC $73,000, difficulty 159.60 trillion" in alert["blocks"]
    assert "Before pool fee" in alert["blocks"]
    # The price rises: hashprice $31.33, above $30 and its 1% band, twice.
    rig.poll(79_000.0, network=HARDER)
    rig.poll(79_000.0, network=HARDER)
    alert, recovery, edit = rig.outbox()
    assert recovery["kind"] == "recovery" and recovery["thread_of"] == alert["id"]
    assert recovery["text"].startswith("Hashprice recovered above $30/PH/day: $31.32/PH/day")
    # The alert is edited to say so, in hashprice's words: where it stands and what is behind it.
    assert edit["kind"] == "edit" and edit["thread_of"] == alert["id"]
    assert edit["text"].startswith("Recovered ") and recovery["text"] in edit["text"]
    closed = [b for b in json.loads(edit["blocks"]) if "Recovered" in json.dumps(b)]
    assert len(closed) == 1
    assert "*Hashprice $31.32/PH/day*" in closed[0]["text"]["text"]
    assert "Behind it: BTC $79,000" in closed[0]["text"]["text"]
    assert len(rig.outbox()) == 3


def test_without_network_data_a_poll_is_stale_for_hashprice_rules_only(rig: Rig) -> None:
    rig.poll(91_000.0)
    subscribed(rig, "C1", "subscribe hashprice below 30")
    subscribed(rig, "C2", "subscribe cash")
    rig.poll(70_000.0)  # hashprice $29.13: a first vote below; cash too
    before = [r for r in rig.rules("C1")]
    rig.poll(70_000.0, network=NO_NETWORK)  # fresh price, no network data
    assert rig.rules("C1") == before  # nothing counted, nothing reset
    assert [r["channel_id"] for r in rig.outbox()] == ["C2"]  # the price rule confirmed
    rig.poll(70_000.0)  # the second vote, across the gap
    assert [r["channel_id"] for r in rig.outbox()] == ["C2", "C1"]


def test_a_mute_holds_a_hashprice_alert_and_the_catch_up_speaks_of_hashprice(rig: Rig) -> None:
    rig.poll(PRICE)
    subscribed(rig, "C1", "subscribe hashprice below 30")
    assert "Muted until" in rig.command("C1", "mute 1h").text
    for _ in range(3):
        rig.poll(PRICE, network=HARDER)
    assert rig.outbox() == [] and rig.rules("C1")[0]["state"] == "below"
    rig.command("C1", "unmute")
    rig.poll(PRICE, network=HARDER)
    (catch_up,) = rig.outbox()
    assert catch_up["kind"] == "unmute"
    assert catch_up["text"].startswith("Since the mute: Hashprice is now below $30/PH/day")


# --- early warnings -----------------------------------------------------------------------------


def test_an_early_warning_fires_before_the_line_and_the_line_on_its_own(rig: Rig) -> None:
    rig.poll(91_000.0)
    reply = subscribed(rig, "C1", "subscribe cash within 5%")
    assert (
        "BTC $91,000 is 22.0% above CoinShares cash cost (2025-Q2) ($74,600); the early warning "
        "is at 5% above it, $78,330: you will be alerted if it falls below it." in reply.text
    )
    subscribed(rig, "C1", "subscribe cash")
    assert [r["line_key"] for r in rig.rules("C1")] == ["within:5:cash", "cash"]
    rig.poll(77_000.0)
    rig.poll(77_000.0)
    (warning,) = rig.outbox()
    assert warning["text"] == (
        "BTC came within 5% of CoinShares cash cost (2025-Q2): BTC $77,000, +3.2% vs $74,600"
    )
    assert "$2,400 from it. Early warning at 5% above it: $78,330." in warning["blocks"]
    rig.poll(70_000.0)
    rig.poll(70_000.0)
    warning, alert = rig.outbox()
    assert alert["text"].startswith("BTC fell below CoinShares cash cost (2025-Q2)")
    rig.poll(80_000.0)
    rig.poll(80_000.0)
    kinds = [(r["kind"], r["thread_of"]) for r in rig.outbox()]
    assert kinds == [
        ("alert", None),
        ("alert", None),
        ("recovery", warning["id"]),
        ("edit", warning["id"]),  # each alert edited by its own recovery (one per episode)
        ("recovery", alert["id"]),
        ("edit", alert["id"]),
    ]
    assert "BTC is again more than 5% above CoinShares cash cost" in texts(rig)[2]


def test_early_warnings_on_a_level_and_on_hashprice(rig: Rig) -> None:
    rig.poll(91_000.0)
    subscribed(rig, "C1", "subscribe below 80000 within 10%")
    subscribed(rig, "C1", "subscribe hashprice below 30 within 10%")
    assert [r["line_key"] for r in rig.rules("C1")] == [
        "within:10:below:80000",
        "within:10:hashprice:usd:30",
    ]
    rig.poll(85_000.0)  # within 10% of $80,000; hashprice $35.38, above $33
    rig.poll(85_000.0)
    (warning,) = rig.outbox()
    assert warning["text"].startswith("BTC came within 10% of your alert level $80,000")
    rig.poll(PRICE)
    rig.poll(PRICE)  # hashprice $30.38: within 10% of $30
    assert texts(rig)[1].startswith("Hashprice came within 10% of $30/PH/day: $30.38/PH/day")


# --- status, unsubscribe, bad input -------------------------------------------------------------


def test_status_shows_each_kind_with_its_state_and_last_message(rig: Rig) -> None:
    rig.poll(PRICE)
    subscribed(rig, "C1", "subscribe hashprice below 30")
    subscribed(rig, "C1", "subscribe cash within 5%")
    for _ in range(2):
        rig.poll(PRICE, network=HARDER)
    for row in rig.outbox():
        alerts.mark_sent(rig.db, row, "1.2", rig.now)
    status = all_text(rig.command("C1", "status"))
    assert "hashprice below $30/PH/day: *hashprice below* since" in status
    assert "last message " in status and "“Hashprice fell below $30/PH/day: $28.94/PH/day" in status
    assert (
        "within 5% of CoinShares cash cost (2025-Q2) ($74,600, warns below $78,330): "
        "*within 5%* since" in status
    )
    assert "hashprice:" not in status and "within:" not in status


def test_unsubscribe_names_the_new_kinds_as_written(rig: Rig) -> None:
    rig.poll(91_000.0)
    for text in (
        "subscribe hashprice below 30",
        "subscribe hashprice below 40 sats",
        "subscribe cash within 5%",
        "subscribe all within 2.5%",
        "subscribe cash",
    ):
        subscribed(rig, "C1", text)
    out = rig.command("C1", "unsubscribe hashprice below $30/PH/day").text
    assert out.startswith("Unsubscribed from hashprice below $30/PH/day. Still subscribed here: ")
    out = rig.command("C1", "unsubscribe cash within 5%").text
    assert out.startswith("Unsubscribed from within 5% of CoinShares cash cost (2025-Q2).")
    out = rig.command("C1", "unsubscribe within").text
    assert out.startswith(
        "Unsubscribed from within 2.5% of CoinShares cash cost (2025-Q2) and within 2.5% of "
        "CoinShares all-in cost (2025-Q2). Still subscribed here: hashprice below "
        "40 sats/TH/day and CoinShares cash cost (2025-Q2)"
    )
    out = rig.command("C1", "unsubscribe hashprice").text
    assert out.startswith("Unsubscribed from hashprice below 40 sats/TH/day.")
    assert [r["line_key"] for r in rig.rules("C1")] == ["cash"]


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("subscribe hashprice", "`hashprice`"),
        ("subscribe hashprice below", "`below`"),
        ("subscribe hashprice above 30", "`above 30`"),
        ("subscribe hashprice below thirty", "`thirty`"),
        ("subscribe hashprice below 0", "`0`"),
        ("subscribe hashprice below 20000", "`20000`"),
        ("subscribe hashprice below 40 bananas", "`40 bananas`"),
        ("subscribe cash within 0", "`0`"),
        ("subscribe cash within 60%", "`60%`"),
        ("subscribe cash within -5%", "`-5%`"),
        ("subscribe cash within lots", "`lots`"),
        ("subscribe cash within", "`within`"),
        ("subscribe cash within 5% now", "`now`"),
        ("subscribe within 5%", "`within`"),
        ("subscribe nonsense within 5%", "`nonsense`"),
        ("subscribe hashprice below &lt;b&gt;", "`&amp;lt;b&amp;gt;`"),
    ],
)
def test_bad_input_for_the_new_kinds_is_quoted_and_changes_nothing(
    rig: Rig, text: str, quoted: str
) -> None:
    rig.poll(91_000.0)
    reply = rig.command("C1", text)
    assert reply.text.startswith(f"I could not read {quoted}:"), reply.text
    assert rig.rules("C1") == []


def test_bounds_are_said_in_the_reply(rig: Rig) -> None:
    assert "at most 50% above the line" in rig.command("C1", "subscribe cash within 60%").text
    assert "at most 10,000 $/PH/day" in rig.command("C1", "subscribe hashprice below 20000").text
    assert "within 5% of the fleet" not in rig.command("C1", "subscribe fleet within 5%").text
    assert rig.command("C1", "subscribe fleet within 5%").text.startswith("No fleet is set")


def test_without_network_data_a_new_hashprice_rule_waits_and_settles_silently(rig: Rig) -> None:
    rig.poll(91_000.0, network=NO_NETWORK)
    reply = subscribed(rig, "C1", "subscribe hashprice below 30")
    assert (
        "hashprice below $30/PH/day: no fresh hashprice now (it needs fresh price and network "
        "data)" in reply.text
    )
    assert rig.rules("C1")[0]["state"] == "unknown"
    rig.poll(70_000.0, network=NO_NETWORK)
    assert rig.rules("C1")[0]["state"] == "unknown"  # still no hashprice: nothing to settle on
    rig.poll(70_000.0)  # $29.13/PH/day: below, taken silently
    assert rig.rules("C1")[0]["state"] == "below"
    rig.poll(70_000.0)
    assert rig.outbox() == []
