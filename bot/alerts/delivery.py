"""The delivery worker: sends outbox rows to Slack, in order, exactly as DESIGN §5 says.

- per channel, rows go in id order, at most one message per second;
- HTTP 429 waits out Retry-After; 5xx and network errors back off and retry;
- a row is marked sent only after Slack accepted it (a crash in between resends, never loses);
- permanent errors pause the channel's (or the workspace's) rules and are logged.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from storage import alerts
from storage.db import Storage

log = logging.getLogger("hashfloor.delivery")

PER_CHANNEL_INTERVAL_S = 1.0
BACKOFF_S = (1, 2, 5, 15, 30, 60, 120, 300)

ClientFor = Callable[[str, str | None], WebClient | None]


@dataclass(frozen=True)
class Outcome:
    kind: str  # sent | retry | permanent | failed
    detail: str = ""
    retry_after: float = 0.0


def classify_error(exc: Exception, attempts: int) -> Outcome:
    """What a failed send means: wait, retry with backoff, pause, or give up on this row."""
    if isinstance(exc, SlackApiError):
        resp = exc.response
        status = getattr(resp, "status_code", 200)
        error = (resp.get("error") if hasattr(resp, "get") else None) or f"HTTP {status}"
        if status == 429:
            try:
                wait = float(resp.headers.get("Retry-After", resp.headers.get("retry-after", 1)))
            except (TypeError, ValueError, AttributeError):
                wait = 1.0
            return Outcome("retry", "rate limited (429)", max(wait, 1.0))
        if status >= 500:
            return Outcome("retry", f"HTTP {status}", BACKOFF_S[min(attempts, len(BACKOFF_S) - 1)])
        if error in alerts.PERMANENT_ERRORS or error in alerts.TEAM_ERRORS:
            return Outcome("permanent", error)
        if error in ("ratelimited", "service_unavailable", "fatal_error", "internal_error"):
            return Outcome("retry", error, BACKOFF_S[min(attempts, len(BACKOFF_S) - 1)])
        return Outcome("failed", error)
    # Network errors, timeouts, a non-JSON answer: the message may or may not have arrived, but
    # losing an alert is worse than a rare duplicate.
    return Outcome(
        "retry", f"{type(exc).__name__}: {exc}"[:200], BACKOFF_S[min(attempts, len(BACKOFF_S) - 1)]
    )


class DeliveryWorker:
    def __init__(
        self,
        storage: Storage,
        client_for: ClientFor,
        clock: Callable[[], float] = time.time,
        threads: int = 8,
    ) -> None:
        self.storage = storage
        self.client_for = client_for
        self.clock = clock
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._last_sent: dict[str, float] = {}
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="delivery")
        self._thread: threading.Thread | None = None

    # --- one pass -------------------------------------------------------------------------

    def send_due(self) -> int:
        """Send the head row of every channel that may send now; returns how many were sent."""
        now = self.clock()
        rows = [
            r
            for r in alerts.due(self.storage.db, now)
            if now - self._last_sent.get(r["channel_id"], 0.0) >= PER_CHANNEL_INTERVAL_S
        ]
        if not rows:
            return 0
        return sum(self._pool.map(self._send, rows))

    def _send(self, row: dict[str, Any]) -> int:
        db = self.storage.db
        client = self.client_for(row["team_id"], row["enterprise_id"])
        if client is None:
            self._pause(row, "no token for this workspace (uninstalled?)")
            return 0
        thread_ts = None
        if row["thread_of"]:
            parent = alerts.get(db, row["thread_of"])
            if parent and parent["status"] == "pending":
                # The alert is still queued ahead of its recovery; ordering keeps this rare.
                alerts.retry_later(db, row["id"], self.clock() + 1, "waiting for the alert")
                return 0
            thread_ts = parent["ts"] if parent and parent["status"] == "sent" else None
        self._last_sent[row["channel_id"]] = self.clock()
        try:
            resp = client.chat_postMessage(
                channel=row["channel_id"],
                text=row["text"],
                blocks=json.loads(row["blocks"] or "[]") or None,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            )
        except Exception as exc:
            return self._failed(row, classify_error(exc, row["attempts"] or 0))
        with self.storage.transaction():  # the row and its rule's "last message" together
            alerts.mark_sent(db, row, resp.get("ts"), self.clock())
        log.info("sent %s %s to %s", row["kind"], row["key"], row["channel_id"])
        return 1

    def _failed(self, row: dict[str, Any], out: Outcome) -> int:
        db = self.storage.db
        now = self.clock()
        if out.kind == "retry":
            log.warning(
                "delivery of %s to %s: %s; retrying in %.0fs",
                row["key"],
                row["channel_id"],
                out.detail,
                out.retry_after,
            )
            alerts.retry_later(db, row["id"], now + out.retry_after, out.detail)
        elif out.kind == "permanent":
            self._pause(row, out.detail)
        else:
            log.error("Slack refused %s for %s: %s", row["key"], row["channel_id"], out.detail)
            alerts.mark_failed(db, row["id"], out.detail, now)
        return 0

    def _pause(self, row: dict[str, Any], reason: str) -> None:
        db = self.storage.db
        now = self.clock()
        with self.storage.transaction():
            alerts.mark_failed(db, row["id"], reason, now)
            if reason in alerts.TEAM_ERRORS:
                n = alerts.pause_team(db, row["team_id"], reason, now)
                # Every queued row of the workspace would be refused the same way: one call each
                # to Slack with a dead token, for nothing.
                alerts.fail_team_pending(db, row["team_id"], reason, now)
                scope = f"workspace {row['team_id']}"
            else:
                n = alerts.pause_channel(db, row["team_id"], row["channel_id"], reason, now)
                alerts.fail_channel_pending(db, row["team_id"], row["channel_id"], reason, now)
                scope = f"channel {row['channel_id']}"
        log.error("Slack answered %s: paused %d subscription(s) of %s", reason, n, scope)

    # --- the loop -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="delivery", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.send_due()
            except Exception:
                log.exception("delivery pass failed")
                sent = 0
            if not sent:
                self.wake.wait(0.25)
                self.wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread:
            self._thread.join(timeout=15)
        self._pool.shutdown(wait=True)

    def pending(self) -> int:
        return alerts.pending_count(self.storage.db)
