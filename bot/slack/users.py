"""Who may change what: users.info, cached, turned into Roles."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.token_check import TOKEN_REFUSED
from commands.context import Roles

log = logging.getLogger("hashfloor.users")

CACHE_TTL_S = 600


class UserRoles:
    """Caches users.info answers for ten minutes per (team, user)."""

    def __init__(self, admins: set[str], clock: Callable[[], float] = time.monotonic) -> None:
        self.admins = admins
        self.clock = clock
        self._cache: dict[tuple[str | None, str], tuple[float, Roles]] = {}
        self._lock = threading.Lock()

    def cached(self, team_id: str | None, user_id: str) -> Roles | None:
        with self._lock:
            hit = self._cache.get((team_id, user_id))
        if hit and self.clock() - hit[0] < CACHE_TTL_S:
            return hit[1]
        return None

    def lookup(self, client: WebClient, team_id: str | None, user_id: str) -> Roles:
        roles = self.cached(team_id, user_id)
        if roles is not None:
            return roles
        try:
            user = client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            # Unknown means no rights: a change refused is safer than one allowed by mistake.
            error = exc.response.get("error")
            refused = error in TOKEN_REFUSED
            if refused:
                log.error("users.info %s: Slack refused the bot token (%s)", user_id, error)
            else:
                log.warning("users.info %s failed: %s", user_id, error)
            return Roles(is_admin=user_id in self.admins, is_unknown=True, token_refused=refused)
        roles = Roles(
            is_admin=bool(user.get("is_admin") or user.get("is_owner")) or user_id in self.admins,
            is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
            is_stranger=bool(user.get("is_stranger")),
        )
        with self._lock:
            self._cache[(team_id, user_id)] = (self.clock(), roles)
        return roles
