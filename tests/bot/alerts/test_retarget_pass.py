"""Difficulty-retarget rules in the engine (DESIGN §5.1): real SQLite, polls through
`Hashfloor.poll_once`, subscriptions through the slash command, the outbox read back."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

import commands
from bot.alerts.engine import AlertEngine
from bot.alerts.retarget import Memory
from bot.digest.compose import channel_rules
from bot.market.snapshot import Network
from bot.slack.blocks import as_text
from bot.slack.listeners.home import dashboard
from commands.context import Ctx
from storage import alerts, snapshots, workspaces
from storage import retarget as retarget_rules
from tests.bot.alerts.test_engine import ABOVE_CASH, Rig

BOUNDARY = 822_528  # the retarget of 2023-12-23 (mempool difficulty-adjustments fixture)
D_OLD = 67_305_906_902_031.39
D_NEW = 72_006_146_478_567.1


def net(height: int, difficulty: float, **kw: object) -> Network:
    return Network(
        difficulty=difficulty, tip_height=height, fees_per_block_btc=0.35, source="mempool", **kw
    )


OLD = net(BOUNDARY - 2, D_OLD)
NEW = net(BOUNDARY, D_NEW)


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    rig = Rig(tmp_path)
    rig.poll(ABOVE_CASH, network=OLD)
    return rig


def body(row: dict) -> str:
    return as_text(json.loads(row["blocks"]))


def sent(rig: Rig, kind: str = "retarget") -> list[dict]:
    return [r for r in rig.outbox() if r["kind"] == kind]


def test_one_message_per_subscribed_channel_and_none_again(rig: Rig) -> None:
    rig.command("C1", "subscribe adjustment")
    rig.command("C2", "subscribe adjustment 5")
    rig.command("C3", "subscribe cash")  # no retarget rule: nothing
    workspaces.set_fleet(rig.db, "T1", workspaces.Fleet(17.5, 0.05, 0.02), "U1", rig.now)
    texas = workspaces.Fleet(30.0, 0.07, 0.02, None, "<Texas>")
    workspaces.set_fleet(rig.db, "T1", texas, "U1", rig.now)
    rig.poll(ABOVE_CASH, network=net(BOUNDARY - 1, D_OLD))
    assert sent(rig) == []
    rig.poll(ABOVE_CASH, network=NEW)
    rows = sent(rig)
    assert sorted(r["channel_id"] for r in rows) == ["C1", "C2"]
    text = rows[0]["text"]
    assert "block 822,528" in text and "+6.98%" in text
    assert "67.31 trillion → 72.01 trillion" in text
    # every fleet of the workspace, its name escaped
    assert "Breakeven of fleet main (17.5 J/TH at $0.05/kWh)" in body(rows[0])
    assert "Breakeven of fleet <Texas> (30 J/TH at $0.07/kWh)" in body(rows[0])
    assert "Breakeven of fleet &lt;Texas&gt;" in rows[0]["blocks"]  # escaped for Slack
    assert "/PH/day" in body(rows[0])
    for h in range(1, 4):
        rig.poll(ABOVE_CASH, network=net(BOUNDARY + h, D_NEW))
    # A restart: a new engine on the same database hears the next polls; still one each.
    rig.service.after_poll[:] = [AlertEngine(rig.storage).evaluate]
    rig.poll(ABOVE_CASH, network=net(BOUNDARY + 5, D_NEW))
    assert len(sent(rig)) == 2


def test_the_same_poll_evaluated_again_queues_nothing_more(rig: Rig) -> None:
    rig.command("C1", "subscribe adjustment")
    snap = rig.poll(ABOVE_CASH, network=NEW)
    AlertEngine(rig.storage).evaluate(snap)  # e.g. a retried hook in a new process
    assert len(sent(rig)) == 1


def test_a_kill_between_the_stored_poll_and_its_evaluation_loses_nothing(rig: Rig) -> None:
    rig.command("C1", "subscribe adjustment")
    # The poll that shows the retarget is stored, then the process dies before the engine ran.
    with rig.storage.transaction() as db:
        snapshots.insert(db, rig.snapshot(ABOVE_CASH, network=NEW))
    rig.service.after_poll[:] = [AlertEngine(rig.storage).evaluate]
    rig.poll(ABOVE_CASH, network=net(BOUNDARY + 1, D_NEW))
    assert len(sent(rig)) == 1


def test_a_retarget_while_the_bot_was_down_is_not_news(rig: Rig) -> None:
    rig.command("C1", "subscribe adjustment")
    rig.now += 6 * 3600  # down for six hours, across the retarget
    rig.poll(ABOVE_CASH, network=net(BOUNDARY + 36, D_NEW))
    assert sent(rig) == []
    row = retarget_rules.channel_rule(rig.db, "T1", "C1")
    assert (row["adj_epoch"], row["adj_difficulty"]) == (BOUNDARY // 2016, D_NEW)


def test_subscribing_after_the_retarget_is_not_news(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.poll(ABOVE_CASH, network=OLD)
    rig.poll(ABOVE_CASH, network=NEW)
    rig.command("C1", "subscribe adjustment")
    rig.poll(ABOVE_CASH, network=net(BOUNDARY + 1, D_NEW))
    assert sent(rig) == []


def test_unsubscribe_and_subscribe_again_does_not_repeat_the_epoch(rig: Rig) -> None:
    rig.command("C1", "subscribe adjustment")
    rig.poll(ABOVE_CASH, network=NEW)
    rig.command("C1", "unsubscribe adjustment")
    rig.command("C1", "subscribe adjustment")
    # Even a rule that forgot the epoch cannot queue that channel's epoch twice (the outbox key).
    retarget_rules.save_memory(
        rig.db,
        retarget_rules.channel_rule(rig.db, "T1", "C1")["id"],
        Memory(BOUNDARY // 2016 - 1, D_OLD),
    )
    rig.poll(ABOVE_CASH, network=net(BOUNDARY + 1, D_NEW))
    assert len(sent(rig)) == 1


def test_a_muted_channel_skips_the_retarget(rig: Rig) -> None:
    rig.command("C1", "subscribe adjustment")
    rig.command("C2", "subscribe adjustment")
    rig.command("C1", "mute 4h")
    rig.poll(ABOVE_CASH, network=NEW)
    assert [r["channel_id"] for r in sent(rig)] == ["C2"]
    rig.command("C1", "unmute")
    rig.poll(ABOVE_CASH, network=net(BOUNDARY + 1, D_NEW))
    assert [r["channel_id"] for r in sent(rig)] == ["C2"]


def test_headsup_once_per_epoch_past_the_threshold(rig: Rig) -> None:
    rig.command("C1", "subscribe adjustment 5")
    rig.command("C2", "subscribe adjustment 10")
    rig.command("C3", "subscribe adjustment")
    tip = BOUNDARY + 2016 - 100
    soon = net(tip, D_NEW, next_adjustment_percent=-6.2, next_adjustment_blocks=100)
    rig.poll(ABOVE_CASH, network=soon)
    rig.poll(ABOVE_CASH, network=replace(soon, tip_height=tip + 1, next_adjustment_blocks=99))
    rows = sent(rig, "headsup")
    assert [r["channel_id"] for r in rows] == ["C1"]
    assert "in 100 blocks" in rows[0]["text"] and "-6.20%" in rows[0]["text"]


def test_commands_name_the_rule_and_keep_one_per_channel(rig: Rig) -> None:
    reply = rig.command("C1", "subscribe adjustment 5%")
    assert "difficulty retargets (heads-up past ±5%)" in reply.text
    reply = rig.command("C1", "subscribe adjustment")
    assert reply.text == "This channel now gets difficulty retargets."
    keys = [r["line_key"] for r in rig.db.query("SELECT line_key FROM rules")]
    assert keys == ["adjustment"]
    status = rig.command("C1", "status")
    assert "difficulty retargets: *watching* (difficulty 67.31 trillion since block 820,512)" in (
        str(status.blocks)
    )
    reply = rig.command("C1", "unsubscribe all")
    assert "Unsubscribed from difficulty retargets." in reply.text


@pytest.mark.parametrize("bad", ["0", "-3", "abc", "301", "5%%"])
def test_a_bad_threshold_is_quoted_and_changes_nothing(rig: Rig, bad: str) -> None:
    reply = rig.command("C1", f"subscribe adjustment {bad}")
    assert f"`{bad}`" in reply.text
    assert list(rig.db.query("SELECT * FROM rules")) == []


def test_a_second_threshold_word_is_refused(rig: Rig) -> None:
    reply = rig.command("C1", "subscribe adjustment 5 <b>")
    assert "`&lt;b&gt;`" in reply.text
    assert list(rig.db.query("SELECT * FROM rules")) == []


def test_fleet_data_comes_from_the_workspace(rig: Rig) -> None:
    rig.command("C1", "subscribe adjustment")
    assert workspaces.get_fleet(rig.db, "T1") is None
    rig.poll(ABOVE_CASH, network=NEW)
    (row,) = sent(rig)
    assert "Breakeven" not in body(row)


def test_the_app_home_names_the_rule_and_what_it_watches(rig: Rig) -> None:
    rig.command("C1", "subscribe adjustment 2.5")
    view = dashboard(rig.service, "T1", rig.now)
    text = json.dumps(view, ensure_ascii=False)
    assert (
        "difficulty retargets (heads-up past ±2.5%): *watching* (difficulty 67.31 trillion" in text
    )
    assert "line removed" not in text and "waiting for data" not in text


def test_a_rule_subscribed_before_any_network_data_learns_from_the_first(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.command("C1", "subscribe adjustment")
    assert retarget_rules.channel_rule(rig.db, "T1", "C1")["adj_epoch"] is None
    rig.poll(ABOVE_CASH, network=OLD)
    row = retarget_rules.channel_rule(rig.db, "T1", "C1")
    assert (row["adj_epoch"], row["adj_difficulty"]) == (BOUNDARY // 2016 - 1, D_OLD)
    rig.poll(ABOVE_CASH, network=NEW)
    assert len(sent(rig)) == 1


def test_a_channel_the_bot_cannot_post_in_gets_no_rule(rig: Rig) -> None:
    posted: list[str] = []

    def refuse(text: str, blocks: list[dict]) -> str:
        posted.append(text)
        return "not_in_channel"

    ctx = Ctx(rig.service, "U1", "T1", "C1", rig.now, post=refuse)
    reply = commands.answer(ctx, "/hashfloor", "subscribe adjustment 5")
    assert "/invite @Hashfloor" in reply.text and "Nothing was saved" in reply.text
    assert "subscribed this channel to difficulty retargets (heads-up past ±5%)" in posted[0]
    assert list(rig.db.query("SELECT * FROM rules")) == []


def test_unsubscribe_adjustment_whatever_its_threshold(rig: Rig) -> None:
    rig.command("C1", "subscribe cash")
    rig.command("C1", "subscribe adjustment 7.5")
    reply = rig.command("C1", "unsubscribe adjustment")
    assert reply.text.startswith("Unsubscribed from difficulty retargets (heads-up past ±7.5%).")
    assert "Still subscribed here: CoinShares cash cost (2025-Q2)" in reply.text
    assert [r["line_key"] for r in rig.db.query("SELECT line_key FROM rules")] == ["cash"]


def test_the_digest_names_the_rule_in_its_own_words(rig: Rig) -> None:
    rig.command("C1", "subscribe adjustment 5")
    rig.poll(ABOVE_CASH, network=NEW)
    (line,) = channel_rules(rig.storage, "T1", "C1", rig.now)
    assert line.name == "difficulty retargets (heads-up past ±5%)"
    assert line.state == "watching each retarget"


def test_a_paused_rule_subscribed_again_starts_from_the_network_now(rig: Rig) -> None:
    rig.command("C1", "subscribe adjustment")
    alerts.pause_channel(rig.db, "T1", "C1", "not_in_channel", rig.now)
    rig.poll(ABOVE_CASH, network=NEW)  # the retarget while paused: not stepped, not told
    assert sent(rig) == []
    rig.command("C1", "subscribe adjustment 5")
    row = retarget_rules.channel_rule(rig.db, "T1", "C1")
    assert row["paused_reason"] is None and row["line_key"] == "adjustment:5"
    assert (row["adj_epoch"], row["adj_difficulty"]) == (BOUNDARY // 2016, D_NEW)
    rig.poll(ABOVE_CASH, network=net(BOUNDARY + 1, D_NEW))
    assert sent(rig) == []
