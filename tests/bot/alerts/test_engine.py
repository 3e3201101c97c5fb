"""AlertEngine: every rule stepped per poll, state and outbox in one transaction (DESIGN §5).

In process, on a temporary database: polls are scripted snapshots fed through
`Hashfloor.poll_once` (which stores them and runs the engine), subscriptions and mutes go through
`commands.answer` as a slash command would. The outbox is read straight from SQLite.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import commands
from bot.alerts import rules
from bot.alerts.engine import AlertEngine
from bot.alerts.rules import RECOVERY_BAND
from bot.market.snapshot import Network, Quote, Snapshot
from bot.service import Hashfloor
from bot.settings import Settings
from bot.slack.blocks import Reply
from commands.context import Ctx
from storage import alerts, costs, workspaces
from storage.db import Storage

T0 = 1_764_000_000.0
EVERY = 60.0
CASH = 74_600.0  # CoinShares 2025-Q2, the shipped default
ALLIN = 137_800.0
ABOVE_CASH = 91_000.0
BELOW_CASH = 70_000.0
SOURCES = ("coinbase", "kraken", "bitstamp")
NET = Network(difficulty=152e12, tip_height=925_000, fees_per_block_btc=0.02, source="mempool")


@dataclass
class ScriptedPoller:
    """Stands in for MarketPoller: returns whatever snapshot the test set."""

    snap: Snapshot | None = None

    def poll(self) -> Snapshot:
        assert self.snap is not None
        return self.snap


class Rig:
    def __init__(self, tmp_path: Path) -> None:
        self.now = T0
        self.storage = Storage(tmp_path / "alerts.db")
        self.poller = ScriptedPoller()
        self.service = Hashfloor(
            Settings(hashfloor_db=tmp_path / "alerts.db"),
            storage=self.storage,
            poller=self.poller,  # type: ignore[arg-type]
            clock=lambda: self.now,
        )
        self.service.migrate()
        self.engine = AlertEngine(self.storage)
        self.service.after_poll.append(self.engine.evaluate)

    @property
    def db(self) -> Any:
        return self.storage.db

    def snapshot(
        self,
        price: float | None,
        fresh: bool = True,
        network: Network = NET,
        btc_prices: dict[str, float] | None = None,
    ) -> Snapshot:
        self.now += EVERY
        n = len(SOURCES) if fresh else 1
        quotes = tuple(Quote(s, price, None, 10.0) for s in SOURCES[:n]) if price else ()
        used = SOURCES[:n] if price else ()
        return Snapshot(self.now, quotes, price, fresh, used, network, dict(btc_prices or {}))

    def poll(
        self,
        price: float | None,
        fresh: bool = True,
        network: Network = NET,
        btc_prices: dict[str, float] | None = None,
    ) -> Snapshot:
        """One poll as the scheduler runs it: stored, then every rule stepped."""
        self.poller.snap = self.snapshot(price, fresh, network, btc_prices)
        return self.service.poll_once()

    def command(self, channel: str, text: str, team: str = "T1") -> Reply:
        ctx = Ctx(
            service=self.service, user_id="U1", team_id=team, channel_id=channel, now=self.now
        )
        return commands.answer(ctx, "/hashfloor", text)

    def outbox(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM outbox ORDER BY id"))

    def rules(self, channel: str | None = None, team: str = "T1") -> list[dict[str, Any]]:
        if channel:
            return alerts.channel_rules(self.db, team, channel)
        return list(self.db.query("SELECT * FROM rules ORDER BY id"))


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.storage.close()


def subscribed(rig: Rig, channel: str, text: str = "subscribe cash", team: str = "T1") -> Reply:
    reply = rig.command(channel, text, team)
    assert reply.text.startswith("Subscribed"), reply.text
    return reply


# --- subscribing ------------------------------------------------------------------------------


def test_subscribing_is_not_crossing(rig: Rig) -> None:
    rig.poll(ABOVE_CASH)
    reply = subscribed(rig, "C1", "subscribe")  # cash and all-in: above one, below the other
    assert "below" in reply.text and "above" in reply.text
    states = {r["line_key"]: r["state"] for r in rig.rules("C1")}
    assert states == {"cash": "above", "allin": "below"}
    for _ in range(3):
        rig.poll(ABOVE_CASH)
    assert rig.outbox() == []
    assert {r["line_key"]: r["state"] for r in rig.rules("C1")} == states


def test_a_rule_without_fresh_data_settles_silently(rig: Rig) -> None:
    reply = rig.command("C1", "subscribe cash")  # no poll yet: unknown
    assert reply.text.startswith("No fresh price yet"), reply.text
    assert rig.rules("C1")[0]["state"] == "unknown"
    rig.poll(BELOW_CASH)  # the first fresh poll sets the state without a message
    assert rig.rules("C1")[0]["state"] == "below"
    rig.poll(BELOW_CASH)
    assert rig.outbox() == []


@pytest.mark.parametrize("state", ["above", "below"])
@pytest.mark.parametrize(
    "price",
    [1.0, CASH - 0.01, CASH, CASH * (1 + RECOVERY_BAND / 2), CASH * (1 + RECOVERY_BAND), 76_000.0],
)
def test_the_engine_skips_exactly_the_rules_a_step_would_leave_alone(
    state: str, price: float
) -> None:
    """A quiet poll skips settled rules for which `rules.stands`; `step` must agree."""
    settled = rules.RuleState(state=state, since=T0, last_announced=state)  # type: ignore[arg-type]
    result = rules.step(settled, rules.Observation(price, True, CASH), T0 + EVERY)
    unchanged = result.state == settled and result.event is None
    assert rules.stands(settled.state, price, CASH) == unchanged


# --- crossing -----------------------------------------------------------------------------------


def test_a_drop_below_cash_queues_one_row_per_channel_after_two_fresh_polls(rig: Rig) -> None:
    rig.poll(ABOVE_CASH)
    for channel in ("C1", "C2", "C3"):
        subscribed(rig, channel)
    subscribed(rig, "C4", "subscribe allin")  # already below all-in: nothing to say
    rig.poll(BELOW_CASH)
    assert rig.outbox() == []  # one poll is not a confirmation
    rig.poll(BELOW_CASH)
    rows = rig.outbox()
    assert sorted(r["channel_id"] for r in rows) == ["C1", "C2", "C3"]
    assert {r["kind"] for r in rows} == {"alert"}
    assert all(r["status"] == "pending" for r in rows)
    assert all("fell below CoinShares cash cost" in r["text"] for r in rows)
    for channel in ("C1", "C2", "C3"):
        cash = next(r for r in rig.rules(channel) if r["line_key"] == "cash")
        assert cash["state"] == "below"
        # the rule points at its open alert, so the recovery can go in its thread
        assert cash["alert_outbox_id"] == next(r["id"] for r in rows if r["channel_id"] == channel)
    for _ in range(3):
        rig.poll(BELOW_CASH)
    assert len(rig.outbox()) == 3


def test_the_recovery_goes_in_the_thread_of_the_alert(rig: Rig) -> None:
    rig.poll(ABOVE_CASH)
    subscribed(rig, "C1")
    rig.poll(BELOW_CASH)
    rig.poll(BELOW_CASH)
    in_band = CASH * (1 + RECOVERY_BAND / 2)  # above the line but inside the 1% band
    for _ in range(3):
        rig.poll(in_band)
    assert len(rig.outbox()) == 1
    rig.poll(ABOVE_CASH)
    rig.poll(ABOVE_CASH)
    alert, recovery, edit = rig.outbox()
    assert recovery["kind"] == "recovery" and "recovered above" in recovery["text"]
    assert recovery["thread_of"] == alert["id"]
    assert rig.rules("C1")[0]["alert_outbox_id"] is None
    # One message per episode: queued with the recovery, after it, the alert's new wording.
    assert edit["kind"] == "edit" and edit["thread_of"] == alert["id"]
    assert edit["key"] == recovery["key"] + ":edit"
    assert edit["created_at"] - alert["created_at"] == 5 * EVERY
    assert edit["text"] == (
        f"Recovered 2025-11-24 16:08 UTC after 5 min: {recovery['text']} (was: {alert['text']})"
    )
    assert "BTC $91,000" in recovery["text"]
    blocks = json.loads(edit["blocks"])
    said = [b for b in json.loads(alert["blocks"]) if b["type"] != "actions"]
    assert blocks[: len(said)] == said
    assert (
        "*Recovered 2025-11-24 16:08 UTC, after 5 min.* *BTC $91,000* is 22.0% above"
        in (blocks[len(said)]["text"]["text"])
    )
    (buttons,) = [b["elements"] for b in blocks if b["type"] == "actions"]
    assert [b["text"]["text"] for b in buttons] == ["Breakeven"]  # nothing left to snooze


def test_a_catch_up_after_a_mute_is_not_edited_for_one_rule(rig: Rig) -> None:
    """The message a mute's end posts speaks for every rule of the channel: the recovery of one
    of them goes in its thread but does not rewrite it."""
    rig.poll(ABOVE_CASH)
    subscribed(rig, "C1")
    rig.command("C1", "mute 1h")
    rig.poll(BELOW_CASH)
    rig.poll(BELOW_CASH)
    rig.command("C1", "unmute")
    rig.poll(BELOW_CASH)
    (catch_up,) = rig.outbox()
    assert catch_up["kind"] == "unmute"
    rig.poll(ABOVE_CASH)
    rig.poll(ABOVE_CASH)
    assert [(r["kind"], r["thread_of"]) for r in rig.outbox()] == [
        ("unmute", None),
        ("recovery", catch_up["id"]),
    ]


def test_evaluating_the_same_snapshot_twice_queues_nothing_new(rig: Rig) -> None:
    rig.poll(ABOVE_CASH)
    subscribed(rig, "C1")
    first_below = rig.poll(BELOW_CASH)
    # The same poll again (a retried hook): it is still one poll, not the second confirmation.
    assert rig.engine.evaluate(first_below) == 0
    assert rig.outbox() == []
    assert rig.rules("C1")[0]["pending_count"] == 1
    second_below = rig.poll(BELOW_CASH)
    assert len(rig.outbox()) == 1
    before = rig.rules()
    assert rig.engine.evaluate(second_below) == 0
    assert rig.engine.evaluate(first_below) == 0  # an older poll changes nothing either
    assert len(rig.outbox()) == 1
    assert rig.rules() == before


def test_stale_snapshots_change_nothing(rig: Rig) -> None:
    rig.poll(ABOVE_CASH)
    subscribed(rig, "C1")
    rig.poll(BELOW_CASH)  # one vote for below
    before = rig.rules()
    rig.poll(BELOW_CASH, fresh=False)  # one source only
    rig.poll(None, fresh=False)  # no source at all
    rig.poll(ABOVE_CASH, fresh=False)  # a lone source above would cancel it if it counted
    assert rig.rules() == before
    assert rig.outbox() == []
    rig.poll(BELOW_CASH)  # the second fresh vote, across the stale gap
    assert [r["kind"] for r in rig.outbox()] == ["alert"]


def test_resubscribing_after_unsubscribe_still_alerts(rig: Rig) -> None:
    """A new rule may get the id of a deleted one: its transitions must not collide with the
    outbox rows the old rule left behind."""
    rig.poll(ABOVE_CASH)
    subscribed(rig, "C1")
    rig.poll(BELOW_CASH)
    rig.poll(BELOW_CASH)
    assert len(rig.outbox()) == 1
    assert "Unsubscribed" in rig.command("C1", "unsubscribe cash").text
    rig.poll(ABOVE_CASH)
    subscribed(rig, "C1")
    rig.poll(BELOW_CASH)
    rig.poll(BELOW_CASH)
    assert [r["kind"] for r in rig.outbox()] == ["alert", "alert"]
    assert rig.rules("C1")[0]["alert_outbox_id"] == rig.outbox()[1]["id"]


# --- lines that move ----------------------------------------------------------------------------


def test_an_edited_benchmark_is_not_a_crossing(rig: Rig) -> None:
    rig.poll(ABOVE_CASH)
    line_id = costs.add(rig.db, "T1", "Acme", "cash", 80_000, quarter="2025-Q3", now=rig.now)
    subscribed(rig, "C1", f"subscribe {line_id}")
    rig.poll(ABOVE_CASH)
    # The finance lead edits the line to above the price: the state follows, silently.
    rig.db["cost_benchmarks"].update(line_id, {"value_usd": 95_000.0, "updated_at": rig.now})
    for _ in range(3):
        rig.poll(ABOVE_CASH)
    rule = rig.rules("C1")[0]
    assert rule["state"] == "below"
    assert rule["last_line_usd"] == 95_000.0
    assert rig.outbox() == []
    # A real crossing of the new line afterwards does post.
    rig.poll(97_000.0)
    rig.poll(97_000.0)
    assert [r["kind"] for r in rig.outbox()] == ["recovery"]


def test_the_fleet_line(rig: Rig) -> None:
    workspaces.set_fleet(rig.db, "T1", workspaces.Fleet(20.0, 0.06, 0.02), "U1", rig.now)
    rig.poll(75_000.0)  # the fleet breaks even at $70,605 (DESIGN §4 vectors)
    subscribed(rig, "C1", "subscribe fleet")
    assert rig.rules("C1")[0]["state"] == "above"
    # A retarget 10% up lifts the line to ~$77,665, above the price: no alert for that.
    harder = Network(difficulty=152e12 * 1.1, tip_height=925_000, fees_per_block_btc=0.02)
    for _ in range(3):
        rig.poll(75_000.0, network=harder)
    assert rig.rules("C1")[0]["state"] == "below"
    assert rig.outbox() == []
    # The price rises over the moved line, then falls back under it: real crossings, both posted.
    rig.poll(80_000.0, network=harder)
    rig.poll(80_000.0, network=harder)
    rig.poll(75_000.0, network=harder)
    rig.poll(75_000.0, network=harder)
    rows = rig.outbox()
    assert [r["kind"] for r in rows] == ["recovery", "alert"]
    assert "the breakeven of fleet main (20 J/TH at $0.06/kWh)" in rows[1]["text"]
    assert "$77,66" in rows[1]["text"]


def test_a_fleet_in_euros_moves_with_each_polls_rate(rig: Rig) -> None:
    # 17.5 J/TH at €0.05/kWh, 2%: $55,960 at 0.92 EUR/USD (DESIGN §4.1).
    fleet = workspaces.Fleet(17.5, 0.05, 0.02, power_currency="EUR")
    workspaces.set_fleet(rig.db, "T1", fleet, "U1", rig.now)
    at_092 = {"USD": 60_000.0, "EUR": 55_200.0}
    rig.poll(60_000.0, btc_prices=at_092)
    subscribed(rig, "C1", "subscribe fleet")
    assert rig.rules("C1")[0]["state"] == "above"
    assert round(rig.rules("C1")[0]["last_line_usd"]) == 55_960
    # The euro strengthens to 0.80 EUR/USD: the same €0.05 is $0.0625 and the line rises to
    # $64,354, above the price. In euros too the price is now under the fleet's cost: a real
    # crossing (the rate's drift, like the fees', is not a move that silences one).
    at_080 = {"USD": 60_000.0, "EUR": 48_000.0}
    for _ in range(3):
        rig.poll(60_000.0, btc_prices=at_080)
    assert rig.rules("C1")[0]["state"] == "below"
    (alert,) = rig.outbox()
    assert alert["kind"] == "alert" and "$64,354" in alert["text"]
    assert "17.5 J/TH at €0.05/kWh" in alert["text"]
    # Polls without a EUR price: the line is unavailable, like a line without network data.
    for _ in range(3):
        rig.poll(70_000.0)
    assert rig.rules("C1")[0]["state"] == "below" and len(rig.outbox()) == 1
    # The rate is back: the price is above the line, a real recovery, posted.
    rig.poll(70_000.0, btc_prices={"USD": 70_000.0, "EUR": 56_000.0})
    rig.poll(70_000.0, btc_prices={"USD": 70_000.0, "EUR": 56_000.0})
    # (and the edit of the alert that says it recovered)
    assert [r["kind"] for r in rig.outbox()] == ["alert", "recovery", "edit"]


def test_each_workspace_steps_on_its_own_lines_in_one_poll(rig: Rig) -> None:
    """One poll reads every workspace's cost rows and fleets together: each rule must still get
    its own workspace's line, and a key naming another workspace's row resolves to nothing."""
    workspaces.set_fleet(rig.db, "T1", workspaces.Fleet(20.0, 0.06, 0.02), "U1", rig.now)
    workspaces.set_fleet(rig.db, "T2", workspaces.Fleet(30.0, 0.06, 0.02), "U1", rig.now)
    own = {
        "T1": costs.add(rig.db, "T1", "Acme", "cash", 80_000, now=rig.now),
        "T2": costs.add(rig.db, "T2", "Bolt", "cash", 95_000, now=rig.now),
    }
    rig.poll(ABOVE_CASH)
    for team in ("T1", "T2"):
        subscribed(rig, "C1", "subscribe fleet", team=team)
        subscribed(rig, "C2", f"subscribe {own[team]}", team=team)
    # T1's fleet breaks even at $70,605, T2's at $105,900: above one, below the other.
    assert [r["state"] for r in rig.rules("C1", "T1") + rig.rules("C1", "T2")] == ["above", "below"]
    # A rule stored in T2 naming T1's row (subscribe refuses that; the engine must too).
    state = rules.initial_state(ABOVE_CASH, True, 80_000.0, rig.now)
    alerts.add_rule(
        rig.db, "T2", "C3", f"cost:{own['T1']}", state, 80_000.0, "80000.00", "U1", rig.now
    )
    rig.poll(75_000.0)
    rig.poll(75_000.0)
    # Only T1's own $80,000 line was crossed; T2's $95,000 line and fleet were below already.
    assert [(r["team_id"], r["channel_id"], r["kind"]) for r in rig.outbox()] == [
        ("T1", "C2", "alert")
    ]
    assert "Acme" in rig.outbox()[0]["text"]
    fleet_rules = rig.rules("C1", "T1") + rig.rules("C1", "T2")
    assert [r["last_line_usd"] // 100 for r in fleet_rules] == [706, 1059]
    assert [r["state"] for r in fleet_rules] == ["above", "below"]
    assert [r["state"] for r in rig.rules("C3", "T2")] == ["above"]  # not stepped: no line


def test_an_early_warning_on_a_workspace_line_reads_that_workspace_line(rig: Rig) -> None:
    """`within:<pct>:fleet` and `within:<pct>:cost:<id>` watch lines only their workspace has:
    the per-poll batched read must fetch the fleet and cost rows behind them too."""
    workspaces.set_fleet(rig.db, "T1", workspaces.Fleet(20.0, 0.06, 0.02), "U1", rig.now)
    own = costs.add(rig.db, "T1", "Acme", "cash", 80_000, now=rig.now)
    rig.poll(ABOVE_CASH)
    subscribed(rig, "C1", "subscribe fleet within 10%")  # $70,605 × 1.1 = $77,666
    subscribed(rig, "C2", f"subscribe {own} within 10%")  # $88,000
    assert [r["state"] for r in rig.rules("C1") + rig.rules("C2")] == ["above", "above"]
    rig.poll(85_000.0)
    rig.poll(85_000.0)  # inside 10% of Acme's line, not of the fleet's
    assert [r["channel_id"] for r in rig.outbox()] == ["C2"]
    rig.poll(76_000.0)
    rig.poll(76_000.0)
    assert [r["channel_id"] for r in rig.outbox()] == ["C2", "C1"]


def test_two_fleets_in_one_workspace_each_alert_on_their_own_line(rig: Rig) -> None:
    db = rig.db
    workspaces.set_fleet(db, "T1", workspaces.Fleet(20.0, 0.06, 0.02), "U1", rig.now)  # $70,605
    texas = workspaces.Fleet(17.5, 0.05, 0.02, 200.0, "Texas")  # $51,483
    workspaces.set_fleet(db, "T1", texas, "U1", rig.now)
    # Another workspace's fleet `main` is another line, far from the price.
    workspaces.set_fleet(db, "T2", workspaces.Fleet(30.0, 0.07, 0.02), "U1", rig.now)  # $123,559
    rig.poll(75_000.0)
    subscribed(rig, "C1", "subscribe fleet")
    subscribed(rig, "C2", "subscribe fleet texas")
    subscribed(rig, "C3", "subscribe fleet", team="T2")
    assert [r["line_key"] for r in rig.rules("C1")] == ["fleet:main", "fleet:texas"]
    assert [r["line_key"] for r in rig.rules("C2")] == ["fleet:texas"]
    assert [r["line_key"] for r in rig.rules("C3", team="T2")] == ["fleet:main"]
    # The price falls below `main` ($70,605) but stays above Texas ($51,483): only main's rule.
    for _ in range(3):
        rig.poll(65_000.0)
    rows = rig.outbox()
    assert [(r["channel_id"], r["kind"]) for r in rows] == [("C1", "alert")]
    assert "the breakeven of fleet main (20 J/TH at $0.06/kWh)" in rows[0]["text"]
    states = {r["line_key"]: r["state"] for r in rig.rules("C1")}
    assert states == {"fleet:main": "below", "fleet:texas": "above"}
    assert rig.rules("C2")[0]["state"] == "above"
    # Below Texas too: C1's Texas rule and C2's alert; T2's line was below all along, silent.
    for _ in range(2):
        rig.poll(50_000.0)
    rows = rig.outbox()[1:]
    assert sorted((r["channel_id"], r["kind"]) for r in rows) == [("C1", "alert"), ("C2", "alert")]
    assert all("the breakeven of fleet Texas (17.5 J/TH at $0.05/kWh)" in r["text"] for r in rows)
    assert rig.rules("C3", team="T2")[0]["state"] == "below"


# --- mute -------------------------------------------------------------------------------------


def test_mute_then_unmute_catches_up_once_per_changed_channel(rig: Rig) -> None:
    rig.poll(ABOVE_CASH)
    subscribed(rig, "C1", "subscribe cash")
    subscribed(rig, "C1", "subscribe below 72000")
    subscribed(rig, "C2", "subscribe below 60000")
    subscribed(rig, "C3", "subscribe cash")
    for channel in ("C1", "C2", "C3"):
        assert "Muted until" in rig.command(channel, "mute 4h").text
    for _ in range(3):
        rig.poll(BELOW_CASH)
    # C1's and C3's rules went below while muted: nothing posted.
    assert rig.outbox() == []
    assert {r["state"] for r in rig.rules("C1")} == {"below"}
    for channel in ("C1", "C2"):
        assert rig.command(channel, "unmute").text == "Unmuted."
    rig.poll(BELOW_CASH)
    rows = rig.outbox()
    assert [(r["channel_id"], r["kind"]) for r in rows] == [("C1", "unmute")]
    # One message for both of C1's rules.
    assert "CoinShares cash cost" in rows[0]["text"] and "$72,000" in rows[0]["text"]
    assert "Since the mute" in rows[0]["blocks"]
    # The price comes back before C3's mute ends: it is where C3 was last told.
    for _ in range(2):
        rig.poll(ABOVE_CASH)
    rig.now += 4 * 3600  # C3's mute expires with the price back above: nothing to catch up on
    for _ in range(2):
        rig.poll(ABOVE_CASH)
    kinds = [(r["channel_id"], r["kind"]) for r in rig.outbox()]
    # C1 (unmuted) hears about the recovery as usual; C3 hears nothing.
    assert kinds == [("C1", "unmute"), ("C1", "recovery"), ("C1", "recovery")]
    # The recoveries go in the thread of the catch-up, which stood for the held-back alerts.
    unmute, *recoveries = rig.outbox()
    assert [r["thread_of"] for r in recoveries] == [unmute["id"], unmute["id"]]
    assert all(r["muted_until"] is None for r in rig.rules())


def test_a_mute_that_ends_during_stale_data_catches_up_on_the_next_fresh_poll(rig: Rig) -> None:
    rig.poll(ABOVE_CASH)
    subscribed(rig, "C1")
    rig.command("C1", "mute 1h")
    rig.poll(BELOW_CASH)
    rig.poll(BELOW_CASH)
    rig.command("C1", "unmute")
    rig.poll(None, fresh=False)  # the sources are down when the mute ends
    rig.poll(BELOW_CASH, fresh=False)
    assert rig.outbox() == []
    rig.poll(BELOW_CASH)
    rows = rig.outbox()
    assert [r["kind"] for r in rows] == ["unmute"]
    assert "BTC $70,000" in rows[0]["text"]


def test_a_crossing_confirmed_right_after_unmute_is_a_real_alert(rig: Rig) -> None:
    rig.poll(ABOVE_CASH)
    subscribed(rig, "C1")
    rig.command("C1", "mute 4h")
    rig.poll(BELOW_CASH)  # the first vote, while muted
    rig.command("C1", "unmute")
    rig.poll(BELOW_CASH)  # the second, after the unmute
    rows = rig.outbox()
    assert [r["kind"] for r in rows] == ["alert"]
    assert rig.rules("C1")[0]["alert_outbox_id"] == rows[0]["id"]


def test_a_recovery_told_by_the_catch_up_closes_the_open_alert(rig: Rig) -> None:
    rig.poll(ABOVE_CASH)
    subscribed(rig, "C1")
    for _ in range(2):
        rig.poll(BELOW_CASH)
    (alert,) = rig.outbox()
    assert rig.rules("C1")[0]["alert_outbox_id"] == alert["id"]
    rig.command("C1", "mute 4h")
    for _ in range(2):
        rig.poll(ABOVE_CASH)  # recovered while muted: nothing posted
    rig.command("C1", "unmute")
    rig.poll(ABOVE_CASH)
    assert [r["kind"] for r in rig.outbox()] == ["alert", "unmute"]
    # The catch-up said "above": no alert is open, so the next drop starts a new thread.
    assert rig.rules("C1")[0]["alert_outbox_id"] is None
    for _ in range(2):
        rig.poll(BELOW_CASH)
    new = rig.outbox()[-1]
    assert new["kind"] == "alert" and new["thread_of"] is None


def test_an_alert_names_the_sources_of_its_price(rig: Rig) -> None:
    rig.poll(ABOVE_CASH)
    subscribed(rig, "C1")
    rig.poll(BELOW_CASH)
    rig.poll(BELOW_CASH)
    (row,) = rig.outbox()
    note = json.loads(row["blocks"])[1]["elements"][0]["text"]
    assert note.endswith(", median of coinbase, kraken, bitstamp")


def test_a_clock_stepped_back_still_confirms_a_crossing(rig: Rig) -> None:
    """DESIGN §10: after a 2-hour step back every new poll's time is older than the last one's;
    each is still a poll of its own, and two of them below the line confirm the crossing."""
    rig.poll(ABOVE_CASH)
    subscribed(rig, "C1")
    rig.now -= 2 * 3600
    rig.poll(BELOW_CASH)
    rig.poll(BELOW_CASH)
    (alert,) = rig.outbox()
    assert alert["kind"] == "alert" and rig.rules("C1")[0]["state"] == "below"


def test_a_poll_without_a_fresh_price_is_a_warning_that_names_the_failed_sources(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    quotes = (
        Quote("coinbase", None, "HTTP 503", 5.0),
        Quote("kraken", None, "timeout after 5s", 5.0),
        Quote("bitstamp", ABOVE_CASH, None, 5.0),
    )
    rig.poller.snap = Snapshot(rig.now + EVERY, quotes, ABOVE_CASH, False, ("bitstamp",), NET)
    with caplog.at_level(logging.INFO, logger="hashfloor.service"):
        rig.service.poll_once()
        rig.poll(ABOVE_CASH)
    stale, fresh = [r for r in caplog.records if r.getMessage().startswith("poll:")]
    assert stale.levelno == logging.WARNING
    assert "failed=coinbase (HTTP 503), kraken (timeout after 5s)" in stale.getMessage()
    assert fresh.levelno == logging.INFO and "failed=none" in fresh.getMessage()
