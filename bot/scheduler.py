"""The background scheduler: market polling now; alerts, delivery and digests add their jobs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.scheduler_lock import SchedulerLock
from bot.service import Hashfloor

log = logging.getLogger("hashfloor.scheduler")


def build_scheduler(
    service: Hashfloor, interval_jobs: list[tuple[Callable[[], object], int]] | None = None
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


class SchedulerGuard:
    """Starts the scheduler only if no other process on this database runs one."""

    def __init__(self, service: Hashfloor) -> None:
        self.service = service
        self.lock = SchedulerLock(service.settings.hashfloor_db)
        self.scheduler: BackgroundScheduler | None = None

    def start(self, interval_jobs: list[tuple[Callable[[], object], int]] | None = None) -> bool:
        if not self.lock.acquire():
            log.warning(
                "another Hashfloor process (pid %s) runs the scheduler on %s; "
                "this one answers Slack but does not poll, alert or send digests",
                self.lock.holder(),
                self.service.settings.hashfloor_db,
            )
            return False
        self.scheduler = build_scheduler(self.service, interval_jobs)
        self.scheduler.start()
        log.info(
            "scheduler started: polling every %ss", self.service.settings.hashfloor_poll_seconds
        )
        return True

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        self.lock.release()
