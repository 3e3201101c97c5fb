"""Triggers already handled (event ids, slash commands' trigger ids, clicks), so a retried or
replayed request from Slack has no second side effect (bot.slack.listeners.events)."""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("hashfloor.seen_events")
KEEP_S = 86_400  # Slack retries within minutes, signatures expire in 5; a day is plenty


@migrations()
def m001_seen_events(db: Database) -> None:
    db["seen_events"].create({"event_id": str, "at": float}, pk="event_id")


def first_time(db: Database, event_id: str, now: float) -> bool:
    """Record the id; False when it was already recorded."""
    try:
        db.execute("INSERT INTO seen_events (event_id, at) VALUES (?, ?)", [event_id, now])
    except sqlite3.IntegrityError:
        return False
    db.execute("DELETE FROM seen_events WHERE at < ?", [now - KEEP_S])
    return True
