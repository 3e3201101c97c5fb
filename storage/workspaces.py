"""Per-workspace and per-channel settings: the fleet (a workspace's) and mute (a channel's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from storage.db import select_one

migrations = Migrations("hashfloor.workspaces")

# Console and single-workspace installs without a team id share this key.
LOCAL_TEAM = "local"


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


@dataclass(frozen=True)
class Fleet:
    efficiency_j_per_th: float
    power_usd_per_kwh: float
    pool_fee: float
    hashrate_ph: float | None = None


def team_key(team_id: str | None) -> str:
    return team_id or LOCAL_TEAM


def get_fleet(db: Database, team_id: str | None) -> Fleet | None:
    r = select_one(db, "SELECT * FROM fleets WHERE team_id = ?", [team_key(team_id)])
    if r is None:
        return None
    return Fleet(r["efficiency_j_per_th"], r["power_usd_per_kwh"], r["pool_fee"], r["hashrate_ph"])


def set_fleet(
    db: Database, team_id: str | None, fleet: Fleet | None, user: str, now: float
) -> None:
    if fleet is None:
        db.execute("DELETE FROM fleets WHERE team_id = ?", [team_key(team_id)])
        return
    db["fleets"].upsert(
        {
            "team_id": team_key(team_id),
            "efficiency_j_per_th": fleet.efficiency_j_per_th,
            "power_usd_per_kwh": fleet.power_usd_per_kwh,
            "pool_fee": fleet.pool_fee,
            "hashrate_ph": fleet.hashrate_ph,
            "updated_by": user,
            "updated_at": now,
        },
        pk="team_id",
    )


def channel(db: Database, channel_id: str) -> dict[str, Any] | None:
    return select_one(db, "SELECT * FROM channels WHERE channel_id = ?", [channel_id])


def muted_until(db: Database, channel_id: str, now: float) -> float | None:
    row = channel(db, channel_id)
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
        pk="channel_id",
    )
