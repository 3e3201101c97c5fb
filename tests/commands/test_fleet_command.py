"""/hashfloor fleet: named fleets (DESIGN §3.3, §4.1), and each one as a line `fleet:<name>` for
/breakeven, subscribe and unsubscribe. At the DESIGN §4 conditions (D = 152 T, fees 0.02 BTC,
BTC $91,000): 17.5 J/TH at $0.05 with 2% breaks even at $51,483, 30 J/TH at $0.07 at $123,559."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.service import Hashfloor
from commands.context import Roles
from storage import alerts, workspaces
from storage.workspaces import Fleet
from tests.commands.test_replies import all_text, ask, design_snapshot, make_service


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Hashfloor]:
    service = make_service(tmp_path, design_snapshot())
    yield service
    service.close()


def fleets(svc: Hashfloor, team: str = "T1") -> dict[str, Fleet]:
    return workspaces.get_fleets(svc.storage.db, team)


def said(out: dict) -> str:
    """The reply's text without the usage line an error reply ends with."""
    return out["text"].split("\nUsage:")[0]


def audit_actions(svc: Hashfloor) -> list[str]:
    return [r["action"] for r in svc.storage.db.query("SELECT action FROM audit ORDER BY id")]


def test_a_named_fleet_with_a_model_and_a_hashrate_shows_its_day_in_money(svc: Hashfloor) -> None:
    out = ask(svc, "/hashfloor", "fleet texas S21 0.05 2 hashrate 200")
    # 200 PH/s × $37.88 × 0.98 = $7,424 a day; 200,000 TH × 0.024 kWh × 17.5 × $0.05 = $4,200.
    assert out["text"] == (
        "Fleet texas set: 17.5 J/TH at $0.05/kWh, pool fee 2%, 200 PH/s (Antminer S21's 17.5 "
        "J/TH from the catalogue). It breaks even at $51,483 today; BTC at $91,000 is 76.8% above. "
        "At 200 PH/s it earns $7,424 a day, power costs $4,200: margin +$3,224 a day."
    )
    assert "`/hashfloor subscribe fleet texas`" in all_text(out)
    assert fleets(svc) == {"texas": Fleet(17.5, 0.05, 0.02, 200.0, "texas")}
    # A fleet losing money on power says so in money too.
    out = ask(svc, "/hashfloor", "fleet old 30 0.07 2 hashrate 100")
    assert "margin -$1,328 a day" in out["text"]  # $3,712 revenue, $5,040 power


@pytest.mark.parametrize(
    ("text", "name", "fleet"),
    [
        ("fleet 17.5 0.05", "main", Fleet(17.5, 0.05, 0.0, None, "main")),
        # A model first keeps meaning the model, for the fleet `main`.
        ("fleet S21 0.05", "main", Fleet(17.5, 0.05, 0.0, None, "main")),
        ("fleet antminer s21 0.05 2", "main", Fleet(17.5, 0.05, 0.02, None, "main")),
        ("fleet S21 XP 0.045", "main", Fleet(13.5, 0.045, 0.0, None, "main")),
        ("fleet Site-2 S21 XP 0.045", "site-2", Fleet(13.5, 0.045, 0.0, None, "Site-2")),
        ("fleet Québec 21.5 0.06 hashrate 50", "québec", Fleet(21.5, 0.06, 0.0, 50.0, "Québec")),
    ],
)
def test_the_first_word_is_a_name_only_when_it_is_no_model_or_number(
    svc: Hashfloor, text: str, name: str, fleet: Fleet
) -> None:
    assert ask(svc, "/hashfloor", text)["text"].startswith(f"Fleet {fleet.name} set:")
    assert fleets(svc) == {name: fleet}


def test_a_name_that_is_a_model_gets_a_clear_reply_and_changes_nothing(svc: Hashfloor) -> None:
    out = ask(svc, "/hashfloor", "fleet s21 S21 0.05")
    assert said(out) == (
        "`s21` is the model Antminer S21 (17.5 J/TH), so it cannot name a fleet: `fleet s21 …` "
        "reads it as the machine. Give the fleet another name, e.g. "
        "`/hashfloor fleet s21-site S21 0.05`. Nothing was changed."
    )
    out = ask(svc, "/hashfloor", "fleet antminer 17.5 0.05")
    assert (
        "`antminer` is a maker or model in the catalogue, so it cannot name a fleet" in out["text"]
    )
    assert fleets(svc) == {}
    assert audit_actions(svc) == []


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("fleet off:x 17.5 0.05", "`off:x`"),
        ("fleet a,b 17.5 0.05", "`a,b`"),
        ("fleet list 17.5 0.05", "`list`"),
        ("fleet hashrate 17.5 0.05", "hashrate"),
        ("fleet cash 17.5 0.05", "`cash`"),
        ("fleet " + "x" * 30 + " 17.5 0.05", "`" + "x" * 24 + "…`"),
        ("fleet b<i>site 17.5 0.05 7 9", "`9`"),
        ("fleet <b>site 17.5 0.05", "`&lt;b&gt;site`"),
        ("fleet texas 17.5 0.05 XYZ", "`XYZ` is not a currency"),
        ("fleet texas 17.5 0 EUR", "`0 EUR`"),
    ],
)
def test_bad_names_and_values_are_quoted_and_change_nothing(
    svc: Hashfloor, text: str, quoted: str
) -> None:
    out = all_text(ask(svc, "/hashfloor", text))
    assert quoted in out
    assert fleets(svc) == {}


def test_an_unknown_word_with_one_value_says_both_readings(svc: Hashfloor) -> None:
    out = ask(svc, "/hashfloor", "fleet S2l 0.05")["text"]
    assert "There is no such model in the catalogue as `S2l` (did you mean" in out
    assert "If it names a fleet, give the model (or J/TH) and the power price after it" in out
    assert fleets(svc) == {}


def test_list_update_case_and_remove(svc: Hashfloor) -> None:
    assert ask(svc, "/hashfloor", "fleet list")["text"] == "No fleet set."
    ask(svc, "/hashfloor", "fleet Texas S21 0.05 2 hashrate 200")
    ask(svc, "/hashfloor", "fleet 20 0.06 2")
    ask(svc, "/hashfloor", "fleet alberta 30 0.07 2")
    listing = ask(svc, "/hashfloor", "fleet list")
    assert listing["text"] == (
        "3 fleets: main (20 J/TH at $0.06/kWh, pool fee 2%); alberta (30 J/TH at $0.07/kWh, pool "
        "fee 2%); Texas (17.5 J/TH at $0.05/kWh, pool fee 2%, 200 PH/s)"
    )
    body = all_text(listing)
    assert "• *main* — 20 J/TH at $0.06/kWh, pool fee 2%: breaks even at $70,605 today" in body
    assert "• *alberta* — 30 J/TH at $0.07/kWh, pool fee 2%: breaks even at $123,559" in body
    assert "At 200 PH/s it earns $7,424 a day" in body
    assert ask(svc, "/hashfloor", "fleet")["text"] == listing["text"]  # no word: the list
    # The same name in another case is the same fleet.
    assert ask(svc, "/hashfloor", "fleet TEXAS 16 0.045")["text"].startswith("Fleet TEXAS set:")
    assert list(fleets(svc)) == ["main", "alberta", "texas"]
    assert fleets(svc)["texas"] == Fleet(16.0, 0.045, 0.0, None, "TEXAS")
    # Remove one by name, then `main`; a name that is not there changes nothing.
    out = ask(svc, "/hashfloor", "fleet texas off")["text"]
    assert out.startswith("Fleet TEXAS removed: its breakeven line is no longer shown or watched")
    assert said(ask(svc, "/hashfloor", "fleet utah off")) == (
        "There is no fleet utah in this workspace: `/hashfloor fleet list` shows them."
    )
    assert ask(svc, "/hashfloor", "fleet off")["text"].startswith("Fleet main removed")
    assert list(fleets(svc)) == ["alberta"]
    assert ask(svc, "/hashfloor", "fleet off")["text"].startswith("There is no fleet main")
    assert list(fleets(svc, "T2")) == []  # another workspace has none of these
    actions = audit_actions(svc)
    assert actions.count("fleet.set") == 4 and actions.count("fleet.off") == 2


def test_members_read_the_list_but_only_admins_change_fleets(svc: Hashfloor) -> None:
    ask(svc, "/hashfloor", "fleet texas 17.5 0.05")
    member = Roles()
    assert "texas" in ask(svc, "/hashfloor", "fleet list", roles=member)["text"]
    for text in ("fleet utah 17.5 0.05", "fleet texas off"):
        assert "admin" in ask(svc, "/hashfloor", text, roles=member)["text"].lower()
    assert list(fleets(svc)) == ["texas"]


def test_a_workspace_has_at_most_50_fleets(svc: Hashfloor) -> None:
    db = svc.storage.db
    for i in range(workspaces.MAX_FLEETS):
        workspaces.set_fleet(db, "T1", Fleet(17.5, 0.05, 0.0, None, f"site{i}"), "U1", 1.0)
    out = said(ask(svc, "/hashfloor", "fleet one-more 17.5 0.05"))
    assert out == (
        "This workspace has 50 fleets, the most it can have: remove one first "
        "(`/hashfloor fleet &lt;name&gt; off`). Nothing was changed."
    )
    assert "one-more" not in fleets(svc)
    # Changing one of the 50 is still allowed.
    assert ask(svc, "/hashfloor", "fleet site7 20 0.05")["text"].startswith("Fleet site7 set")
    # The list of 50 stays within Slack's limits (ask checks them).
    assert ask(svc, "/hashfloor", "fleet list")["text"].startswith("50 fleets:")
    assert len(ask(svc, "/breakeven", "")["blocks"]) <= 50


def test_breakeven_shows_every_fleet_first(svc: Hashfloor) -> None:
    ask(svc, "/hashfloor", "fleet 17.5 0.05 2")
    ask(svc, "/hashfloor", "fleet b<i>&co 30 0.07 2 hashrate 100")
    out = ask(svc, "/breakeven", "")
    assert out["text"].startswith(
        "BTC $91,000: +76.8% vs fleet main; -26.4% vs fleet b&lt;i&gt;&amp;co; +22.0% vs CoinShares"
    )
    rows = out["blocks"][1]["text"]["text"].split("\n")
    assert rows[0].startswith(":large_green_circle: *Fleet main* (17.5 J/TH at $0.05/kWh")
    assert rows[1] == (
        ":red_circle: *Fleet b&lt;i&gt;&amp;co* (30 J/TH at $0.07/kWh, pool fee 2%, 100 PH/s) "
        "breaks even at $123,559 — price is 26.4% below; earns $3,712 a day, power costs $5,040: "
        "margin -$1,328 a day"
    )
    assert "<i>" not in all_text(out)


# --- subscribe / unsubscribe ------------------------------------------------------------------


def rule_keys(svc: Hashfloor, channel: str = "C1") -> list[str]:
    return [r["line_key"] for r in alerts.channel_rules(svc.storage.db, "T1", channel)]


def test_subscribe_fleet_watches_every_fleet_of_the_workspace(svc: Hashfloor) -> None:
    assert said(ask(svc, "/hashfloor", "subscribe fleet")) == (
        "No fleet is set: `/hashfloor fleet &lt;model|J/TH&gt; &lt;$/kWh&gt;` first."
    )
    ask(svc, "/hashfloor", "fleet 17.5 0.05 2")
    ask(svc, "/hashfloor", "fleet Texas 30 0.07 2")
    out = ask(svc, "/hashfloor", "subscribe fleet")
    assert rule_keys(svc) == ["fleet:main", "fleet:texas"]
    text = all_text(out)
    assert "the breakeven of fleet main (17.5 J/TH at $0.05/kWh)" in text
    assert "the breakeven of fleet Texas (30 J/TH at $0.07/kWh)" in text
    states = {r["line_key"]: r["state"] for r in alerts.channel_rules(svc.storage.db, "T1", "C1")}
    assert states == {"fleet:main": "above", "fleet:texas": "below"}  # where $91,000 stands
    # A fleet added later is not watched until asked for; `subscribe fleet` again adds it and
    # keeps the rules there are.
    ask(svc, "/hashfloor", "fleet alberta 20 0.06 2")
    assert rule_keys(svc) == ["fleet:main", "fleet:texas"]
    ask(svc, "/hashfloor", "subscribe fleet")
    assert rule_keys(svc) == ["fleet:main", "fleet:texas", "fleet:alberta"]
    status = all_text(ask(svc, "/hashfloor", "status"))
    for name in ("• fleet main ($51,483)", "• fleet Texas ($123,559)", "• fleet alberta ($70,605)"):
        assert name in status
    assert "fleet:" not in status.replace("`fleet:", "")


@pytest.mark.parametrize(
    "text", ["subscribe fleet texas", "subscribe fleet:texas", "subscribe Fleet:TEXAS"]
)
def test_subscribe_one_fleet_by_name(svc: Hashfloor, text: str) -> None:
    ask(svc, "/hashfloor", "fleet 17.5 0.05 2")
    ask(svc, "/hashfloor", "fleet Texas 30 0.07 2")
    out = ask(svc, "/hashfloor", text)
    assert rule_keys(svc) == ["fleet:texas"]
    assert "fleet main" not in all_text(out)


def test_subscribe_a_fleet_and_other_lines_at_once(svc: Hashfloor) -> None:
    ask(svc, "/hashfloor", "fleet Texas 30 0.07 2")
    ask(svc, "/hashfloor", "subscribe cash fleet texas 99")  # 99: no such row
    assert rule_keys(svc) == []  # nothing saved: one of them is not there
    ask(svc, "/hashfloor", "subscribe fleet texas cash")
    assert rule_keys(svc) == ["fleet:texas", "cash"]
    ask(svc, "/hashfloor", "subscribe fleet within 5%")
    assert rule_keys(svc)[-1] == "within:5:fleet:texas"
    ask(svc, "/hashfloor", "unsubscribe fleet within 5%")
    assert rule_keys(svc) == ["fleet:texas", "cash"]


def test_subscribe_a_fleet_that_is_not_there(svc: Hashfloor) -> None:
    ask(svc, "/hashfloor", "fleet texas 30 0.07 2")
    assert said(ask(svc, "/hashfloor", "subscribe fleet <utah>")) == (
        "There is no fleet &lt;utah&gt; in this workspace: `/hashfloor fleet list` shows them."
    )
    assert rule_keys(svc) == []


def test_unsubscribe_one_fleet_every_fleet_and_a_removed_one(svc: Hashfloor) -> None:
    ask(svc, "/hashfloor", "fleet 17.5 0.05 2")
    ask(svc, "/hashfloor", "fleet Texas 30 0.07 2")
    ask(svc, "/hashfloor", "fleet alberta 20 0.06 2")
    ask(svc, "/hashfloor", "subscribe fleet cash")
    out = ask(svc, "/hashfloor", "unsubscribe fleet texas")["text"]
    assert out.startswith("Unsubscribed from fleet Texas. Still subscribed here: fleet main, ")
    assert rule_keys(svc) == ["fleet:main", "fleet:alberta", "cash"]
    # A removed fleet's rule stays, shown as removed, until unsubscribed.
    ask(svc, "/hashfloor", "fleet alberta off")
    status = all_text(ask(svc, "/hashfloor", "status"))
    assert "• fleet alberta (removed): *price above*" in status
    out = ask(svc, "/hashfloor", "unsubscribe fleet")["text"]
    assert out.startswith("Unsubscribed from fleet main and fleet alberta (removed).")
    assert rule_keys(svc) == ["cash"]
