"""What a command handler gets: who asked, where, when, and the service to answer from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.service import Hashfloor
from storage import audit
from storage.workspaces import team_key


@dataclass(frozen=True)
class Roles:
    is_admin: bool = False  # workspace admin or owner, or listed in HASHFLOOR_ADMINS
    is_guest: bool = False  # restricted or ultra-restricted
    # From another organisation: a Slack Connect partner, whatever role they hold in their own
    # (bot.slack.users.is_external). Read only.
    is_external: bool = False
    is_unknown: bool = False  # Slack did not say who this is (users.info failed)
    token_refused: bool = False  # ...because Slack refused the bot's token: retrying will not help


class PermissionDenied(Exception):
    """The user may not make this change; the message says why, for them."""


@dataclass
class Ctx:
    service: Hashfloor
    user_id: str
    team_id: str | None
    channel_id: str | None
    now: float
    # Lazy: looking a user up may need Slack (users.info); reads never call it.
    roles: Callable[[], Roles] = Roles
    channel_name: str | None = None
    # Posts a message visibly in this channel; returns None when Slack took it, else Slack's
    # error code. None where there is no Slack (the console). Changes only: it calls Slack.
    post: Callable[[str, list[dict[str, Any]]], str | None] | None = None

    @property
    def team(self) -> str:
        return team_key(self.team_id)

    def require_member(self) -> None:
        """Guests and people from other organisations cannot change anything."""
        r = self.roles()
        if r.is_external:
            raise PermissionDenied("People from other organisations cannot change Hashfloor here.")
        if r.is_unknown and not r.is_admin:
            if r.token_refused:
                raise PermissionDenied(
                    "Slack refused the bot's token — ask whoever installed Hashfloor to "
                    "reinstall it or to check SLACK_BOT_TOKEN."
                )
            raise PermissionDenied(
                "Hashfloor could not check who you are with Slack just now; try again in a minute."
            )
        if r.is_guest:
            raise PermissionDenied("Guests cannot change Hashfloor settings.")

    def require_admin(self) -> None:
        """Workspace-wide settings: admins, owners and the users in HASHFLOOR_ADMINS."""
        self.require_member()
        if not self.roles().is_admin:
            raise PermissionDenied(
                "Only workspace admins and owners (or users in HASHFLOOR_ADMINS) can change "
                "workspace-wide settings."
            )

    def audit(self, action: str, **detail: object) -> None:
        audit.record(
            self.service.storage.db, self.now, self.team_id, self.user_id, action, **detail
        )
