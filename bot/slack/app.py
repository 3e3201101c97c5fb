"""The Bolt app, built from the settings and the service — no module-level globals."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_sdk import WebClient

from bot.metrics import Metrics
from bot.service import Hashfloor
from bot.slack.client import make_client
from bot.slack.listeners import actions as action_listeners
from bot.slack.listeners import commands as command_listeners
from bot.slack.listeners import events as event_listeners
from bot.slack.listeners import home as home_listeners
from bot.slack.members import KnownMembers
from bot.slack.users import UserRoles

log = logging.getLogger("hashfloor.slack")


class _TokenIsUsed(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and, seeing our client too, warns that the token will be
    unused; StaticToken below does use it, so the warning would only mislead an operator."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


log.addFilter(_TokenIsUsed())


class StaticToken(Authorize):
    """Single-workspace authorization: the bot token is in the settings, no API call needed."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **actor: str | None,
    ) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, bot_token=self.token
        )


def timed_commands(metrics: Metrics) -> Callable[..., None]:
    """Counts slash commands and times them up to the ack, which with process_before_response
    is when the listener returns (/metrics: hashfloor_slash_command_seconds)."""

    def middleware(body: dict, next: Callable[[], None]) -> None:  # noqa: A002 (Bolt's name)
        command = body.get("command") if isinstance(body, dict) else None
        if not command:
            next()
            return
        start = time.perf_counter()
        try:
            next()
        finally:
            metrics.observe_command(command, time.perf_counter() - start)

    return middleware


def build_app(service: Hashfloor, client: WebClient | None = None) -> App:
    """The Bolt app; `client`, if given, must carry no token in single-workspace mode.

    `process_before_response`: listeners run in the request's thread and the ack is sent when
    they return. Reads answer from SQLite in well under a millisecond, so this skips Bolt's
    hand-off to a worker thread and its 10 ms ack poll; anything that calls Slack is a lazy
    listener, which Bolt runs in its worker pool after the ack.
    """
    settings = service.settings
    # Bolt's pool for lazy listeners (Bolt's default size); its threads answer Slack, so their
    # writes give up early too and a change says "the database is busy" instead of waiting.
    lazy_executor = ThreadPoolExecutor(max_workers=5, initializer=service.storage.serve_slack)
    if settings.multi_workspace:
        from bot.slack.oauth import oauth_settings

        app = App(
            signing_secret=settings.slack_signing_secret or "",
            client=client or make_client(settings),
            oauth_settings=oauth_settings(settings, service.storage),
            logger=log,
            process_before_response=True,
            listener_executor=lazy_executor,
        )
        # app_uninstalled / tokens_revoked delete the installation (and the workspace's data).
        app.enable_token_revocation_listeners()
    else:
        app = App(
            signing_secret=settings.slack_signing_secret or "",
            # No token on the app's client: Bolt would then call auth.test before acking the first
            # request (a wait on Slack, or "reinstall the app" when it fails). Each request's
            # client gets the token from StaticToken instead; a bad token shows on first use.
            client=client or make_client(settings),
            authorize=StaticToken(settings.slack_bot_token or ""),
            logger=log,
            process_before_response=True,
            listener_executor=lazy_executor,
        )
    roles = UserRoles(settings.admins)
    app.use(timed_commands(service.metrics))
    members = KnownMembers(service.storage)
    event_listeners.register(app, service, roles)
    command_listeners.register(app, service, roles, members)
    action_listeners.register(app, service, roles, members)
    home_listeners.register(app, service)
    return app
