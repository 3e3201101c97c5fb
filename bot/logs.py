"""Logging in text or JSON lines (HASHFLOOR_LOG_FORMAT)."""

from __future__ import annotations

import json
import logging
import sys
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
