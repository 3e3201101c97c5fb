"""What one poll of the market saw: plain data, shared by the poller, storage and renderers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Quote:
    """One price source's answer to one poll: a price, or an error with a short reason."""

    source: str
    price_usd: float | None
    error: str | None
    latency_ms: float


@dataclass(frozen=True)
class Network:
    """Network state; any field may be missing when its source failed."""

    difficulty: float | None = None
    hashrate_hs: float | None = None
    tip_height: int | None = None
    fees_per_block_btc: float | None = None
    next_adjustment_percent: float | None = None
    next_adjustment_at: float | None = None  # unix seconds
    next_adjustment_blocks: int | None = None
    previous_adjustment_percent: float | None = None
    previous_adjustment_at: float | None = None  # unix seconds
    source: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """One poll: every quote, the aggregate and whether it is fresh, and the network."""

    taken_at: float  # unix seconds
    quotes: tuple[Quote, ...]
    price_usd: float | None  # the aggregate (median of the agreeing sources)
    fresh: bool
    used_sources: tuple[str, ...] = ()
    network: Network = field(default_factory=Network)
    # BTC's price in each currency a source quoted along with US$, from one answer (mempool's
    # /api/v1/prices): what a currency's rate is implied from. Empty when none answered.
    btc_prices: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)
