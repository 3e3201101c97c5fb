"""Where the market stands: the numbers every surface shows, computed from stored snapshots.

Pure: the caller passes the snapshots, the cost lines and `now`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot import currency, fmt
from bot import economics as econ
from bot.lines import CostLine
from bot.market.snapshot import Snapshot

STALE_AFTER_S = 300  # DESIGN §5: /healthz turns 503 after 5 minutes without fresh data


def is_fresh_age(age_s: float) -> bool:
    """Data this old counts as fresh. A negative age is data "from the future": the wall clock
    went back since it was fetched, so how old it really is cannot be told — stale."""
    return 0 <= age_s <= STALE_AFTER_S


@dataclass(frozen=True)
class LineMargin:
    line: CostLine
    margin: float  # (price − line) / line


@dataclass(frozen=True)
class MarketView:
    now: float
    price_usd: float | None
    price_at: float | None  # when the price was fetched (unix s)
    price_sources: tuple[str, ...]
    difficulty: float | None
    hashrate_hs: float | None
    tip_height: int | None
    fees_per_block_btc: float | None
    network_at: float | None
    subsidy_btc: float | None
    hashvalue_btc_per_th_day: float | None
    hashprice_usd_per_ph_day: float | None
    hashprice_sats_per_th_day: float | None
    fees_share: float | None
    next_adjustment_percent: float | None
    next_adjustment_at: float | None
    next_adjustment_blocks: int | None
    blocks_to_halving: int | None
    margins: tuple[LineMargin, ...]
    # Each currency's rate against US$ from the newest poll that quoted it (bot.currency); an
    # answer checks its age before using it.
    rates: dict[str, currency.Rate] = field(default_factory=dict)

    @property
    def age_s(self) -> float | None:
        return None if self.price_at is None else max(0.0, self.now - self.price_at)

    @property
    def stale(self) -> bool:
        return self.price_at is None or not is_fresh_age(self.now - self.price_at)

    @property
    def adjustment_note(self) -> str:
        """A flag for a next-adjustment date already past: the estimate is from old network
        data (mempool's own estimate always lies ahead), so the date must not pass as news."""
        if self.next_adjustment_at is None or self.next_adjustment_at > self.now:
            return ""
        since = (
            f" (network data from {fmt.age(self.now - self.network_at)})" if self.network_at else ""
        )
        return f" :warning: this date has passed: the estimate is out of date{since}"

    @property
    def has_network(self) -> bool:
        return self.hashvalue_btc_per_th_day is not None


def build_view(
    price_snap: Snapshot | None,
    network_snap: Snapshot | None,
    lines: list[CostLine],
    now: float,
    rates_snap: Snapshot | None = None,
) -> MarketView:
    """`price_snap`: the latest fresh snapshot; `network_snap`: the latest with complete network
    data; `rates_snap`: the latest with BTC prices in other currencies (default: `price_snap`)."""
    rates_snap = rates_snap or price_snap
    price = price_snap.price_usd if price_snap else None
    net = network_snap.network if network_snap else None
    hashvalue = subsidy = hp_usd = hp_sats = share = halving = None
    if net and net.difficulty and net.tip_height is not None and net.fees_per_block_btc is not None:
        # The block being mined is tip + 1: its subsidy is what a miner earns now.
        subsidy = econ.block_subsidy_btc(net.tip_height + 1)
        hashvalue = econ.hashvalue_btc_per_th_day(net.difficulty, subsidy, net.fees_per_block_btc)
        hp_sats = econ.hashprice_sats_per_th_day(hashvalue)
        share = econ.fees_share_of_reward(subsidy, net.fees_per_block_btc)
        halving = econ.blocks_to_next_halving(net.tip_height)
        if price:
            hp_usd = econ.hashprice_usd_per_ph_day(hashvalue, price)
    margins = tuple(
        LineMargin(line, econ.margin_over_line(price, line.value_usd)) for line in lines if price
    )
    return MarketView(
        now=now,
        price_usd=price,
        price_at=price_snap.taken_at if price_snap else None,
        price_sources=price_snap.used_sources if price_snap else (),
        difficulty=net.difficulty if net else None,
        hashrate_hs=net.hashrate_hs if net else None,
        tip_height=net.tip_height if net else None,
        fees_per_block_btc=net.fees_per_block_btc if net else None,
        network_at=network_snap.taken_at if network_snap else None,
        subsidy_btc=subsidy,
        hashvalue_btc_per_th_day=hashvalue,
        hashprice_usd_per_ph_day=hp_usd,
        hashprice_sats_per_th_day=hp_sats,
        fees_share=share,
        next_adjustment_percent=net.next_adjustment_percent if net else None,
        next_adjustment_at=net.next_adjustment_at if net else None,
        next_adjustment_blocks=net.next_adjustment_blocks if net else None,
        blocks_to_halving=halving,
        margins=margins,
        rates=currency.rates(
            rates_snap.btc_prices if rates_snap else None,
            rates_snap.taken_at if rates_snap else None,
        ),
    )
