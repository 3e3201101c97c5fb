"""Retention (DESIGN §10): a table of rows at known ages, pruned at a known time."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.retention import DAY, HOUR, Policy, RetentionJob, Window, prune, windows
from bot.service import Hashfloor
from bot.settings import SettingsError, load_settings
from storage import snapshots
from storage.db import Storage
from storage.migrations import migrate
from tests.fakes.snapshots import design_snapshot

NOW = 1_764_000_000.0  # 2025-11-24 16:00:00 UTC, on an hour boundary
DEFAULT = Policy(2 * DAY, 365 * DAY, 90 * DAY, 400 * DAY)


def test_default_settings_are_designs_numbers(tmp_path: Path) -> None:
    assert Policy.from_settings(load_settings(hashfloor_db=tmp_path / "h.db")) == DEFAULT


def test_settings_change_the_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HASHFLOOR_RETENTION_SNAPSHOTS_ALL_DAYS", "1")
    monkeypatch.setenv("HASHFLOOR_RETENTION_SNAPSHOTS_HOURLY_DAYS", "30")
    monkeypatch.setenv("HASHFLOOR_RETENTION_OUTBOX_DAYS", "7")
    monkeypatch.setenv("HASHFLOOR_RETENTION_AUDIT_DAYS", "0.5")
    policy = Policy.from_settings(load_settings(hashfloor_db=tmp_path / "h.db"))
    assert policy == Policy(DAY, 30 * DAY, 7 * DAY, DAY / 2)

    monkeypatch.setenv("HASHFLOOR_RETENTION_SNAPSHOTS_HOURLY_DAYS", "0.5")
    with pytest.raises(SettingsError, match="HASHFLOOR_RETENTION_SNAPSHOTS_HOURLY_DAYS"):
        load_settings(hashfloor_db=tmp_path / "h.db")


def test_windows_split_at_bucket_boundaries() -> None:
    oldest = NOW - 400 * DAY + 5 * HOUR + 17
    got = windows(NOW, DEFAULT, oldest)
    daily = [w for w in got if w.bucket_s == DAY]
    hourly = [w for w in got if w.bucket_s == HOUR]
    assert got == daily + hourly  # oldest first
    assert daily[0].start == NOW - 400 * DAY - 16 * HOUR  # midnight UTC before the oldest row
    assert daily[-1].end == hourly[0].start == NOW - 365 * DAY - 16 * HOUR
    assert hourly[-1].end == NOW - 2 * DAY
    for a, b in zip(got, got[1:], strict=False):
        assert a.end == b.start
    assert all(w.start % w.bucket_s == 0 and w.end % w.bucket_s == 0 for w in got)
    assert all(w.end - w.start <= DAY for w in hourly)  # short transactions
    assert all(w.end - w.start <= 30 * DAY for w in daily)
    assert windows(NOW, DEFAULT, NOW - DAY) == []  # nothing old enough to thin
    assert windows(NOW, DEFAULT, NOW - 2 * DAY - 90 * 60) == [
        Window(NOW - 2 * DAY - 16 * HOUR, NOW - 2 * DAY, HOUR)  # from that day's midnight
    ]


def insert_snapshots(db: sqlite3.Connection, rows: list[tuple[float, int]]) -> None:
    db.executemany(
        "INSERT INTO market_snapshots (taken_at, price_usd, fresh, difficulty) VALUES (?, ?, ?, ?)",
        [(t, 91_000.0 if fresh else None, fresh, 152e12) for t, fresh in rows],
    )


def taken(storage: Storage, start: float, end: float) -> list[float]:
    """When the snapshots in [start, end) were taken."""
    rows = storage.db.execute(
        "SELECT taken_at FROM market_snapshots WHERE taken_at >= ? AND taken_at < ?"
        " ORDER BY taken_at",
        [start, end],
    ).fetchall()
    return [r[0] for r in rows]


@pytest.fixture
def storage(db_path: Path) -> Storage:
    s = Storage(db_path)
    migrate(s.db)
    return s


def test_snapshots_thinned_all_then_hourly_then_daily(storage: Storage) -> None:
    # Every 10 minutes for 500 days, every 60 s in the last 3 days; the first of each 10 min stale.
    rows = [(NOW - i * 600.0, 1) for i in range(3 * 144, 500 * 144)]
    rows += [(NOW - i * 60.0, int(i % 10 != 0)) for i in range(3 * 1440)]
    # An hour where only stale rows arrived (an outage), 100 days back.
    outage = NOW - 100 * DAY
    rows = [(t, 0 if outage <= t < outage + HOUR else f) for t, f in rows]
    insert_snapshots(storage.db.conn, rows)
    all_from = NOW - 2 * DAY
    hourly_from = NOW - 365 * DAY - 16 * HOUR  # a year back, from that day's midnight UTC
    all_recent = taken(storage, all_from, NOW + 1)

    pruned = prune(storage, NOW, DEFAULT)

    assert taken(storage, all_from, NOW + 1) == all_recent  # everything of the last 2 days
    hourly = taken(storage, hourly_from, all_from)
    assert len(hourly) == (363 * 24 + 16)  # one an hour
    assert len({int(t // HOUR) for t in hourly}) == len(hourly)
    daily = taken(storage, 0, hourly_from)
    assert len({int(t // DAY) for t in daily}) == len(daily) == 135  # one a day
    assert pruned.snapshots == len(rows) - len(all_recent) - len(hourly) - len(daily)

    fresh = dict(storage.db.execute("SELECT taken_at, fresh FROM market_snapshots").fetchall())
    kept_in_outage = [t for t in hourly if outage <= t < outage + HOUR]
    assert len(kept_in_outage) == 1 and fresh[kept_in_outage[0]] == 0
    assert all(fresh[t] == 1 for t in hourly + daily if t not in kept_in_outage)
    assert prune(storage, NOW, DEFAULT).snapshots == 0  # a second run finds nothing to do


def test_sent_messages_and_audit_rows_go_after_their_days(storage: Storage) -> None:
    db = storage.db

    def message(key: str, status: str, sent_days_ago: float | None, **extra: object) -> int:
        sent_at = None if sent_days_ago is None else NOW - sent_days_ago * DAY
        outbox = db["outbox"]
        outbox.insert(
            {
                "key": key,
                "team_id": "T1",
                "channel_id": "C1",
                "status": status,
                "sent_at": sent_at,
                "created_at": NOW,
                **extra,
            }
        )
        return outbox.last_pk

    old = message("old", "sent", 91)
    message("recent", "sent", 89)
    message("failed", "failed", 200)
    open_alert = message("open-alert", "sent", 120)
    parent = message("parent", "sent", 120)
    message("queued-reply", "pending", None, thread_of=parent)
    db["rules"].insert(
        {"team_id": "T1", "channel_id": "C1", "line_key": "cash", "alert_outbox_id": open_alert}
    )
    for days in (401, 399):
        db["audit"].insert({"at": NOW - days * DAY, "user_id": "U1", "action": f"{days}"})

    pruned = prune(storage, NOW, DEFAULT)
    assert (pruned.outbox, pruned.audit) == (1, 1)
    keys = {r[0] for r in db.execute("SELECT key FROM outbox")}
    assert keys == {"recent", "failed", "open-alert", "parent", "queued-reply"}
    assert old not in {r[0] for r in db.execute("SELECT id FROM outbox")}
    assert [r[0] for r in db.execute("SELECT action FROM audit")] == ["399"]


def test_the_job_prunes_once_a_day(db_path: Path) -> None:
    svc = Hashfloor(load_settings(hashfloor_db=db_path), clock=lambda: NOW)
    svc.migrate()
    insert_snapshots(svc.storage.db.conn, [(NOW - 10 * DAY + i * 60.0, 1) for i in range(120)])
    job = RetentionJob(svc)
    assert job.run().snapshots == 118  # two hours: one kept in each
    assert job.run(NOW + HOUR) is None  # hourly calls, daily work
    assert job.run(NOW + DAY) is not None
    svc.close()


def vm_steps(db: sqlite3.Connection, read: Callable[[], object]) -> int:
    """Hundreds of SQLite VM instructions `read` took: a count, not a time."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    db.set_progress_handler(count, 100)
    try:
        read()
    finally:
        db.set_progress_handler(None, 0)
    return steps


def test_the_latest_rows_are_found_without_walking_back_through_an_outage(
    storage: Storage,
) -> None:
    db = storage.db
    snapshots.insert(db, design_snapshot(NOW - 30 * DAY))
    # A month of polls after it where every source failed: no price, no network data.
    db.conn.executemany(
        "INSERT INTO market_snapshots (taken_at, fresh) VALUES (?, 0)",
        [(NOW - 30 * DAY + i * 60.0,) for i in range(1, 30 * 1440)],
    )
    assert snapshots.latest_fresh(db).taken_at == NOW - 30 * DAY
    assert snapshots.latest_network(db).taken_at == NOW - 30 * DAY
    # An index seek: a few instructions, not 43,000 rows (about 1,700 hundreds without it).
    assert vm_steps(db.conn, lambda: snapshots.latest_fresh(db)) < 10
    assert vm_steps(db.conn, lambda: snapshots.latest_network(db)) < 10
