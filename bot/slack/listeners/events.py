"""Once per trigger: a retried event, a replayed command or click, is handled once; a role change
drops the cached roles.

Slack retries an event it thinks was not delivered; anyone who captured a signed request can send
it again inside the five-minute signature window. Each trigger has a key (an event's `event_id`, a
slash command's `trigger_id`, a click's action and `action_ts`); the first request with a key is
handled, a second gets an answer and changes nothing (DESIGN §9 "Once per trigger").
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse

import commands
from bot.service import Hashfloor
from bot.slack.users import UserRoles
from storage import seen_events
from storage.db import fault

log = logging.getLogger("hashfloor.events")

ALREADY_DONE = "That command was already carried out once; this copy of it changed nothing."


def trigger_key(body: dict[str, Any]) -> str | None:
    """The key that makes a request one trigger, or None for requests that change nothing."""
    kind = body.get("type")
    if kind == "event_callback":
        return body.get("event_id")
    team = body.get("team_id") or (body.get("team") or {}).get("id") or ""
    if "command" in body:
        # Reads are answered again (a replay learns nothing new); a change is applied once.
        if not commands.is_change(body["command"], body.get("text") or ""):
            return None
        trigger = body.get("trigger_id")
        return f"command:{team}:{trigger}" if trigger else None
    if kind == "block_actions":
        # Each click has its own action_ts (and trigger_id); a replayed click repeats both.
        clicks = [f"{a.get('action_id')}@{a.get('action_ts')}" for a in body.get("actions") or []]
        if not clicks:
            return None
        return f"action:{team}:{body.get('trigger_id') or ''}:{','.join(clicks)}"
    return None


def _replayed(body: dict[str, Any]) -> BoltResponse:
    if "command" in body:
        answer = {"response_type": "ephemeral", "text": ALREADY_DONE}
        return BoltResponse(
            status=200, body=json.dumps(answer), headers={"content-type": "application/json"}
        )
    return BoltResponse(status=200, body="")


def register(app: App, service: Hashfloor, roles: UserRoles) -> None:
    @app.middleware
    def once_per_trigger(
        body: dict[str, Any], next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        # Every request passes here, in the thread that answers it: its writes give up early.
        service.storage.serve_slack()
        # Bolt runs this after the request's signature is verified: only Slack's requests count.
        key = trigger_key(body)
        if not key:
            return next()
        try:
            first = seen_events.first_time(service.storage.db, key, service.clock())
        except sqlite3.Error as exc:
            if fault(exc) is None:
                raise
            # Not recorded (another writer holds the database): handle it rather than hold the
            # request; a change then says itself that it could not be saved.
            log.warning("%s not recorded as handled: the database is %s", key, fault(exc))
            return next()
        if not first:
            if body.get("type") == "event_callback":
                log.info("event %s already handled; Slack retried it", key)
            else:
                log.warning("%s came a second time (a replay?); nothing changed", key)
            return _replayed(body)
        return next()

    @app.event("user_change")
    def role_changed(event: dict[str, Any]) -> None:
        # Made admin, turned guest, deactivated: the next change this user asks for is checked
        # against Slack's new answer, not the cached one (DESIGN §9).
        user_id = (event.get("user") or {}).get("id")
        if user_id:
            roles.forget(user_id)
