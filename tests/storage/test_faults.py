"""What SQLite refusing a write does (DESIGN §10): a full disk, a read-only database, a busy one.

Tests run as root, where a chmod stops no write; the faults are SQLite's own: `max_page_count`
gives SQLITE_FULL exactly as a full disk does, `query_only` SQLITE_READONLY, and another
connection's BEGIN IMMEDIATE SQLITE_BUSY.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

import commands
from bot.health import health
from bot.service import Hashfloor
from bot.settings import load_settings
from commands.context import Ctx, Roles
from storage.db import (
    BUSY,
    BUSY_TIMEOUT_MS,
    FULL,
    NOT_WRITABLE,
    SERVING_BUSY_TIMEOUT_MS,
    Storage,
    fault,
    unwritable,
)
from storage.migrations import migrate
from tests.fakes.market import FakeMarket

NOW = 1_764_000_000.0


def fill_up(storage: Storage) -> None:
    """SQLITE_FULL from here on, for this thread's connection: no page may be added."""
    db = storage.db
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")


def make_room(storage: Storage) -> None:
    storage.db.execute("PRAGMA max_page_count = 1073741823")


def error_of(storage: Storage, sql: str) -> sqlite3.Error:
    with pytest.raises(sqlite3.Error) as caught, storage.transaction() as db:
        db.execute(sql)
    return caught.value


def test_faults_are_told_apart(db_path: Path) -> None:
    storage = Storage(db_path)
    migrate(storage.db)
    big = "INSERT INTO audit (at, user_id, action, detail) VALUES (1, 'U', 'x', zeroblob(100000))"

    fill_up(storage)
    assert fault(error_of(storage, big)) == FULL
    make_room(storage)

    storage.db.execute("PRAGMA query_only = 1")
    assert fault(error_of(storage, big)) == NOT_WRITABLE
    storage.db.execute("PRAGMA query_only = 0")

    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    storage.db.execute("PRAGMA busy_timeout = 50")
    assert fault(error_of(storage, big)) == BUSY
    other.rollback()
    other.close()

    with pytest.raises(sqlite3.IntegrityError) as caught:
        storage.db.execute("INSERT INTO audit (id, at, user_id, action) VALUES (1, 1, 'U', 'x')")
        storage.db.execute("INSERT INTO audit (id, at, user_id, action) VALUES (1, 1, 'U', 'x')")
    assert fault(caught.value) is None  # a bug, not the database refusing
    storage.close()


def test_a_full_disk_keeps_the_bot_up_and_healthz_says_not_writable(
    db_path: Path, market: FakeMarket
) -> None:
    env = {k.lower(): v for k, v in market.env().items()}
    svc = Hashfloor(load_settings(**env, hashfloor_db=db_path))
    svc.migrate()
    svc.poll_once()
    assert health(svc)[0] == 200

    fill_up(svc.storage)
    for _ in range(100):  # the last page may still hold a few rows
        svc.poll_once()  # never raises: one log line a poll
        if svc.storage.write_problem:
            break
    status, body = health(svc)
    assert status == 503
    assert body["ok"] is False
    assert body["database"] == "not writable"
    assert "disk full" in body["error"]

    make_room(svc.storage)  # space again: the next poll is stored and /healthz is green
    svc.poll_once()
    assert svc.storage.write_problem is None
    assert health(svc)[0] == 200
    svc.close()


def test_a_change_the_database_refuses_answers_that_it_was_not_saved(db_path: Path) -> None:
    svc = Hashfloor(load_settings(hashfloor_db=db_path))
    svc.migrate()
    ctx = Ctx(svc, "U1", "T1", "C1", NOW, roles=lambda: Roles(is_admin=True))
    svc.storage.db.execute("PRAGMA query_only = 1")  # as a read-only file would
    reply = commands.answer(ctx, "/costs", 'add "Fleet" cash=70000 allin=80000')
    assert reply.text.startswith("That could not be saved: the database is not writable")
    assert "Nothing was changed" in reply.text
    assert not [line for line in svc.lines("T1") if "Fleet" in line.label]
    status, body = health(svc)  # a database found read-only while running
    assert status == 503 and body["database"] == "not writable"
    assert body["error"].startswith("read-only or unavailable: attempt to write a readonly")

    svc.storage.db.execute("PRAGMA query_only = 0")
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    svc.storage.db.execute("PRAGMA busy_timeout = 50")
    reply = commands.answer(ctx, "/costs", 'add "Fleet" cash=70000 allin=80000')
    assert reply.text == "The database is busy, try again in a moment: nothing was changed."
    other.rollback()
    other.close()
    reply = commands.answer(ctx, "/costs", 'add "Fleet" cash=70000 allin=80000')
    assert reply.text.startswith("Added *Fleet*")
    assert svc.storage.write_problem is None  # a write went through
    svc.close()


def test_threads_that_answer_slack_wait_briefly_for_a_write(db_path: Path) -> None:
    storage = Storage(db_path)
    timeouts: dict[str, int] = {}

    def serving(mark_first: bool) -> None:
        if mark_first:
            storage.serve_slack()
            timeouts["marked before connecting"] = timeout()
        else:
            storage.db.execute("SELECT 1")
            storage.serve_slack()
            timeouts["marked after connecting"] = timeout()

    def timeout() -> int:
        return storage.db.execute("PRAGMA busy_timeout").fetchone()[0]

    for mark_first in (True, False):
        t = threading.Thread(target=serving, args=(mark_first,))
        t.start()
        t.join()
    assert timeouts == {
        "marked before connecting": SERVING_BUSY_TIMEOUT_MS,
        "marked after connecting": SERVING_BUSY_TIMEOUT_MS,
    }
    assert timeout() == BUSY_TIMEOUT_MS  # the scheduler's and the CLI's threads wait longer
    assert SERVING_BUSY_TIMEOUT_MS < 3000  # Slack's deadline
    storage.close()


def test_unwritable_names_the_file_and_the_reason(db_path: Path, tmp_path: Path) -> None:
    assert unwritable(db_path) is None  # a fresh file can be created and written
    assert unwritable(db_path) is None  # and written again
    problem = unwritable(tmp_path / "no-such-folder" / "h.db")
    assert problem is not None
    assert problem.startswith(f"the database {tmp_path / 'no-such-folder' / 'h.db'} cannot be")
    assert "\n" not in problem
