"""Multi-workspace installations: who installed Hashfloor where, with every token encrypted at rest.

One row per bot (enterprise_id, team_id) and one per installer (enterprise_id, team_id, user_id);
saving again replaces the row, so the newest installation wins and superseded tokens leave the
disk. An org-wide (Enterprise Grid) install is stored under team_id '' and found whatever
workspace of the org asks. The bot lives only in `slack_bots`; `find_installation` joins it in,
so a rotated or revoked bot token is never shadowed by an older copy.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from logging import Logger
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from storage import forget
from storage.db import Storage, select, select_one

migrations = Migrations("hashfloor.installations")

log = logging.getLogger("hashfloor.installations")

# Fixed and public: the salt separates Hashfloor's keys from any other use of the same secret.
KEY_SALT = b"hashfloor/installation-store/v1"
KEY_INFO = b"fernet key for slack tokens"

WRONG_KEY = "HASHFLOOR_SECRET_KEY does not decrypt the stored tokens"

# The sealed columns of each table.
SEALED = {
    "slack_bots": ("bot_token", "bot_refresh_token"),
    "slack_installations": ("user_token", "user_refresh_token", "incoming_webhook_url"),
}


@migrations()
def m001_installations(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE slack_bots (
            enterprise_id TEXT NOT NULL DEFAULT '',
            team_id TEXT NOT NULL DEFAULT '',
            app_id TEXT,
            enterprise_name TEXT,
            team_name TEXT,
            bot_token TEXT NOT NULL,
            bot_id TEXT,
            bot_user_id TEXT,
            bot_scopes TEXT,
            bot_refresh_token TEXT,
            bot_token_expires_at INTEGER,
            is_enterprise_install INTEGER NOT NULL DEFAULT 0,
            installed_at REAL NOT NULL,
            PRIMARY KEY (enterprise_id, team_id)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE slack_installations (
            enterprise_id TEXT NOT NULL DEFAULT '',
            team_id TEXT NOT NULL DEFAULT '',
            user_id TEXT NOT NULL DEFAULT '',
            app_id TEXT,
            enterprise_name TEXT,
            enterprise_url TEXT,
            team_name TEXT,
            user_token TEXT,
            user_scopes TEXT,
            user_refresh_token TEXT,
            user_token_expires_at INTEGER,
            incoming_webhook_url TEXT,
            incoming_webhook_channel TEXT,
            incoming_webhook_channel_id TEXT,
            incoming_webhook_configuration_url TEXT,
            is_enterprise_install INTEGER NOT NULL DEFAULT 0,
            token_type TEXT,
            installed_at REAL NOT NULL,
            PRIMARY KEY (enterprise_id, team_id, user_id)
        )
        """
    )
    db.execute(
        "CREATE INDEX slack_installations_newest"
        " ON slack_installations (enterprise_id, team_id, installed_at)"
    )
    db.execute(
        """
        CREATE TABLE slack_oauth_states (
            state TEXT PRIMARY KEY,
            expires_at REAL NOT NULL
        )
        """
    )


@migrations()
def m002_token_leases(db: Database) -> None:
    # OAuth states are signed now (bot.slack.oauth_state): an install link writes nothing.
    db.execute("DROP TABLE IF EXISTS slack_oauth_states")
    # One token refresh at a time per workspace, across every thread and process on the file.
    db.execute(
        """
        CREATE TABLE token_leases (
            enterprise_id TEXT NOT NULL DEFAULT '',
            team_id TEXT NOT NULL DEFAULT '',
            holder TEXT NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (enterprise_id, team_id)
        )
        """
    )


class SecretKeyError(Exception):
    """The configured HASHFLOOR_SECRET_KEY is not the one the stored tokens were encrypted with."""


def derive_key(secret_key: str, info: bytes = KEY_INFO) -> bytes:
    """A key from any non-empty string (HKDF-SHA256 with Hashfloor's fixed salt), base64url.

    `info` separates uses of the same secret: the Fernet key of the tokens is not the HMAC key
    of the OAuth states.
    """
    if not secret_key:
        raise ValueError("HASHFLOOR_SECRET_KEY is empty")
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=KEY_SALT, info=info).derive(
        secret_key.encode("utf-8")
    )
    return base64.urlsafe_b64encode(raw)


class TokenCipher:
    def __init__(self, secret_key: str) -> None:
        self._fernet = Fernet(derive_key(secret_key))

    def encrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return self._fernet.decrypt(value.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            # Never echo the stored value: with a wrong key it is all we have of the token.
            raise SecretKeyError(
                f"{WRONG_KEY}: they were saved with another key. Set the key they were saved "
                "with, or have every workspace reinstall the app."
            ) from None


@dataclass(frozen=True)
class KeyCheck:
    """How many stored tokens the key opens; `workspaces` names those it does not."""

    tokens: int
    failed: int
    workspaces: tuple[str, ...]

    @property
    def problem(self) -> str | None:
        """One line: how many failed and what to do; None when every token decrypts."""
        if not self.failed:
            return None
        shown = ", ".join(self.workspaces[:5])
        if len(self.workspaces) > 5:
            shown += f" and {len(self.workspaces) - 5} more"
        if self.failed == self.tokens:
            return (
                f"{WRONG_KEY}: none of the {self.tokens} stored tokens decrypts (workspaces "
                f"{shown}). Set the key they were saved with (after `hashfloor db rekey`, the "
                "new one), or have every workspace reinstall the app."
            )
        return (
            f"{WRONG_KEY} for {self.failed} of {self.tokens} stored tokens (workspaces {shown}): "
            "they were saved with another key; those workspaces must reinstall the app, the "
            "others work."
        )


def _sealed_values(db: Database) -> Iterator[tuple[str, int, str, str, str]]:
    """(table, rowid, column, workspace, ciphertext) of every stored token."""
    for table, columns in SEALED.items():
        rows = select(
            db, f"SELECT rowid AS rid, enterprise_id, team_id, {', '.join(columns)} FROM {table}"
        )
        for row in rows:
            who = row["team_id"] or row["enterprise_id"] or "?"
            for column in columns:
                if row[column] is not None:
                    yield table, row["rid"], column, who, row[column]


def rekey(storage: Storage, old_key: str, new_key: str) -> int:
    """Re-encrypt every stored token under `new_key`, all or nothing; returns how many.

    A token the old key does not open raises SecretKeyError and nothing is changed.
    """
    old, new = TokenCipher(old_key), TokenCipher(new_key)
    count = 0
    with storage.transaction() as db:
        for table, rowid, column, _, value in list(_sealed_values(db)):
            plain = old.decrypt(value)
            db.execute(
                f"UPDATE {table} SET {column} = ? WHERE rowid = ?", [new.encrypt(plain), rowid]
            )
            count += 1
    return count


def _key(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None):
    """Row key: an org-wide install is one row for the whole org, whatever workspace asks."""
    return enterprise_id or "", "" if is_enterprise_install or team_id is None else team_id


def _or_none(value: str | None) -> str | None:
    return value or None


def _scopes(value: Any) -> str | None:
    if not value:
        return None
    return value if isinstance(value, str) else ",".join(value)


class EncryptedInstallationStore(InstallationStore):
    """slack_sdk's InstallationStore on the Hashfloor SQLite file, tokens sealed with Fernet."""

    def __init__(self, storage: Storage, secret_key: str) -> None:
        self.storage = storage
        self._cipher = TokenCipher(secret_key)
        self._logger = log
        # Called with (enterprise_id, team_id) when a bot or an installation is deleted: what
        # was learned about its tokens (Bolt's authorize cache) goes with it.
        self.on_delete: list[Callable[[str | None, str | None], Any]] = []

    @property
    def logger(self) -> Logger:
        return self._logger

    # -- save ---------------------------------------------------------------------------------

    def save(self, installation: Installation) -> None:
        enterprise_id, team_id = _key(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
        enc = self._cipher.encrypt
        row = {
            "enterprise_id": enterprise_id,
            "team_id": team_id,
            "user_id": installation.user_id or "",
            "app_id": installation.app_id,
            "enterprise_name": installation.enterprise_name,
            "enterprise_url": installation.enterprise_url,
            "team_name": installation.team_name,
            "user_token": enc(installation.user_token),
            "user_scopes": _scopes(installation.user_scopes),
            "user_refresh_token": enc(installation.user_refresh_token),
            "user_token_expires_at": installation.user_token_expires_at,
            "incoming_webhook_url": enc(installation.incoming_webhook_url),
            "incoming_webhook_channel": installation.incoming_webhook_channel,
            "incoming_webhook_channel_id": installation.incoming_webhook_channel_id,
            "incoming_webhook_configuration_url": installation.incoming_webhook_configuration_url,
            "is_enterprise_install": int(bool(installation.is_enterprise_install)),
            "token_type": installation.token_type,
            "installed_at": installation.installed_at,
        }
        with self.storage.transaction() as db:
            db["slack_installations"].insert(row, replace=True)
            if installation.bot_token is not None:
                self.save_bot(installation.to_bot())

    def save_bot(self, bot: Bot) -> None:
        if bot.bot_token is None:
            return
        enterprise_id, team_id = _key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        row = {
            "enterprise_id": enterprise_id,
            "team_id": team_id,
            "app_id": bot.app_id,
            "enterprise_name": bot.enterprise_name,
            "team_name": bot.team_name,
            "bot_token": self._cipher.encrypt(bot.bot_token),
            "bot_id": bot.bot_id,
            "bot_user_id": bot.bot_user_id,
            "bot_scopes": _scopes(bot.bot_scopes),
            "bot_refresh_token": self._cipher.encrypt(bot.bot_refresh_token),
            "bot_token_expires_at": bot.bot_token_expires_at,
            "is_enterprise_install": int(bool(bot.is_enterprise_install)),
            "installed_at": bot.installed_at,
        }
        with self.storage.transaction() as db:
            db["slack_bots"].insert(row, replace=True)

    # -- find ---------------------------------------------------------------------------------

    def _bot_row(self, enterprise_id: str, team_id: str) -> dict[str, Any] | None:
        rows = select(
            self.storage.db,
            "SELECT * FROM slack_bots WHERE enterprise_id = ? AND team_id = ?",
            [enterprise_id, team_id],
        )
        return next(iter(rows), None)

    def _bot(self, row: dict[str, Any]) -> Bot:
        dec = self._cipher.decrypt
        return Bot(
            app_id=row["app_id"],
            enterprise_id=_or_none(row["enterprise_id"]),
            enterprise_name=row["enterprise_name"],
            team_id=_or_none(row["team_id"]),
            team_name=row["team_name"],
            bot_token=dec(row["bot_token"]),  # type: ignore[arg-type]
            bot_id=row["bot_id"],
            bot_user_id=row["bot_user_id"],
            bot_scopes=row["bot_scopes"] or "",
            bot_refresh_token=dec(row["bot_refresh_token"]),
            bot_token_expires_at=row["bot_token_expires_at"],
            is_enterprise_install=bool(row["is_enterprise_install"]),
            installed_at=row["installed_at"],
        )

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        row = self._bot_row(*_key(enterprise_id, team_id, is_enterprise_install))
        return self._bot(row) if row else None

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        key = _key(enterprise_id, team_id, is_enterprise_install)
        sql = "SELECT * FROM slack_installations WHERE enterprise_id = ? AND team_id = ?"
        params: list[Any] = list(key)
        if user_id is not None:
            sql += " AND user_id = ?"
            params.append(user_id)
        # Without a user: the newest installation of the workspace (the rowid breaks ties).
        sql += " ORDER BY installed_at DESC, rowid DESC LIMIT 1"
        row = next(iter(select(self.storage.db, sql, params)), None)
        if row is None:
            return None
        bot_row = self._bot_row(*key)
        bot = self._bot(bot_row) if bot_row else None
        dec = self._cipher.decrypt
        return Installation(
            app_id=row["app_id"],
            enterprise_id=_or_none(row["enterprise_id"]),
            enterprise_name=row["enterprise_name"],
            enterprise_url=row["enterprise_url"],
            team_id=_or_none(row["team_id"]),
            team_name=row["team_name"],
            bot_token=bot.bot_token if bot else None,
            bot_id=bot.bot_id if bot else None,
            bot_user_id=bot.bot_user_id if bot else None,
            bot_scopes=bot.bot_scopes if bot else "",
            bot_refresh_token=bot.bot_refresh_token if bot else None,
            bot_token_expires_at=bot.bot_token_expires_at if bot else None,
            user_id=row["user_id"],
            user_token=dec(row["user_token"]),
            user_scopes=row["user_scopes"] or "",
            user_refresh_token=dec(row["user_refresh_token"]),
            user_token_expires_at=row["user_token_expires_at"],
            incoming_webhook_url=dec(row["incoming_webhook_url"]),
            incoming_webhook_channel=row["incoming_webhook_channel"],
            incoming_webhook_channel_id=row["incoming_webhook_channel_id"],
            incoming_webhook_configuration_url=row["incoming_webhook_configuration_url"],
            is_enterprise_install=bool(row["is_enterprise_install"]),
            token_type=row["token_type"],
            installed_at=row["installed_at"],
        )

    def check_key(self) -> KeyCheck:
        """Try the key on every stored token, not only the first."""
        tokens, failed, who = 0, 0, set()
        with self.storage.reading() as db:
            for _, _, _, workspace, value in _sealed_values(db):
                tokens += 1
                try:
                    self._cipher.decrypt(value)
                except SecretKeyError:
                    failed += 1
                    who.add(workspace)
        return KeyCheck(tokens, failed, tuple(sorted(who)))

    def verify_key(self) -> KeyCheck:
        """At start-up: raise SecretKeyError when the key opens none of the stored tokens.

        When it opens some, the others' workspaces are named in `problem` for a warning: the bot
        serves the rest, and those workspaces can reinstall.
        """
        check = self.check_key()
        if check.tokens and check.failed == check.tokens:
            raise SecretKeyError(check.problem)
        return check

    # -- delete (tokens_revoked, app_uninstalled) ------------------------------------------------

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        with self.storage.transaction() as db:
            db.execute(
                "DELETE FROM slack_bots WHERE enterprise_id = ? AND team_id = ?",
                list(_key(enterprise_id, team_id, False)),
            )
        self._deleted(enterprise_id, team_id)

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        sql = "DELETE FROM slack_installations WHERE enterprise_id = ? AND team_id = ?"
        params: list[Any] = list(_key(enterprise_id, team_id, False))
        if user_id is not None:
            sql += " AND user_id = ?"
            params.append(user_id)
        with self.storage.transaction() as db:
            db.execute(sql, params)
        self._deleted(enterprise_id, team_id)

    def _deleted(self, enterprise_id: str | None, team_id: str | None) -> None:
        for hook in self.on_delete:
            hook(enterprise_id, team_id)

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Uninstall: the tokens go first and for sure, then everything the workspace left."""
        with self.storage.transaction():
            self.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
            self.delete_installation(enterprise_id=enterprise_id, team_id=team_id)
        deleted: dict[str, int] = {}
        if team_id:
            with self.storage.transaction() as db:
                deleted = forget.forget_team(db, team_id, time.time())
        log.info(
            "workspace uninstalled: enterprise=%s team=%s; deleted %d rows",
            enterprise_id,
            team_id,
            sum(deleted.values()),
        )


def installed_teams(storage: Storage) -> list[tuple[str | None, str | None]]:
    """(enterprise_id, team_id) of every installed bot, oldest first; team_id None: org-wide."""
    rows = storage.db.execute(
        "SELECT enterprise_id, team_id FROM slack_bots ORDER BY installed_at, rowid"
    ).fetchall()
    return [(e or None, t or None) for e, t in rows]


# -- one token refresh at a time -------------------------------------------------------------------


def take_lease(
    storage: Storage,
    enterprise_id: str | None,
    team_id: str | None,
    holder: str,
    now: float,
    seconds: float,
) -> bool:
    """Hold the workspace's refresh lease for `seconds`; False while someone else holds it.

    BEGIN IMMEDIATE makes the read and the write one step for every process on the file.
    """
    key = list(_key(enterprise_id, team_id, False))
    with storage.transaction() as db:
        row = select_one(
            db,
            "SELECT holder, expires_at FROM token_leases WHERE enterprise_id = ? AND team_id = ?",
            key,
        )
        if row is not None and row["expires_at"] > now and row["holder"] != holder:
            return False
        db.execute(
            "INSERT OR REPLACE INTO token_leases (enterprise_id, team_id, holder, expires_at)"
            " VALUES (?, ?, ?, ?)",
            [*key, holder, now + seconds],
        )
    return True


def end_lease(
    storage: Storage,
    enterprise_id: str | None,
    team_id: str | None,
    holder: str,
    hold_off_until: float | None = None,
) -> None:
    """Give the lease back; with `hold_off_until`, nobody takes it before then (after a failure)."""
    key = list(_key(enterprise_id, team_id, False))
    with storage.transaction() as db:
        if hold_off_until is None:
            db.execute(
                "DELETE FROM token_leases WHERE enterprise_id = ? AND team_id = ? AND holder = ?",
                [*key, holder],
            )
        else:
            db.execute(
                "UPDATE token_leases SET holder = '', expires_at = ?"
                " WHERE enterprise_id = ? AND team_id = ? AND holder = ?",
                [hold_off_until, *key, holder],
            )
