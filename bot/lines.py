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
