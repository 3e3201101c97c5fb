"""Uninstall forgets (DESIGN §9): every row of a workspace, in every table that names one.

The tables are found by their columns, not listed by hand, so a table added later (or a
channel table that gains a `team_id`) is forgotten too without anyone remembering to add it.
"""

from __future__ import annotations

from sqlite_utils import Database

from storage import audit

# Columns that hold the team id of the workspace a row belongs to.
WORKSPACE_COLUMNS = ("team_id", "workspace")
# What an uninstall keeps, and why: the audit trail says who changed what; the daily retention
# job deletes its rows after HASHFLOOR_RETENTION_AUDIT_DAYS (DESIGN §10: 400 days).
KEPT = {"audit": "who changed what, until the retention period ends"}


def workspace_tables(db: Database) -> list[tuple[str, str]]:
    """(table, column) of every table with a workspace column, the kept ones excepted."""
    found = []
    for table in db.table_names():
        if table in KEPT or table.startswith(("sqlite_", "_")):
            continue
        columns = {c.name for c in db[table].columns}
        found.extend((table, column) for column in WORKSPACE_COLUMNS if column in columns)
    return found


def forget_team(db: Database, team_id: str, now: float) -> dict[str, int]:
    """Delete the workspace's rows everywhere but the audit trail; returns rows per table.

    Run inside the caller's transaction: all of it goes, or none of it.
    """
    deleted: dict[str, int] = {}
    for table, column in workspace_tables(db):
        count = db.execute(f"DELETE FROM [{table}] WHERE [{column}] = ?", [team_id]).rowcount
        if count:
            deleted[table] = deleted.get(table, 0) + count
    # The uninstall itself is audited: counts only, nothing the workspace had typed.
    audit.record(db, now, team_id, "slack", "uninstall", deleted=deleted)
    return deleted
