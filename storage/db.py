"""One SQLite file, one connection per thread, WAL and a busy timeout."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlite_utils

BUSY_TIMEOUT_MS = 10_000
# The file holds workspace tokens (encrypted), cost lines and sent messages: owner only.
PRIVATE_MODE = 0o600
# Any access for the group or for others.
SHARED_BITS = 0o077


def create_private(path: str | Path) -> None:
    """Create `path`, empty and owner-only (0600), unless it exists already.

    SQLite creates a new database file 0644, and gives its -wal, -shm and journal the main
    file's mode: creating the main file 0600 first makes all of them private.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def database_files(path: str | Path) -> list[Path]:
    """The database file and the two SQLite keeps beside it in WAL mode."""
    return [Path(path), Path(f"{path}-wal"), Path(f"{path}-shm")]


def readable_by_others(paths: Iterable[str | Path]) -> list[tuple[Path, int]]:
    """(path, mode) of each existing file that the group or other users may read or write."""
    found = []
    for p in map(Path, paths):
        try:
            mode = p.stat().st_mode & 0o777
        except FileNotFoundError:
            continue
        if mode & SHARED_BITS:
            found.append((p, mode))
    return found


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open the file with the pragmas every connection needs."""
    create_private(path)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    # Autocommit at the driver level: every transaction is an explicit `atomic()`/`transaction()`.
    conn.isolation_level = None
    db = sqlite_utils.Database(conn)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA journal_mode = WAL")
    # NORMAL is durable across process crashes in WAL mode; only a power cut can lose the last commit.
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def select(db: sqlite_utils.Database, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    """Rows of a SELECT as dicts.

    sqlite-utils' `query()` wraps every statement in SAVEPOINT/RELEASE to guard against writes;
    a plain SELECT needs no guard, and the slash-command path runs several per answer.
    """
    cursor = db.conn.execute(sql, params)
    keys = [d[0] for d in cursor.description]
    return [dict(zip(keys, row, strict=True)) for row in cursor]


def select_one(db: sqlite_utils.Database, sql: str, params: Any = ()) -> dict[str, Any] | None:
    rows = select(db, sql, params)
    return rows[0] if rows else None


class Storage:
    """Hands each thread its own connection to the same file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._all: list[sqlite_utils.Database] = []
        # A copy for readers that must not wait on the lock (see local_writes).
        self._conns: tuple[sqlite3.Connection, ...] = ()
        self._lock = threading.Lock()

    @property
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            self._local.db = db
            with self._lock:
                self._all.append(db)
                self._conns = (*self._conns, db.conn)
        return db

    def local_writes(self) -> int | None:
        """Rows this process has changed through this Storage, on every thread; None while one of
        its connections is inside a transaction (its rows are counted before they commit).

        Reads no SQL: attributes of the connections, so the GIL is never released.
        """
        try:
            conns = self._conns
            if any(c.in_transaction for c in conns):
                return None
            return sum(c.total_changes for c in conns)
        except sqlite3.ProgrammingError:  # closed by close() on another thread just now
            return None

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """BEGIN IMMEDIATE … COMMIT: writers queue on the busy timeout instead of failing late."""
        db = self.db
        conn = db.conn
        if conn.in_transaction:
            # Nested: the outer transaction commits.
            yield db
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    @contextmanager
    def reading(self) -> Iterator[sqlite_utils.Database]:
        """One read transaction: several SELECTs see the same commit, even while a poll writes."""
        db = self.db
        conn = db.conn
        if conn.in_transaction:
            yield db
            return
        conn.execute("BEGIN")
        try:
            yield db
        finally:
            conn.commit()

    def ping(self) -> bool:
        try:
            self.db.execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def close(self) -> None:
        with self._lock:
            for db in self._all:
                with suppress(sqlite3.Error):
                    db.close()
            self._all.clear()
            self._conns = ()
        self._local = threading.local()

    def backup(self, target: str | Path) -> Path:
        """Copy the live database with SQLite's online backup API."""
        target = Path(target)
        create_private(target)  # a copy holds the same tokens
        dest = sqlite3.connect(str(target))
        try:
            self.db.conn.backup(dest)
        finally:
            dest.close()
        return target
