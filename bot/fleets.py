"""A workspace's named fleets, as every answer shows them: the words for a fleet, its breakeven
from the network, and what it earns and costs a day. Pure: the network and price are arguments.

A fleet is a line `fleet:<key>` (storage.workspaces.Fleet.line_key); its key is its name
without case, so `Texas` and `texas` are one fleet.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import currency, fmt
from bot import economics as econ
from bot.market.view import MarketView
from storage.workspaces import Fleet

LINE_PREFIX = "fleet:"


def describe(fleet: Fleet) -> str:
    """`17.5 J/TH at $0.05/kWh, pool fee 2%, 350 PH/s` (plain text: escape where shown)."""
    rate = f", {fleet.hashrate_ph:g} PH/s" if fleet.hashrate_ph else ""
    return (
        f"{fleet.efficiency_j_per_th:g} J/TH at {_power(fleet)}, "
        f"pool fee {fleet.pool_fee * 100:g}%{rate}"
    )


def title(name: str) -> str:
    """How a fleet is named to people, as they name it in commands: `fleet texas`."""
    return f"fleet {name}"


def line_label(fleet: Fleet) -> str:
    """The fleet's line in alerts and lists: `the breakeven of fleet texas (17.5 J/TH at …)`."""
    return (
        f"the breakeven of {title(fleet.name)} ({fleet.efficiency_j_per_th:g} J/TH at "
        f"{_power(fleet)})"
    )


def _power(fleet: Fleet) -> str:
    """The power price as it was set, in its currency: `$0.05/kWh`, `€0.045/kWh`."""
    return currency.per_kwh(fleet.power_usd_per_kwh, fleet.power_currency)


def key_of_line(line_key: str) -> str | None:
    """`fleet:texas` → `texas`; None for a key that names no fleet."""
    return line_key.removeprefix(LINE_PREFIX) if line_key.startswith(LINE_PREFIX) else None


def breakeven_usd(fleet: Fleet, hashvalue_btc_per_th_day: float | None) -> float | None:
    """The BTC price at which the fleet's revenue pays its power; None without network data or
    when the numbers give no breakeven (free power). A fleet priced in another currency must be
    converted first (bot.currency.fleet_in_usd): unconverted, it has no breakeven here."""
    if not hashvalue_btc_per_th_day or fleet.power_currency != currency.USD:
        return None
    try:
        be = econ.fleet_breakeven_price_usd(
            fleet.efficiency_j_per_th,
            fleet.power_usd_per_kwh,
            hashvalue_btc_per_th_day,
            fleet.pool_fee,
        )
    except econ.EconomicsDomainError:
        return None
    return be if be > 0 else None


@dataclass(frozen=True)
class FleetDay:
    """A fleet of known hashrate over one day at today's network and price, in US$."""

    revenue_usd_per_day: float
    power_cost_usd_per_day: float
    margin_usd_per_day: float


def day_usd(
    fleet: Fleet, hashvalue_btc_per_th_day: float | None, price_usd: float | None
) -> FleetDay | None:
    """Revenue, power cost and margin per day; None without a hashrate, network data or price."""
    if not fleet.hashrate_ph or not hashvalue_btc_per_th_day or not price_usd:
        return None
    if fleet.power_currency != currency.USD:  # convert first (bot.currency.fleet_in_usd)
        return None
    hashprice = econ.hashprice_usd_per_ph_day(hashvalue_btc_per_th_day, price_usd)
    revenue = econ.fleet_revenue_usd_per_day(fleet.hashrate_ph, hashprice, fleet.pool_fee)
    cost = econ.fleet_power_cost_usd_per_day(
        fleet.hashrate_ph, fleet.efficiency_j_per_th, fleet.power_usd_per_kwh
    )
    return FleetDay(revenue, cost, econ.fleet_margin_usd_per_day(revenue, cost))


def day_words(day: FleetDay, rate: currency.Rate | None = None) -> str:
    """`earns $7,424 a day, power costs $4,200: margin +$3,224 a day`; with `rate`, in the
    workspace's currency first and US$ beside it."""
    sign = "+" if day.margin_usd_per_day >= 0 else ""
    return (
        f"earns {currency.both(day.revenue_usd_per_day, rate)} a day, power costs "
        f"{currency.both(day.power_cost_usd_per_day, rate)}: margin {sign}"
        f"{currency.both(day.margin_usd_per_day, rate)} a day"
    )


def row(view: MarketView, fleet: Fleet, rate: currency.Rate | None = None) -> str:
    """One fleet against today's price, for a list of lines (mrkdwn, the name escaped): its
    breakeven, the margin and, with a hashrate, its day in money (`rate`: the workspace's
    currency first, US$ beside it)."""
    who = f"*Fleet {fmt.escape(fleet.name)}* ({describe(fleet)})"
    in_usd = currency.fleet_in_usd(fleet, view.rates, view.now)
    if in_usd is None:  # priced in another currency, and no fresh rate: nothing is guessed
        return (
            f":grey_question: {who}: no fresh {fleet.power_currency}/USD rate, so no breakeven now"
        )
    fleet = in_usd
    be = breakeven_usd(fleet, view.hashvalue_btc_per_th_day)
    if be is None or view.price_usd is None:
        return f":grey_question: {who}: breakeven unknown until network data arrives"
    m = econ.margin_over_line(view.price_usd, be)
    icon = ":large_green_circle:" if m >= 0 else ":red_circle:"
    out = f"{icon} {who} breaks even at {currency.both(be, rate)} — price is {fmt.margin_words(m)}"
    day = day_usd(fleet, view.hashvalue_btc_per_th_day, view.price_usd)
    return out + (f"; {day_words(day, rate)}" if day else "")
