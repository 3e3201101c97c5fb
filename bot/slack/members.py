"""Who is known to be in which channel: whoever used Hashfloor there.

Slack runs a slash command or a button only where its user may post, so using Hashfloor in a
channel shows membership without asking Slack (the bot has no channels:read or groups:read scope,
DESIGN §3.3). The App Home names a channel's subscriptions only to these people.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading

from storage import workspaces
from storage.db import Storage

log = logging.getLogger("hashfloor.slack")

Seen = tuple[str, str, str, float]  # workspace, channel, user, when


class KnownMembers:
    """Records (workspace, channel, user) once per process, on a thread of its own: a read is
    answered in the request from SQLite and must not wait for a write lock a poll may hold."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._seen: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()
        self._queue: queue.Queue[Seen] = queue.Queue()
        self._thread: threading.Thread | None = None

    def saw(self, team_id: str | None, channel_id: str | None, user_id: str, now: float) -> None:
        if not channel_id:
            return
        key = (workspaces.team_key(team_id), channel_id, user_id)
        with self._lock:
            if key in self._seen:
                return
            self._seen.add(key)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._write_loop, name="known-members", daemon=True
                )
                self._thread.start()
        self._queue.put((*key, now))

    def join(self) -> None:
        """Wait until everything seen so far is written."""
        self._queue.join()

    def _write_loop(self) -> None:
        while True:
            team, channel, user, now = self._queue.get()
            try:
                with self.storage.transaction() as db:
                    workspaces.saw_member(db, team, channel, user, now)
            except sqlite3.ProgrammingError:
                # The database is being closed (the process stops): nothing to say.
                with self._lock:
                    self._seen.discard((team, channel, user))
            except Exception:
                # Not knowing only hides a channel from someone's App Home; try again next time.
                log.exception("could not record that %s uses Hashfloor in %s", user, channel)
                with self._lock:
                    self._seen.discard((team, channel, user))
            finally:
                self._queue.task_done()
