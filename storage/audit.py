"""The audit trail: every change made through Slack or the CLI — who, what, when."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from storage.db import select

migrations = Migrations("hashfloor.audit")


@migrations()
def m001_audit(db: Database) -> None:
    db["audit"].create(
        {"id": int, "at": float, "team_id": str, "user_id": str, "action": str, "detail": str},
        pk="id",
    )
    db["audit"].create_index(["team_id", "at"])


def record(
    db: Database, at: float, team_id: str | None, user_id: str, action: str, **detail: Any
) -> None:
    db["audit"].insert(
        {
            "at": at,
            "team_id": team_id,
            "user_id": user_id,
            "action": action,
            "detail": json.dumps(detail, default=str),
        }
    )


def recent(db: Database, team_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    where, params = ("WHERE team_id = ?", [team_id]) if team_id else ("", [])
    return select(db, f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT {int(limit)}", params)


def prune(db: Database, before: float) -> int:
    return db.execute("DELETE FROM audit WHERE at < ?", [before]).rowcount
