"""The aggregate price of DESIGN §5: a median that survives one lying source."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from statistics import median

from bot.market.snapshot import Quote

OUTLIER_FRACTION = 0.05  # a quote more than 5% from the median is discarded for this poll
MIN_AGREEING = 2  # fresh only when at least this many sources agree


@dataclass(frozen=True)
class Aggregate:
    price_usd: float | None
    fresh: bool
    used: tuple[str, ...]
    discarded: tuple[str, ...]


def aggregate(quotes: Iterable[Quote]) -> Aggregate:
    """Median of the prices that came back; drop those > 5% from it; median again.

    The price is reported even when fewer than two sources agree (a lone quote is still the best
    guess for display), but only a fresh aggregate may move an alert.
    """
    priced = [q for q in quotes if q.price_usd is not None and q.error is None]
    if not priced:
        return Aggregate(None, False, (), ())
    first = median(q.price_usd for q in priced)
    kept = [q for q in priced if abs(q.price_usd - first) <= OUTLIER_FRACTION * first]
    dropped = tuple(q.source for q in priced if q not in kept)
    if not kept:
        return Aggregate(None, False, (), dropped)
    return Aggregate(
        price_usd=median(q.price_usd for q in kept),
        fresh=len(kept) >= MIN_AGREEING,
        used=tuple(q.source for q in kept),
        discarded=dropped,
    )
