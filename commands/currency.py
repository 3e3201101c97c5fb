"""/hashfloor currency — the workspace's currency; and converting power prices typed in one.

A price in EUR, GBP, … becomes US$ with the rate the latest poll implies (bot.currency), and the
answer says which rate and how old. No fresh rate: the answer says so and nothing is converted.
"""

from __future__ import annotations

from bot import fmt
from bot.currency import (
    CURRENCIES,
    USD,
    Rate,
    both,
    fleet_in_usd,
    note,
    per_kwh,
    power_both,
    rate_words,
    shown,
)
from bot.market.view import MarketView
from bot.slack import blocks as bk
from bot.slack.blocks import Reply
from commands import parsing
from commands.context import Ctx
from storage import workspaces

USAGE = (
    f"`/hashfloor currency EUR` (one of {', '.join(CURRENCIES)}) · `/hashfloor currency USD` resets"
)


def rate_for(view: MarketView, currency: str) -> Rate:
    """The fresh rate of `currency`, or NotPossible saying plainly why there is none."""
    rate = view.rates.get(currency)
    if rate is None:
        raise parsing.NotPossible(
            f"No {currency}/USD rate: the last polls did not quote BTC in {currency} "
            "(mempool.space's prices), and I do not guess one. Give the price in US$ "
            "(`$0.05`), or try again in a minute."
        )
    if not rate.fresh(view.now):
        raise parsing.NotPossible(
            f"The {currency}/USD rate is stale ({rate_words(rate, view.now)}): mempool.space's "
            "prices have not answered since, and I do not convert with an old rate. Give the "
            "price in US$ (`$0.05`), or try again when the sources answer."
        )
    return rate


def to_usd(price: parsing.PowerPrice, view: MarketView) -> tuple[float, Rate | None]:
    """The price in US$ a kWh, and the rate used (None for US$, and for free power: 0 is 0)."""
    if price.currency == USD or price.per_kwh == 0:
        return price.per_kwh, None
    rate = rate_for(view, price.currency)
    return rate.to_usd(price.per_kwh), rate


def typed(price: parsing.PowerPrice, rate: Rate | None, now: float) -> str:
    """The price as the user gave it, with its US$ value and the rate: `€0.05/kWh ($0.0543/kWh
    at 0.92 EUR/USD, 3 min old)`."""
    if rate is None:
        return per_kwh(price.per_kwh, price.currency)
    usd = rate.to_usd(price.per_kwh)
    return f"{per_kwh(price.per_kwh, price.currency)} (${usd:.4f}/kWh at {rate_words(rate, now)})"


def shown_rate(view: MarketView, currency: str) -> tuple[Rate | None, str]:
    """The rate answers show money with, or a note that there is none (bot.currency.shown)."""
    return shown(view.rates, currency, view.now)


def handle(ctx: Ctx, toks: list[str]) -> Reply:
    db = ctx.service.storage.db
    if not toks:
        cur = workspaces.get_currency(db, ctx.team_id)
        if cur == USD:
            msg = "Answers show money in US$; a bare power price (`0.05`) is US$ a kWh."
        else:
            msg = (
                f"Answers show money in {cur} first, US$ beside it; a bare power price (`0.05`) "
                f"is {cur} a kWh. Cost lines stay in US$, as published."
            )
        return Reply(text=msg, blocks=[bk.section(msg), bk.context(fmt.escape(USAGE))])
    if len(toks) > 1:
        raise parsing.ParseError(toks[1], f"one currency only: {USAGE}")
    cur = parsing.currency_code(toks[0])
    ctx.require_admin()
    with ctx.service.storage.transaction():
        workspaces.set_currency(db, ctx.team_id, cur, ctx.user_id, ctx.now)
        ctx.audit("currency.set", currency=cur)
    if cur == USD:
        msg = "Currency reset: answers show money in US$, and a bare power price is US$ a kWh."
        return Reply(text=msg, blocks=[bk.section(msg)])
    view = ctx.service.view(ctx.team, ctx.now)
    rate, warning = shown_rate(view, cur)
    now_rate = f" Today's rate: {rate_words(rate, view.now)}." if rate else f" {warning}"
    msg = (
        f"Currency set to {cur}: `/breakeven`, fleet answers, the digest and App Home show money "
        f"in {cur} first and US$ beside it, and a bare power price (`0.05`) means {cur} a kWh "
        f"(`$0.05` or `0.05 USD` stays US$). Cost lines stay in US$, as published.{now_rate}"
    )
    return Reply(text=msg, blocks=[bk.section(msg)])


# Re-exported for answers built here: one name per helper, wherever it is used.
__all__ = [
    "both",
    "fleet_in_usd",
    "handle",
    "note",
    "per_kwh",
    "power_both",
    "rate_for",
    "shown_rate",
    "to_usd",
    "typed",
]
