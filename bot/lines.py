"""A cost line: a price level (US$ per BTC) that a channel can watch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CostLine:
    key: str  # stable identifier: "cash", "allin", "cost:<id>", "fleet", "below:<usd>"
    label: str  # for people: "CoinShares cash cost (2025-Q2)"
    value_usd: float
    source: str | None = None
    period: str | None = None  # "2025-Q2"


# The words that name lines the same way in `/hashfloor subscribe` and `hashfloor backtest --rules`.
_NAMED_KEYS: dict[str, tuple[str, ...]] = {
    "all": ("cash", "allin"),
    "cash": ("cash",),
    "allin": ("allin",),
    "all-in": ("allin",),
    "all_in": ("allin",),
    "fleet": ("fleet",),
}


def named_keys(word: str) -> tuple[str, ...] | None:
    """The line keys a word names (`all` is cash and all-in), or None if it names none."""
    return _NAMED_KEYS.get(word.strip().lower())
