"""Channel-scoped rows are keyed by workspace and channel (DESIGN §9 Tenancy), and a database
built with the old schema (keyed by channel alone) is carried over by the migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.alerts.rules import RuleState
from bot.digest.schedule import DigestSchedule
from storage import alerts, digests, forget, workspaces
from storage.db import Storage
from storage.migrations import MIGRATION_SETS, migrate, pending

# The migrations that re-keyed channel rows; a database before them is the old schema.
REKEYING = (
    "m002_channels_by_workspace",
    "m003_channel_members",
    "m003_rules_by_workspace",
    "m002_digests_by_workspace",
)
SHARED = "C0SHARED"  # a Slack Connect channel: the same id in both workspaces
T0 = 1_764_000_000.0


def old_schema(path: Path) -> Storage:
    st = Storage(path)
    for m in MIGRATION_SETS:
        m.apply(st.db, stop_before=REKEYING)
    return st


@pytest.fixture
def storage(db_path: Path) -> Iterator[Storage]:
    st = Storage(db_path)
    migrate(st.db)
    yield st
    st.close()


def test_the_old_schema_is_keyed_by_channel_alone(db_path: Path) -> None:
    """What the migration starts from: a second workspace cannot have a row in the channel."""
    st = old_schema(db_path)
    db = st.db
    db["channels"].insert({"channel_id": SHARED, "team_id": "TA", "muted_until": 1.0})
    with pytest.raises(sqlite3.IntegrityError):
        db["channels"].insert({"channel_id": SHARED, "team_id": "TB", "muted_until": 2.0})
    st.close()


def test_migration_carries_old_rows_over_and_keys_them_by_workspace(db_path: Path) -> None:
    st = old_schema(db_path)
    db = st.db
    db["channels"].insert(
        {"channel_id": SHARED, "team_id": "TA", "muted_until": T0 + 3600, "updated_at": T0}
    )
    db["channels"].insert({"channel_id": "C0OLD", "team_id": None, "muted_until": T0 + 60})
    db["rules"].insert(
        {
            "team_id": "TA",
            "channel_id": SHARED,
            "line_key": "cash",
            "state": "above",
            "created_by": "UA1",
            "created_at": T0,
        }
    )
    db["digests"].insert(
        {
            "channel_id": SHARED,
            "team_id": "TA",
            "weekday": 4,
            "hhmm": "17:30",
            "tz": "UTC",
            "enabled": 1,
            "explicit": 1,
            "last_sent_week": "2026-W47",
            "updated_by": "UA2",
            "updated_at": T0,
        }
    )
    st.close()

    st = Storage(db_path)
    db = st.db
    applied = migrate(db)
    assert set(REKEYING) <= {name.split(":")[1] for name in applied}
    assert pending(db) == []

    # Workspace A keeps what it had.
    assert workspaces.muted_until(db, "TA", SHARED, T0) == T0 + 3600
    assert workspaces.muted_until(db, None, "C0OLD", T0) == T0 + 60  # no team: the local one
    (rule,) = alerts.channel_rules(db, "TA", SHARED)
    assert (rule["line_key"], rule["state"], rule["created_by"]) == ("cash", "above", "UA1")
    row = digests.get(db, "TA", SHARED)
    assert row is not None and row.schedule == DigestSchedule(4, "17:30", "UTC")
    assert row.last_sent_week == "2026-W47"
    # Who subscribed or set the digest is known to be in the channel (the App Home shows it them).
    assert workspaces.channels_of_member(db, "TA", "UA1") == {SHARED}
    assert workspaces.channels_of_member(db, "TA", "UA2") == {SHARED}

    # Workspace B now has rows of its own in the same channel, apart from A's.
    assert workspaces.muted_until(db, "TB", SHARED, T0) is None
    assert alerts.channel_rules(db, "TB", SHARED) == []
    assert digests.get(db, "TB", SHARED) is None
    workspaces.set_muted_until(db, "TB", SHARED, T0 + 60, T0)
    _, created = alerts.add_rule(db, "TB", SHARED, "cash", RuleState(), 74_600.0, "v", "UB", T0)
    assert created
    digests.set_schedule(db, "TB", SHARED, None, "UB", T0)
    assert workspaces.muted_until(db, "TA", SHARED, T0) == T0 + 3600
    assert len(alerts.channel_rules(db, "TA", SHARED)) == 1
    assert digests.get(db, "TA", SHARED).enabled  # type: ignore[union-attr]
    assert not digests.get(db, "TB", SHARED).enabled  # type: ignore[union-attr]
    # A rule is still unique per workspace, channel and line.
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO rules (team_id, channel_id, line_key, state) VALUES (?, ?, ?, 'unknown')",
            ["TA", SHARED, "cash"],
        )
    st.close()


def test_each_workspace_reads_and_changes_only_its_own_rows(storage: Storage) -> None:
    db = storage.db
    for team in ("TA", "TB"):
        alerts.add_rule(db, team, SHARED, "cash", RuleState(), 74_600.0, "v", f"U{team}", T0)
        alerts.add_rule(db, team, SHARED, "allin", RuleState(), 137_800.0, "v", f"U{team}", T0)
        digests.set_schedule(db, team, SHARED, DigestSchedule(0, "09:00", "UTC"), "U", T0)
    workspaces.set_muted_until(db, "TB", SHARED, T0 + 3600, T0)
    assert alerts.remove_rule(db, "TB", SHARED, "cash")
    assert alerts.pause_channel(db, "TB", SHARED, "not_in_channel", T0) == 1
    digests.set_schedule(db, "TB", SHARED, None, "UB", T0)
    digests.record_error(db, "TB", SHARED, "not sent yet: HTTP 503", T0)
    for team in ("TA", "TB"):
        alerts.enqueue(db, f"k-{team}", team, SHARED, "alert", "x", [], T0)
    assert alerts.fail_channel_pending(db, "TB", SHARED, "not_in_channel", T0) == 1

    assert workspaces.muted_until(db, "TA", SHARED, T0) is None
    a_rules = alerts.channel_rules(db, "TA", SHARED)
    assert [(r["line_key"], r["paused_reason"]) for r in a_rules] == [
        ("cash", None),
        ("allin", None),
    ]
    a_digest = digests.get(db, "TA", SHARED)
    assert a_digest is not None and a_digest.enabled and a_digest.last_error is None
    assert [r["team_id"] for r in alerts.due(db, T0)] == ["TA"]
    assert [(s["team_id"], s["channel_id"]) for s in alerts.subscribed_channels(db)] == [
        ("TA", SHARED)
    ]
    assert sorted(alerts.channel_teams(db, SHARED)) == ["TA", "TB"]


def test_uninstall_forgets_what_a_workspace_knew_of_its_members(storage: Storage) -> None:
    db = storage.db
    workspaces.saw_member(db, "TA", SHARED, "UA", T0)
    workspaces.saw_member(db, "TB", SHARED, "UB", T0)
    forget.forget_team(db, "TA", T0)  # the uninstall sweep finds the table by its team_id
    assert workspaces.channels_of_member(db, "TA", "UA") == set()
    assert workspaces.channels_of_member(db, "TB", "UB") == {SHARED}
