"""Market snapshots: one row per poll, with every source's quote or error."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.market.snapshot import Network, Quote, Snapshot
from storage.db import select

migrations = Migrations("hashfloor.snapshots")

_NETWORK_FIELDS = tuple(Network.__dataclass_fields__)


@migrations()
def m001_market_snapshots(db: Database) -> None:
    db["market_snapshots"].create(
        {
            "id": int,
            "taken_at": float,
            "price_usd": float,
            "fresh": int,
            "used_sources": str,
            "quotes": str,  # JSON list of {source, price_usd, error, latency_ms}
            "difficulty": float,
            "hashrate_hs": float,
            "tip_height": int,
            "fees_per_block_btc": float,
            "next_adjustment_percent": float,
            "next_adjustment_at": float,
            "next_adjustment_blocks": int,
            "previous_adjustment_percent": float,
            "previous_adjustment_at": float,
            "network_source": str,
            "network_error": str,
        },
        pk="id",
    )
    db["market_snapshots"].create_index(["taken_at"])


_HAS_NETWORK = (
    "difficulty IS NOT NULL AND tip_height IS NOT NULL AND fees_per_block_btc IS NOT NULL"
)


@migrations()
def m002_latest_indexes(db: Database) -> None:
    # latest_fresh() and latest_network() seek straight to their row instead of walking back
    # through every row of an outage (of the price sources, of the network source).
    db["market_snapshots"].create_index(["fresh", "taken_at"])
    db.execute(
        "CREATE INDEX idx_market_snapshots_network ON market_snapshots (taken_at)"
        f" WHERE {_HAS_NETWORK}"
    )


@migrations()
def m003_latest_by_arrival(db: Database) -> None:
    # The latest rows are the newest by arrival (ORDER BY id): m002's indexes are in taken_at
    # order, so rebuild them in row-id order for the seek to stay a seek.
    db.execute("DROP INDEX IF EXISTS idx_market_snapshots_fresh_taken_at")
    db["market_snapshots"].create_index(["fresh", "id"], if_not_exists=True)
    db.execute("DROP INDEX IF EXISTS idx_market_snapshots_network")
    db.execute(
        f"CREATE INDEX idx_market_snapshots_network ON market_snapshots (id) WHERE {_HAS_NETWORK}"
    )


@migrations()
def m004_btc_prices(db: Database) -> None:
    # BTC in each currency a source quoted with US$ (JSON {"USD": …, "EUR": …}): a currency's
    # rate comes from one stored poll, so it has an age. latest_rates() seeks the newest.
    db["market_snapshots"].add_column("btc_prices", str)
    db.execute(
        "CREATE INDEX idx_market_snapshots_btc_prices ON market_snapshots (id)"
        " WHERE btc_prices IS NOT NULL"
    )


def insert(db: Database, snap: Snapshot) -> int:
    net = asdict(snap.network)
    row = {
        "taken_at": snap.taken_at,
        "price_usd": snap.price_usd,
        "fresh": int(snap.fresh),
        "used_sources": ",".join(snap.used_sources),
        "quotes": json.dumps([asdict(q) for q in snap.quotes]),
        "network_source": net.pop("source"),
        "network_error": net.pop("error"),
        "btc_prices": json.dumps(snap.btc_prices) if snap.btc_prices else None,
        **net,
    }
    table = db["market_snapshots"]
    table.insert(row)
    return table.last_pk


def from_row(row: dict[str, Any]) -> Snapshot:
    net = {k: row[k] for k in _NETWORK_FIELDS if k in row}
    net["source"] = row["network_source"]
    net["error"] = row["network_error"]
    return Snapshot(
        taken_at=row["taken_at"],
        quotes=tuple(Quote(**q) for q in json.loads(row["quotes"] or "[]")),
        price_usd=row["price_usd"],
        fresh=bool(row["fresh"]),
        used_sources=tuple(s for s in (row["used_sources"] or "").split(",") if s),
        network=Network(**net),
        btc_prices=_btc_prices(row.get("btc_prices")),
    )


def _btc_prices(text: str | None) -> dict[str, float]:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, int | float)}


def _one(db: Database, where: str, params: list[Any] | None = None) -> Snapshot | None:
    # The newest by arrival (the row id), not by taken_at: after the wall clock steps back, a
    # new poll's taken_at is older than the last one's (DESIGN §10, "Clock").
    rows = select(
        db, f"SELECT * FROM market_snapshots {where} ORDER BY id DESC LIMIT 1", params or []
    )
    return from_row(rows[0]) if rows else None


def latest(db: Database) -> Snapshot | None:
    return _one(db, "")


def latest_fresh(db: Database) -> Snapshot | None:
    return _one(db, "WHERE fresh = 1")


def latest_network(db: Database) -> Snapshot | None:
    """The newest snapshot whose network data is complete."""
    return _one(db, f"WHERE {_HAS_NETWORK}")


def latest_rates(db: Database) -> Snapshot | None:
    """The newest snapshot with BTC prices in other currencies: where today's rates come from."""
    return _one(db, "WHERE btc_prices IS NOT NULL")


def last_with_difficulty(db: Database, difficulty: float) -> Snapshot | None:
    """The newest poll (by arrival) whose network data showed this difficulty: where a retarget
    rule looks for the last poll before the difficulty changed. Walks back from the newest row
    through the partial index; asked about once per epoch, so the walk is a few rows."""
    return _one(db, f"WHERE {_HAS_NETWORK} AND difficulty = ?", [difficulty])


def between(db: Database, start: float, end: float) -> list[Snapshot]:
    rows = select(
        db,
        "SELECT * FROM market_snapshots WHERE taken_at >= ? AND taken_at <= ? ORDER BY taken_at",
        [start, end],
    )
    return [from_row(r) for r in rows]


def prune(db: Database, before: float) -> int:
    """Drop snapshots older than `before`; the digest needs 90 days, the backtest has its own cache."""
    return db.execute("DELETE FROM market_snapshots WHERE taken_at < ?", [before]).rowcount


def oldest_at(db: Database) -> float | None:
    rows = select(db, "SELECT MIN(taken_at) AS t FROM market_snapshots")
    return rows[0]["t"] if rows else None


def thin(db: Database, start: float, end: float, bucket_s: int) -> int:
    """Keep one snapshot per `bucket_s` (UTC-aligned) in [start, end): the newest fresh one with
    network data if there is one. Returns how many were deleted."""
    return db.execute(
        "DELETE FROM market_snapshots WHERE taken_at >= :start AND taken_at < :end"
        " AND id NOT IN (SELECT id FROM ("
        "  SELECT id, ROW_NUMBER() OVER ("
        "   PARTITION BY CAST(taken_at / :bucket AS INTEGER)"
        "   ORDER BY fresh DESC, difficulty IS NOT NULL DESC, taken_at DESC, id DESC) AS n"
        "  FROM market_snapshots WHERE taken_at >= :start AND taken_at < :end) WHERE n = 1)",
        {"start": start, "end": end, "bucket": bucket_s},
    ).rowcount
