"""A synthetic market history: snapshots as the poller would have stored them, for digest tests.

Deterministic (no randomness): the price drifts down from about $104k, dips below the CoinShares
cash cost ($74,600) for a few days near the end, and recovers, with a daily swing on top; the
network retargets every 14 days and the tip height advances one block per 10 minutes. A short
outage leaves a gap in the last week, and one poll in 50 is stale (the sources disagreed).
"""

from __future__ import annotations

import math

from bot.market.snapshot import Network, Quote, Snapshot
from storage import snapshots
from storage.db import Storage

DAY = 86_400.0
SOURCES = ("coinbase", "kraken", "bitstamp")
RETARGET_S = 14 * DAY
LAST_RETARGET_AGO_S = 5 * DAY  # the history ends 5 days into a difficulty epoch


def price_at(t: float, end: float) -> float:
    """US$ at time t for a history ending at `end`."""
    days_left = (end - t) / DAY
    trend = 76_000 + 28_000 * (1 - math.exp(-days_left / 25))  # from ~$104k down towards $76k
    dip = -6_500 * math.exp(-(((days_left - 3.5) / 1.6) ** 2))  # below the cash cost mid-week
    swing = 1_100 * math.sin(2 * math.pi * t / DAY) + 600 * math.sin(2 * math.pi * t / (3.3 * DAY))
    return round(trend + dip + swing, 2)


def network_at(t: float, end: float) -> Network:
    start = end - LAST_RETARGET_AGO_S  # of the current epoch
    epoch = math.floor((t - start) / RETARGET_S)  # 0 for the current epoch, negative before
    difficulty = 152e12 * (1.018**epoch)  # +1.8% each retarget
    last_retarget = start + epoch * RETARGET_S
    height = 925_000 - int((end - t) // 600)
    return Network(
        difficulty=difficulty,
        hashrate_hs=difficulty * 2**32 / 600,
        tip_height=height,
        fees_per_block_btc=0.018 + 0.004 * math.sin(t / (2 * DAY)),
        next_adjustment_percent=1.6,
        next_adjustment_at=last_retarget + RETARGET_S,
        next_adjustment_blocks=max(int((last_retarget + RETARGET_S - t) // 600), 0),
        previous_adjustment_percent=1.8,
        previous_adjustment_at=last_retarget,
        source="mempool",
    )


def history(end: float, days: float = 90, step_s: float = 3600.0) -> list[Snapshot]:
    """Snapshots every `step_s` over the `days` before `end` (inclusive of `end`)."""
    out = []
    n = int(days * DAY // step_s)
    outage = (end - 2.2 * DAY, end - 1.7 * DAY)  # the bot was down for 12 hours
    for i in range(n, -1, -1):
        t = end - i * step_s
        if outage[0] < t < outage[1]:
            continue
        price = price_at(t, end)
        fresh = i % 50 != 7
        quotes = tuple(
            Quote(s, price * (1 + 0.0004 * k), None, 40.0) for k, s in enumerate(SOURCES)
        )
        out.append(
            Snapshot(
                taken_at=t,
                quotes=quotes,
                price_usd=price if fresh else None,
                fresh=fresh,
                used_sources=SOURCES if fresh else (),
                network=network_at(t, end),
            )
        )
    return out


def store(storage: Storage, snaps: list[Snapshot]) -> None:
    with storage.transaction() as db:
        for snap in snaps:
            snapshots.insert(db, snap)
