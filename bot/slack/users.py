"""Who may change what: users.info, cached, turned into Roles (DESIGN §9 "Who may change what").

A user is *external* when their organisation is not the workspace's: their `team_id` (or, on
Enterprise Grid, their enterprise) differs from the one the request is for. Slack sets
`is_stranger` only for users in no shared channel, so a Slack Connect partner in a shared channel
looks like a member by that flag alone; their admin or owner role is their own organisation's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.token_check import TOKEN_REFUSED
from commands.context import Roles

log = logging.getLogger("hashfloor.users")

CACHE_TTL_S = 600


def is_external(user: Mapping[str, Any], team_id: str | None, enterprise_id: str | None) -> bool:
    """True when the users.info `user` is not of the organisation of `team_id`/`enterprise_id`."""
    if user.get("is_stranger"):
        return True
    if enterprise_id:
        # On Grid a member's home workspace may be another of the same organisation.
        theirs = (user.get("enterprise_user") or {}).get("enterprise_id")
        if theirs:
            return theirs != enterprise_id
    home = user.get("team_id")
    if team_id and home:
        return home != team_id
    # Slack said nothing to compare: not external by team, as before (the console has no team).
    return False


def roles_of(
    user: Mapping[str, Any],
    team_id: str | None,
    enterprise_id: str | None,
    admins: set[str],
) -> Roles:
    """The roles of a users.info answer in the workspace `team_id` (pure)."""
    external = is_external(user, team_id, enterprise_id)
    own_admin = bool(user.get("is_admin") or user.get("is_owner"))
    return Roles(
        # An external user's admin role is their own organisation's: it never counts here.
        is_admin=not external and (own_admin or user.get("id") in admins),
        is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
        is_external=external,
    )


class UserRoles:
    """Caches users.info answers for ten minutes per (team, user); `forget` drops a user's."""

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

    def forget(self, user_id: str) -> None:
        """A role changed (`user_change`): the next change by this user asks Slack again."""
        with self._lock:
            for key in [k for k in self._cache if k[1] == user_id]:
                del self._cache[key]

    def lookup(
        self,
        client: WebClient,
        team_id: str | None,
        user_id: str,
        enterprise_id: str | None = None,
    ) -> Roles:
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
        roles = roles_of({"id": user_id, **user}, team_id, enterprise_id, self.admins)
        with self._lock:
            self._cache[(team_id, user_id)] = (self.clock(), roles)
        return roles
