"""Messages of the difficulty-retarget rule: pure functions from the event and the market to
Slack's text and blocks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot import economics as econ
from bot import fmt
from bot.alerts.retarget import HEADSUP_BLOCKS, HeadsUp, Memory, Retarget, epoch_start
from bot.market.snapshot import Network
from bot.slack import blocks as bk
from storage.workspaces import Fleet


@dataclass(frozen=True)
class Market:
    """What the message prices the retarget with: the latest fresh price (None: none now) and
    the network of the poll that saw the event (fees per block, tip height)."""

    price_usd: float | None
    network: Network


def rule_name(pct: float | None) -> str:
    """The rule as people read it: `difficulty retargets (heads-up past ±5%)`."""
    return "difficulty retargets" + (f" (heads-up past ±{pct:g}%)" if pct is not None else "")


def watching(mem: Memory) -> str:
    """Where a retarget rule stands, for status and the App Home (mrkdwn)."""
    if mem.epoch is None or mem.difficulty is None:
        return "*waiting for network data*"
    return (
        f"*watching* (difficulty {fmt.difficulty(mem.difficulty)} "
        f"since block {epoch_start(mem.epoch):,})"
    )


def _hashvalue(difficulty: float, net: Network) -> float | None:
    if net.tip_height is None or net.fees_per_block_btc is None:
        return None
    subsidy = econ.block_subsidy_btc(net.tip_height + 1)
    return econ.hashvalue_btc_per_th_day(difficulty, subsidy, net.fees_per_block_btc)


def fleet_name(fleet: Fleet) -> str:
    return f"{fleet.efficiency_j_per_th:g} J/TH at ${fleet.power_usd_per_kwh:g}/kWh"


def _effects(
    before: float, after: float, market: Market, fleets: Sequence[Fleet], estimated: bool
) -> list[str]:
    """Hashprice and each fleet's breakeven before → after, at the current price and fees."""
    hv_before, hv_after = _hashvalue(before, market.network), _hashvalue(after, market.network)
    if hv_before is None or hv_after is None:
        return ["Hashprice and breakevens: no fee data in this poll."]
    approx = "~" if estimated else ""
    rows = []
    if market.price_usd is not None:
        hp_before = econ.hashprice_usd_per_ph_day(hv_before, market.price_usd)
        hp_after = econ.hashprice_usd_per_ph_day(hv_after, market.price_usd)
        rows.append(
            f"• Hashprice at BTC {fmt.usd(market.price_usd)}: "
            f"{fmt.usd(hp_before, cents=True)} → {approx}{fmt.usd(hp_after, cents=True)}/PH/day"
        )
    else:
        rows.append("• Hashprice: no fresh BTC price right now")
    for fleet in fleets:
        if fleet.power_currency != "USD":
            continue  # priced in another currency: its line says where it stands at each poll
        try:
            be = [
                econ.fleet_breakeven_price_usd(
                    fleet.efficiency_j_per_th, fleet.power_usd_per_kwh, hv, fleet.pool_fee
                )
                for hv in (hv_before, hv_after)
            ]
        except econ.EconomicsDomainError:
            continue  # a fleet without a breakeven (free power) has nothing to move
        rows.append(
            f"• Breakeven of fleet {fmt.escape(fleet.name)} ({fleet_name(fleet)}): "
            f"{fmt.usd(be[0])} → {approx}{fmt.usd(be[1])}"
        )
    return rows


def _notes(taken_at: float, net: Network) -> str:
    source = f", {fmt.escape(net.source)}" if net.source else ""
    return f"Network data as of {fmt.when(taken_at)}{source} · fees per block and price as now"


def retarget(
    event: Retarget, market: Market, fleets: Sequence[Fleet]
) -> tuple[str, list[dict[str, Any]]]:
    """The message of a retarget the bot saw happen."""
    up = event.change >= 0
    icon = ":chart_with_upwards_trend:" if up else ":chart_with_downwards_trend:"
    change = fmt.pct(event.change, digits=2)
    old, new = fmt.difficulty(event.old_difficulty), fmt.difficulty(event.new_difficulty)
    head = f"Difficulty retargeted at block {event.height:,}: {change}"
    body = f"*{old} → {new}* ({'harder' if up else 'easier'} to mine)"
    rows = _effects(event.old_difficulty, event.new_difficulty, market, fleets, estimated=False)
    text = f"{head}: difficulty {old} → {new}"
    blocks = [
        bk.section(f"{icon} *{head}*\n{body}"),
        *bk.line_sections(rows),
        bk.context(_notes(event.seen_at, market.network)),
    ]
    return text, blocks


def heads_up(
    event: HeadsUp, market: Market, fleets: Sequence[Fleet], taken_at: float
) -> tuple[str, list[dict[str, Any]]]:
    """The heads-up before a retarget whose estimate is past the rule's threshold."""
    change = event.change_percent / 100
    estimate = event.difficulty * (1 + change)
    when = f", around {fmt.when(event.estimated_at)}" if event.estimated_at else ""
    blocks_left = f"{event.remaining_blocks:,} block{'s' if event.remaining_blocks != 1 else ''}"
    head = f"Difficulty retarget in {blocks_left}{when}: estimated {fmt.pct(change, digits=2)}"
    body = (
        f"*{fmt.difficulty(event.difficulty)} → ~{fmt.difficulty(estimate)}* "
        "if blocks keep coming at the pace of this epoch (mempool's estimate)"
    )
    rows = _effects(event.difficulty, estimate, market, fleets, estimated=True)
    text = f"{head}: difficulty {fmt.difficulty(event.difficulty)} → ~{fmt.difficulty(estimate)}"
    blocks = [
        bk.section(f":hourglass_flowing_sand: *{head}*\n{body}"),
        *bk.line_sections(rows),
        bk.context(_notes(taken_at, market.network)),
    ]
    return text, blocks


def subscribed(
    pct: float | None, net: Network | None, by: str | None
) -> tuple[str, list[dict[str, Any]]]:
    """The confirmation of an adjustment rule: what it will post, and the next retarget."""
    who = f"<@{by}> subscribed this channel" if by else "Subscribed"
    what = "a message at each difficulty retarget (old → new, hashprice and breakevens)"
    if pct is not None:
        what += (
            f", and a heads-up when the estimate is past ±{pct:g}% with fewer than "
            f"{HEADSUP_BLOCKS} blocks to go"
        )
    nxt = ""
    if net is not None and net.next_adjustment_percent is not None:
        nxt = f"Next retarget: estimated {fmt.pct(net.next_adjustment_percent / 100, digits=2)}"
        if net.next_adjustment_blocks is not None:
            nxt += f" in {net.next_adjustment_blocks:,} blocks"
        nxt += "."
    text = f"{who} to {rule_name(pct)}: {what}. {nxt}".strip()
    body = f":bell: *{who} to {rule_name(pct)}* — this is not an alert\nYou will get {what}."
    return text, [bk.section(body), *([bk.context(nxt)] if nxt else [])]
