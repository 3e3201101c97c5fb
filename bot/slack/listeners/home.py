"""The App Home tab: publish the dashboard when someone opens it.

The view is built from SQLite while the request is handled; only views.publish, a call to Slack,
runs after the ack, in Bolt's worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot.alerts import engine
from bot.alerts.targets import resolve, rule_name
from bot.digest import channels
from bot.service import Hashfloor
from bot.slack.home import DigestEntry, Subscription, home_view
from bot.slack.listeners.ack import just_ack
from storage import alerts, digests, workspaces
from storage.workspaces import team_key

log = logging.getLogger("hashfloor.slack")


def dashboard(service: Hashfloor, team_id: str | None, now: float) -> dict[str, Any]:
    """The Home view of a workspace, from SQLite only."""
    db = service.storage.db
    team = team_key(team_id)
    fleet = workspaces.get_fleet(db, team)
    lines = engine.benchmark_lines(db, team)
    net = engine.network(db)
    rules = alerts.team_rules(db, team)
    subs = []
    for r in rules:
        target = resolve(r["line_key"], lines, fleet, net)
        subs.append(
            Subscription(
                channel_id=r["channel_id"],
                label=rule_name(r["line_key"], target),
                value_usd=target.line.value_usd if target else None,
                state=r["state"],
                since=r["since"],
                paused_reason=r["paused_reason"],
                paused_at=r["paused_at"],
            )
        )
    active = [s for s in alerts.subscribed_channels(db) if s["team_id"] == team]
    at = datetime.fromtimestamp(now, UTC)
    entries = [
        DigestEntry(
            channel_id=d.channel_id,
            schedule=d.schedule.describe() if d.enabled else None,
            default=not d.explicit,
            next_send=channels.next_words(d, at),
            last_error=d.last_error,
        )
        for d in channels.all_channels(digests.team_rows(db, team), active)
    ]
    return home_view(service.view(team, now), fleet, subs, entries)


def register(app: App, service: Hashfloor) -> None:
    def build(
        event: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        # SQLite only, in the request: the listener that follows, after the ack, only publishes.
        if event.get("tab") == "home":
            team_id = context.team_id or (event.get("view") or {}).get("team_id")
            context["home_view"] = dashboard(service, team_id, service.clock())
        return next()

    def publish(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        view = context.get("home_view")
        if view is None:
            return  # the Messages tab: nothing to draw
        try:
            client.views_publish(user_id=event["user"], view=view)
        except Exception:
            log.exception("views.publish for %s failed", event["user"])

    # views.publish is a call to Slack: a lazy listener, in Bolt's worker pool after the ack.
    app.event("app_home_opened", middleware=[build])(ack=just_ack, lazy=[publish])
