"""The background scheduler: market polling now; alerts, delivery and digests add their jobs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.clock import ClockWatch, replan
from bot.scheduler_lock import SchedulerLock
from bot.service import Hashfloor

log = logging.getLogger("hashfloor.scheduler")

IntervalJobs = list[tuple[Callable[[], object], int]]
# A standby retries the lock this often at most: a take-over within two poll intervals (DESIGN §10).
RETRY_MAX_S = 5.0


def build_scheduler(
    service: Hashfloor, interval_jobs: IntervalJobs | None = None
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(4)},
        # One run at a time per job; a run that is late is merged into one, never queued.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )
    scheduler.add_job(
        service.poll_once,
        "interval",
        seconds=service.settings.hashfloor_poll_seconds,
        id="poll",
        name="market poll",
        # The first poll runs at start-up, so /healthz is green as soon as sources answer.
        next_run_time=datetime.now(UTC),
    )
    for func, seconds in interval_jobs or []:
        name = getattr(func, "__qualname__", repr(func))
        scheduler.add_job(func, "interval", seconds=seconds, id=name, name=name)
    return scheduler


def retry_seconds(poll_seconds: float) -> float:
    """How often a standby tries the lock: half a poll interval, at most RETRY_MAX_S."""
    return min(RETRY_MAX_S, poll_seconds / 2)


class SchedulerGuard:
    """Runs the scheduler only in the process that holds the database's scheduler lock.

    A process that finds the lock taken stands by: it answers Slack, and tries the lock again every
    few seconds, so that when the holder exits (a rolling deploy, a crash) it takes over polling,
    alerts, delivery and digests.
    """

    def __init__(self, service: Hashfloor) -> None:
        self.service = service
        self.lock = SchedulerLock(service.settings.hashfloor_db)
        self.scheduler: BackgroundScheduler | None = None
        self.clock_watch: ClockWatch | None = None
        self.retry_s = retry_seconds(service.settings.hashfloor_poll_seconds)
        self._jobs: IntervalJobs = []
        self._on_start: Callable[[], object] | None = None
        self._on_stop: Callable[[], object] | None = None
        self._stopping = threading.Event()
        self._standby: threading.Thread | None = None
        self._mutex = threading.Lock()  # take-over and stop never interleave

    @property
    def role(self) -> str:
        return "scheduler" if self.scheduler is not None else "standby"

    def start(
        self,
        interval_jobs: IntervalJobs | None = None,
        on_start: Callable[[], object] | None = None,
        on_stop: Callable[[], object] | None = None,
    ) -> bool:
        """Schedule now if the lock is free (True); otherwise stand by and retry (False).

        `on_start` runs when this process begins scheduling (now or at a take-over), `on_stop`
        when it stops, before the lock is let go: no other process sends while ours still does.
        """
        self._jobs, self._on_start, self._on_stop = list(interval_jobs or []), on_start, on_stop
        self._stopping.clear()
        if self._take_over():
            return True
        log.warning(
            "another Hashfloor process (pid %s) runs the scheduler on %s; "
            "this one answers Slack but does not poll, alert or send digests until it exits "
            "(standby: trying again every %.1f s)",
            self.lock.holder(),
            self.service.settings.hashfloor_db,
            self.retry_s,
        )
        self._set_role()
        self._standby = threading.Thread(
            target=self._stand_by, name="scheduler-standby", daemon=True
        )
        self._standby.start()
        return False

    def _take_over(self) -> bool:
        with self._mutex:
            if self._stopping.is_set() or not self.lock.acquire():
                return False
            scheduler = self.scheduler = build_scheduler(self.service, self._jobs)
            scheduler.start()
            # APScheduler plans on the wall clock: a step back must not stop the polls (§10).
            self.clock_watch = ClockWatch(lambda _step: replan(scheduler))
            self.clock_watch.start()
            self._set_role()
            if self._on_start is not None:
                self._on_start()
        log.info(
            "scheduler started: polling every %ss", self.service.settings.hashfloor_poll_seconds
        )
        return True

    def _stand_by(self) -> None:
        while not self._stopping.wait(self.retry_s):
            if self._take_over():
                log.info("took over the scheduler from the process that held it")
                return

    def _set_role(self) -> None:
        self.service.role = self.role

    def stop(self) -> None:
        self._stopping.set()
        if self._standby is not None and self._standby is not threading.current_thread():
            self._standby.join()
            self._standby = None
        with self._mutex:
            if self.clock_watch is not None:
                self.clock_watch.stop()
                self.clock_watch = None
            if self.scheduler is not None:
                self.scheduler.shutdown(wait=True)
                self.scheduler = None
                if self._on_stop is not None:
                    self._on_stop()
            self.lock.release()
