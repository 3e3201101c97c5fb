"""Slash commands: a read is answered in the ack; a change is acked, then applied after it.

The app runs with `process_before_response`, so a read is answered in the request's own thread
with no hand-off to Bolt's worker pool: SQLite only, no network call on this path. A change
(which may call users.info to check the user's role, `subscribe` posts its confirmation in the
channel, then answers at the `response_url`) runs as a lazy listener in the worker pool, after the
empty ack has gone back to Slack.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

import commands
from bot.service import Hashfloor
from bot.slack.listeners.ack import just_ack
from bot.slack.members import KnownMembers
from bot.slack.users import UserRoles
from commands.context import Ctx

log = logging.getLogger("hashfloor.slack")


def _is_change(command: dict[str, Any]) -> bool:
    return commands.is_change(command["command"], command.get("text", ""))


def _is_read(command: dict[str, Any]) -> bool:
    return not _is_change(command)


def post_in_channel(
    client: WebClient, channel: str | None, text: str, blocks: list[dict[str, Any]]
) -> str | None:
    """A visible message in the channel; None when Slack accepted it, else why not, in a word."""
    try:
        client.chat_postMessage(
            channel=channel or "", text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
    except SlackApiError as exc:
        return exc.response.get("error") or f"HTTP {exc.response.status_code}"
    except Exception as exc:  # network: Slack could not be asked
        log.warning("posting in %s: %s", channel, exc)
        return "unreachable"
    return None


def register(app: App, service: Hashfloor, roles: UserRoles, members: KnownMembers) -> None:
    def ctx(command: dict[str, Any], client: WebClient) -> Ctx:
        team_id, user_id = command.get("team_id"), command["user_id"]
        enterprise_id = command.get("enterprise_id") or None
        now = service.clock()
        members.saw(team_id, command.get("channel_id"), user_id, now)
        return Ctx(
            service=service,
            user_id=user_id,
            team_id=team_id,
            channel_id=command.get("channel_id"),
            now=now,
            roles=lambda: roles.lookup(client, team_id, user_id, enterprise_id),
            channel_name=command.get("channel_name"),
            post=lambda text, blocks: post_in_channel(
                client, command.get("channel_id"), text, blocks
            ),
        )

    def answer_read(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        reply = commands.answer(ctx(command, client), command["command"], command.get("text", ""))
        ack(**reply.to_slack())

    def apply_change(command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        name, text = command["command"], command.get("text", "")
        try:
            respond(**commands.answer(ctx(command, client), name, text).to_slack())
        except Exception:
            # Bolt would log a lazy listener's failure as one line without the traceback.
            log.exception("%s %r: the answer could not be sent to the response_url", name, text)

    for name in commands.COMMANDS:
        app.command(name, matchers=[_is_read])(answer_read)
        app.command(name, matchers=[_is_change])(ack=just_ack, lazy=[apply_change])
