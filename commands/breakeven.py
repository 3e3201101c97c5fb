"""/breakeven — the price against every cost line, or one fleet's breakeven."""

from __future__ import annotations

from collections.abc import Mapping

from bot import benchmarks, fmt
from bot import economics as econ
from bot import fleets as fl
from bot.machines import Machine
from bot.market.view import MarketView
from bot.slack import blocks as bk
from bot.slack.blocks import Reply
from commands import currency, hpc, machines, parsing
from commands.context import Ctx
from storage import workspaces

NAME = "/breakeven"
USAGE = "`/breakeven` · `/breakeven <model|J/TH> <power price> [pool fee %]` e.g. `/breakeven S21 0.05 2`, `/breakeven 17.5 €0.045` or `/breakeven S21 45/MWh` · `/breakeven share …`"


def is_change(text: str) -> bool:
    return False


def _ago(view: MarketView, at: float, shared: bool) -> str:
    """How old data is. A shared answer stays in the channel and is read later: Slack then
    renders `<!date^…^{ago}>` at reading time, where "15s ago" would go on saying 15s."""
    if shared:
        return f"<!date^{int(at)}^{{ago}} ({{date_short_pretty}} {{time}})|{fmt.when(at)}>"
    return fmt.age(view.now - at)


def data_note(view: MarketView, shared: bool = False) -> str:
    """Where the numbers come from and how old they are — every reply carries it."""
    if view.price_at is None:
        return "No market data yet: the first poll has not come back."
    sources = ", ".join(view.price_sources) or "no source"
    fetched = _ago(view, view.price_at, shared)
    if not shared:
        fetched += f" ({fmt.when(view.price_at)})"
    note = f"Median of {sources} · fetched {fetched}"
    if view.stale:
        note = f":warning: Stale data — {note}. The price sources have not answered since."
    if view.network_at is not None:
        note += f" · network from mempool.space {_ago(view, view.network_at, shared)}"
    return note


def no_data_reply() -> Reply:
    msg = "No market data yet — the bot polls the price sources at start-up; try again in a minute."
    return Reply(text=msg, blocks=[bk.section(f":hourglass: {msg}")])


def market_reply(
    view: MarketView,
    fleets: Mapping[str, workspaces.Fleet],
    shared: bool = False,
    money: str = "USD",
) -> Reply:
    """`money`: the workspace's currency, shown first with US$ beside it (cost lines stay US$)."""
    if view.price_usd is None:
        return no_data_reply()
    price = view.price_usd
    rate, warning = currency.shown_rate(view, money)
    # The workspace's own fleets first: the lines a miner cares about must not be the ones left out.
    lines = [fl.row(view, f, rate) for f in fleets.values()]
    fleet_text = ""
    for f in fleets.values():
        in_usd = currency.fleet_in_usd(f, view.rates, view.now)
        be = fl.breakeven_usd(in_usd, view.hashvalue_btc_per_th_day) if in_usd else None
        if be is not None:
            fleet_text += (
                f"{fmt.pct(econ.margin_over_line(price, be))} vs fleet {fmt.escape(f.name)}; "
            )
    for m in view.margins:
        icon = ":large_green_circle:" if m.margin >= 0 else ":red_circle:"
        lines.append(
            f"{icon} *{fmt.escape(m.line.label)}* {fmt.usd(m.line.value_usd)} — "
            f"price is {fmt.margin_words(m.margin)}"
            + benchmarks.slack_mark(m.line.period, view.now)
        )
    text = f"BTC {currency.both(price, rate)}: {fleet_text}" + "; ".join(
        f"{fmt.pct(m.margin)} vs {fmt.escape(m.line.label)}"
        + benchmarks.short_mark(m.line.period, view.now)
        for m in view.margins
    )
    head = bk.section(f"*BTC {currency.both(price, rate)}* against the cost of mining one bitcoin")
    note = bk.context(_notes(view, shared, rate, warning))
    body = bk.line_sections(
        lines or ["No cost lines on file."], budget=bk.MAX_BLOCKS - 2, more="see `/costs`"
    )
    return Reply(text=text, blocks=[head, *body, note])


def _notes(view: MarketView, shared: bool, rate: currency.Rate | None, warning: str) -> str:
    extra = [n for n in (currency.note(rate, view.now), warning) if n]
    return " · ".join([data_note(view, shared), *extra])


def fleet_reply(
    view: MarketView,
    eff: float,
    power: float | parsing.PowerPrice,
    fee: float,
    model: Machine | None = None,
    hpc_lease: float | None = None,
    shared: bool = False,
    money: str = "USD",
) -> Reply:
    """`power`: US$ a kWh, or a price as typed in any currency (converted with the view's rate;
    no fresh rate → NotPossible). `money`: the workspace's currency, shown first."""
    if view.price_usd is None or not view.has_network:
        return no_data_reply()
    if isinstance(power, parsing.PowerPrice):
        price = power
        power, used = currency.to_usd(price, view)
        given = currency.typed(price, used, view.now)
        money = money if money != "USD" else price.currency
    else:
        given = f"${power:g}/kWh"
    rate, warning = currency.shown_rate(view, money)
    fe = econ.fleet_economics(
        efficiency_j_per_th=eff,
        power_usd_per_kwh=power,
        pool_fee=fee,
        difficulty=view.difficulty,
        height=view.tip_height,
        fees_per_block_btc=view.fees_per_block_btc,
        price_usd=view.price_usd,
    )
    machine = machines.describe(model) if model else f"{eff:g} J/TH"
    fleet = f"{machine} at {given}, pool fee {fee * 100:g}%"
    verdict = "profitable" if fe.daily_margin_usd_per_ph >= 0 else "losing money"
    be_power = currency.power_both(fe.breakeven_power_usd_per_kwh, rate)
    text = (
        f"{fleet}: breakeven BTC price {currency.both(fe.breakeven_price_usd, rate)}, "
        f"breakeven power price {be_power}"
    )
    fields = [
        f"*Breakeven BTC price*\n{currency.both(fe.breakeven_price_usd, rate)}",
        f"*Breakeven power price*\n{be_power}",
        f"*Hashcost*\n{currency.both(fe.hashcost_usd_per_ph_day, rate, cents=True)}/PH/day",
        "*Hashprice (after pool fee)*\n"
        f"{currency.both(fe.hashprice_usd_per_ph_day * (1 - fee), rate, cents=True)}/PH/day",
        f"*Daily margin*\n{currency.both(fe.daily_margin_usd_per_ph, rate, cents=True)} per PH/s",
        f"*BTC now*\n{currency.both(view.price_usd, rate)} ({verdict})",
    ]
    blocks = [
        bk.section(f"*Fleet breakeven* — {fleet}"),
        bk.fields_section(fields),
        bk.section(curtailment(fe, rate)),
        *([bk.section(hpc.comparison(hpc_lease, fe.earnings_usd_per_mwh))] if hpc_lease else []),
        bk.context(_notes(view, shared, rate, warning)),
    ]
    return Reply(text=text, blocks=blocks)


def curtailment(fe: econ.FleetEconomics, rate: currency.Rate | None = None) -> str:
    """The fleet's earnings per MWh: the power price above which it loses money on power alone.
    With a workspace currency (`rate`), in that currency first and US$ beside it."""
    per_mwh = f"{currency.both(fe.earnings_usd_per_mwh, rate, cents=True)}/MWh"
    return (
        f":zap: *Curtailment price {per_mwh}* (${fe.breakeven_power_usd_per_kwh:.4f}/kWh): "
        f"each MWh these machines burn earns {currency.both(fe.earnings_usd_per_mwh, rate, True)}, "
        f"each MW of load {currency.both(fe.earnings_usd_per_mw_day, rate)} a day. When power "
        f"costs more than {per_mwh}, they lose money on power alone: curtail."
    )


def handle(ctx: Ctx, text: str) -> Reply:
    toks = parsing.tokens(text)
    share = bool(toks) and toks[0].lower() == "share"
    if share:
        toks = toks[1:]
    view, fleets = ctx.service.view_and_fleets(ctx.team, ctx.now)
    prefs = ctx.service.settings_of(ctx.team)
    money = prefs.currency
    if not toks:
        reply = market_reply(view, fleets, share, money)
    else:
        eff, model, rest = machines.efficiency(ctx, toks)
        if not rest:
            raise parsing.ParseError(
                toks[-1],
                "give the power price after the model or efficiency, "
                "e.g. `/breakeven S21 0.05 2` or `/breakeven 17.5 0.05 2`",
            )
        power, rest = parsing.power_words(rest, money)
        if len(rest) > 1:
            raise parsing.ParseError(
                rest[1],
                "at most three values: model or efficiency, power price, pool fee (`S21 0.05 2`)",
            )
        fee = parsing.pool_fee(rest[0]) if rest else 0.0
        lease = prefs.hpc_usd_per_kw_month
        reply = fleet_reply(
            view, eff, power, fee, model, hpc_lease=lease, shared=share, money=money
        )
    reply.in_channel = share
    return reply
