"""/hashfloor fleet — the workspace's fleet: one more cost line that moves with the network."""

from __future__ import annotations

from bot import economics as econ
from bot import fmt
from bot.machines import Machine
from bot.slack import blocks as bk
from bot.slack.blocks import Reply
from commands import machines, parsing
from commands.context import Ctx
from storage import workspaces

USAGE = "`/hashfloor fleet <model|J/TH> <$/kWh> [fee %] [hashrate <PH/s>]` · `/hashfloor fleet off`"


def describe(fleet: workspaces.Fleet) -> str:
    rate = f", {fleet.hashrate_ph:g} PH/s" if fleet.hashrate_ph else ""
    return (
        f"{fleet.efficiency_j_per_th:g} J/TH at ${fleet.power_usd_per_kwh:g}/kWh, "
        f"pool fee {fleet.pool_fee * 100:g}%{rate}"
    )


def parse(toks: list[str], ctx: Ctx | None = None) -> tuple[workspaces.Fleet, Machine | None]:
    """The fleet, and the catalogue model its efficiency came from (None for a J/TH number)."""
    model = None
    rate = None
    if "hashrate" in [t.lower() for t in toks]:
        i = [t.lower() for t in toks].index("hashrate")
        if i + 1 >= len(toks):
            raise parsing.ParseError("hashrate", "a hashrate after the word: `hashrate 350`")
        rate = parsing.hashrate_ph(toks[i + 1])
        toks = toks[:i] + toks[i + 2 :]
    if len(toks) < 2:
        raise parsing.NotPossible(
            "Give the efficiency (or a model) and the power price, e.g. `17.5 0.05 2`."
        )
    if ctx is not None and toks[0][:1].isalpha():
        eff, model, rest = machines.efficiency(ctx, toks)  # a model name: `S21 XP 0.045`
    else:
        eff, rest = parsing.efficiency_j_per_th(toks[0]), toks[1:]
    if not rest:
        raise parsing.NotPossible("Give the power price after the model, e.g. `S21 0.05`.")
    if len(rest) > 2:
        raise parsing.ParseError(
            rest[2], "at most efficiency, power price and pool fee, e.g. `17.5 0.05 2`"
        )
    fleet = workspaces.Fleet(
        eff,
        parsing.power_usd_per_kwh(rest[0]),
        parsing.pool_fee(rest[1]) if len(rest) == 2 else 0.0,
        rate,
    )
    return fleet, model


def handle(ctx: Ctx, toks: list[str]) -> Reply:
    db = ctx.service.storage.db
    if not toks:
        fleet = workspaces.get_fleet(db, ctx.team_id)
        msg = f"This workspace's fleet: {describe(fleet)}" if fleet else "No fleet set."
        return Reply(text=msg, blocks=[bk.section(msg), bk.context(f"Set it: {fmt.escape(USAGE)}")])
    if toks[0].lower() == "off":
        ctx.require_admin()
        with ctx.service.storage.transaction():
            workspaces.set_fleet(db, ctx.team_id, None, ctx.user_id, ctx.now)
            ctx.audit("fleet.off")
        msg = "Fleet removed: its breakeven line is no longer shown or watched."
        return Reply(text=msg, blocks=[bk.section(msg)])
    fleet, model = parse(toks, ctx)
    ctx.require_admin()
    with ctx.service.storage.transaction():
        workspaces.set_fleet(db, ctx.team_id, fleet, ctx.user_id, ctx.now)
        ctx.audit("fleet.set", **fleet.__dict__)
    used = f" ({model.model}'s {model.efficiency_j_th:g} J/TH from the catalogue)" if model else ""
    msg = f"Fleet set: {describe(fleet)}{used}."
    view = ctx.service.view(ctx.team, ctx.now)
    if view.hashvalue_btc_per_th_day and view.price_usd:
        be = econ.fleet_breakeven_price_usd(
            fleet.efficiency_j_per_th,
            fleet.power_usd_per_kwh,
            view.hashvalue_btc_per_th_day,
            fleet.pool_fee,
        )
        msg += (
            f" It breaks even at {fmt.usd(be)} today; BTC at {fmt.usd(view.price_usd)} is "
            f"{fmt.margin_words(econ.margin_over_line(view.price_usd, be))}."
        )
    return Reply(text=msg, blocks=[bk.section(f":pick: {msg}")])
