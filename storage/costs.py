"""Cost benchmarks: the shipped CoinShares rows and each workspace's own lines.

A row is one line: a quarter, a kind (cash or allin) and a value in US$ per BTC. Shipped rows have
workspace NULL and a `seed_key`, so seeding twice never duplicates and a release can add a quarter.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.lines import CostLine, clean_label
from storage.db import select, select_one

KINDS = ("cash", "allin")
KIND_LABEL = {"cash": "cash cost", "allin": "all-in cost"}

COINSHARES = "CoinShares"
_PRESS = "CoinShares mining report, as reported in the press"
# (quarter, cash, all-in, source) — DESIGN §4.
SHIPPED: tuple[tuple[str, float, float | None, str], ...] = (
    ("2024-Q1", 47_200, None, _PRESS),
    ("2024-Q2", 49_500, 96_100, _PRESS),
    ("2024-Q3", 55_950, 106_000, 'CoinShares "Brief Q3 Earnings Update", as reported in the press'),
    ("2024-Q4", 82_162, 137_018, _PRESS),
    ("2025-Q2", 74_600, 137_800, "CoinShares Bitcoin Mining Report (J. Butterfill)"),
)

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


def seed(db: Database, now: float | None = None) -> int:
    """Insert shipped rows that are missing; returns how many were added."""
    now = time.time() if now is None else now
    added = 0
    with db.atomic():
        for quarter, cash, allin, source in SHIPPED:
            for kind, value in (("cash", cash), ("allin", allin)):
                if value is None:
                    continue
                key = f"coinshares:{quarter}:{kind}"
                cur = db.execute(
                    "INSERT OR IGNORE INTO cost_benchmarks (workspace, name, quarter, kind, value_usd,"
                    " source, seed_key, created_at, updated_at) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [COINSHARES, quarter, kind, value, source, key, now, now],
                )
                added += cur.rowcount
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
    return CostLine(key, label, row["value_usd"], row["source"], row["quarter"])


def _latest_shipped(db: Database, kind: str) -> dict[str, Any] | None:
    # Only rows shipped with the bot (seed_key): a row some older CLI added without a workspace
    # must never stand in for the CoinShares line of every workspace.
    return select_one(
        db,
        "SELECT * FROM cost_benchmarks WHERE workspace IS NULL AND seed_key IS NOT NULL"
        " AND kind = ? ORDER BY quarter DESC LIMIT 1",
        [kind],
    )


def current_shipped_ids(db: Database) -> set[int]:
    return {row["id"] for kind in KINDS if (row := _latest_shipped(db, kind))}


def current_lines(db: Database, workspace: str | None = None) -> list[CostLine]:
    """The shipped line of each kind from the latest quarter that has it, then the workspace's own."""
    lines = [line_from_row(row) for kind in KINDS if (row := _latest_shipped(db, kind))]
    if workspace:
        rows = select(
            db, "SELECT * FROM cost_benchmarks WHERE workspace = ? ORDER BY id", [workspace]
        )
        lines.extend(line_from_row(r) for r in rows)
    return lines


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
