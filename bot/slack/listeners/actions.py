"""Buttons on alert messages: Snooze 24h and Breakeven."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

import commands
from bot.alerts.messages import BREAKEVEN_ACTION, SNOOZE_ACTION
from bot.service import Hashfloor
from bot.slack.users import UserRoles
from commands.context import Ctx


def _ctx(body: dict[str, Any], service: Hashfloor, roles: UserRoles, client: WebClient) -> Ctx:
    team_id = (body.get("team") or {}).get("id") or body.get("user", {}).get("team_id")
    user_id = body["user"]["id"]
    return Ctx(
        service=service,
        user_id=user_id,
        team_id=team_id,
        channel_id=(body.get("channel") or {}).get("id"),
        now=service.clock(),
        roles=lambda: roles.lookup(client, team_id, user_id),
    )


def register(app: App, service: Hashfloor, roles: UserRoles) -> None:
    @app.action(SNOOZE_ACTION)
    def snooze(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        ctx = _ctx(body, service, roles, client)
        reply = commands.answer(ctx, "/hashfloor", "mute 24h")
        respond(**reply.to_slack(), replace_original=False)

    @app.action(BREAKEVEN_ACTION)
    def breakeven(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        ctx = _ctx(body, service, roles, client)
        reply = commands.answer(ctx, "/breakeven", "")
        respond(**reply.to_slack(), replace_original=False)
