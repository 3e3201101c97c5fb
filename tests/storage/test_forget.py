"""Uninstall forgets (DESIGN §9): every table with a workspace column, found from the schema, and
the audit trail only until the retention period (DESIGN §10) ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlite_utils import Database

from bot.alerts.retarget import Memory
from bot.alerts.rules import RuleState
from bot.digest.schedule import DigestSchedule
from bot.retention import DAY, Policy, prune
from storage import alerts, audit, costs, digests, forget, workspaces
from storage import retarget as retarget_rules
from storage.db import Storage
from storage.installations import EncryptedInstallationStore, take_lease
from storage.migrations import migrate

KEY = "a secret key of more than 32 characters"
T0 = 1_764_000_000.0
TYPED = "Acme private line"  # what a workspace typed, to find wherever it is kept


@pytest.fixture
def storage(db_path: Path) -> Iterator[Storage]:
    st = Storage(db_path)
    migrate(st.db)
    yield st
    st.close()


def set_up(storage: Storage, team: str) -> None:
    """One of everything a workspace leaves in the file, through the modules' own functions."""
    db = storage.db
    costs.add(db, team, TYPED, "cash", 61_000, source="https://acme.example/r", now=T0)
    workspaces.set_fleet(db, team, workspaces.Fleet(17.5, 0.05, 0.02), "U1", T0)
    workspaces.set_hpc_lease(db, team, 150.0, "U1", T0)
    workspaces.set_muted_until(db, team, "C1", T0 + 3600, T0)
    workspaces.saw_member(db, team, "C1", "U1", T0)
    rule_id, _ = alerts.add_rule(db, team, "C1", "cash", RuleState(), 61_000, "v1", "U1", T0)
    alert_id = alerts.enqueue(
        db, f"k-{team}", team, "C1", "alert", f"below {TYPED}", [], T0, rule_id
    )
    digests.set_schedule(db, team, "C1", DigestSchedule(), "U1", T0)
    add_this_sessions_rows(db, team, rule_id, alert_id)
    audit.record(db, T0, team, "U1", "costs.add", name=TYPED)
    EncryptedInstallationStore(storage, KEY).save(
        Installation(
            app_id="A1",
            team_id=team,
            user_id="U1",
            bot_token=f"xoxb-{team}",
            bot_id="B1",
            bot_user_id="UBOT",
            installed_at=T0,
        )
    )
    assert take_lease(storage, None, team, "holder", T0, 30)


def add_this_sessions_rows(db: Database, team: str, rule_id: int, alert_id: int | None) -> None:
    """What threads, currency, retarget rules and recovery edits leave: uninstall forgets them
    too (they are in tables with a workspace column; this pins it)."""
    workspaces.set_threads(db, team, "C2", False, T0)
    workspaces.set_currency(db, team, "EUR", "U1", T0)
    retarget_rules.subscribe(db, team, "C1", "adjustment:5", Memory(430, 1.5e14), "U1", T0)
    alerts.enqueue(
        db, f"e-{team}", team, "C1", "edit", f"recovered {TYPED}", [], T0, rule_id, alert_id
    )


def test_this_sessions_settings_and_rows_go_with_the_workspace(storage: Storage) -> None:
    for team in ("TA", "TB"):
        set_up(storage, team)
    with storage.transaction() as db:
        forget.forget_team(db, "TA", T0 + 10)
    db = storage.db
    assert workspaces.threads_on(db, "TA", "C2") and not workspaces.threads_on(db, "TB", "C2")
    assert workspaces.get_currency(db, "TA") == "USD" and workspaces.get_currency(db, "TB") == "EUR"
    assert alerts.channel_rules(db, "TA", "C1") == []
    kinds = "SELECT team_id, kind FROM outbox ORDER BY id"
    assert [(r["team_id"], r["kind"]) for r in db.query(kinds)] == [("TB", "alert"), ("TB", "edit")]


def team_rows(storage: Storage, team: str) -> dict[str, int]:
    """Rows of `team` in every table with a team_id or workspace column, read from the schema."""
    db = storage.db
    counts = {}
    for table in db.table_names():
        for column in ("team_id", "workspace"):
            if column in {c.name for c in db[table].columns}:
                sql = f"SELECT count(*) FROM [{table}] WHERE [{column}] = ?"
                counts[table] = db.execute(sql, [team]).fetchone()[0]
    return counts


def test_forget_empties_every_table_with_a_workspace_column_but_the_audit(storage):
    for team in ("TA", "TB"):
        set_up(storage, team)
    kept_b = team_rows(storage, "TB")
    assert all(kept_b.values()), kept_b  # every table had a row: the test covers each of them

    with storage.transaction() as db:
        deleted = forget.forget_team(db, "TA", T0 + 10)

    left = team_rows(storage, "TA")
    assert {t: n for t, n in left.items() if n} == {"audit": 2}  # costs.add, and the uninstall
    assert set(deleted) == set(kept_b) - {"audit"}
    assert team_rows(storage, "TB") == kept_b  # the other workspace keeps everything
    [uninstall] = [r for r in audit.recent(storage.db, "TA") if r["action"] == "uninstall"]
    assert TYPED not in uninstall["detail"]


def test_what_an_uninstalled_workspace_typed_goes_with_the_audit_retention(storage):
    set_up(storage, "TA")
    with storage.transaction() as db:
        forget.forget_team(db, "TA", T0 + 10)
    policy = Policy(2 * DAY, 365 * DAY, 90 * DAY, 400 * DAY)

    prune(storage, T0 + 399 * DAY, policy)
    assert any(TYPED in r["detail"] for r in audit.recent(storage.db, "TA"))  # still within
    prune(storage, T0 + 401 * DAY, policy)

    assert audit.recent(storage.db, "TA") == []
    assert TYPED not in "\n".join(storage.db.conn.iterdump())  # nowhere in the file
