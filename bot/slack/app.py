"""The Bolt app, built from the settings and the service — no module-level globals."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from bot.service import Hashfloor
from bot.slack.client import make_client
from bot.slack.listeners import actions as action_listeners
from bot.slack.listeners import commands as command_listeners
from bot.slack.listeners import events as event_listeners
from bot.slack.users import UserRoles

log = logging.getLogger("hashfloor.slack")


def build_app(service: Hashfloor, client: WebClient | None = None) -> App:
    settings = service.settings
    if settings.multi_workspace:
        from bot.slack.oauth import oauth_settings

        app = App(
            signing_secret=settings.slack_signing_secret or "",
            client=client or make_client(settings),
            oauth_settings=oauth_settings(settings, service.storage),
            logger=log,
        )
        # app_uninstalled / tokens_revoked delete the installation (and the workspace's data).
        app.enable_token_revocation_listeners()
    else:
        token = settings.slack_bot_token
        app = App(
            signing_secret=settings.slack_signing_secret or "",
            client=client or make_client(settings, token),
            logger=log,
            # auth.test at start would make start-up depend on Slack; a bad token shows on first use.
            token_verification_enabled=False,
        )
    roles = UserRoles(settings.admins)
    event_listeners.register(app, service)
    command_listeners.register(app, service, roles)
    action_listeners.register(app, service, roles)
    return app
