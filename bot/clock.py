"""The wall clock checked against the monotonic one (DESIGN §10, "Clock").

A wall clock stepped back (NTP after a drift, a restored VM, an operator) would freeze whatever was
planned on it: APScheduler keeps its next run times in wall-clock terms, so after a 2-hour step
back it waits two hours for the next poll. The watch reads both clocks every second; when the wall
clock has gone back by more than a little, it plans the jobs again from the new "now".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("hashfloor.clock")

STEP_TOLERANCE_S = 2.0  # NTP slews by milliseconds; a step this large is a step


def wall_step(wall0: float, mono0: float, wall1: float, mono1: float) -> float:
    """How far the wall clock moved beyond the time that passed (negative: it went back)."""
    return (wall1 - wall0) - (mono1 - mono0)


class ClockWatch:
    """Calls `on_step(seconds)` (negative) when the wall clock steps back; `check()` is one look."""

    def __init__(
        self,
        on_step: Callable[[float], None],
        every_s: float = 1.0,
        wall: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
        tolerance_s: float = STEP_TOLERANCE_S,
    ) -> None:
        self.on_step = on_step
        self.every_s = every_s
        self.wall = wall
        self.mono = mono
        self.tolerance_s = tolerance_s
        self._last = (wall(), mono())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> float | None:
        now = (self.wall(), self.mono())
        step = wall_step(*self._last, *now)
        self._last = now
        if step >= -self.tolerance_s:
            return None
        log.warning("the wall clock went back by %.0f s: scheduled jobs planned again", -step)
        self.on_step(step)
        return step

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="clock-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.check()
            except Exception:
                log.exception("clock check failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def replan(scheduler: BaseScheduler, now: datetime | None = None) -> int:
    """Bring every job's next run back to at most one period from `now` (after a step back, they
    lie as far in the future as the clock went back); returns how many were moved."""
    now = now or datetime.now(UTC)
    moved = 0
    for job in scheduler.get_jobs():
        planned = job.next_run_time
        if planned is None:
            continue  # paused
        if isinstance(job.trigger, IntervalTrigger):
            soon = now + job.trigger.interval
        else:
            soon = job.trigger.get_next_fire_time(None, now)
        if soon is not None and soon < planned:
            job.modify(next_run_time=soon)
            moved += 1
    return moved
