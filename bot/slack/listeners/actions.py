"""Buttons on alert messages: Snooze 24h and Breakeven."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

import commands
from bot.alerts.messages import BREAKEVEN_ACTION, SNOOZE_ACTION
from bot.service import Hashfloor
from bot.slack.blocks import Reply
from bot.slack.listeners.ack import just_ack
from bot.slack.members import KnownMembers
from bot.slack.users import UserRoles
from commands.context import Ctx

log = logging.getLogger("hashfloor.slack")


def _ctx(
    body: dict[str, Any],
    service: Hashfloor,
    roles: UserRoles,
    client: WebClient,
    members: KnownMembers,
) -> Ctx:
    team_id = (body.get("team") or {}).get("id") or body.get("user", {}).get("team_id")
    user_id = body["user"]["id"]
    enterprise_id = (body.get("enterprise") or {}).get("id")
    channel_id = (body.get("channel") or {}).get("id")
    now = service.clock()
    members.saw(team_id, channel_id, user_id, now)
    return Ctx(
        service=service,
        user_id=user_id,
        team_id=team_id,
        channel_id=channel_id,
        now=now,
        roles=lambda: roles.lookup(client, team_id, user_id, enterprise_id),
    )


def register(app: App, service: Hashfloor, roles: UserRoles, members: KnownMembers) -> None:
    # Both answer through the response_url (and Snooze may call users.info): after the ack,
    # as lazy listeners in Bolt's worker pool.
    def snooze(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ctx = _ctx(body, service, roles, client, members)
        _send(respond, commands.answer(ctx, "/hashfloor", "mute 24h"))

    def breakeven(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ctx = _ctx(body, service, roles, client, members)
        _send(respond, commands.answer(ctx, "/breakeven", ""))

    app.action(SNOOZE_ACTION)(ack=just_ack, lazy=[snooze])
    app.action(BREAKEVEN_ACTION)(ack=just_ack, lazy=[breakeven])


def _send(respond: Respond, reply: Reply) -> None:
    try:
        respond(**reply.to_slack(), replace_original=False)
    except Exception:
        log.exception("a button's answer could not be sent to the response_url")
