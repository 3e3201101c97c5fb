"""Per-workspace and per-channel settings: the fleets (a workspace's), mute and threads (a
channel's).

A channel's row is keyed by workspace *and* channel: a Slack Connect channel has the same id in
every workspace that shares it, and each workspace that installed the bot has its own state there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from storage.db import select, select_one

migrations = Migrations("hashfloor.workspaces")

# Console and single-workspace installs without a team id share this key.
LOCAL_TEAM = "local"
# The fleet a command without a name sets, and the one a workspace had before fleets had names.
MAIN = "main"
# Fleets per workspace: plenty for sites, and a bound on what one answer lists.
MAX_FLEETS = 50


@migrations()
def m001_fleets_channels(db: Database) -> None:
    db["fleets"].create(
        {
            "team_id": str,
            "efficiency_j_per_th": float,
            "power_usd_per_kwh": float,
            "pool_fee": float,
            "hashrate_ph": float,
            "updated_by": str,
            "updated_at": float,
        },
        pk="team_id",
    )
    db["channels"].create(
        {"channel_id": str, "team_id": str, "muted_until": float, "updated_at": float},
        pk="channel_id",
    )


@migrations()
def m002_channels_by_workspace(db: Database) -> None:
    """channels: keyed by (team_id, channel_id) instead of channel_id alone; rows carry over."""
    db.execute("UPDATE channels SET team_id = ? WHERE team_id IS NULL", [LOCAL_TEAM])
    db["channels"].transform(pk=("team_id", "channel_id"), not_null={"team_id", "channel_id"})


@migrations()
def m003_channel_members(db: Database) -> None:
    """Who is known to be in which channel: they used Hashfloor there (the App Home names a
    channel's subscriptions only to them). Seeded from who subscribed or set a digest."""
    db["channel_members"].create(
        {"team_id": str, "channel_id": str, "user_id": str, "seen_at": float},
        pk=("team_id", "channel_id", "user_id"),
        not_null={"team_id", "channel_id", "user_id"},
    )
    for table, column, at in (
        ("rules", "created_by", "created_at"),
        ("digests", "updated_by", "updated_at"),
    ):
        if table in db.table_names():
            db.execute(
                f"INSERT OR IGNORE INTO channel_members (team_id, channel_id, user_id, seen_at)"
                f" SELECT team_id, channel_id, {column}, MAX({at}) FROM {table}"
                f" WHERE {column} IS NOT NULL GROUP BY team_id, channel_id, {column}"
            )


@migrations()
def m004_workspace_settings(db: Database) -> None:
    # Workspace-wide preferences that are not a fleet: what an HPC/AI lease would pay.
    db["workspace_settings"].create(
        {
            "team_id": str,
            "hpc_usd_per_kw_month": float,
            "updated_by": str,
            "updated_at": float,
        },
        pk="team_id",
    )


@migrations()
def m005_workspace_currency(db: Database) -> None:
    # The currency answers show money in first (US$ beside it) and bare power prices mean.
    db["workspace_settings"].add_column("currency", str)


@migrations()
def m006_channel_threads(db: Database) -> None:
    # `/hashfloor threads off`: recoveries go top-level in this channel. NULL is the default, on.
    db["channels"].add_column("threads", int)


@migrations()
def m007_named_fleets(db: Database) -> None:
    """Any number of fleets per workspace, keyed by (team_id, name): the one fleet a workspace
    had becomes the fleet `main` (its rules become `fleet:main` in storage.alerts)."""
    db["fleets"].add_column("name", str)
    db["fleets"].add_column("label", str)
    db.execute("UPDATE fleets SET name = ?, label = ?", [MAIN, MAIN])
    db["fleets"].transform(pk=("team_id", "name"), not_null={"team_id", "name"})


@migrations()
def m008_fleet_power_currency(db: Database) -> None:
    # A fleet's power price in the currency its contract is in (`fleet texas S21 €0.045`):
    # converted at each poll's rate, so its line moves with the rate. Fleets set before: US$.
    db["fleets"].add_column("power_currency", str)


def fleet_key(name: str) -> str:
    """A fleet's key (in its line key `fleet:<key>` too): the name without case."""
    return name.casefold()


@dataclass(frozen=True)
class Fleet:
    efficiency_j_per_th: float
    power_usd_per_kwh: float
    pool_fee: float
    hashrate_ph: float | None = None
    name: str = MAIN  # as typed (cleaned); `key` is what identifies it
    # The currency `power_usd_per_kwh` is in (US$ unless set in another): answers and the alert
    # line convert it at the poll's rate (bot.currency.fleet_in_usd) before any economics.
    power_currency: str = "USD"

    @property
    def key(self) -> str:
        return fleet_key(self.name)

    @property
    def line_key(self) -> str:
        return f"fleet:{self.key}"


def team_key(team_id: str | None) -> str:
    return team_id or LOCAL_TEAM


def _fleet(r: dict[str, Any]) -> Fleet:
    return Fleet(
        r["efficiency_j_per_th"],
        r["power_usd_per_kwh"],
        r["pool_fee"],
        r["hashrate_ph"],
        r["label"] or r["name"],
        r.get("power_currency") or "USD",
    )


def fleets_by_team(db: Database, team_ids: list[str]) -> dict[str, dict[str, Fleet]]:
    """The fleets of the listed workspaces (keys as stored: `team_key`), read in one query:
    by workspace, then by fleet key (`main` first, then by name)."""
    rows = select(
        db,
        "SELECT * FROM fleets WHERE team_id IN (SELECT value FROM json_each(?))"
        " ORDER BY team_id, name != ?, name",
        [json.dumps([team_key(t) for t in team_ids]), MAIN],
    )
    out: dict[str, dict[str, Fleet]] = {}
    for r in rows:
        out.setdefault(r["team_id"], {})[r["name"]] = _fleet(r)
    return out


def get_fleets(db: Database, team_id: str | None) -> dict[str, Fleet]:
    """The workspace's fleets by key: `main` first, then by name."""
    rows = select(
        db,
        "SELECT * FROM fleets WHERE team_id = ? ORDER BY name != ?, name",
        [team_key(team_id), MAIN],
    )
    return {r["name"]: _fleet(r) for r in rows}


def get_fleet(db: Database, team_id: str | None, name: str = MAIN) -> Fleet | None:
    r = select_one(
        db,
        "SELECT * FROM fleets WHERE team_id = ? AND name = ?",
        [team_key(team_id), fleet_key(name)],
    )
    return _fleet(r) if r else None


def set_fleet(db: Database, team_id: str | None, fleet: Fleet, user: str, now: float) -> None:
    """Add the fleet or replace the one of the same name (whatever its case)."""
    db["fleets"].upsert(
        {
            "team_id": team_key(team_id),
            "name": fleet.key,
            "label": fleet.name,
            "efficiency_j_per_th": fleet.efficiency_j_per_th,
            "power_usd_per_kwh": fleet.power_usd_per_kwh,
            "power_currency": None if fleet.power_currency == "USD" else fleet.power_currency,
            "pool_fee": fleet.pool_fee,
            "hashrate_ph": fleet.hashrate_ph,
            "updated_by": user,
            "updated_at": now,
        },
        pk=("team_id", "name"),
    )


def remove_fleet(db: Database, team_id: str | None, name: str = MAIN) -> bool:
    """Remove a fleet; False when the workspace has none of that name. Its rules stay, shown as
    gone in status (as a removed cost line's are)."""
    cur = db.execute(
        "DELETE FROM fleets WHERE team_id = ? AND name = ?", [team_key(team_id), fleet_key(name)]
    )
    return cur.rowcount > 0


def channel(db: Database, team_id: str | None, channel_id: str) -> dict[str, Any] | None:
    return select_one(
        db,
        "SELECT * FROM channels WHERE team_id = ? AND channel_id = ?",
        [team_key(team_id), channel_id],
    )


def muted_until(db: Database, team_id: str | None, channel_id: str, now: float) -> float | None:
    row = channel(db, team_id, channel_id)
    until = row["muted_until"] if row else None
    return until if until and until > now else None


def set_muted_until(
    db: Database, team_id: str | None, channel_id: str, until: float | None, now: float
) -> None:
    db["channels"].upsert(
        {
            "channel_id": channel_id,
            "team_id": team_key(team_id),
            "muted_until": until,
            "updated_at": now,
        },
        pk=("team_id", "channel_id"),
    )


def threads_on(db: Database, team_id: str | None, channel_id: str) -> bool:
    """Whether recoveries go in their alert's thread in this channel (the default) or top-level."""
    row = channel(db, team_id, channel_id)
    return row is None or row.get("threads") is None or bool(row["threads"])


def set_threads(db: Database, team_id: str | None, channel_id: str, on: bool, now: float) -> None:
    db["channels"].upsert(
        {
            "channel_id": channel_id,
            "team_id": team_key(team_id),
            "threads": int(on),
            "updated_at": now,
        },
        pk=("team_id", "channel_id"),
    )


def saw_member(
    db: Database, team_id: str | None, channel_id: str, user_id: str, now: float
) -> None:
    """`user_id` used Hashfloor in `channel_id`, so they are in it (Slack runs a command only
    where its user may post)."""
    db.execute(
        "INSERT INTO channel_members (team_id, channel_id, user_id, seen_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (team_id, channel_id, user_id) DO UPDATE SET seen_at = excluded.seen_at",
        [team_key(team_id), channel_id, user_id, now],
    )


def channels_of_member(db: Database, team_id: str | None, user_id: str) -> set[str]:
    """The channels of the workspace where `user_id` is known to be."""
    rows = select(
        db,
        "SELECT channel_id FROM channel_members WHERE team_id = ? AND user_id = ?",
        [team_key(team_id), user_id],
    )
    return {r["channel_id"] for r in rows}


def get_hpc_lease(db: Database, team_id: str | None) -> float | None:
    """The HPC/AI lease price (US$ per kW-month) the workspace compares mining with, if set."""
    r = select_one(
        db,
        "SELECT hpc_usd_per_kw_month FROM workspace_settings WHERE team_id = ?",
        [team_key(team_id)],
    )
    return r["hpc_usd_per_kw_month"] if r else None


def set_hpc_lease(
    db: Database, team_id: str | None, usd_per_kw_month: float | None, user: str, now: float
) -> None:
    _set_setting(db, team_id, "hpc_usd_per_kw_month", usd_per_kw_month, user, now)


@dataclass(frozen=True)
class Settings:
    """A workspace's preferences, read together: every `/breakeven` needs both."""

    currency: str = "USD"
    hpc_usd_per_kw_month: float | None = None


def get_settings(db: Database, team_id: str | None) -> Settings:
    r = select_one(
        db,
        "SELECT currency, hpc_usd_per_kw_month FROM workspace_settings WHERE team_id = ?",
        [team_key(team_id)],
    )
    return Settings(r["currency"] or "USD", r["hpc_usd_per_kw_month"]) if r else Settings()


def get_currency(db: Database, team_id: str | None) -> str:
    """The workspace's currency (`/hashfloor currency`); US$ when none was set."""
    r = select_one(
        db, "SELECT currency FROM workspace_settings WHERE team_id = ?", [team_key(team_id)]
    )
    return (r["currency"] if r else None) or "USD"


def set_currency(db: Database, team_id: str | None, currency: str, user: str, now: float) -> None:
    _set_setting(db, team_id, "currency", None if currency == "USD" else currency, user, now)


def _set_setting(
    db: Database, team_id: str | None, column: str, value: object, user: str, now: float
) -> None:
    # One column at a time: an upsert of the whole row would reset the other settings.
    db["workspace_settings"].upsert(
        {"team_id": team_key(team_id), column: value, "updated_by": user, "updated_at": now},
        pk="team_id",
    )
