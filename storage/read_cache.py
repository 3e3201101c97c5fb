"""Answers read from SQLite, kept in memory until the database changes.

A slash command reads the same few rows (the latest snapshots, the cost lines, the fleet) that
change once a minute at most. Under concurrent requests every SQLite call costs far more than the
read itself, because it releases the GIL and must win it back; so a read is computed once and kept
until the data may have changed:

- a write by this process (the poller, a `/costs add`, on any thread) is seen at once: the sum of
  the connections' `total_changes`, and whether one is inside a transaction, are attributes that
  need no SQL;
- a write by another process (`hashfloor costs add` from a shell) is seen within `recheck_s`:
  that often, a thread asks SQLite's `PRAGMA data_version`, which moves when another connection
  commits. It also bounds the one race the first rule leaves: SQLite marks a transaction ended a
  moment before its commit is visible to other connections.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlite_utils import Database

from storage.db import Storage

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


class ReadCache:
    def __init__(
        self,
        storage: Storage,
        recheck_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.storage = storage
        self.recheck_s = recheck_s
        self._clock = clock
        # Per thread, like the connections: data_version is per connection.
        self._local = threading.local()

    def get(self, key: K, read: Callable[[Database, K], T]) -> T:
        """`read(db, key)`, as of the database's current state.

        `read` runs in one read transaction and must return something immutable: the result is
        handed to every later caller on this thread until the database changes. Keys share one
        namespace: give each `read` its own kind of key.
        """
        writes = self.storage.local_writes()
        if writes is None:
            # A write is under way in this process: read around it, keep nothing.
            with self.storage.reading() as db:
                return read(db, key)
        local = self._local
        conn = self.storage.db.conn
        now = self._clock()
        if (
            getattr(local, "conn", None) is not conn
            or local.writes != writes
            or now - local.checked >= self.recheck_s
        ):
            # Ask SQLite before reading: a commit in between makes a later call read again.
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            if getattr(local, "conn", None) is not conn or (local.writes, local.version) != (
                writes,
                version,
            ):
                local.values = {}
            local.conn, local.writes, local.version, local.checked = conn, writes, version, now
        values: dict[Hashable, Any] = local.values
        if key not in values:
            with self.storage.reading() as db:
                values[key] = read(db, key)
        return values[key]
