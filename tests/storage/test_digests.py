"""storage.digests: explicit schedules, implicit rows that remember the last week, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.digest.schedule import DEFAULT_SCHEDULE, DigestSchedule
from storage import digests, forget
from storage.db import Storage
from storage.migrations import MIGRATION_SETS, migrate

BERLIN = DigestSchedule(4, "17:30", "Europe/Berlin")


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    s = Storage(tmp_path / "digests.db")
    migrate(s.db)
    yield s
    s.close()


def test_the_migration_set_is_registered(storage: Storage) -> None:
    assert digests.migrations in MIGRATION_SETS
    assert "digests" in storage.db.table_names()


def test_set_change_and_turn_off(storage: Storage) -> None:
    db = storage.db
    digests.set_schedule(db, "T1", "C1", BERLIN, "U1", 100.0)
    r = digests.get(db, "T1", "C1")
    assert (r.schedule, r.enabled, r.explicit, r.updated_by, r.updated_at) == (
        BERLIN,
        True,
        True,
        "U1",
        100.0,
    )
    digests.record_week(db, "T1", "C1", "2026-W48", 150.0, ts="1700000000.000100")
    digests.set_schedule(db, "T1", "C1", None, "U2", 200.0)  # off keeps the schedule, and the week
    r = digests.get(db, "T1", "C1")
    assert (r.schedule, r.enabled, r.updated_by, r.last_sent_week) == (
        BERLIN,
        False,
        "U2",
        "2026-W48",
    )
    digests.set_schedule(db, "T1", "C1", DEFAULT_SCHEDULE, "U3", 300.0)
    r = digests.get(db, "T1", "C1")
    assert (r.schedule, r.enabled, r.last_sent_week, r.last_ts) == (
        DEFAULT_SCHEDULE,
        True,
        "2026-W48",
        "1700000000.000100",
    )


def test_off_without_a_row_stores_the_default_off(storage: Storage) -> None:
    digests.set_schedule(storage.db, "T1", "C1", None, "U1", 1.0)
    r = digests.get(storage.db, "T1", "C1")
    assert (r.schedule, r.enabled, r.explicit) == (DEFAULT_SCHEDULE, False, True)


def test_recording_creates_an_implicit_row_on_the_default(storage: Storage) -> None:
    db = storage.db
    digests.record_error(db, "T1", "C1", "not sent yet: HTTP 503", 10.0)
    r = digests.get(db, "T1", "C1")
    assert (r.explicit, r.schedule, r.last_sent_week, r.last_error) == (
        False,
        DEFAULT_SCHEDULE,
        None,
        "not sent yet: HTTP 503",
    )
    digests.record_week(db, "T1", "C1", "2026-W48", 20.0, ts="1.000100")
    r = digests.get(db, "T1", "C1")
    assert (r.last_sent_week, r.last_sent_at, r.last_ts, r.last_error) == (
        "2026-W48",
        20.0,
        "1.000100",
        None,
    )
    # a skip records the week but not a send, and keeps the last message's time and ts
    digests.record_week(db, "T1", "C1", "2026-W49", 30.0, error="2026-W49 skipped: 30 h late")
    r = digests.get(db, "T1", "C1")
    assert (r.last_sent_week, r.last_sent_at, r.last_ts) == ("2026-W49", 20.0, "1.000100")
    assert (r.last_error, r.last_error_at) == ("2026-W49 skipped: 30 h late", 30.0)
    # an explicit schedule set later keeps what was sent
    digests.set_schedule(db, "T1", "C1", BERLIN, "U1", 40.0)
    assert digests.get(db, "T1", "C1").last_sent_week == "2026-W49"


def test_team_rows_and_forget(storage: Storage) -> None:
    db = storage.db
    digests.set_schedule(db, "T1", "C2", BERLIN, "U1", 1.0)
    digests.set_schedule(db, "T1", "C1", BERLIN, "U1", 1.0)
    digests.set_schedule(db, "T2", "C9", BERLIN, "U1", 1.0)
    assert [r.channel_id for r in digests.team_rows(db, "T1")] == ["C1", "C2"]
    forget.forget_team(db, "T1", 2.0)
    assert [r.channel_id for r in digests.all_rows(db)] == ["C9"]
