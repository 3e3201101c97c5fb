"""The fields Slack sends with a slash command: a form body over HTTP, a JSON payload in Socket
Mode."""

from __future__ import annotations

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
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    }
