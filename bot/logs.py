"""Logging in text or JSON lines (HASHFLOOR_LOG_FORMAT)."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        extra = getattr(record, "data", None)
        if isinstance(extra, dict):
            out.update(extra)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def setup(fmt: str = "text", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party chatter at INFO drowns the bot's own lines.
    for noisy in ("httpx", "httpcore", "apscheduler", "slack_bolt", "slack_sdk", "waitress"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # waitress warns "Task queue depth is N" whenever a request waits for a free thread: under a
    # burst of slash commands that is every request, and it says nothing an operator can act on.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


class Throttle:
    """At most one log line per `every_s` seconds for one kind of event; the rest are counted.

    A flood of refused requests must not flood the log (or the disk), but the first one must show:
    `ready()` answers whether to log now and how many were held back since the last line.
    """

    def __init__(self, every_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self.clock = clock
        self._next = float("-inf")
        self._held = 0
        self._lock = threading.Lock()

    def ready(self) -> int | None:
        """The count held back since the last line when a line is due now; None to stay quiet."""
        now = self.clock()
        with self._lock:
            if now < self._next:
                self._held += 1
                return None
            held, self._held = self._held, 0
            self._next = now + self.every_s
            return held
