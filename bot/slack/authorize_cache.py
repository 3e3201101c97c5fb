"""What Bolt's authorize learned from `auth.test`, kept for a while so a request does not ask again.

In multi-workspace mode Bolt's InstallationStoreAuthorize reads the workspace's installation from
the store on every request, then calls `auth.test` with its bot token before the listener runs:
one Slack round trip in front of every slash command. Its `cache_enabled` keeps the answer in a
plain dict, by token, forever. This is the mapping it is given instead:

- an entry lives `ttl_s` (10 minutes): a token revoked without an event reaching this process
  (the event went to another process, or was lost) is asked about again within that time;
- uninstall and `tokens_revoked` drop the workspace's entries at once (the installation store
  calls `forget` when it deletes a bot or an installation); even before that, a deleted bot has
  no token in the store, and Bolt finds no token before it looks in the cache;
- a rotated token is a new key (asked once); the old one ages out, and the oldest entries go
  beyond `max_entries`, so the cache stays bounded over months of rotation.

Bolt tests `token in cache`, then reads `cache[token]`: the entry found by the test is handed to
the read in the same thread, so an entry expiring or forgotten in between cannot fail a request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

TTL_S = 600.0
MAX_ENTRIES = 20_000


class AuthorizeCache:
    def __init__(
        self,
        ttl_s: float = TTL_S,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        # token -> (stored at, Bolt's AuthorizeResult); oldest first.
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._found = threading.local()

    def __contains__(self, token: object) -> bool:
        with self._lock:
            entry = self._entries.get(token)  # type: ignore[call-overload]
            if entry is None:
                return False
            if self._clock() - entry[0] >= self.ttl_s:
                del self._entries[token]  # type: ignore[arg-type]
                return False
        self._found.entry = (token, entry[1])
        return True

    def __getitem__(self, token: str) -> Any:
        found = getattr(self._found, "entry", None)
        if found is not None and found[0] == token:
            self._found.entry = None
            return found[1]
        with self._lock:
            return self._entries[token][1]

    def __setitem__(self, token: str, result: Any) -> None:
        with self._lock:
            self._entries.pop(token, None)
            self._entries[token] = (self._clock(), result)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def forget(self, enterprise_id: str | None, team_id: str | None) -> int:
        """Drop the entries of a workspace (with `team_id`) or of an org-wide install (team_id
        None: every entry of the enterprise); returns how many went."""
        with self._lock:
            gone = [
                token
                for token, (_, result) in self._entries.items()
                if _belongs(result, enterprise_id, team_id)
            ]
            for token in gone:
                del self._entries[token]
        return len(gone)


def _belongs(result: Any, enterprise_id: str | None, team_id: str | None) -> bool:
    if team_id:  # team ids are unique across Slack, in an enterprise or not
        return result.get("team_id") == team_id
    return bool(enterprise_id) and result.get("enterprise_id") == enterprise_id
