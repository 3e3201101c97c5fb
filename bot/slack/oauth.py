"""Multi-workspace mode (SLACK_CLIENT_ID/SLACK_CLIENT_SECRET): the OAuth install and the tokens.

`oauth_settings` wires Bolt's install flow to the encrypted store in the Hashfloor file;
`BotTokens` hands scheduled work (alerts, digests) a valid bot token for a workspace, rotating it
first when Slack's token rotation is on and the token is about to expire; Bolt's authorize does
the same through the same single-flight rotator (bot.slack.token_rotation).
"""

from __future__ import annotations

import html
import logging
from urllib.parse import urlsplit, urlunsplit

from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackTokenRotationError

from bot.settings import SECRET_KEY_HOWTO, Settings, SettingsError
from bot.slack.authorize_cache import AuthorizeCache
from bot.slack.client import make_client
from bot.slack.oauth_state import SignedStateStore
from bot.slack.token_rotation import ROTATE_MINUTES_BEFORE_EXPIRY, SharedTokenRotator
from storage.db import Storage
from storage.installations import EncryptedInstallationStore

log = logging.getLogger("hashfloor.oauth")

SCOPES = ["commands", "chat:write", "files:write", "users:read"]
INSTALL_PATH = "/slack/install"
REDIRECT_URI_PATH = "/slack/oauth_redirect"
STATE_EXPIRATION_SECONDS = 10 * 60

SECRET_KEY_REQUIRED = (
    "HASHFLOOR_SECRET_KEY: required when SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are set: it encrypts "
    f"the stored workspace tokens; {SECRET_KEY_HOWTO}"
)

# Bolt's failure reasons, and Slack's `error` on the redirect, in words an installer can act on.
FAILURE_REASONS = {
    "access_denied": "The installation was cancelled on Slack's page, so Hashfloor was not added.",
    "invalid_browser": (
        "This browser did not start the installation: the page was reloaded, the link was "
        "opened in another browser, or the install page was not served over https."
    ),
    "invalid_state": (
        "The installation link has expired (links last 10 minutes) or was already used."
    ),
    "missing_code": "Slack did not send an authorization code with this redirect.",
    "invalid_code": (
        "Slack did not accept the authorization code: it was already used or has expired."
    ),
    "storage_error": (
        "Hashfloor could not save the installation. Tell whoever runs this Hashfloor server."
    ),
}


def require_secret_key(settings: Settings) -> str | None:
    """The key that seals the stored tokens; multi-workspace mode refuses to start without one."""
    if settings.multi_workspace and not settings.hashfloor_secret_key:
        raise SettingsError(SECRET_KEY_REQUIRED)
    return settings.hashfloor_secret_key or None


def installation_store(settings: Settings, storage: Storage) -> EncryptedInstallationStore:
    key = require_secret_key(settings)
    if key is None:
        raise SettingsError(SECRET_KEY_REQUIRED)
    return EncryptedInstallationStore(storage, key)


def authorization_url(api_url: str) -> str:
    """Slack's consent page on the same host as the Web API (slack.com, slack-gov.com, a test)."""
    parts = urlsplit(api_url)
    path = parts.path.rstrip("/").removesuffix("/api")
    return urlunsplit((parts.scheme, parts.netloc, f"{path}/oauth/v2/authorize", "", ""))


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;"
        "padding:0 1em;line-height:1.5}</style></head>\n"
        f"<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )


def success_page(
    *,
    team_id: str | None,
    team_name: str | None,
    app_id: str | None,
    enterprise_name: str | None = None,
    is_enterprise_install: bool = False,
) -> str:
    if is_enterprise_install:
        where = f"the organization {html.escape(enterprise_name or '')}".rstrip()
        next_step = (
            "<p>An org admin can now add Hashfloor to workspaces from the organization's "
            "app management page.</p>"
        )
    else:
        where = html.escape(team_name or team_id or "your workspace")
        next_step = ""
    open_url = f"slack://app?team={team_id}&id={app_id}" if team_id and app_id else "slack://open"
    links = f'<p><a href="{html.escape(open_url)}">Open Slack</a>'
    if team_id:
        web = f"https://app.slack.com/client/{team_id}"
        links += f' or <a href="{html.escape(web)}">open it in the browser</a>'
    links += ".</p>"
    return _page(
        "Hashfloor is installed",
        f"<p>Hashfloor is now installed in {where}.</p>\n{next_step}"
        "<p>Try <code>/breakeven</code> or <code>/hashprice</code> in any channel, and "
        "<code>/hashfloor subscribe</code> in a channel that should get alerts when the price "
        "crosses a cost line. <code>/hashfloor help</code> lists everything.</p>\n" + links,
    )


def failure_page(reason: str, install_path: str = INSTALL_PATH) -> str:
    words = FAILURE_REASONS.get(reason) or f"Slack answered with the error “{reason}”."
    return _page(
        "Hashfloor was not installed",
        f"<p>{html.escape(words)}</p>\n"
        f'<p><a href="{html.escape(install_path)}">Start the installation again</a>.</p>\n'
        f"<p><small>reason: <code>{html.escape(reason)}</code></small></p>",
    )


def _on_success(args: SuccessArgs) -> BoltResponse:
    inst = args.installation
    log.info(
        "installed: enterprise=%s team=%s by user=%s",
        inst.enterprise_id,
        inst.team_id,
        inst.user_id,
    )
    page = success_page(
        team_id=inst.team_id,
        team_name=inst.team_name,
        app_id=inst.app_id,
        enterprise_name=inst.enterprise_name,
        is_enterprise_install=bool(inst.is_enterprise_install),
    )
    return BoltResponse(
        status=200,
        body=page,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Set-Cookie": args.settings.state_utils.build_set_cookie_for_deletion(),
        },
    )


def _on_failure(args: FailureArgs) -> BoltResponse:
    log.warning("installation failed: %s %s", args.reason, args.error or "")
    return BoltResponse(
        status=args.suggested_status_code,
        body=failure_page(args.reason, args.settings.install_path),
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Set-Cookie": args.settings.state_utils.build_set_cookie_for_deletion(),
        },
    )


def token_rotator(
    settings: Settings, store: EncryptedInstallationStore, client: WebClient | None = None
) -> SharedTokenRotator:
    """The one rotator of the process: Bolt's authorize and BotTokens share its lease."""
    return SharedTokenRotator(
        client_id=settings.slack_client_id or "",
        client_secret=settings.slack_client_secret or "",
        client=client or make_client(settings),
        store=store,
    )


def oauth_settings(settings: Settings, storage: Storage) -> OAuthSettings:
    if not (settings.slack_client_id and settings.slack_client_secret):
        raise SettingsError(
            "SLACK_CLIENT_ID, SLACK_CLIENT_SECRET: both are needed for multi-workspace mode"
        )
    store = installation_store(settings, storage)
    key = require_secret_key(settings) or ""
    result = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=SCOPES,
        user_scopes=[],
        install_path=INSTALL_PATH,
        # Straight to Slack's consent page: no page of ours with a button to press first.
        install_page_rendering_enabled=False,
        redirect_uri_path=REDIRECT_URI_PATH,
        callback_options=CallbackOptions(success=_on_success, failure=_on_failure),
        authorization_url=authorization_url(settings.api_url),
        installation_store=store,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
        # Signed, not stored: an unauthenticated GET /slack/install writes nothing.
        state_store=SignedStateStore(key, STATE_EXPIRATION_SECONDS),
        state_expiration_seconds=STATE_EXPIRATION_SECONDS,
        logger=log,
    )
    result.authorize = InstallationStoreAuthorize(
        logger=log,
        installation_store=store,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
        # Without it every request waits for an auth.test call before its listener runs.
        cache_enabled=True,
        client=make_client(settings),
    )
    # Bolt's cache is a dict kept forever; this one ages entries out and forgets a workspace
    # when its bot or installation is deleted (uninstall, tokens_revoked).
    cache = AuthorizeCache()
    result.authorize.authorize_result_cache = cache  # type: ignore[assignment]
    store.on_delete.append(cache.forget)
    # Bolt's own rotator refreshes on every request in the window and gives up ("reinstall")
    # on a failed refresh; ours refreshes once across processes and keeps a valid token.
    result.authorize.token_rotator = token_rotator(settings, store)
    return result


class BotTokens:
    """A workspace's bot token for work no Slack request started (alerts, digests, delivery)."""

    def __init__(self, settings: Settings, storage: Storage, client: WebClient | None = None):
        self.settings = settings
        self._store: EncryptedInstallationStore | None = None
        self._rotator: SharedTokenRotator | None = None
        if settings.multi_workspace:
            self._store = installation_store(settings, storage)
            self._rotator = token_rotator(settings, self._store, client)

    def for_team(self, team_id: str | None, enterprise_id: str | None = None) -> str | None:
        """The bot token to use now; None when the workspace has no (usable) installation."""
        if self._store is None or self._rotator is None:
            return self.settings.slack_bot_token
        bot = self._store.find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None and enterprise_id:
            # An org-wide install serves every workspace of the org.
            bot = self._store.find_bot(
                enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
            )
        if bot is None:
            return None
        try:
            fresh = self._rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=ROTATE_MINUTES_BEFORE_EXPIRY
            )
        except SlackTokenRotationError:
            return None  # expired and not renewed (the rotator said why): nothing to use
        return (fresh or bot).bot_token
