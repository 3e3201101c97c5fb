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
    """Apply what is pending and seed the shipped benchmarks; returns what was applied."""
    todo = pending(db)
    for m in MIGRATION_SETS:
        m.apply(db)
    costs.seed(db)
    machines.seed(db)
    return todo
