"""The App Home tab: publish the dashboard when someone opens it.

It names only the channels the viewer is known to be in (they used Hashfloor there: Slack runs a
command only where its user may post). The bot has no scope to ask Slack which channels are
private or who is in them (DESIGN §3.3), so every other channel is counted, never named: a private
channel's subscriptions are not shown to people outside it.

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

from bot import benchmarks
from bot.alerts import engine
from bot.alerts import retarget_messages as retarget_msgs
from bot.alerts.messages import line_value
from bot.alerts.retarget import is_adjustment_key
from bot.alerts.targets import Target, resolve, rule_name
from bot.digest import channels
from bot.service import Hashfloor
from bot.slack.home import DigestEntry, Subscription, home_view
from bot.slack.listeners.ack import just_ack
from storage import alerts, digests, workspaces
from storage import retarget as retarget_rules
from storage.workspaces import team_key

log = logging.getLogger("hashfloor.slack")


def dashboard(
    service: Hashfloor, team_id: str | None, now: float, viewer: str | None = None
) -> dict[str, Any]:
    """The Home view of a workspace for `viewer`, from SQLite only (None: every channel)."""
    db = service.storage.db
    team = team_key(team_id)
    known = workspaces.channels_of_member(db, team, viewer) if viewer else None
    fleets = workspaces.get_fleets(db, team)
    lines = engine.benchmark_lines(db, team, now)
    net = engine.network(db)
    rules = alerts.team_rules(db, team)
    subs = []
    now_view = service.view(team, now)
    rates = {c: r for c, r in now_view.rates.items() if r.fresh(now)}  # fleets in EUR, …
    for r in rules:
        target = resolve(r["line_key"], lines, fleets, net, rates)
        subs.append(
            Subscription(
                channel_id=r["channel_id"],
                label=rule_name(r["line_key"], target, fleets),
                value_usd=target.line.value_usd if target else None,
                state=r["state"],
                since=r["since"],
                paused_reason=r["paused_reason"],
                paused_at=r["paused_at"],
                key=r["line_key"],
                value=_value(r["line_key"], target),
                last_message_at=r["last_message_at"],
                last_message=r["last_message"],
                watching=(
                    retarget_msgs.watching(retarget_rules.memory(r))
                    if is_adjustment_key(r["line_key"])
                    else None
                ),
                old=benchmarks.old_note((target.near or target.line).period, now) if target else "",
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
    channels_in_use = {s.channel_id for s in subs} | {e.channel_id for e in entries}
    if known is not None:
        subs = [s for s in subs if s.channel_id in known]
        entries = [e for e in entries if e.channel_id in known]
    hidden = len(channels_in_use - known) if known is not None else 0
    money = workspaces.get_currency(db, team)
    lease = workspaces.get_hpc_lease(db, team)
    view = service.view(team, now)
    return home_view(view, fleets, subs, entries, hidden, money, hpc_lease=lease)


def _value(key: str, target: Target | None) -> str | None:
    """The value shown after a rule's name; None keeps the dollar value of a plain price line."""
    if target is not None and target.metric == "price" and target.near is None:
        return None
    return line_value(key, target)


def register(app: App, service: Hashfloor) -> None:
    def build(
        event: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        # SQLite only, in the request: the listener that follows, after the ack, only publishes.
        if event.get("tab") == "home":
            team_id = context.team_id or (event.get("view") or {}).get("team_id")
            viewer = event.get("user")
            context["home_view"] = dashboard(service, team_id, service.clock(), viewer)
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
