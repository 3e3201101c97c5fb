"""Market snapshots as a poll stores them, at DESIGN's test vector: D = 152 × 10^12, fees of
0.02 BTC per block, BTC at $91,000 (where `/breakeven 20 0.06 2` answers $70,605)."""

from __future__ import annotations

from pathlib import Path

from bot.market.snapshot import Network, Quote, Snapshot
from storage import snapshots
from storage.db import Storage
from storage.migrations import migrate

SOURCES = ("coinbase", "kraken", "bitstamp")


def design_snapshot(
    taken_at: float,
    price: float = 91_000.0,
    sources: tuple[str, ...] = SOURCES,
    adjustment_at: float | None = None,
    latency_ms: float = 10.0,
    btc_prices: dict[str, float] | None = None,
) -> Snapshot:
    """A fresh snapshot; the next difficulty adjustment is a week after `taken_at` unless given.
    `btc_prices`: BTC in other currencies as mempool's /api/v1/prices gave them (DESIGN §4.1's
    vector: {"USD": 91000, "EUR": 83720}, 0.92 EUR/USD)."""
    net = Network(
        difficulty=152e12,
        hashrate_hs=152e12 * 2**32 / 600,
        tip_height=925_000,
        fees_per_block_btc=0.02,
        next_adjustment_percent=1.25,
        next_adjustment_at=taken_at + 7 * 86_400 if adjustment_at is None else adjustment_at,
        next_adjustment_blocks=1_000,
        source="mempool",
    )
    quotes = tuple(Quote(s, price, None, latency_ms) for s in sources)
    return Snapshot(taken_at, quotes, price, True, sources, net, dict(btc_prices or {}))


def seed(db_path: Path, snapshot: Snapshot) -> None:
    """A migrated database file holding `snapshot`, as a bot that polled once leaves it."""
    storage = Storage(db_path)
    migrate(storage.db)
    snapshots.insert(storage.db, snapshot)
    storage.close()
