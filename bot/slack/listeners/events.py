"""Events: a retried event from Slack is handled once; a role change drops the cached roles."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse

from bot.service import Hashfloor
from bot.slack.users import UserRoles
from storage import seen_events
from storage.db import fault

log = logging.getLogger("hashfloor.events")


def register(app: App, service: Hashfloor, roles: UserRoles) -> None:
    @app.middleware
    def once_per_event(
        body: dict[str, Any], next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        # Every request passes here, in the thread that answers it: its writes give up early.
        service.storage.serve_slack()
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            return next()
        try:
            first = seen_events.first_time(service.storage.db, event_id, service.clock())
        except sqlite3.Error as exc:
            if fault(exc) is None:
                raise
            # Not recorded (another writer holds the database): handle it rather than hold the
            # request; a retry of it would be handled again, as without the record.
            log.warning(
                "event %s not recorded as handled: the database is %s", event_id, fault(exc)
            )
            return next()
        if not first:
            log.info("event %s already handled; Slack retried it", event_id)
            return BoltResponse(status=200, body="")
        return next()

    @app.event("user_change")
    def role_changed(event: dict[str, Any]) -> None:
        # Made admin, turned guest, deactivated: the next change this user asks for is checked
        # against Slack's new answer, not the cached one (DESIGN §9).
        user_id = (event.get("user") or {}).get("id")
        if user_id:
            roles.forget(user_id)
