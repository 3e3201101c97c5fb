"""Currencies: power prices in EUR, GBP, … converted to US$ with the rate one poll implies.

The rate is never guessed: it is the BTC price in that currency ÷ the BTC price in US$, both from
one answer of one source (mempool's `/api/v1/prices`), stored with the poll so it has an age.
Pure: the caller passes the prices, when they were fetched and `now`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from bot import fmt

USD = "USD"
# A rate is used while the poll behind it is fresh: the same 5 minutes as a price (DESIGN §5).
STALE_AFTER_S = 300
CURRENCIES = ("USD", "EUR", "GBP", "CAD", "CHF", "AUD", "JPY")
# How amounts are written: the sign before the number, as people in each place write it.
SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "C$", "CHF": "CHF ", "AUD": "A$", "JPY": "¥"}
# Signs people type before a price (longest first when matching); `¥` is read as the yen.
TYPED_SIGNS = {
    "us$": "USD",
    "ca$": "CAD",
    "au$": "AUD",
    "c$": "CAD",
    "a$": "AUD",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
}
# A power price at or above this much a kWh is a typo, not a tariff (about US$1 in each
# currency, coarsely: these bound the input, they never convert anything).
MAX_PER_KWH = {"USD": 1, "EUR": 1, "GBP": 1, "CAD": 1.5, "CHF": 1, "AUD": 1.5, "JPY": 150}
# The yen has no cents in everyday prices; the rest show cents where a dollar would.
_WHOLE = {"JPY"}


@dataclass(frozen=True)
class Rate:
    """Units of `currency` per US$ (0.92 EUR/USD), and when the prices behind it were fetched."""

    currency: str
    per_usd: float
    at: float  # unix seconds of the poll

    def to_usd(self, amount: float) -> float:
        return amount / self.per_usd

    def from_usd(self, usd: float) -> float:
        return usd * self.per_usd

    def age_s(self, now: float) -> float:
        return now - self.at

    def fresh(self, now: float) -> bool:
        """Usable now: the same 5 minutes as a fresh price (a negative age is a clock stepped
        back: how old the rate is cannot be told)."""
        return 0 <= self.age_s(now) <= STALE_AFTER_S


def rates(btc_prices: Mapping[str, float] | None, at: float | None) -> dict[str, Rate]:
    """Every currency's rate that one poll's BTC prices imply; US$ itself is 1.

    A currency missing from the answer, or with a price that is not a positive finite number,
    has no rate: nothing is filled in from elsewhere.
    """
    if not btc_prices or at is None:
        return {}
    usd = btc_prices.get(USD)
    if not _positive(usd):
        return {}
    out = {USD: Rate(USD, 1.0, at)}
    for cur in CURRENCIES:
        price = btc_prices.get(cur)
        if cur != USD and _positive(price):
            out[cur] = Rate(cur, price / usd, at)
    return out


def power_usd(
    per_kwh: float, currency: str, rates: Mapping[str, Rate], now: float | None = None
) -> float | None:
    """A stored power price (a fleet's) in US$ a kWh at these rates; None without a rate for
    its currency, or (with `now`) without a fresh one. US$ and free power need no rate."""
    if currency == USD or per_kwh == 0:
        return per_kwh
    rate = rates.get(currency)
    if rate is None or (now is not None and not rate.fresh(now)):
        return None
    return rate.to_usd(per_kwh)


class _PricedInCurrency(Protocol):
    @property
    def power_usd_per_kwh(self) -> float: ...
    @property
    def power_currency(self) -> str: ...


F = TypeVar("F", bound=_PricedInCurrency)


def fleet_in_usd(fleet: F, rates: Mapping[str, Rate], now: float | None = None) -> F | None:
    """The fleet with its power price in US$ at these rates (the economics take US$), or None
    without a rate for its currency: its line is then unavailable, never computed at a guess."""
    usd = power_usd(fleet.power_usd_per_kwh, fleet.power_currency, rates, now)
    if usd is None:
        return None
    return replace(fleet, power_usd_per_kwh=usd, power_currency=USD)  # type: ignore[type-var]


def _positive(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def money(amount: float | None, currency: str, cents: bool = False) -> str:
    """51483 EUR → '€51,483'; −2.5 GBP with cents → '-£2.50'."""
    if amount is None:
        return "—"
    digits = 2 if cents and currency not in _WHOLE else 0
    text = f"{abs(amount):,.{digits}f}"
    sign = SIGNS.get(currency, f"{currency} ")
    return f"-{sign}{text}" if amount < 0 and text.strip("0.,") else f"{sign}{text}"


def per_kwh(amount: float, currency: str) -> str:
    """A power price as typed back: '€0.045/kWh', '¥7/kWh'."""
    return f"{SIGNS.get(currency, currency + ' ')}{amount:g}/kWh"


def shown(rates: Mapping[str, Rate], currency: str, now: float) -> tuple[Rate | None, str]:
    """The rate to show money in `currency` with (None: US$ alone), and, when it has no fresh
    rate, a note saying so: amounts are then shown in US$ only, never at a guessed rate."""
    if currency == USD:
        return None, ""
    rate = rates.get(currency)
    if rate is not None and rate.fresh(now):
        return rate, ""
    why = f"stale, {rate_words(rate, now)}" if rate else "none polled"
    return None, f":warning: No fresh {currency}/USD rate ({why}): amounts in US$ only."


def both(usd: float | None, rate: Rate | None, cents: bool = False) -> str:
    """An amount in the workspace's currency first and US$ beside it: `€51,483 ($55,960)`."""
    dollars = _usd(usd, cents)
    if usd is None or rate is None or rate.currency == USD:
        return dollars
    return f"{money(rate.from_usd(usd), rate.currency, cents)} ({dollars})"


def _usd(value: float | None, cents: bool) -> str:
    return money(value, USD, cents)


def power_both(usd_per_kwh: float, rate: Rate | None) -> str:
    """`€0.0813/kWh ($0.0884/kWh)` — a power price in the workspace's currency first."""
    usd = f"${usd_per_kwh:.4f}/kWh"
    if rate is None or rate.currency == USD:
        return usd
    return f"{SIGNS[rate.currency]}{rate.from_usd(usd_per_kwh):.4f}/kWh ({usd})"


def note(rate: Rate | None, now: float) -> str:
    """The context line under an answer shown in another currency."""
    return f"{rate.currency} at {rate_words(rate, now)} (mempool.space)" if rate else ""


def rate_words(rate: Rate, now: float) -> str:
    """'0.92 EUR/USD, 3 min old' — the rate an answer used, and how old it is."""
    return f"{rate.per_usd:.4g} {rate.currency}/USD, {_old(rate.age_s(now))}"


def _old(seconds: float) -> str:
    if seconds < 0:
        return "of unknown age (the clock went back since)"
    return f"{fmt.span(seconds)} old"
