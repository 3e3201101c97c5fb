"""Plain SELECTs, read transactions and the read cache, on a real SQLite file."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage import costs
from storage.db import Storage, select, select_one
from storage.migrations import migrate
from storage.read_cache import ReadCache

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def storage(db_path: Path) -> Iterator[Storage]:
    st = Storage(db_path)
    migrate(st.db)
    st.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    yield st
    st.close()


def add_note(storage: Storage, body: str) -> None:
    storage.db.execute("INSERT INTO notes (body) VALUES (?)", [body])


def in_another_thread(fn: object) -> None:
    t = threading.Thread(target=fn)
    t.start()
    t.join()


class CountingRead:
    """A read that counts how often it really went to SQLite."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, db: Database, key: str) -> tuple[str, ...]:
        self.calls += 1
        rows = select(db, "SELECT body FROM notes WHERE body LIKE ? ORDER BY id", [key + "%"])
        return tuple(r["body"] for r in rows)


# --- select -------------------------------------------------------------------------------


def test_select_returns_dicts_in_order(storage: Storage) -> None:
    for body in ("a", "b", "c"):
        add_note(storage, body)
    rows = select(storage.db, "SELECT id, body FROM notes WHERE id > ? ORDER BY id", [1])
    assert rows == [{"id": 2, "body": "b"}, {"id": 3, "body": "c"}]
    assert select_one(storage.db, "SELECT body FROM notes WHERE id = ?", [3]) == {"body": "c"}
    assert select_one(storage.db, "SELECT body FROM notes WHERE id = ?", [9]) is None


def test_select_leaves_no_transaction_open(storage: Storage) -> None:
    select(storage.db, "SELECT * FROM notes")
    assert not storage.db.conn.in_transaction


# --- reading(): one consistent view ----------------------------------------------------------


def test_reading_sees_one_commit_while_another_thread_writes(storage: Storage) -> None:
    add_note(storage, "before")
    with storage.reading() as db:
        first = select(db, "SELECT count(*) AS n FROM notes")[0]["n"]
        in_another_thread(lambda: add_note(storage, "during"))
        second = select(db, "SELECT count(*) AS n FROM notes")[0]["n"]
    after = select(storage.db, "SELECT count(*) AS n FROM notes")[0]["n"]
    assert (first, second, after) == (1, 1, 2)
    assert not storage.db.conn.in_transaction


def test_reading_inside_a_transaction_joins_it(storage: Storage) -> None:
    with storage.transaction() as db:
        add_note(storage, "uncommitted")
        with storage.reading():
            assert select(db, "SELECT body FROM notes") == [{"body": "uncommitted"}]
        assert db.conn.in_transaction  # reading() did not commit the writer's transaction
    assert select(storage.db, "SELECT body FROM notes") == [{"body": "uncommitted"}]


def test_reading_ends_its_transaction_on_error(storage: Storage) -> None:
    with pytest.raises(sqlite3.OperationalError), storage.reading() as db:
        db.execute("SELECT * FROM no_such_table")
    assert not storage.db.conn.in_transaction


# --- ReadCache ---------------------------------------------------------------------------------


def test_cache_reads_once_while_nothing_changes(storage: Storage) -> None:
    cache, read = ReadCache(storage), CountingRead()
    add_note(storage, "x1")
    assert [cache.get("x", read) for _ in range(5)] == [("x1",)] * 5
    assert read.calls == 1
    assert cache.get("y", read) == ()  # another key is its own read
    assert read.calls == 2


def test_own_write_is_seen_at_once(storage: Storage) -> None:
    cache, read = ReadCache(storage), CountingRead()
    assert cache.get("x", read) == ()
    add_note(storage, "x1")  # the same thread, the same connection
    assert cache.get("x", read) == ("x1",)


def test_another_threads_commit_is_seen_at_once(storage: Storage) -> None:
    cache, read = ReadCache(storage), CountingRead()
    assert cache.get("x", read) == ()
    in_another_thread(lambda: add_note(storage, "x1"))
    assert cache.get("x", read) == ("x1",)


class OpenTransaction:
    """Another thread that writes a note inside a transaction and holds it open until told."""

    def __init__(self, storage: Storage, body: str) -> None:
        self.writing, self.done = threading.Event(), threading.Event()

        def writer() -> None:
            with storage.transaction():
                add_note(storage, body)
                self.writing.set()
                self.done.wait(5)

        self.thread = threading.Thread(target=writer)
        self.thread.start()
        self.writing.wait(5)

    def commit(self) -> None:
        self.done.set()
        self.thread.join()


def test_another_threads_open_transaction_is_not_cached_as_committed(storage: Storage) -> None:
    clock = [0.0]  # no time passes: only the process's own bookkeeping can tell
    cache, read = ReadCache(storage, clock=lambda: clock[0]), CountingRead()
    first = OpenTransaction(storage, "x1")
    assert cache.get("x", read) == ()  # not committed yet
    first.commit()
    assert cache.get("x", read) == ("x1",)


def test_back_to_back_transactions_are_each_seen(storage: Storage) -> None:
    clock = [0.0]
    cache, read = ReadCache(storage, clock=lambda: clock[0]), CountingRead()
    first = OpenTransaction(storage, "x1")
    assert cache.get("x", read) == ()
    first.commit()
    # The next writer is inside its transaction before the cache looks again.
    second = OpenTransaction(storage, "x2")
    assert cache.get("x", read) == ("x1",)
    second.commit()
    assert cache.get("x", read) == ("x1", "x2")


def test_another_process_commit_is_seen_within_the_recheck_time(
    storage: Storage, db_path: Path
) -> None:
    clock = [100.0]
    cache = ReadCache(storage, recheck_s=1.0, clock=lambda: clock[0])

    def lines(db: Database, workspace: str) -> tuple[str, ...]:
        return tuple(line.label for line in costs.current_lines(db, workspace, 100.0))

    before = cache.get("T1", lines)
    # What `hashfloor costs add` does from a shell, while the bot runs.
    script = textwrap.dedent(
        f"""
        from storage import costs
        from storage.db import Storage
        st = Storage({str(db_path)!r})
        costs.add(st.db, "T1", "Our site", "cash", 51000, "2025-Q3", created_by="cli", now=0)
        st.close()
        """
    )
    subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=60)
    clock[0] += 0.5
    assert cache.get("T1", lines) == before  # the documented bound: up to recheck_s behind
    clock[0] += 0.5
    after = cache.get("T1", lines)
    assert len(after) == len(before) + 1
    assert any("Our site" in label for label in after)


def test_a_hit_runs_no_sql(storage: Storage) -> None:
    clock = [0.0]
    cache, read = ReadCache(storage, clock=lambda: clock[0]), CountingRead()
    add_note(storage, "x1")
    cache.get("x", read)
    statements: list[str] = []
    storage.db.conn.set_trace_callback(statements.append)
    try:
        for _ in range(3):
            assert cache.get("x", read) == ("x1",)
        assert statements == []
        clock[0] += 1.0  # time to ask SQLite whether another process wrote
        assert cache.get("x", read) == ("x1",)
        assert statements == ["PRAGMA data_version"]
    finally:
        storage.db.conn.set_trace_callback(None)
    assert read.calls == 1


def test_each_thread_has_its_own_cache(storage: Storage) -> None:
    cache, read = ReadCache(storage), CountingRead()
    add_note(storage, "x1")
    cache.get("x", read)
    in_another_thread(lambda: cache.get("x", read))
    assert read.calls == 2


def test_a_new_connection_starts_over(storage: Storage) -> None:
    cache, read = ReadCache(storage), CountingRead()
    add_note(storage, "x1")
    cache.get("x", read)
    storage.close()
    assert cache.get("x", read) == ("x1",)
    assert read.calls == 2
