"""Start-up checks of the Slack credentials (DESIGN §10): a wrong token must stop the bot at start,
in one line naming the variable, not show up weeks later as changes that never go through."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.settings import Settings
from bot.slack.client import make_client
from storage.alerts import TEAM_ERRORS

log = logging.getLogger("hashfloor.run")

# Slack's answers that mean the token itself is refused (not a passing outage): the whole
# workspace's token is gone (TEAM_ERRORS, as for delivery), or no token reached Slack at all.
TOKEN_REFUSED = frozenset(TEAM_ERRORS) | {"not_authed", "token_expired", "not_allowed_token_type"}

# .env.example writes `xoxb-...`; a copy that was never edited must not start.
_PLACEHOLDER_MARKS = ("...", "…", "<", ">", "YOUR")
_CREDENTIALS = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-…) from OAuth & Permissions",
    "SLACK_SIGNING_SECRET": "the Signing Secret from Basic Information → App Credentials",
    "SLACK_APP_TOKEN": "an app-level token (xapp-…) with connections:write from Basic Information",
    "SLACK_CLIENT_ID": "the Client ID from Basic Information → App Credentials",
    "SLACK_CLIENT_SECRET": "the Client Secret from Basic Information → App Credentials",
}
_PREFIX = {"SLACK_BOT_TOKEN": "xoxb-", "SLACK_APP_TOKEN": "xapp-"}

CHECK_TIMEOUT_S = 5


@dataclass(frozen=True)
class TokenCheck:
    """What the start-up check found: `fatal` stops the bot with `line`; otherwise `line` is logged
    (a warning when `warn`)."""

    fatal: bool
    line: str
    warn: bool = False


def placeholder_problem(settings: Settings) -> str | None:
    """One line naming the first credential that is still a placeholder or of the wrong kind."""
    for name, what in _CREDENTIALS.items():
        value = getattr(settings, name.lower())
        if not value:
            continue
        if any(mark in value for mark in _PLACEHOLDER_MARKS):
            return (
                f"{name} is still a placeholder ({value[:12]!r}, as in .env.example); "
                f"set it to {what} of your Slack app"
            )
        prefix = _PREFIX.get(name)
        if prefix and not value.startswith(prefix):
            return (
                f"{name} does not start with {prefix!r} (it starts {value[:5]!r}); "
                f"it must be {what}"
            )
    return None


def check_bot_token(settings: Settings) -> TokenCheck:
    """`auth.test` with SLACK_BOT_TOKEN: refused → fatal; Slack unreachable → start with a warning."""
    client = make_client(settings, settings.slack_bot_token, retries=False)
    client.timeout = CHECK_TIMEOUT_S
    try:
        who = client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        if error in TOKEN_REFUSED:
            return TokenCheck(
                fatal=True,
                line=(
                    f"SLACK_BOT_TOKEN: Slack refused the token ({error}); copy "
                    f"{_CREDENTIALS['SLACK_BOT_TOKEN']} again, or reinstall the app to the "
                    "workspace"
                ),
            )
        return TokenCheck(
            fatal=False,
            warn=True,
            line=f"could not check SLACK_BOT_TOKEN: Slack answered {error}; starting anyway",
        )
    except Exception as exc:  # any network failure means "could not ask", not "refused"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return TokenCheck(
            fatal=False,
            warn=True,
            line=(
                f"could not reach Slack at {settings.api_url} to check SLACK_BOT_TOKEN "
                f"({reason}); starting anyway — behind a proxy? set HTTPS_PROXY"
            ),
        )
    return TokenCheck(
        fatal=False,
        line=f"SLACK_BOT_TOKEN accepted by Slack: bot @{who.get('user')} in {who.get('team')}",
    )
