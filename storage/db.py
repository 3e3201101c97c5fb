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


# Slack waits 3 s for an answer: a thread that serves Slack gives up on a write lock sooner, and
# says the database is busy, rather than hold the request (and its thread) behind another writer.
SERVING_BUSY_TIMEOUT_MS = 1_500

# What a failed statement says about the database, by SQLite's primary result code.
BUSY, FULL, NOT_WRITABLE = "busy", "disk full", "read-only or unavailable"
_FAULTS = {
    sqlite3.SQLITE_BUSY: BUSY,
    sqlite3.SQLITE_LOCKED: BUSY,
    sqlite3.SQLITE_FULL: FULL,
    sqlite3.SQLITE_READONLY: NOT_WRITABLE,
    sqlite3.SQLITE_CANTOPEN: NOT_WRITABLE,
    sqlite3.SQLITE_IOERR: NOT_WRITABLE,
    sqlite3.SQLITE_PERM: NOT_WRITABLE,
}


def fault(exc: BaseException) -> str | None:
    """BUSY, FULL or NOT_WRITABLE when `exc` is SQLite refusing a write; None for anything else
    (a constraint, a bug)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else _FAULTS.get(code & 0xFF)


def connect(path: str | Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite_utils.Database:
    """Open the file with the pragmas every connection needs."""
    create_private(path)
    conn = sqlite3.connect(str(path), timeout=busy_timeout_ms / 1000, check_same_thread=False)
    # Autocommit at the driver level: every transaction is an explicit `atomic()`/`transaction()`.
    conn.isolation_level = None
    db = sqlite_utils.Database(conn)
    db.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
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


CLOSE_WAIT_S = 5.0


class Storage:
    """Hands each thread its own connection to the same file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._all: list[sqlite_utils.Database] = []
        # A copy for readers that must not wait on the lock (see local_writes).
        self._conns: tuple[sqlite3.Connection, ...] = ()
        self._lock = threading.Lock()
        # Transactions in progress on any thread: close() waits for them, since closing a
        # connection under a statement another thread is running crashes the process.
        self._idle = threading.Condition(self._lock)
        self._busy = 0
        self._closing = False
        # Why the last write failed, when SQLite refused it for lack of space or permission;
        # None again after a write commits. /healthz reports it (503 "database not writable").
        self.write_problem: str | None = None

    @property
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            serving = getattr(self._local, "serving", False)
            db = connect(self.path, SERVING_BUSY_TIMEOUT_MS if serving else BUSY_TIMEOUT_MS)
            self._local.db = db
            with self._lock:
                self._all.append(db)
                self._conns = (*self._conns, db.conn)
        return db

    def serve_slack(self) -> None:
        """Mark this thread as one that answers Slack: its writes wait at most
        SERVING_BUSY_TIMEOUT_MS for another writer. Cheap after the first call on a thread."""
        local = self._local
        if getattr(local, "serving", False):
            return
        local.serving = True
        db = getattr(local, "db", None)
        if db is not None:
            db.conn.execute(f"PRAGMA busy_timeout = {SERVING_BUSY_TIMEOUT_MS}")

    def note_failure(self, exc: BaseException) -> None:
        """Remember a write refused for lack of space or permission (see write_problem)."""
        kind = fault(exc)
        if kind in (FULL, NOT_WRITABLE):
            self.write_problem = f"{kind}: {exc}"

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
        before = conn.total_changes
        with self._idle:
            if self._closing:
                raise sqlite3.ProgrammingError("the database is being closed")
            self._busy += 1
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
            except sqlite3.Error as exc:
                self.note_failure(exc)
                raise
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()
        if conn.total_changes != before:  # rows were written: the database takes writes again
            self.write_problem = None

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

    def probe_write(self) -> None:
        """One real write and commit that leaves nothing behind; raises sqlite3.Error when the
        database cannot be written (as `hashfloor doctor` probes it)."""
        with self.transaction() as db:
            db.execute("CREATE TABLE _hashfloor_write_probe (x)")
            db.execute("DROP TABLE _hashfloor_write_probe")

    def ping(self) -> bool:
        try:
            self.db.execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def close(self) -> None:
        with self._idle:
            self._closing = True
            # A transaction on another thread finishes first (a few ms); one that hangs is not
            # waited for beyond CLOSE_WAIT_S.
            self._idle.wait_for(lambda: self._busy == 0, timeout=CLOSE_WAIT_S)
            for db in self._all:
                with suppress(sqlite3.Error):
                    db.close()
            self._all.clear()
            self._conns = ()
            self._closing = False
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


def unwritable(path: str | Path) -> str | None:
    """One line saying why the database at `path` cannot be written; None when it can."""
    storage = Storage(path)
    try:
        storage.probe_write()
    except (sqlite3.Error, OSError) as exc:  # OSError: creating the file 0600 (create_private)
        if isinstance(exc, sqlite3.Error) and fault(exc) is None:
            raise
        where = Path(path).expanduser().resolve()
        read_only = False
        with suppress(OSError):
            read_only = bool(os.statvfs(where.parent).f_flag & os.ST_RDONLY)
        why = [str(exc) if isinstance(exc, sqlite3.Error) else (exc.strerror or str(exc))]
        if read_only:
            why = [w for w in why if "read-only file system" not in w.lower()]
            why.append("its folder is on a read-only file system")
        return f"the database {where} cannot be written ({'; '.join(why)})"
    finally:
        storage.close()
    return None
