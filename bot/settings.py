"""Settings of DESIGN §3.2, read from the environment and from `.env`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PRICE_SOURCES = ("coinbase", "kraken", "bitstamp", "coingecko", "mempool")

# HASHFLOOR_SECRET_KEY seals the stored Slack tokens: a short one can be guessed offline by
# anyone who gets a copy of the database file.
SECRET_KEY_MIN_CHARS = 32
SECRET_KEY_HOWTO = (
    "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
)


def secret_key_problem(value: str, name: str = "HASHFLOOR_SECRET_KEY") -> str | None:
    """Why `value` cannot be a secret key, in one line that never shows the value; None if it can."""
    if len(value) < SECRET_KEY_MIN_CHARS:
        return (
            f"{name}: must be at least {SECRET_KEY_MIN_CHARS} characters "
            f"(it has {len(value)}); {SECRET_KEY_HOWTO}"
        )
    return None


class SettingsError(Exception):
    """A setting has a bad value; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: AnyHttpUrl = Field(default="https://slack.com/api/")

    hashfloor_db: Path = Path("./hashfloor.db")
    hashfloor_secret_key: str | None = None
    port: int = Field(default=3000, ge=1, le=65535)
    # The address PORT is bound on: 127.0.0.1 behind a reverse proxy on the same host.
    hashfloor_host: str = "0.0.0.0"
    hashfloor_poll_seconds: int = Field(default=60, ge=1)
    # Polls under 15 s hammer public APIs; allowed only against local fakes (tests, demos).
    hashfloor_allow_fast_poll: bool = False
    hashfloor_price_sources: str = ",".join(PRICE_SOURCES)

    hashfloor_coinbase_url: AnyHttpUrl = Field(default="https://api.coinbase.com")
    hashfloor_kraken_url: AnyHttpUrl = Field(default="https://api.kraken.com")
    hashfloor_bitstamp_url: AnyHttpUrl = Field(default="https://www.bitstamp.net")
    hashfloor_coingecko_url: AnyHttpUrl = Field(default="https://api.coingecko.com")
    hashfloor_mempool_url: AnyHttpUrl = Field(default="https://mempool.space")
    hashfloor_blockchain_info_url: AnyHttpUrl = Field(default="https://api.blockchain.info")

    hashfloor_admins: str = ""
    hashfloor_log_format: Literal["text", "json"] = "text"

    # Not in DESIGN §3.2: per-source HTTP timeouts, kept here so tests and benches can shorten them.
    hashfloor_http_timeout: float = Field(default=5.0, gt=0, le=60)

    # Retention (DESIGN §10), in days: every snapshot for ..._ALL_DAYS, then one an hour up to
    # ..._HOURLY_DAYS, then one a day; sent messages and audit rows go after their days.
    hashfloor_retention_snapshots_all_days: float = Field(default=2, gt=0)
    hashfloor_retention_snapshots_hourly_days: float = Field(default=365, gt=0)
    hashfloor_retention_outbox_days: float = Field(default=90, gt=0)
    hashfloor_retention_audit_days: float = Field(default=400, gt=0)

    @field_validator("hashfloor_db")
    @classmethod
    def _db_folder_exists(cls, value: Path) -> Path:
        if not value.expanduser().resolve().parent.is_dir():
            raise ValueError(f"folder {value.parent} does not exist")
        return value.expanduser()

    @model_validator(mode="after")
    def _retention_order(self) -> Settings:
        days = self.hashfloor_retention_snapshots_hourly_days
        if days < self.hashfloor_retention_snapshots_all_days:
            raise ValueError(
                "HASHFLOOR_RETENTION_SNAPSHOTS_HOURLY_DAYS: must be at least "
                f"HASHFLOOR_RETENTION_SNAPSHOTS_ALL_DAYS (got {days:g})"
            )
        return self

    @model_validator(mode="after")
    def _poll_minimum(self) -> Settings:
        if self.hashfloor_poll_seconds < 15 and not self.hashfloor_allow_fast_poll:
            raise ValueError(
                f"HASHFLOOR_POLL_SECONDS: must be at least 15 (got {self.hashfloor_poll_seconds})"
            )
        return self

    @model_validator(mode="after")
    def _secret_key_length(self) -> Settings:
        # Checked here, not in a field validator: the error must not quote the value.
        if self.hashfloor_secret_key and (problem := secret_key_problem(self.hashfloor_secret_key)):
            raise ValueError(problem)
        return self

    @field_validator("hashfloor_price_sources")
    @classmethod
    def _known_sources(cls, value: str) -> str:
        names = [n.strip().lower() for n in value.split(",") if n.strip()]
        unknown = [n for n in names if n not in PRICE_SOURCES]
        if unknown:
            raise ValueError(
                f"unknown source {unknown[0]!r}; choose from {', '.join(PRICE_SOURCES)}"
            )
        if not names:
            raise ValueError("name at least one source")
        return ",".join(names)

    @property
    def price_sources(self) -> list[str]:
        return self.hashfloor_price_sources.split(",")

    @property
    def admins(self) -> set[str]:
        return {a.strip() for a in self.hashfloor_admins.split(",") if a.strip()}

    def base_url(self, source: str) -> str:
        """Base URL of a market source, without a trailing slash."""
        return str(getattr(self, f"hashfloor_{source}_url")).rstrip("/")

    @property
    def api_url(self) -> str:
        url = str(self.slack_api_url)
        return url if url.endswith("/") else url + "/"

    @property
    def multi_workspace(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)


def load_settings(**overrides: object) -> Settings:
    """Build settings; a bad value raises SettingsError with one line naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        if not err["loc"]:  # a check across fields names its variable in the message
            raise SettingsError(msg) from None
        name = str(err["loc"][0]).upper()
        raise SettingsError(f"{name}: {msg} (got {err.get('input')!r})") from None
