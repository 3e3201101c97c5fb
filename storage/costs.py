"""Cost benchmarks: the shipped CoinShares rows and each workspace's own lines.

A row is one line: a quarter, a kind (cash or allin) and a value in US$ per BTC. Shipped rows have
workspace NULL and a `seed_key`, so seeding twice never duplicates and a release can add a quarter.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot import benchmarks
from bot.lines import CostLine, clean_label
from storage.db import select, select_one

KINDS = ("cash", "allin")
KIND_LABEL = {"cash": "cash cost", "allin": "all-in cost"}

COINSHARES = "CoinShares"


@dataclass(frozen=True)
class Shipped:
    quarter: str
    cash: float | None
    allin: float | None
    source: str  # the publication, with its date (and the press where the figure was read)
    published: str | None = None  # ISO day; the figures count from then on (None: long public)
    note: str | None = None  # the publisher's own caveat about the cash figure


# DESIGN §4. Publication dates to the day only where known; the others were public long before
# any date this bot answers for.
SHIPPED: tuple[Shipped, ...] = (
    Shipped(
        "2024-Q1",
        47_200,
        None,
        'CoinShares Q3 2024 Mining Report "Mining at the Edge" (J. Butterfill, M. Shannon;'
        " published 2024-Q3), as reported in the press",
    ),
    Shipped(
        "2024-Q2",
        49_500,
        96_100,
        'CoinShares Q3 2024 Mining Report "Mining at the Edge" (J. Butterfill, M. Shannon;'
        " published 2024-Q3), as reported in the press",
    ),
    Shipped(
        "2024-Q3",
        55_950,
        106_000,
        'CoinShares Bitcoin Mining Report "Brief Q3 Earnings Update" (J. Butterfill, M. Shannon;'
        " published 2024-12), as reported in the press",
    ),
    Shipped(
        "2024-Q4",
        82_162,
        137_018,
        'CoinShares Q4 2024 Mining Report "Bitcoin vs Gold Mining" (J. Butterfill;'
        " published 2025-04), as reported in the press",
        note="skewed by one miner's tax expense (Hut 8); $75,767 excluding it",
    ),
    Shipped("2025-Q2", 74_600, 137_800, "CoinShares Bitcoin Mining Report (J. Butterfill)"),
    Shipped(
        "2025-Q4",
        79_995,
        None,
        "CoinShares Bitcoin Mining Report Q1 2026 (published 2026-03-25), as reported in the press",
        published="2026-03-25",
    ),
)


def shipped_rows() -> list[dict[str, Any]]:
    """SHIPPED as the cost_benchmarks rows `seed` makes of it (without ids), one per value."""
    return [
        {
            "workspace": None,
            "name": COINSHARES,
            "quarter": row.quarter,
            "kind": kind,
            "value_usd": value,
            "source": row.source,
            "published": row.published,
            "note": row.note if kind == "cash" else None,
            "seed_key": f"coinshares:{row.quarter}:{kind}",
        }
        for row in SHIPPED
        for kind, value in (("cash", row.cash), ("allin", row.allin))
        if value is not None
    ]


migrations = Migrations("hashfloor.costs")


@migrations()
def m001_cost_benchmarks(db: Database) -> None:
    db["cost_benchmarks"].create(
        {
            "id": int,
            "workspace": str,  # NULL: shipped with the bot
            "name": str,
            "quarter": str,
            "kind": str,
            "value_usd": float,
            "source": str,
            "seed_key": str,
            "created_by": str,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
        not_null={"name", "kind", "value_usd"},
    )
    db["cost_benchmarks"].create_index(["seed_key"], unique=True)
    db["cost_benchmarks"].create_index(["workspace"])


@migrations()
def m002_clean_labels(db: Database) -> None:
    """Names stored before labels were cleaned on the way in (bot.lines.clean_label)."""
    for row in db.query("SELECT id, name FROM cost_benchmarks WHERE workspace IS NOT NULL"):
        name = clean_label(row["name"]) or f"line {row['id']}"
        if name != row["name"]:
            db.execute("UPDATE cost_benchmarks SET name = ? WHERE id = ?", [name, row["id"]])


@migrations()
def m003_publication_and_note(db: Database) -> None:
    """When a shipped figure was published (it counts from then on) and the publisher's caveat."""
    table = db["cost_benchmarks"]
    for column in ("published", "note"):
        if column not in table.columns_dict:
            table.add_column(column, str)


def seed(db: Database, now: float | None = None) -> int:
    """Insert shipped rows that are missing and bring the others' value, source, publication date
    and note up to this release; returns how many were added."""
    now = time.time() if now is None else now
    added = 0
    with db.atomic():
        for row in shipped_rows():
            fields = [row["value_usd"], row["source"], row["published"], row["note"]]
            cur = db.execute(
                "INSERT OR IGNORE INTO cost_benchmarks (workspace, name, quarter, kind, value_usd,"
                " source, published, note, seed_key, created_at, updated_at)"
                " VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [row["name"], row["quarter"], row["kind"], *fields, row["seed_key"], now, now],
            )
            added += cur.rowcount
            if not cur.rowcount:  # on file from an earlier release: bring it up to this one
                db.execute(
                    "UPDATE cost_benchmarks SET value_usd = ?, source = ?, published = ?,"
                    " note = ?, updated_at = ? WHERE seed_key = ? AND (value_usd IS NOT ?"
                    " OR source IS NOT ? OR published IS NOT ? OR note IS NOT ?)",
                    [*fields, now, row["seed_key"], *fields],
                )
    return added


def all_rows(db: Database, workspace: str | None = None) -> list[dict[str, Any]]:
    """Shipped rows and, if given, the workspace's own, oldest quarter first."""
    return select(
        db,
        "SELECT * FROM cost_benchmarks WHERE workspace IS NULL OR workspace = ?"
        " ORDER BY workspace IS NOT NULL, quarter, kind = 'allin', id",
        [workspace],
    )


def own_rows_by_workspace(db: Database, workspaces: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each listed workspace's own rows, in `all_rows`' order, read in one query: a poll over
    10,000 workspaces must not pay one query per workspace."""
    rows = select(
        db,
        "SELECT * FROM cost_benchmarks WHERE workspace IN (SELECT value FROM json_each(?))"
        " ORDER BY workspace, quarter, kind = 'allin', id",
        [json.dumps(workspaces)],
    )
    by_workspace: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_workspace.setdefault(row["workspace"], []).append(row)
    return by_workspace


def every_row(db: Database) -> list[dict[str, Any]]:
    """Shipped rows, then every workspace's own (the console's are workspace `local`)."""
    return select(
        db,
        "SELECT * FROM cost_benchmarks"
        " ORDER BY workspace IS NOT NULL, workspace, quarter, kind = 'allin', id",
    )


def get(db: Database, row_id: int) -> dict[str, Any] | None:
    return select_one(db, "SELECT * FROM cost_benchmarks WHERE id = ?", [row_id])


def line_from_row(row: dict[str, Any]) -> CostLine:
    kind_label = KIND_LABEL.get(row["kind"], row["kind"])
    if row["workspace"] is None:
        key = row["kind"]
        label = f"{row['name']} {kind_label} ({row['quarter']})"
    else:
        key = f"cost:{row['id']}"
        period = f" ({row['quarter']})" if row["quarter"] else ""
        label = f"{row['name']} {kind_label}{period}"
    return CostLine(
        key,
        label,
        row["value_usd"],
        row["source"],
        row["quarter"],
        row.get("published"),
        row.get("note"),
    )


def _shipped_rows(db: Database) -> list[dict[str, Any]]:
    # Only rows shipped with the bot (seed_key): a row some older CLI added without a workspace
    # must never stand in for the CoinShares line of every workspace.
    return select(
        db,
        "SELECT * FROM cost_benchmarks WHERE workspace IS NULL AND seed_key IS NOT NULL"
        " ORDER BY quarter, id",
    )


def current_shipped_ids(db: Database, now: float) -> set[int]:
    """The ids of the shipped rows that are the current lines at `now`."""
    rows = _shipped_rows(db)
    current = benchmarks.current((line_from_row(r) for r in rows), now)
    keys = {(line.key, line.period) for line in current}
    return {r["id"] for r in rows if (r["kind"], r["quarter"]) in keys}


def candidate_lines(db: Database, workspace: str | None = None) -> tuple[CostLine, ...]:
    """Every shipped line (all quarters), then the workspace's own: `benchmarks.current` picks."""
    lines = [line_from_row(r) for r in _shipped_rows(db)]
    if workspace:
        rows = select(
            db, "SELECT * FROM cost_benchmarks WHERE workspace = ? ORDER BY id", [workspace]
        )
        lines.extend(line_from_row(r) for r in rows)
    return tuple(lines)


def current_lines(db: Database, workspace: str | None, now: float) -> list[CostLine]:
    """The shipped line of each kind from the latest quarter published by `now`, then the
    workspace's own."""
    return benchmarks.current(candidate_lines(db, workspace), now)


def add(
    db: Database,
    workspace: str | None,
    name: str,
    kind: str,
    value_usd: float,
    quarter: str | None = None,
    source: str | None = None,
    created_by: str | None = None,
    now: float | None = None,
) -> int:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    # The last guard; commands/parsing.py checks the sane bounds before anything gets here.
    if not (math.isfinite(value_usd) and value_usd > 0):
        raise ValueError("value must be positive and finite")
    now = time.time() if now is None else now
    table = db["cost_benchmarks"]
    table.insert(
        {
            "workspace": workspace,
            "name": name,
            "quarter": quarter,
            "kind": kind,
            "value_usd": float(value_usd),
            "source": source,
            "created_by": created_by,
            "created_at": now,
            "updated_at": now,
        }
    )
    return table.last_pk


def remove(db: Database, workspace: str | None, row_id: int) -> bool:
    """Remove one of the workspace's own rows (workspace None: a CLI operator, any non-shipped row)."""
    if workspace is None:
        cur = db.execute("DELETE FROM cost_benchmarks WHERE id = ? AND seed_key IS NULL", [row_id])
    else:
        cur = db.execute(
            "DELETE FROM cost_benchmarks WHERE id = ? AND workspace = ?", [row_id, workspace]
        )
    return cur.rowcount > 0
