"""Answers read from SQLite, kept in memory until the database changes.

A slash command reads the same few rows (the latest snapshots, the cost lines, the fleet) that
change once a minute at most. Each SQLite call releases and retakes the GIL, which under
concurrent requests costs far more than the read itself; so a read is computed once and kept
until SQLite says the file changed: `PRAGMA data_version` moves when another connection (another
thread, or `hashfloor costs add` in another process) commits, and the connection's
`total_changes` moves when it writes itself. Both are per connection, like the cache: one per
thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlite_utils import Database

from storage.db import Storage

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


class ReadCache:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._local = threading.local()

    def get(self, key: K, read: Callable[[Database, K], T]) -> T:
        """`read(db, key)`, as of the database's current state.

        `read` runs in one read transaction and must return something immutable: the result is
        handed to every later caller on this thread until the database changes. Keys share one
        namespace: give each `read` its own kind of key.
        """
        local = self._local
        conn = self.storage.db.conn
        # Read before the data: a commit in between makes the next call read again, never the
        # other way round.
        version = (conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes)
        if getattr(local, "conn", None) is not conn or local.version != version:
            # A new connection (after Storage.close) or a new commit: start over.
            local.conn, local.version, local.values = conn, version, {}
        values: dict[Hashable, Any] = local.values
        if key not in values:
            with self.storage.reading() as db:
                values[key] = read(db, key)
        return values[key]
