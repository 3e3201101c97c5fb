"""Retention (DESIGN §10): how much of the past is kept, and the daily job that prunes the rest.

Snapshots: every one for 2 days, then one an hour up to a year, then one a day. Sent messages go
after 90 days, audit rows after 400 days. HASHFLOOR_RETENTION_* change the numbers.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from bot.service import Hashfloor
from bot.settings import Settings
from storage import alerts, audit, snapshots
from storage.db import Storage

log = logging.getLogger("hashfloor.retention")

HOUR = 3_600
DAY = 86_400
DAILY_WINDOW_DAYS = 30  # snapshots older than a year are thinned this many days per transaction


@dataclass(frozen=True)
class Policy:
    all_snapshots_s: float
    hourly_snapshots_s: float
    outbox_s: float
    audit_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            all_snapshots_s=settings.hashfloor_retention_snapshots_all_days * DAY,
            hourly_snapshots_s=settings.hashfloor_retention_snapshots_hourly_days * DAY,
            outbox_s=settings.hashfloor_retention_outbox_days * DAY,
            audit_s=settings.hashfloor_retention_audit_days * DAY,
        )


@dataclass(frozen=True)
class Window:
    """Keep one snapshot per `bucket_s` among those taken in [start, end)."""

    start: float
    end: float
    bucket_s: int


def windows(now: float, policy: Policy, oldest: float) -> list[Window]:
    """The windows to thin, oldest first. Each ends on a bucket boundary, so no bucket is split
    between two windows; each is one transaction, short enough not to hold the database."""
    hourly_until = math.floor((now - policy.all_snapshots_s) / HOUR) * HOUR
    daily_until = min(math.floor((now - policy.hourly_snapshots_s) / DAY) * DAY, hourly_until)
    out: list[Window] = []
    t = math.floor(oldest / DAY) * DAY
    while t < daily_until:
        end = min(t + DAILY_WINDOW_DAYS * DAY, daily_until)
        out.append(Window(t, end, DAY))
        t = end
    while t < hourly_until:
        end = min(math.floor(t / DAY) * DAY + DAY, hourly_until)
        out.append(Window(t, end, HOUR))
        t = end
    return out


@dataclass(frozen=True)
class Pruned:
    snapshots: int
    outbox: int
    audit: int


def prune(storage: Storage, now: float, policy: Policy) -> Pruned:
    oldest = snapshots.oldest_at(storage.db)
    thinned = 0
    for w in windows(now, policy, oldest) if oldest is not None else []:
        with storage.transaction() as db:
            thinned += snapshots.thin(db, w.start, w.end, w.bucket_s)
    with storage.transaction() as db:
        sent = alerts.prune_sent(db, now - policy.outbox_s)
    with storage.transaction() as db:
        audited = audit.prune(db, now - policy.audit_s)
    return Pruned(thinned, sent, audited)


class RetentionJob:
    """Run hourly by the scheduler; prunes once a day (the first time an hour after start, so a
    bot restarted every day still prunes)."""

    def __init__(self, service: Hashfloor) -> None:
        self.service = service
        self.policy = Policy.from_settings(service.settings)
        self.last_run: float | None = None

    def run(self, now: float | None = None) -> Pruned | None:
        now = self.service.clock() if now is None else now
        if self.last_run is not None and abs(now - self.last_run) < DAY:
            return None
        self.last_run = now
        pruned = prune(self.service.storage, now, self.policy)
        log.info(
            "retention: %d snapshots thinned, %d sent messages and %d audit rows deleted",
            pruned.snapshots,
            pruned.outbox,
            pruned.audit,
        )
        return pruned
