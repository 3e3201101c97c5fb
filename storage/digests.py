"""Weekly digest schedules, one row per workspace and channel, and what was last sent (DESIGN §6).

A row is *explicit* when someone set it with `/hashfloor digest …` (a schedule, or `off`). A
subscribed channel without an explicit row gets the default schedule; the minute job then stores
an implicit row only to remember the last week it sent or skipped. An implicit row means nothing
once the channel unsubscribes, so a channel that leaves alerts also stops getting the default digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.digest.schedule import DEFAULT_SCHEDULE, DigestSchedule
from storage.db import select

migrations = Migrations("hashfloor.digests")


@migrations()
def m001_digests(db: Database) -> None:
    db["digests"].create(
        {
            "channel_id": str,
            "team_id": str,
            "enterprise_id": str,
            "weekday": int,  # 0 = Monday … 6 = Sunday
            "hhmm": str,  # "09:00", in the zone below
            "tz": str,  # IANA name
            "enabled": int,
            "explicit": int,  # 1: set with /hashfloor digest; 0: the default, kept for last_sent_week
            "last_sent_week": str,  # ISO week key ("2026-W48") last sent or skipped
            "last_sent_at": float,  # when a digest last went out (not set by a skip)
            "last_ts": str,  # Slack ts of that message
            "last_error": str,  # why the last attempt failed, or went out without its chart
            "last_error_at": float,
            "updated_by": str,  # who set the schedule (NULL for an implicit row)
            "updated_at": float,  # when it was set; a schedule applies from then on
        },
        pk="channel_id",
        not_null={"team_id", "weekday", "hhmm", "tz", "enabled", "explicit"},
        defaults={"enabled": 1, "explicit": 0},
    )
    db["digests"].create_index(["team_id"])


@migrations()
def m002_digests_by_workspace(db: Database) -> None:
    """Keyed by (team_id, channel_id): each workspace sharing a channel has its own digest."""
    db["digests"].transform(pk=("team_id", "channel_id"))


@dataclass(frozen=True)
class DigestRow:
    channel_id: str
    team_id: str
    enterprise_id: str | None
    schedule: DigestSchedule
    enabled: bool
    explicit: bool
    last_sent_week: str | None
    last_sent_at: float | None
    last_ts: str | None
    last_error: str | None
    last_error_at: float | None
    updated_by: str | None
    updated_at: float | None


def _from_row(r: dict[str, Any]) -> DigestRow:
    return DigestRow(
        channel_id=r["channel_id"],
        team_id=r["team_id"],
        enterprise_id=r["enterprise_id"],
        schedule=DigestSchedule(r["weekday"], r["hhmm"], r["tz"]),
        enabled=bool(r["enabled"]),
        explicit=bool(r["explicit"]),
        last_sent_week=r["last_sent_week"],
        last_sent_at=r["last_sent_at"],
        last_ts=r["last_ts"],
        last_error=r["last_error"],
        last_error_at=r["last_error_at"],
        updated_by=r["updated_by"],
        updated_at=r["updated_at"],
    )


def get(db: Database, team_id: str, channel_id: str) -> DigestRow | None:
    rows = select(
        db, "SELECT * FROM digests WHERE team_id = ? AND channel_id = ?", [team_id, channel_id]
    )
    return _from_row(rows[0]) if rows else None


def all_rows(db: Database) -> list[DigestRow]:
    return [_from_row(r) for r in select(db, "SELECT * FROM digests ORDER BY team_id, channel_id")]


def team_rows(db: Database, team_id: str) -> list[DigestRow]:
    rows = select(db, "SELECT * FROM digests WHERE team_id = ? ORDER BY channel_id", [team_id])
    return [_from_row(r) for r in rows]


def set_schedule(
    db: Database,
    team_id: str,
    channel_id: str,
    schedule: DigestSchedule | None,
    user: str,
    now: float,
    enterprise_id: str | None = None,
) -> None:
    """Set the channel's schedule explicitly; None turns the digest off (keeping the schedule).

    What was last sent is kept, so changing the time never sends a week twice.
    """
    enabled = schedule is not None
    if schedule is None:
        existing = get(db, team_id, channel_id)
        schedule = existing.schedule if existing else DEFAULT_SCHEDULE
    db.execute(
        "INSERT INTO digests (channel_id, team_id, enterprise_id, weekday, hhmm, tz, enabled,"
        " explicit, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)"
        " ON CONFLICT (team_id, channel_id) DO UPDATE SET enterprise_id = excluded.enterprise_id, weekday = excluded.weekday,"
        " hhmm = excluded.hhmm, tz = excluded.tz, enabled = excluded.enabled, explicit = 1,"
        " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        [
            channel_id,
            team_id,
            enterprise_id,
            schedule.weekday,
            schedule.hhmm,
            schedule.tz,
            int(enabled),
            user,
            now,
        ],
    )


def _ensure(db: Database, team_id: str, channel_id: str, enterprise_id: str | None) -> None:
    """An implicit row on the default schedule, unless the workspace's channel has a row."""
    d = DEFAULT_SCHEDULE
    db.execute(
        "INSERT OR IGNORE INTO digests (channel_id, team_id, enterprise_id, weekday, hhmm, tz,"
        " enabled, explicit) VALUES (?, ?, ?, ?, ?, ?, 1, 0)",
        [channel_id, team_id, enterprise_id, d.weekday, d.hhmm, d.tz],
    )


def record_week(
    db: Database,
    team_id: str,
    channel_id: str,
    week: str,
    now: float,
    ts: str | None = None,
    error: str | None = None,
    enterprise_id: str | None = None,
) -> None:
    """Remember that `week` was handled: sent (with its message `ts`) or skipped.

    `error` says what went wrong (the chart refused, a permanent error); a clean send clears it.
    """
    _ensure(db, team_id, channel_id, enterprise_id)
    sent = ts is not None
    db.execute(
        "UPDATE digests SET last_sent_week = ?,"
        " last_sent_at = CASE WHEN ? THEN ? ELSE last_sent_at END,"
        " last_ts = CASE WHEN ? THEN ? ELSE last_ts END,"
        " last_error = ?, last_error_at = CASE WHEN ? IS NULL THEN NULL ELSE ? END"
        " WHERE team_id = ? AND channel_id = ?",
        [week, sent, now, sent, ts, error, error, now, team_id, channel_id],
    )


def record_error(
    db: Database,
    team_id: str,
    channel_id: str,
    error: str,
    now: float,
    enterprise_id: str | None = None,
) -> None:
    """A failure to retry: the week stays unsent, the reason shows in status and the App Home."""
    _ensure(db, team_id, channel_id, enterprise_id)
    db.execute(
        "UPDATE digests SET last_error = ?, last_error_at = ? WHERE team_id = ? AND channel_id = ?",
        [error, now, team_id, channel_id],
    )
