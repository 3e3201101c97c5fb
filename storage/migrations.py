"""Every table family's migrations, applied in order at start and by `hashfloor db migrate`."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from storage import (
    alerts,
    audit,
    costs,
    digests,
    history,
    installations,
    machines,
    seen_events,
    snapshots,
    workspaces,
)

# Each table family owns its migration set; a new family appends its set here.
MIGRATION_SETS: list[Migrations] = [
    costs.migrations,
    snapshots.migrations,
    audit.migrations,
    workspaces.migrations,
    seen_events.migrations,
    alerts.migrations,
    installations.migrations,
    digests.migrations,
    history.migrations,
    machines.migrations,
]


def pending(db: Database) -> list[str]:
    return [f"{m.name}:{p.name}" for m in MIGRATION_SETS for p in m.pending(db)]


def migrate(db: Database) -> list[str]:
    """Apply what is pending and seed the shipped benchmarks; returns what was applied.

    All in one BEGIN IMMEDIATE: two processes started at once on a fresh file take turns (the
    second finds nothing pending) instead of both creating the same tables.
    """
    conn = db.conn
    if conn.in_transaction:
        return _apply(db)
    conn.execute("BEGIN IMMEDIATE")
    try:
        todo = _apply(db)
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return todo


def _apply(db: Database) -> list[str]:
    todo = pending(db)
    for m in MIGRATION_SETS:
        m.apply(db)
    costs.seed(db)
    machines.seed(db)
    return todo
