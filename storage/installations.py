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
import secrets
import time
from collections.abc import Callable
from logging import Logger
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from storage import alerts, digests, workspaces
from storage.db import Storage, select

migrations = Migrations("hashfloor.installations")

log = logging.getLogger("hashfloor.installations")

# Fixed and public: the salt separates Hashfloor's keys from any other use of the same secret.
KEY_SALT = b"hashfloor/installation-store/v1"
KEY_INFO = b"fernet key for slack tokens"

WRONG_KEY = "HASHFLOOR_SECRET_KEY does not decrypt the stored tokens"

# Called with (db, team_id) when a workspace uninstalls, inside the same transaction as the
# workspace's own rows; table families that keep per-workspace data (subscriptions…) append here.
ON_FORGET: list[Callable[[Database, str], None]] = []

_BOT_SECRETS = ("bot_token", "bot_refresh_token")
_INSTALLATION_SECRETS = ("user_token", "user_refresh_token", "incoming_webhook_url")


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


class SecretKeyError(Exception):
    """The configured HASHFLOOR_SECRET_KEY is not the one the stored tokens were encrypted with."""


def derive_key(secret_key: str) -> bytes:
    """A Fernet key from any non-empty string (HKDF-SHA256 with Hashfloor's fixed salt)."""
    if not secret_key:
        raise ValueError("HASHFLOOR_SECRET_KEY is empty")
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=KEY_SALT, info=KEY_INFO).derive(
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

    def verify_key(self) -> None:
        """Raise SecretKeyError now, at start-up, rather than on the first event or alert."""
        db = self.storage.db
        for sql in (
            "SELECT bot_token FROM slack_bots LIMIT 1",
            "SELECT user_token FROM slack_installations WHERE user_token IS NOT NULL LIMIT 1",
        ):
            for row in db.execute(sql).fetchall():
                self._cipher.decrypt(row[0])

    # -- delete (tokens_revoked, app_uninstalled) ------------------------------------------------

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        with self.storage.transaction() as db:
            db.execute(
                "DELETE FROM slack_bots WHERE enterprise_id = ? AND team_id = ?",
                list(_key(enterprise_id, team_id, False)),
            )

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

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Uninstall: the tokens go first and for sure, then everything the workspace left."""
        with self.storage.transaction():
            self.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
            self.delete_installation(enterprise_id=enterprise_id, team_id=team_id)
        if team_id:
            with self.storage.transaction() as db:
                workspaces.forget_team(db, team_id)
                alerts.forget_team(db, team_id)
                digests.forget_team(db, team_id)
                for forget in ON_FORGET:
                    forget(db, team_id)
        log.info("workspace uninstalled: enterprise=%s team=%s", enterprise_id, team_id)


def installed_teams(storage: Storage) -> list[tuple[str | None, str | None]]:
    """(enterprise_id, team_id) of every installed bot, oldest first; team_id None: org-wide."""
    rows = storage.db.execute(
        "SELECT enterprise_id, team_id FROM slack_bots ORDER BY installed_at, rowid"
    ).fetchall()
    return [(e or None, t or None) for e, t in rows]


class SQLiteOAuthStateStore(OAuthStateStore):
    """OAuth `state` values in the Hashfloor file: each one works once, and only until it expires."""

    def __init__(
        self,
        storage: Storage,
        expiration_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.storage = storage
        self.expiration_seconds = expiration_seconds
        self.clock = clock

    @property
    def logger(self) -> Logger:
        return log

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        now = self.clock()
        with self.storage.transaction() as db:
            # Abandoned installs leave states behind; sweep them as new ones come in.
            db.execute("DELETE FROM slack_oauth_states WHERE expires_at <= ?", [now])
            db.execute(
                "INSERT INTO slack_oauth_states (state, expires_at) VALUES (?, ?)",
                [state, now + self.expiration_seconds],
            )
        return state

    def consume(self, state: str) -> bool:
        # One DELETE decides: two callbacks racing with the same state cannot both win.
        with self.storage.transaction() as db:
            cursor = db.execute(
                "DELETE FROM slack_oauth_states WHERE state = ? AND expires_at > ?",
                [state, self.clock()],
            )
            return cursor.rowcount == 1
