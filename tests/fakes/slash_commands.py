"""The fields Slack sends with a slash command: a form body over HTTP, a JSON payload in Socket
Mode."""

from __future__ import annotations

import itertools
import secrets

# Slack gives every invocation its own trigger_id; the bot applies a change once per trigger_id.
_invocations = itertools.count(13345224609)


def trigger_id() -> str:
    return f"{next(_invocations)}.738474920.{secrets.token_hex(16)}"


TEAM = "T0HASHFLR"


def command_fields(
    command: str,
    text: str,
    response_url: str,
    user: str = "U0MEMBER",
    channel: str = "C0MINING",
    team: str = TEAM,
) -> dict[str, str]:
    return {
        "token": "verification-token-unused",
        "team_id": team,
        "team_domain": "hashfloor-test",
        "channel_id": channel,
        "channel_name": "mining",
        "user_id": user,
        "user_name": user.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0HASHAPP",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id(),
    }
