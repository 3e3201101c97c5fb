"""The difficulty-retarget rules (`adjustment`, `adjustment:<pct>`): rows of the rules table with
their memory columns (storage.alerts m004); one such rule per workspace and channel."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from bot.alerts.retarget import Memory
from bot.alerts.rules import RuleState
from storage import alerts
from storage.db import select

_KEYS = alerts.ADJUSTMENT_KEYS


def memory(row: dict[str, Any]) -> Memory:
    return Memory(row["adj_epoch"], row["adj_difficulty"], row["adj_headsup_epoch"])


def memory_columns(mem: Memory) -> dict[str, Any]:
    return {
        "adj_epoch": mem.epoch,
        "adj_difficulty": mem.difficulty,
        "adj_headsup_epoch": mem.headsup_epoch,
    }


def rules_to_step(
    db: Database, epoch: int, difficulty: float, headsup_change: float | None
) -> list[dict[str, Any]]:
    """The active adjustment rules this poll may change: those whose memory is not (`epoch`,
    `difficulty`), and, in a heads-up window (`headsup_change`: the estimate's size in percent
    when few blocks are left, else None), those whose threshold it reaches and whose heads-up for
    this epoch is not handled yet. On a quiet poll that is none: 10,000 such rules cost one index
    range and no Python per rule."""
    headsup = ""
    if headsup_change is not None:
        # `adjustment:<pct>`: the threshold is the text after the 11 characters `adjustment:`.
        headsup = (
            " OR (line_key != 'adjustment' AND adj_headsup_epoch IS NOT :epoch"
            " AND CAST(substr(line_key, 12) AS REAL) <= :change)"
        )
    return select(
        db,
        "SELECT id, team_id, enterprise_id, channel_id, line_key, created_at, adj_epoch,"
        f" adj_difficulty, adj_headsup_epoch FROM rules WHERE {_KEYS} AND paused_reason IS NULL"
        " AND (adj_epoch IS NOT :epoch OR adj_difficulty IS NOT :difficulty"
        f"{headsup}) ORDER BY id",
        {"epoch": epoch, "difficulty": difficulty, "change": headsup_change},
    )


def channel_rule(db: Database, team_id: str, channel_id: str) -> dict[str, Any] | None:
    rows = select(
        db,
        f"SELECT * FROM rules WHERE team_id = ? AND channel_id = ? AND {_KEYS} ORDER BY id",
        [team_id, channel_id],
    )
    return rows[0] if rows else None


def save_memory(db: Database, rule_id: int, mem: Memory) -> None:
    save_memories(db, [(rule_id, mem)])


def save_memories(db: Database, items: list[tuple[int, Memory]]) -> None:
    """One statement for many rules: a retarget moves every rule's memory in the same poll."""
    db.conn.executemany(
        "UPDATE rules SET adj_epoch = ?, adj_difficulty = ?, adj_headsup_epoch = ? WHERE id = ?",
        [[m.epoch, m.difficulty, m.headsup_epoch, rid] for rid, m in items],
    )


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
