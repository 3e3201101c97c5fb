"""One scheduler per database (DESIGN §7): the file lock, the poll job, and the guard."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.scheduler import SchedulerGuard, build_scheduler, retry_seconds
from bot.scheduler_lock import SchedulerLock
from bot.service import Hashfloor
from bot.settings import Settings, load_settings
from tests.fakes.market import FakeMarket

REPO = Path(__file__).resolve().parents[2]

# A second process: takes the lock on argv[1] (or tries to), prints the outcome, then waits to die.
HOLDER = textwrap.dedent(
    """
    import sys, time
    from bot.scheduler_lock import SchedulerLock
    lock = SchedulerLock(sys.argv[1])
    print(lock.acquire(), flush=True)
    if sys.argv[2] == "hold":
        time.sleep(600)
    """
)
# A second bot process whose guard starts the scheduler (and polls the fake market).
GUARDED = textwrap.dedent(
    """
    import time
    from bot.scheduler import SchedulerGuard
    from bot.service import Hashfloor
    from bot.settings import load_settings
    svc = Hashfloor(load_settings())
    svc.migrate()
    print(SchedulerGuard(svc).start(), flush=True)
    time.sleep(600)
    """
)


def spawn(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )


def first_line(proc: subprocess.Popen[str]) -> str:
    line = proc.stdout.readline().strip()
    if not line:
        proc.wait(timeout=30)
        pytest.fail(f"child said nothing: {proc.stderr.read()}")
    return line


def kill9(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()


def settings_for(market: FakeMarket, db_path: Path, **extra: object) -> Settings:
    env = {k.lower(): v for k, v in market.env().items()}
    return load_settings(**env, hashfloor_db=db_path, **extra)


# --- the lock -----------------------------------------------------------------------------


def test_lock_file_sits_beside_the_database(db_path: Path) -> None:
    lock = SchedulerLock(db_path)
    assert lock.path == Path(f"{db_path}.scheduler.lock")
    assert lock.acquire()
    assert lock.holder() == str(os.getpid())
    lock.release()
    lock.release()  # twice is harmless


def test_a_second_process_cannot_acquire(db_path: Path, children: list) -> None:
    lock = SchedulerLock(db_path)
    assert lock.acquire()
    child = spawn(HOLDER, str(db_path), "try")
    children.append(child)
    assert first_line(child) == "False"
    assert child.wait(timeout=30) == 0
    # Released: the next process gets it.
    lock.release()
    child = spawn(HOLDER, str(db_path), "try")
    children.append(child)
    assert first_line(child) == "True"


def test_a_lock_held_by_a_killed_process_is_free_again(db_path: Path, children: list) -> None:
    child = spawn(HOLDER, str(db_path), "hold")
    children.append(child)
    assert first_line(child) == "True"

    lock = SchedulerLock(db_path)
    assert not lock.acquire()
    assert lock.holder() == str(child.pid)

    kill9(child)
    assert lock.acquire()  # the kernel dropped the dead process's lock
    assert lock.holder() == str(os.getpid())
    lock.release()


def test_another_database_has_its_own_lock(tmp_path: Path, children: list) -> None:
    child = spawn(HOLDER, str(tmp_path / "a.db"), "hold")
    children.append(child)
    assert first_line(child) == "True"
    lock = SchedulerLock(tmp_path / "b.db")
    assert lock.acquire()
    lock.release()


# --- the poll job -------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [15, 60, 300])
def test_poll_job(db_path: Path, seconds: int) -> None:
    settings = load_settings(hashfloor_db=db_path, hashfloor_poll_seconds=seconds)
    scheduler = build_scheduler(Hashfloor(settings))
    scheduler.start(paused=True)  # job defaults are applied when the job is really added
    try:
        job = scheduler.get_job("poll")
        assert job.func.__name__ == "poll_once"
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.trigger.interval == timedelta(seconds=seconds)
        # The first poll is due at start-up, not one interval later.
        assert job.next_run_time <= datetime.now(UTC)
    finally:
        scheduler.shutdown(wait=False)


# --- the guard ----------------------------------------------------------------------------


def test_guard_in_a_second_process_refuses_and_says_why(
    db_path: Path, children: list, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeMarket() as market:
        env = {**market.env(), "HASHFLOOR_DB": str(db_path)}
        first = spawn(GUARDED, env=env)
        children.append(first)
        assert first_line(first) == "True"

        svc = Hashfloor(settings_for(market, db_path))
        guard = SchedulerGuard(svc)
        with caplog.at_level(logging.WARNING, logger="hashfloor.scheduler"):
            assert guard.start() is False
        assert guard.scheduler is None
        (record,) = [r for r in caplog.records if r.name == "hashfloor.scheduler"]
        assert record.levelno == logging.WARNING
        message = record.getMessage()
        assert f"pid {first.pid}" in message
        assert str(db_path) in message
        assert "does not poll" in message
        guard.stop()  # harmless when it never started

        # After a kill -9 of the first process, the next start schedules normally.
        kill9(first)
        svc.migrate()
        guard = SchedulerGuard(svc)
        try:
            assert guard.start() is True
            assert guard.scheduler is not None and guard.scheduler.running
            assert guard.scheduler.get_job("poll") is not None
        finally:
            guard.stop()
        assert guard.scheduler is None
        assert guard.lock.acquire()  # stop() let go of the lock
        guard.lock.release()
        svc.close()


def test_the_lock_file_is_owner_only(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        lock = SchedulerLock(tmp_path / "hashfloor.db")
        assert lock.acquire()
        assert lock.path.stat().st_mode & 0o777 == 0o600
        lock.release()
    finally:
        os.umask(old_umask)


def test_a_standby_takes_over_when_the_holder_dies(db_path: Path, children: list) -> None:
    """Fail-over (DESIGN §10): the lock is retried, and the take-over starts the workers."""
    with FakeMarket() as market:
        env = {**market.env(), "HASHFLOOR_DB": str(db_path)}
        first = spawn(GUARDED, env=env)
        children.append(first)
        assert first_line(first) == "True"

        settings = settings_for(
            market, db_path, hashfloor_poll_seconds=2, hashfloor_allow_fast_poll=True
        )
        svc = Hashfloor(settings)
        svc.migrate()
        guard = SchedulerGuard(svc)
        assert guard.retry_s == 1.0  # half a poll interval: a take-over within two
        started, stopped = threading.Event(), threading.Event()
        try:
            assert guard.start([], on_start=started.set, on_stop=stopped.set) is False
            assert guard.role == svc.role == "standby"
            assert not started.wait(2 * guard.retry_s)  # the holder is alive: still standing by

            first.send_signal(signal.SIGTERM)
            first.wait(timeout=30)
            assert started.wait(30), "the standby never took over"
            assert guard.role == svc.role == "scheduler"
            assert guard.scheduler is not None and guard.scheduler.get_job("poll") is not None
            assert guard.lock.holder() == str(os.getpid())
        finally:
            guard.stop()
        assert stopped.is_set()  # the workers stop before the lock is let go
        assert guard.lock.acquire()
        guard.lock.release()
        svc.close()


def test_retry_interval() -> None:
    assert retry_seconds(1) == 0.5
    assert retry_seconds(15) == 5.0
    assert retry_seconds(60) == 5.0
