"""Slash commands: ack first; reads answer in the ack, changes answer through response_url."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

import commands
from bot.service import Hashfloor
from bot.slack.users import UserRoles
from commands.context import Ctx


def register(app: App, service: Hashfloor, roles: UserRoles) -> None:
    def on_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        name, text = command["command"], command.get("text", "")
        team_id, user_id = command.get("team_id"), command["user_id"]
        ctx = Ctx(
            service=service,
            user_id=user_id,
            team_id=team_id,
            channel_id=command.get("channel_id"),
            now=service.clock(),
            roles=lambda: roles.lookup(client, team_id, user_id),
            channel_name=command.get("channel_name"),
        )
        if not commands.is_change(name, text):
            # SQLite only: the answer rides on the ack, no network call on this path.
            ack(**commands.answer(ctx, name, text).to_slack())
            return
        ack()
        respond(**commands.answer(ctx, name, text).to_slack())

    for name in commands.COMMANDS:
        app.command(name)(on_command)
