"""One refresh of a workspace's rotating bot token at a time, shared by Bolt and scheduled work.

With Slack's token rotation a refresh token works once. Bolt's authorize (every request) and
`BotTokens` (alerts, digests) both find the token expiring in its last two hours; left alone,
six concurrent requests made six refreshes with the same refresh token. Here a short lease in
the database lets one caller — in any thread or process on the file — refresh and save, while
the others keep using the token, which is still valid, or wait briefly for the new one when it
is not. A refresh that fails while the token is still valid changes nothing for the users:
the token is used until it expires and the refresh is tried again a minute later.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.token_rotation import TokenRotator

from storage.installations import EncryptedInstallationStore, end_lease, take_lease

log = logging.getLogger("hashfloor.oauth")

# Slack's rotating tokens live 12 hours; renewing 2 hours ahead keeps a slow digest run safe.
ROTATE_MINUTES_BEFORE_EXPIRY = 120
# Longer than a refresh call can take: a holder that dies frees the workspace after this.
LEASE_SECONDS = 30.0
# After a failed refresh nobody tries again for a minute; the valid token serves meanwhile.
RETRY_AFTER_FAILURE_SECONDS = 60.0
# A caller whose token has already expired waits this long for another holder's refresh: it
# runs before the ack of a Slack request, which Slack wants within 3 s.
WAIT_FOR_HOLDER_SECONDS = 2.0
WAIT_STEP_SECONDS = 0.05


def _expiring(bot: Bot, now: float, minutes: int) -> bool:
    return bot.bot_token_expires_at is not None and bot.bot_token_expires_at <= now + minutes * 60


def _valid(bot: Bot, now: float) -> bool:
    return bot.bot_token_expires_at is None or bot.bot_token_expires_at > now


class SharedTokenRotator(TokenRotator):
    """slack_sdk's TokenRotator, single-flight per workspace and saving what it refreshed.

    `perform_bot_token_rotation` keeps its contract — None: use the bot you have — and Bolt's
    `perform_token_rotation` goes through it, so Bolt's authorize needs no change of its own.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        client: WebClient,
        store: EncryptedInstallationStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(client_id=client_id, client_secret=client_secret, client=client)
        self.store = store
        self.clock = clock

    def _stored(self, bot: Bot) -> Bot:
        found = self.store.find_bot(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            is_enterprise_install=bot.is_enterprise_install,
        )
        return found or bot

    def _take(self, where: tuple[str | None, str | None], holder: str, now: float) -> bool:
        try:
            return take_lease(self.store.storage, *where, holder, now, LEASE_SECONDS)
        except sqlite3.OperationalError:
            # The file is busy with another writer: as if someone else held the lease; a valid
            # token is used as it is and the refresh waits for the next caller.
            return False

    @staticmethod
    def _newer(current: Bot, had: Bot) -> Bot | None:
        return current if current.bot_token != had.bot_token else None

    def perform_bot_token_rotation(
        self, *, bot: Bot, minutes_before_expiration: int = ROTATE_MINUTES_BEFORE_EXPIRY
    ) -> Bot | None:
        if not _expiring(bot, self.clock(), minutes_before_expiration):
            return None
        holder = secrets.token_hex(8)
        where = (bot.enterprise_id, bot.team_id)
        give_up = time.monotonic() + WAIT_FOR_HOLDER_SECONDS
        while True:
            now = self.clock()
            current = self._stored(bot)
            if not _expiring(current, now, minutes_before_expiration):
                return self._newer(current, bot)  # someone else refreshed it
            if self._take(where, holder, now):
                break
            if _valid(current, now):
                return self._newer(current, bot)  # another caller refreshes; this one still works
            if time.monotonic() > give_up:
                raise _rotation_error("token expired and another refresh did not finish in time")
            time.sleep(WAIT_STEP_SECONDS)
        try:
            # Under the lease, look again: the previous holder may have saved just before letting go.
            current = self._stored(bot)
            if not _expiring(current, self.clock(), minutes_before_expiration):
                end_lease(self.store.storage, *where, holder)
                return self._newer(current, bot)
            fresh = super().perform_bot_token_rotation(
                bot=current, minutes_before_expiration=minutes_before_expiration
            )
            if fresh is not None:
                self.store.save_bot(fresh)  # before the lease ends: the next holder sees it
        except (SlackTokenRotationError, OSError) as exc:
            end_lease(
                self.store.storage,
                *where,
                holder,
                hold_off_until=self.clock() + RETRY_AFTER_FAILURE_SECONDS,
            )
            still_valid = _valid(current, self.clock())
            log.error(
                "token refresh failed for enterprise=%s team=%s: %s; %s",
                bot.enterprise_id,
                bot.team_id,
                _reason(exc),
                "the current token still works until it expires; trying again in a minute"
                if still_valid
                else "the token has expired: the workspace must reinstall the app",
            )
            if still_valid:
                return self._newer(current, bot)
            if isinstance(exc, SlackTokenRotationError):
                raise
            raise _rotation_error(_reason(exc)) from exc
        end_lease(self.store.storage, *where, holder)
        if fresh is not None:
            log.info("bot token rotated for enterprise=%s team=%s", bot.enterprise_id, bot.team_id)
        return fresh


def _reason(exc: Exception) -> str:
    if isinstance(exc, SlackTokenRotationError):
        return str(exc.api_error.response.get("error"))
    return repr(exc)


def _rotation_error(reason: str) -> SlackTokenRotationError:
    """What Bolt's authorize catches (and answers with "reinstall"), for a token that is dead."""
    return SlackTokenRotationError(SlackApiError(reason, {"ok": False, "error": reason}))
