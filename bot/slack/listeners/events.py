"""Events: a retried event from Slack is handled once; the App Home and uninstall hooks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse

from bot.service import Hashfloor
from storage import seen_events

log = logging.getLogger("hashfloor.events")


def register(app: App, service: Hashfloor) -> None:
    @app.middleware
    def once_per_event(
        body: dict[str, Any], next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not seen_events.first_time(service.storage.db, event_id, service.clock()):
            log.info("event %s already handled; Slack retried it", event_id)
            return BoltResponse(status=200, body="")
        return next()
