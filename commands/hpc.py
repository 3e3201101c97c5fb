"""/hashfloor hpc — an HPC/AI lease price to compare a megawatt's mining earnings with."""

from __future__ import annotations

from bot import economics as econ
from bot import fmt
from bot.hpc import verdict as lease_verdict
from bot.slack import blocks as bk
from bot.slack.blocks import Reply
from commands import parsing
from commands.context import Ctx
from storage import workspaces

USAGE = "`/hashfloor hpc 150` (US$ per kW-month) · `/hashfloor hpc off`"
# Colocation and AI/HPC leases are quoted from tens to a few hundred US$ per kW-month.
LEASE_BOUNDS = (1.0, 2_000.0)


def lease_usd_per_kw_month(text: str) -> float:
    core = text.strip().lower().removeprefix("$")
    for unit in ("/kw-month", "/kw/month", "/kwmonth", "/kw-mo", "/kw"):
        core = core.removesuffix(unit)
    value = parsing.number(core)
    low, high = LEASE_BOUNDS
    if value is None or not low <= value <= high:
        raise parsing.ParseError(
            text, f"a lease price in US$ per kW-month between {low:g} and {high:,.0f}, e.g. `150`"
        )
    return value


def comparison(lease: float, mining_usd_per_mwh: float) -> str:
    """One line: the lease next to what mining earns per MWh (the same MWh, two uses)."""
    hpc = econ.hpc_lease_usd_per_mwh(lease)
    verdict = lease_verdict(hpc, mining_usd_per_mwh)
    return (
        f":office: *HPC lease* at {fmt.usd(lease)}/kW-month earns ${hpc:,.2f}/MWh "
        f"({fmt.usd(hpc * econ.HOURS_PER_DAY)} per MW per day) — {verdict}."
    )


def handle(ctx: Ctx, toks: list[str]) -> Reply:
    db = ctx.service.storage.db
    if not toks:
        lease = workspaces.get_hpc_lease(db, ctx.team_id)
        if lease is None:
            msg = "No HPC lease price is set: fleet answers show mining alone."
        else:
            hpc = econ.hpc_lease_usd_per_mwh(lease)
            msg = (
                f"Fleet answers compare mining with an HPC lease at {fmt.usd(lease)}/kW-month "
                f"(${hpc:,.2f}/MWh)."
            )
        return Reply(text=msg, blocks=[bk.section(msg), bk.context(fmt.escape(USAGE))])
    if len(toks) > 1:
        raise parsing.ParseError(toks[1], f"one price only: {USAGE}")
    if toks[0].lower() == "off":
        ctx.require_admin()
        with ctx.service.storage.transaction():
            workspaces.set_hpc_lease(db, ctx.team_id, None, ctx.user_id, ctx.now)
            ctx.audit("hpc.off")
        msg = "HPC comparison off: fleet answers show mining alone."
        return Reply(text=msg, blocks=[bk.section(msg)])
    lease = lease_usd_per_kw_month(toks[0])
    ctx.require_admin()
    with ctx.service.storage.transaction():
        workspaces.set_hpc_lease(db, ctx.team_id, lease, ctx.user_id, ctx.now)
        ctx.audit("hpc.set", usd_per_kw_month=lease)
    hpc = econ.hpc_lease_usd_per_mwh(lease)
    msg = (
        f"HPC lease set: {fmt.usd(lease)}/kW-month, which is ${hpc:,.2f} per MWh. Fleet answers "
        "(`/breakeven S21 0.05`, your fleets) now show it next to what mining earns per MWh."
    )
    return Reply(text=msg, blocks=[bk.section(msg)])
