"""The work no Slack request starts: alert evaluation after each poll, delivery, minute jobs.

It runs only in the process that holds the scheduler lock, so two processes never send the same
outbox row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from slack_sdk import WebClient

from bot.alerts.delivery import DeliveryWorker
from bot.alerts.engine import AlertEngine
from bot.digest.job import DigestJob
from bot.retention import RetentionJob
from bot.service import Hashfloor
from bot.slack.client import make_client


def client_source(service: Hashfloor) -> Callable[[str, str | None], WebClient | None]:
    """A Web API client with the right token for a workspace (rotated when it expires)."""
    from bot.slack.oauth import BotTokens

    tokens = BotTokens(service.settings, service.storage)
    cache: dict[str, WebClient] = {}
    lock = threading.Lock()

    def client_for(team_id: str, enterprise_id: str | None = None) -> WebClient | None:
        token = tokens.for_team(team_id, enterprise_id)
        if not token:
            return None
        with lock:
            if token not in cache:
                cache[token] = make_client(service.settings, token, retries=False)
            return cache[token]

    return client_for


class Background:
    def __init__(self, service: Hashfloor) -> None:
        self.service = service
        self.client_for = client_source(service)
        self.delivery = DeliveryWorker(
            service.storage, self.client_for, clock=service.clock, metrics=service.metrics
        )
        self.engine = AlertEngine(service.storage, on_queued=self.delivery.wake.set)
        service.after_poll.append(self.engine.evaluate)
        # (callable, seconds): jobs the scheduler runs on an interval, e.g. the digest's minute job.
        self.interval_jobs: list[tuple[Callable[[], object], int]] = []
        self.interval_jobs.append((DigestJob(service, self.client_for).run, 60))
        self.interval_jobs.append((RetentionJob(service).run, 3_600))  # prunes once a day

    def start(self) -> None:
        self.delivery.start()

    def stop(self) -> None:
        self.delivery.stop()
