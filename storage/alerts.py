"""Alert rules (one line watched in one channel) and the outbox of messages to send.

Every read and write names the workspace and the channel: a Slack Connect channel has the same
id in each workspace sharing it, and each workspace's rules there are its own.

A state change and its message are written in one transaction: the outbox row's `key` is unique
per rule and transition, so evaluating the same poll twice can never queue a second message.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.alerts.rules import RuleState
from storage.db import select, select_one

migrations = Migrations("hashfloor.alerts")

PERMANENT_ERRORS = (
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "account_inactive",
)
# These mean the whole workspace's token is gone, not one channel.
TEAM_ERRORS = ("invalid_auth", "account_inactive", "token_revoked")


@migrations()
def m001_rules_outbox(db: Database) -> None:
    db["rules"].create(
        {
            "id": int,
            "team_id": str,
            "enterprise_id": str,
            "channel_id": str,
            "line_key": str,
            "created_by": str,
            "created_at": float,
            "state": str,
            "since": float,
            "pending": str,
            "pending_count": int,
            "pending_silent": int,
            "muted_until": float,
            "last_announced": str,
            "last_line_usd": float,
            "last_line_version": str,
            "transitions": int,
            "alert_outbox_id": int,  # the open alert: its recovery goes in that thread
            "last_message_at": float,
            "last_message": str,
            "paused_reason": str,
            "paused_at": float,
        },
        pk="id",
        not_null={"team_id", "channel_id", "line_key", "state"},
        defaults={"state": "unknown", "pending_count": 0, "pending_silent": 0, "transitions": 0},
    )
    db["rules"].create_index(["channel_id", "line_key"], unique=True)
    db["rules"].create_index(["team_id"])
    db["outbox"].create(
        {
            "id": int,
            "key": str,
            "rule_id": int,
            "team_id": str,
            "enterprise_id": str,
            "channel_id": str,
            "kind": str,  # alert | recovery | unmute | digest | edit (chat.update of thread_of)
            "text": str,
            "blocks": str,  # JSON
            "thread_of": int,  # outbox id whose Slack ts is this message's thread_ts
            "created_at": float,
            "not_before": float,
            "attempts": int,
            "status": str,  # pending | sent | failed
            "sent_at": float,
            "ts": str,
            "last_error": str,
        },
        pk="id",
        not_null={"key", "channel_id", "team_id", "status"},
        defaults={"attempts": 0, "status": "pending"},
    )
    db["outbox"].create_index(["key"], unique=True)
    db["outbox"].create_index(["status", "channel_id", "id"])


@migrations()
def m002_outbox_unknown_errors(db: Database) -> None:
    # Answers with an error code Hashfloor does not know: retried, but only so many times.
    db["outbox"].add_column("unknown_errors", int, not_null_default=0)


@migrations()
def m003_rules_by_workspace(db: Database) -> None:
    """A rule is unique per (workspace, channel, line), not per (channel, line); the outbox's
    per-channel queue is per workspace and channel too."""
    db.execute("DROP INDEX IF EXISTS idx_rules_channel_id_line_key")
    db["rules"].create_index(["team_id", "channel_id", "line_key"], unique=True)
    db["outbox"].create_index(["status", "team_id", "channel_id", "id"])


@migrations()
def m004_retarget_memory(db: Database) -> None:
    """What a difficulty-retarget rule (`adjustment`, `adjustment:<pct>`) remembers: the epoch and
    difficulty it last took in, and the epoch whose heads-up it handled (bot.alerts.retarget).
    Columns of the rule, not derived from snapshots: retention thins snapshots, and the memory must
    survive restarts exactly as the outbox does. The line_key index finds these rules without
    reading every rule at each poll."""
    db["rules"].add_column("adj_epoch", int)
    db["rules"].add_column("adj_difficulty", float)
    db["rules"].add_column("adj_headsup_epoch", int)
    db["rules"].create_index(["line_key"])


@migrations()
def m005_fleet_rules_named(db: Database) -> None:
    """The workspace's one fleet became the fleet `main` (storage.workspaces m007): its rules
    watch `fleet:main`. State, line version and open alert stay, so nothing fires from this."""
    db.execute("UPDATE rules SET line_key = 'fleet:main' WHERE line_key = 'fleet'")
    # An early warning on the fleet (`within:<pct>:fleet`) watches `within:<pct>:fleet:main`.
    db.execute(
        "UPDATE rules SET line_key = line_key || ':main'"
        " WHERE line_key LIKE 'within:%' AND line_key LIKE '%:fleet'"
    )


# --- rules ----------------------------------------------------------------------------------


def rule_state(row: dict[str, Any]) -> RuleState:
    return RuleState(
        state=row["state"],
        since=row["since"],
        pending=row["pending"],
        pending_count=row["pending_count"] or 0,
        muted_until=row["muted_until"],
        last_announced=row["last_announced"],
        pending_silent=bool(row["pending_silent"]),
    )


def state_columns(state: RuleState) -> dict[str, Any]:
    return {
        "state": state.state,
        "since": state.since,
        "pending": state.pending,
        "pending_count": state.pending_count,
        "pending_silent": int(state.pending_silent),
        "muted_until": state.muted_until,
        "last_announced": state.last_announced,
    }


def add_rule(
    db: Database,
    team_id: str,
    channel_id: str,
    line_key: str,
    state: RuleState,
    line_usd: float | None,
    line_version: str | None,
    created_by: str,
    now: float,
    enterprise_id: str | None = None,
) -> tuple[int, bool]:
    """Subscribe; returns (rule id, created). An active rule is kept as it is; a paused one starts
    afresh from `state`: it was not stepped while paused, and the alert it holds open never
    reached the channel, so no recovery may follow it."""
    existing = select(
        db,
        "SELECT * FROM rules WHERE team_id = ? AND channel_id = ? AND line_key = ?",
        [team_id, channel_id, line_key],
    )
    if existing:
        rid = existing[0]["id"]
        if existing[0]["paused_reason"]:
            db["rules"].update(
                rid,
                {
                    "paused_reason": None,
                    "paused_at": None,
                    "alert_outbox_id": None,
                    "last_line_usd": line_usd,
                    "last_line_version": line_version,
                    **state_columns(state),
                },
            )
        return rid, False
    table = db["rules"]
    table.insert(
        {
            "team_id": team_id,
            "enterprise_id": enterprise_id,
            "channel_id": channel_id,
            "line_key": line_key,
            "created_by": created_by,
            "created_at": now,
            "last_line_usd": line_usd,
            "last_line_version": line_version,
            "transitions": 0,
            **state_columns(state),
        }
    )
    return table.last_pk, True


def remove_rule(db: Database, team_id: str, channel_id: str, line_key: str) -> bool:
    return (
        db.execute(
            "DELETE FROM rules WHERE team_id = ? AND channel_id = ? AND line_key = ?",
            [team_id, channel_id, line_key],
        ).rowcount
        > 0
    )


def channel_rules(db: Database, team_id: str, channel_id: str) -> list[dict[str, Any]]:
    return select(
        db,
        "SELECT * FROM rules WHERE team_id = ? AND channel_id = ? ORDER BY id",
        [team_id, channel_id],
    )


def channel_teams(db: Database, channel_id: str) -> list[str]:
    """The workspaces with rules in this channel id (several for a Slack Connect channel)."""
    rows = select(db, "SELECT DISTINCT team_id FROM rules WHERE channel_id = ?", [channel_id])
    return [r["team_id"] for r in rows]


def team_rules(db: Database, team_id: str) -> list[dict[str, Any]]:
    return select(db, "SELECT * FROM rules WHERE team_id = ? ORDER BY channel_id, id", [team_id])


def active_rules(db: Database) -> list[dict[str, Any]]:
    return select(db, "SELECT * FROM rules WHERE paused_reason IS NULL ORDER BY id")


def subscribed_channels(db: Database) -> list[dict[str, Any]]:
    return select(
        db,
        "SELECT channel_id, team_id, enterprise_id, MIN(created_at) AS since FROM rules"
        " WHERE paused_reason IS NULL GROUP BY team_id, channel_id",
    )


def update_rule(db: Database, rule_id: int, **cols: Any) -> None:
    db["rules"].update(rule_id, cols)


# What a poll may change in a rule; `save_steps` writes them all at once.
STEP_COLUMNS = (
    "state",
    "since",
    "pending",
    "pending_count",
    "pending_silent",
    "muted_until",
    "last_announced",
    "last_line_usd",
    "last_line_version",
    "transitions",
    "alert_outbox_id",
)


# What the engine reads of each rule at every poll: not the long text columns.
STEP_READ = (
    "id",
    "team_id",
    "enterprise_id",
    "channel_id",
    "line_key",
    "created_at",
    *STEP_COLUMNS,
)


# Difficulty-retarget rules (`adjustment`, `adjustment:<pct>`) have no line to cross: the engine
# steps them in their own pass (bot.alerts.retarget_pass, storage.retarget). Their keys sort in
# ["adjustment", "adjustment;") (":" is just before ";"): a range the line_key index answers.
ADJUSTMENT_KEYS = "line_key >= 'adjustment' AND line_key < 'adjustment;'"
NOT_ADJUSTMENT = f"NOT ({ADJUSTMENT_KEYS})"


def rules_to_step(db: Database) -> list[sqlite3.Row]:
    """Every active line rule with the columns a poll needs, as sqlite3.Row (read like a dict)."""
    cur = db.conn.cursor()
    cur.row_factory = sqlite3.Row
    return cur.execute(
        f"SELECT {', '.join(STEP_READ)} FROM rules WHERE paused_reason IS NULL"
        f" AND {NOT_ADJUSTMENT} ORDER BY id"
    ).fetchall()


def save_steps(db: Database, rows: list[dict[str, Any]]) -> None:
    """Write STEP_COLUMNS of many rule rows (dicts with `id`) in one statement: a poll that moves
    10,000 rules must not pay for 10,000 separate updates."""
    sql = "UPDATE rules SET " + ", ".join(f"{c} = ?" for c in STEP_COLUMNS) + " WHERE id = ?"
    db.conn.executemany(sql, [[row[c] for c in STEP_COLUMNS] + [row["id"]] for row in rows])


def pause_channel(db: Database, team_id: str, channel_id: str, reason: str, now: float) -> int:
    return db.execute(
        "UPDATE rules SET paused_reason = ?, paused_at = ? WHERE team_id = ? AND channel_id = ?"
        " AND paused_reason IS NULL",
        [reason, now, team_id, channel_id],
    ).rowcount


def pause_team(db: Database, team_id: str, reason: str, now: float) -> int:
    return db.execute(
        "UPDATE rules SET paused_reason = ?, paused_at = ? WHERE team_id = ? AND paused_reason IS NULL",
        [reason, now, team_id],
    ).rowcount


# --- outbox ---------------------------------------------------------------------------------


def enqueue(
    db: Database,
    key: str,
    team_id: str,
    channel_id: str,
    kind: str,
    text: str,
    blocks: list[dict[str, Any]],
    now: float,
    rule_id: int | None = None,
    thread_of: int | None = None,
    enterprise_id: str | None = None,
) -> int | None:
    """Queue a message; None when this key was queued before (the transition is already recorded)."""
    cur = db.execute(
        "INSERT OR IGNORE INTO outbox (key, rule_id, team_id, enterprise_id, channel_id, kind, text,"
        " blocks, thread_of, created_at, not_before, attempts, status)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'pending')",
        [
            key,
            rule_id,
            team_id,
            enterprise_id,
            channel_id,
            kind,
            text,
            json.dumps(blocks),
            thread_of,
            now,
            now,
        ],
    )
    return cur.lastrowid if cur.rowcount else None


def due(
    db: Database, now: float, horizon: float | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """The oldest pending row of each workspace's channel whose time has come: per-channel order
    is kept.

    `horizon`: the longest wait a row is ever given. A `not_before` further ahead than that was
    set before the wall clock stepped back, and is due now rather than hours from now.
    """
    late = "" if horizon is None else " OR o.not_before > ?"
    params = [now] if horizon is None else [now, now + horizon]
    return select(
        db,
        "SELECT o.* FROM outbox o JOIN (SELECT MIN(id) AS id FROM outbox"
        " WHERE status = 'pending' GROUP BY team_id, channel_id) head ON o.id = head.id"
        f" WHERE (o.not_before <= ?{late}) ORDER BY o.id LIMIT ?",
        [*params, limit],
    )


def undelivered(
    db: Database, team_id: str, channel_id: str, since: float, limit: int = 3
) -> list[dict]:
    """The channel's latest messages that were given up on (failed) since `since`, newest first.
    An edit given up on is not among them: the recovery it follows reached the channel, and the
    alert only keeps its first wording (the log says why)."""
    return select(
        db,
        "SELECT kind, created_at, sent_at, attempts, last_error FROM outbox"
        " WHERE team_id = ? AND channel_id = ? AND status = 'failed' AND kind <> 'edit'"
        " AND sent_at >= ?"
        " ORDER BY id DESC LIMIT ?",
        [team_id, channel_id, since, limit],
    )


def pending_count(db: Database) -> int:
    return db.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()[0]


def get(db: Database, outbox_id: int) -> dict[str, Any] | None:
    return select_one(db, "SELECT * FROM outbox WHERE id = ?", [outbox_id])


def mark_sent(db: Database, row: dict[str, Any], ts: str | None, now: float) -> None:
    db.execute(
        "UPDATE outbox SET status = 'sent', sent_at = ?, ts = ?, attempts = attempts + 1"
        " WHERE id = ?",
        [now, ts, row["id"]],
    )
    # An edit rewrites the alert in place: the rule's last message is still the recovery.
    if row["rule_id"] is not None and row["kind"] != "edit":
        db.execute(
            "UPDATE rules SET last_message_at = ?, last_message = ? WHERE id = ?",
            [now, row["text"][:300], row["rule_id"]],
        )


def retry_later(
    db: Database, outbox_id: int, not_before: float, error: str, unknown: bool = False
) -> None:
    """Try again at `not_before`; `unknown`: Slack answered an error code Hashfloor does not know."""
    db.execute(
        "UPDATE outbox SET not_before = ?, attempts = attempts + 1, last_error = ?,"
        " unknown_errors = unknown_errors + ? WHERE id = ?",
        [not_before, error, int(unknown), outbox_id],
    )


def postpone(db: Database, outbox_id: int, not_before: float, why: str) -> None:
    """Try again at `not_before` without counting a try: the row waited, nothing failed."""
    db.execute(
        "UPDATE outbox SET not_before = ?, last_error = ? WHERE id = ?",
        [not_before, why, outbox_id],
    )


def mark_failed(db: Database, outbox_id: int, error: str, now: float) -> None:
    db.execute(
        "UPDATE outbox SET status = 'failed', last_error = ?, sent_at = ? WHERE id = ?",
        [error, now, outbox_id],
    )


def fail_edits_of(db: Database, outbox_id: int, error: str, now: float) -> int:
    """End the queued edits of message `outbox_id` (one that never reached its channel)."""
    return db.execute(
        "UPDATE outbox SET status = 'failed', last_error = ?, sent_at = ?"
        " WHERE thread_of = ? AND kind = 'edit' AND status = 'pending'",
        [f"not edited: {error}", now, outbox_id],
    ).rowcount


def fail_channel_pending(
    db: Database, team_id: str, channel_id: str, error: str, now: float
) -> int:
    """A channel Slack refuses: its queued messages will not go either; keep them, marked."""
    return db.execute(
        "UPDATE outbox SET status = 'failed', last_error = ?, sent_at = ?"
        " WHERE team_id = ? AND channel_id = ? AND status = 'pending'",
        [error, now, team_id, channel_id],
    ).rowcount


def fail_team_pending(db: Database, team_id: str, error: str, now: float) -> int:
    """A workspace whose token Slack refuses: none of its queued messages can go either."""
    return db.execute(
        "UPDATE outbox SET status = 'failed', last_error = ?, sent_at = ?"
        " WHERE team_id = ? AND status = 'pending'",
        [error, now, team_id],
    ).rowcount


def prune_sent(db: Database, before: float) -> int:
    """Delete messages sent before `before`, except an open alert (its recovery goes in its
    thread) and a message a pending one threads under."""
    return db.execute(
        "DELETE FROM outbox WHERE status = 'sent' AND sent_at < ?"
        " AND id NOT IN (SELECT alert_outbox_id FROM rules WHERE alert_outbox_id IS NOT NULL)"
        " AND id NOT IN (SELECT thread_of FROM outbox WHERE thread_of IS NOT NULL"
        "  AND status = 'pending')",
        [before],
    ).rowcount
