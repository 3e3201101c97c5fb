"""A wall clock stepped back (DESIGN §10, "Clock"): data is ordered by arrival, data "from the
future" is stale, and the scheduler keeps polling across the step.

Clocks are injected: the wall clock a test reads is a number it sets.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

import commands
from bot.clock import ClockWatch, replan, wall_step
from bot.health import health
from bot.market.view import build_view
from bot.service import Hashfloor
from bot.settings import Settings
from commands.context import Ctx
from storage import snapshots
from storage.db import Storage
from tests.fakes.snapshots import design_snapshot

T0 = 1_764_000_000.0
STEP = 2 * 3600.0


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Hashfloor]:
    storage = Storage(tmp_path / "clock.db")
    svc = Hashfloor(Settings(hashfloor_db=tmp_path / "clock.db"), storage=storage, clock=Clock(T0))
    svc.migrate()
    yield svc
    storage.close()


def stored(svc: Hashfloor, taken_at: float, price: float) -> None:
    snapshots.insert(svc.storage.db, design_snapshot(taken_at, price))


def test_the_latest_snapshot_is_the_last_to_arrive_not_the_latest_time(service: Hashfloor) -> None:
    db = service.storage.db
    stored(service, T0, 91_000)
    stored(service, T0 - STEP + 60, 80_000)  # the first poll after the clock went back
    assert snapshots.latest(db).price_usd == 80_000
    assert snapshots.latest_fresh(db).price_usd == 80_000
    assert snapshots.latest_network(db).price_usd == 80_000


def test_data_from_the_future_is_stale(service: Hashfloor) -> None:
    stored(service, T0, 91_000)
    service.clock.t = T0 - STEP  # type: ignore[attr-defined]
    status, body = health(service)
    assert status == 503 and body["ok"] is False and body["data_age_s"] == -STEP
    view = build_view(snapshots.latest_fresh(service.storage.db), None, [], T0 - STEP)
    assert view.stale
    # The next poll, on the new clock, is fresh again.
    stored(service, T0 - STEP - 1, 80_000)
    status, body = health(service)
    assert status == 200 and body["price_usd"] == 80_000 and body["data_age_s"] == 1


def test_wall_step() -> None:
    assert wall_step(T0, 10.0, T0 + 5, 15.0) == 0
    assert wall_step(T0, 10.0, T0 - STEP + 1, 11.0) == -STEP


def test_the_watch_reports_a_step_back_only() -> None:
    wall, mono = Clock(T0), Clock(100.0)
    steps: list[float] = []
    watch = ClockWatch(steps.append, wall=wall, mono=mono)
    wall.t, mono.t = T0 + 1.001, 101.0  # a second passes (and NTP slews a millisecond)
    assert watch.check() is None
    wall.t, mono.t = wall.t + 3600, 102.0  # a step forward: nothing is frozen by it
    assert watch.check() is None
    wall.t, mono.t = wall.t - STEP, 103.0
    assert watch.check() == pytest.approx(-STEP - 1)
    assert steps == [pytest.approx(-STEP - 1)]


def test_a_step_back_replans_the_scheduler_so_polling_goes_on() -> None:
    """APScheduler keeps next run times on the wall clock: after a 2-hour step back the poll job's
    next run lies two hours ahead. Played here by planning it two hours ahead; the watch, told
    the clock went back, plans it again from now, and it runs."""
    ran = threading.Event()
    scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(1)}, timezone=UTC)
    scheduler.add_job(
        ran.set,
        "interval",
        seconds=1,
        id="poll",
        next_run_time=datetime.now(UTC) + timedelta(seconds=STEP),
    )
    scheduler.start()
    try:
        wall, mono = Clock(T0), Clock(100.0)
        watch = ClockWatch(lambda _step: replan(scheduler), wall=wall, mono=mono)
        wall.t, mono.t = T0 - STEP, 101.0
        watch.check()
        assert ran.wait(15), "the poll job did not run after the step"
        nxt = scheduler.get_job("poll").next_run_time
        assert nxt <= datetime.now(UTC) + timedelta(seconds=2)
    finally:
        scheduler.shutdown(wait=False)


def test_status_does_not_show_a_negative_age(service: Hashfloor) -> None:
    stored(service, T0, 91_000)
    reply = commands.answer(Ctx(service, "U1", "T1", "C1", T0 - STEP), "/hashfloor", "status")
    assert "clock went back" in reply.text and "-7200" not in reply.text
