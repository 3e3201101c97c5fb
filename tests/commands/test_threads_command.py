"""/hashfloor threads on|off: where a channel's recoveries go (DESIGN §3.3, §5.1).

Through `commands.answer` on a real SQLite file; what delivery does with the setting is in
tests/bot/alerts/test_delivery.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import commands
from bot.service import Hashfloor
from bot.settings import Settings
from commands.context import Ctx, Roles
from storage import audit, workspaces

NOW = 1_764_000_000.0
MEMBER = Roles()


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Hashfloor]:
    service = Hashfloor(Settings(hashfloor_db=tmp_path / "threads.db"), clock=lambda: NOW)
    service.migrate()
    yield service
    service.close()


def ask(
    svc: Hashfloor,
    text: str,
    roles: Roles = MEMBER,
    team: str | None = "T1",
    channel: str | None = "C1",
) -> str:
    ctx = Ctx(svc, "U1", team, channel, NOW, roles=lambda: roles)
    return commands.answer(ctx, "/hashfloor", text).text


def threads(svc: Hashfloor, team: str = "T1", channel: str = "C1") -> bool:
    return workspaces.threads_on(svc.storage.db, team, channel)


def test_threads_are_on_by_default_and_a_member_turns_them_off_and_on(svc: Hashfloor) -> None:
    assert ask(svc, "threads") == "Recoveries in this channel go in the alert's thread."
    assert "Recoveries: in the alert's thread" in ask(svc, "status")
    off = ask(svc, "threads OFF")
    assert off.startswith("Recoveries in this channel now go top-level")
    assert "the alert is edited to say it recovered" in off
    assert not threads(svc)
    assert ask(svc, "threads") == "Recoveries in this channel go top-level (threads off)."
    assert "Recoveries: top-level (threads off)" in ask(svc, "status")
    assert ask(svc, "threads on").startswith("Recoveries in this channel now go in the thread")
    assert threads(svc)
    actions = [r["action"] for r in audit.recent(svc.storage.db)]
    assert actions == ["channel.threads", "channel.threads"]


def test_the_setting_is_the_channels_of_this_workspace_only(svc: Hashfloor) -> None:
    """Keyed by workspace and channel: a Slack Connect channel's other workspace keeps its own."""
    ask(svc, "threads off", team="T1", channel="C1")
    assert not threads(svc, "T1", "C1")
    assert threads(svc, "T2", "C1") and threads(svc, "T1", "C2")
    # Other settings of the channel are kept: the mute survives, and threads survive a mute.
    ask(svc, "mute 4h")
    assert not threads(svc, "T1", "C1")
    assert workspaces.muted_until(svc.storage.db, "T1", "C1", NOW) == NOW + 4 * 3600


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("threads maybe", "`maybe`"),
        ("threads off please", "`please`"),
        ("threads <on>", "`&lt;on&gt;`"),
    ],
)
def test_bad_input_is_quoted_and_changes_nothing(svc: Hashfloor, text: str, quoted: str) -> None:
    reply = ask(svc, text)
    assert quoted in reply and "`on` or `off`" in reply
    assert threads(svc)
    assert audit.recent(svc.storage.db) == []


def test_guests_and_people_from_other_organisations_cannot_change_it(svc: Hashfloor) -> None:
    assert ask(svc, "threads off", roles=Roles(is_guest=True)).startswith("Guests cannot")
    assert ask(svc, "threads off", roles=Roles(is_external=True)).startswith(
        "People from other organisations cannot"
    )
    assert threads(svc)
    assert audit.recent(svc.storage.db) == []
    # Reading it is for anyone.
    assert ask(svc, "threads", roles=Roles(is_guest=True)).startswith("Recoveries in this")


def test_it_needs_a_channel(svc: Hashfloor) -> None:
    assert ask(svc, "threads off", channel=None).startswith("Run it in the channel")


def test_reading_it_is_not_a_change(svc: Hashfloor) -> None:
    assert not commands.is_change("/hashfloor", "threads")
    assert commands.is_change("/hashfloor", "threads off")
