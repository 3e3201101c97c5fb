"""`hashfloor run` start-up: the warning about database files other users can read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.run import shared_files_warning
from bot.scheduler_lock import SchedulerLock
from bot.settings import load_settings
from storage.db import Storage


def test_no_warning_for_files_the_bot_created(db_path: Path) -> None:
    storage = Storage(db_path)
    storage.db.execute("CREATE TABLE t (x)")
    lock = SchedulerLock(db_path)
    assert lock.acquire()
    try:
        assert shared_files_warning(load_settings(hashfloor_db=db_path)) is None
    finally:
        lock.release()
        storage.close()


def test_one_line_names_each_file_other_users_can_read(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)  # made outside the bot: SQLite's default mode
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (x)")
    db_path.chmod(0o644)
    wal = Path(f"{db_path}-wal")
    wal.chmod(0o660)
    lock = SchedulerLock(db_path).path
    lock.touch()
    lock.chmod(0o604)

    warning = shared_files_warning(load_settings(hashfloor_db=db_path))

    shm = Path(f"{db_path}-shm")  # SQLite gave it the database's mode
    assert warning is not None and "\n" not in warning
    assert f"can read {db_path} (644), {wal} (660), {shm} (644), {lock} (604)," in warning
    assert warning.endswith(f"chmod 600 {db_path} {wal} {shm} {lock}")
    conn.close()
