"""OAuth `state` values that need no storage: `nonce.expiry.signature`.

Every unauthenticated GET /slack/install used to write a row; a signed, expiring state proves
the same thing (this server issued it, and not long ago) with a keyed hash instead. The state
is also the browser's cookie (Bolt's OAuthStateUtils), so a redirect that did not start in the
same browser is still refused, and Slack spends each authorization code once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from logging import Logger
from typing import Any

from slack_sdk.oauth.state_store import OAuthStateStore

from storage.installations import derive_key

log = logging.getLogger("hashfloor.oauth")

STATE_KEY_INFO = b"hmac key for oauth states"


class SignedStateStore(OAuthStateStore):
    """Bolt's OAuthStateStore without writes: issue() signs, consume() checks."""

    def __init__(
        self,
        secret_key: str,
        expiration_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Its own key from the secret: a state signature says nothing about the token key.
        self._key = derive_key(secret_key, STATE_KEY_INFO)
        self.expiration_seconds = expiration_seconds
        self.clock = clock

    @property
    def logger(self) -> Logger:
        return log

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def issue(self, *args: Any, **kwargs: Any) -> str:
        payload = f"{secrets.token_urlsafe(16)}.{int(self.clock()) + self.expiration_seconds}"
        return f"{payload}.{self._sign(payload)}"

    def consume(self, state: str) -> bool:
        try:
            nonce, expiry, signature = state.split(".")
            expires_at = int(expiry)
            payload = f"{nonce}.{expiry}"
            expected = self._sign(payload).encode("ascii")
            given = signature.encode("ascii")
        except (ValueError, UnicodeError):
            return False
        # Signature first, in constant time; only then does the expiry mean anything.
        return hmac.compare_digest(given, expected) and expires_at > self.clock()
