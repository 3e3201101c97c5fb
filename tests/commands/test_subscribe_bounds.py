"""How many alert rules one channel may hold (README Security): a member typing 100,000 distinct
`below` levels or early-warning percentages must not make every poll evaluate them all.

Through `commands.answer` on a real SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import commands
from bot.service import Hashfloor
from bot.settings import Settings
from commands.context import Ctx, Roles
from commands.subscribe import RULES_PER_CHANNEL_MAX
from storage import alerts

NOW = 1_764_000_000.0


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Hashfloor]:
    service = Hashfloor(Settings(hashfloor_db=tmp_path / "bounds.db"), clock=lambda: NOW)
    service.migrate()
    yield service
    service.close()


def ask(svc: Hashfloor, text: str, team: str = "T1", channel: str = "C1") -> str:
    ctx = Ctx(svc, "U1", team, channel, NOW, roles=Roles)
    return commands.answer(ctx, "/hashfloor", text).text


def keys(svc: Hashfloor, team: str = "T1", channel: str = "C1") -> list[str]:
    return [r["line_key"] for r in alerts.channel_rules(svc.storage.db, team, channel)]


def fill(svc: Hashfloor) -> None:
    for i in range(RULES_PER_CHANNEL_MAX):
        ask(svc, f"subscribe below {60_000 + i}")
    assert len(keys(svc)) == RULES_PER_CHANNEL_MAX


@pytest.mark.parametrize(
    "text",
    [
        "subscribe below 99999",
        "subscribe hashprice below 30",
        "subscribe hashprice below 40 sats",
        "subscribe below 60000 within 0.5%",
        "subscribe adjustment 5",
        "subscribe",  # cash and all-in: two more
    ],
)
def test_a_full_channel_refuses_another_rule_of_any_kind_and_saves_nothing(
    svc: Hashfloor, text: str
) -> None:
    fill(svc)
    before = keys(svc)
    reply = ask(svc, text)
    assert f"This channel has {RULES_PER_CHANNEL_MAX} alert rules" in reply
    assert "Nothing was saved" in reply
    assert keys(svc) == before


def test_a_full_channel_keeps_its_rules_and_frees_room_by_unsubscribing(svc: Hashfloor) -> None:
    fill(svc)
    # Subscribing again to a rule it has adds nothing: not refused.
    assert "alert rules" not in ask(svc, "subscribe below 60000")
    assert ask(svc, "unsubscribe below 60000").startswith("Unsubscribed from")
    assert "alert rules" not in ask(svc, "subscribe below 99999")
    assert len(keys(svc)) == RULES_PER_CHANNEL_MAX
    assert "below:99999" in keys(svc)


def test_the_bound_is_per_channel_and_per_workspace(svc: Hashfloor) -> None:
    fill(svc)
    ask(svc, "subscribe below 99999", channel="C2")
    ask(svc, "subscribe below 99999", team="T2")
    assert keys(svc, channel="C2") == ["below:99999"]
    assert keys(svc, team="T2") == ["below:99999"]


def test_a_channel_with_its_adjustment_rule_may_change_its_threshold_when_full(
    svc: Hashfloor,
) -> None:
    ask(svc, "subscribe adjustment 5")
    for i in range(RULES_PER_CHANNEL_MAX - 1):
        ask(svc, f"subscribe below {60_000 + i}")
    assert len(keys(svc)) == RULES_PER_CHANNEL_MAX
    assert "alert rules" not in ask(svc, "subscribe adjustment 10")
    assert "adjustment:10" in keys(svc)
    assert len(keys(svc)) == RULES_PER_CHANNEL_MAX


@pytest.mark.parametrize(
    ("texts", "key"),
    [
        (["below 80000.4", "below 80000"], "below:80000"),
        (["hashprice below 30.001", "hashprice below 30"], "hashprice:usd:30"),
        (["hashprice below 40.04 sats", "hashprice below 40 sats"], "hashprice:sats:40"),
        (["cash within 5.001%", "cash within 5%"], "within:5:cash"),
        (["adjustment 5.001", "adjustment 5"], "adjustment:5"),
    ],
)
def test_levels_are_kept_to_what_their_name_shows(
    svc: Hashfloor, texts: list[str], key: str
) -> None:
    """`hashprice below 30.001` and `hashprice below 30` were two rules, both named
    `hashprice below $30/PH/day`: one rule now, as its name says."""
    for text in texts:
        assert "could not read" not in ask(svc, f"subscribe {text}")
    assert keys(svc) == [key]


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("hashprice below 0.004", "0.004"),
        ("hashprice below 0.04 sats", "0.04 sats"),
        ("cash within 0.0000000000000000001%", "0.0000000000000000001%"),
        ("adjustment 0.0000000000001", "0.0000000000001"),
    ],
)
def test_a_level_too_small_for_its_name_is_refused(svc: Hashfloor, text: str, bad: str) -> None:
    """It was saved as `hashprice below $0/PH/day` or `within 1e-19%`."""
    assert ask(svc, f"subscribe {text}").startswith(f"I could not read `{bad}`")
    assert keys(svc) == []
