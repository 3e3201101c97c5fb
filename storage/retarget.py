"""The difficulty-retarget rules (`adjustment`, `adjustment:<pct>`): rows of the rules table with
their memory columns (storage.alerts m004); one such rule per workspace and channel."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from bot.alerts.retarget import Memory
from bot.alerts.rules import RuleState
from storage import alerts
from storage.db import select

# Every adjustment key sorts in ["adjustment", "adjustment;"): `adjustment` and `adjustment:…`
# (":" is just before ";"), a range the line_key index answers as a seek.
_KEYS = "line_key >= 'adjustment' AND line_key < 'adjustment;'"


def memory(row: dict[str, Any]) -> Memory:
    return Memory(row["adj_epoch"], row["adj_difficulty"], row["adj_headsup_epoch"])


def memory_columns(mem: Memory) -> dict[str, Any]:
    return {
        "adj_epoch": mem.epoch,
        "adj_difficulty": mem.difficulty,
        "adj_headsup_epoch": mem.headsup_epoch,
    }


def active_rules(db: Database) -> list[dict[str, Any]]:
    """Every active adjustment rule, with its memory."""
    return select(
        db,
        "SELECT id, team_id, enterprise_id, channel_id, line_key, created_at, adj_epoch,"
        f" adj_difficulty, adj_headsup_epoch FROM rules WHERE {_KEYS}"
        " AND paused_reason IS NULL ORDER BY id",
    )


def channel_rule(db: Database, team_id: str, channel_id: str) -> dict[str, Any] | None:
    rows = select(
        db,
        f"SELECT * FROM rules WHERE team_id = ? AND channel_id = ? AND {_KEYS} ORDER BY id",
        [team_id, channel_id],
    )
    return rows[0] if rows else None


def save_memory(db: Database, rule_id: int, mem: Memory) -> None:
    db["rules"].update(rule_id, memory_columns(mem))


def subscribe(
    db: Database,
    team_id: str,
    channel_id: str,
    key: str,
    mem: Memory,
    created_by: str,
    now: float,
    enterprise_id: str | None = None,
) -> str:
    """Add the channel's adjustment rule, or change the threshold of the one it has (it keeps its
    memory, so nothing it already told is told again). Returns `added`, `changed` or `kept`.
    A paused rule starts afresh from `mem`: it did not watch while paused."""
    row = channel_rule(db, team_id, channel_id)
    if row is None:
        rid, _ = alerts.add_rule(
            db, team_id, channel_id, key, RuleState(), None, None, created_by, now, enterprise_id
        )
        save_memory(db, rid, mem)
        return "added"
    cols: dict[str, Any] = {}
    if row["paused_reason"]:
        cols.update(paused_reason=None, paused_at=None, **memory_columns(mem))
    if row["line_key"] != key:
        cols["line_key"] = key
    if cols:
        db["rules"].update(row["id"], cols)
    return "changed" if row["line_key"] != key else ("added" if row["paused_reason"] else "kept")


def unsubscribe(db: Database, team_id: str, channel_id: str) -> str | None:
    """Remove the channel's adjustment rule; returns its key, or None if it had none."""
    row = channel_rule(db, team_id, channel_id)
    if row is None:
        return None
    db.execute("DELETE FROM rules WHERE id = ?", [row["id"]])
    return row["line_key"]
