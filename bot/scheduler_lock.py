"""One scheduler per database: an OS file lock beside the SQLite file.

flock is released by the kernel when the process dies, so a kill -9 never leaves a stale guard.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from storage.db import PRIVATE_MODE


class SchedulerLock:
    def __init__(self, db_path: str | Path) -> None:
        self.path = Path(f"{db_path}.scheduler.lock")
        self._fd: int | None = None

    def acquire(self) -> bool:
        """True when this process now holds the lock; False when another one does."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        try:
            return self.path.read_text().strip() or "unknown"
        except OSError:
            return "unknown"

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
