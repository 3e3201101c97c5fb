"""/hashprice — hashprice and the network."""

from __future__ import annotations

from bot import fmt
from bot.market.view import MarketView
from bot.slack import blocks as bk
from bot.slack.blocks import Reply
from commands import parsing
from commands.breakeven import data_note, no_data_reply
from commands.context import Ctx

NAME = "/hashprice"
USAGE = "`/hashprice` · `/hashprice share`"


def is_change(text: str) -> bool:
    return False


def hashprice_reply(view: MarketView, shared: bool = False) -> Reply:
    if not view.has_network:
        return no_data_reply()
    hp = view.hashprice_usd_per_ph_day
    hp_text = f"${hp:,.2f}/PH/day" if hp is not None else "— (no fresh price)"
    adj = "—"
    if view.next_adjustment_percent is not None:
        adj = (
            f"{fmt.pct(view.next_adjustment_percent / 100, digits=2)} est., "
            f"{fmt.day(view.next_adjustment_at)} (in {view.next_adjustment_blocks:,} blocks)"
            f"{view.adjustment_note}"
        )
    fields = [
        f"*Hashprice*\n{hp_text}",
        f"*Hashvalue*\n{view.hashprice_sats_per_th_day:,.1f} sats/TH/day",
        f"*Difficulty*\n{fmt.difficulty(view.difficulty)}",
        f"*Hashrate*\n{fmt.hashrate(view.hashrate_hs)}",
        f"*Fees share of reward*\n{fmt.pct(view.fees_share, signed=False)} "
        f"({view.fees_per_block_btc:.3f} BTC/block, 144-block avg)",
        f"*Next difficulty adjustment*\n{adj}",
        f"*Next halving*\nin {view.blocks_to_halving:,} blocks (tip {view.tip_height:,})",
        f"*BTC*\n{fmt.usd(view.price_usd)}",
    ]
    text = (
        f"Hashprice {hp_text}; difficulty {fmt.difficulty(view.difficulty)}; next adjustment {adj}"
    )
    return Reply(
        text=text,
        blocks=[
            bk.section("*Hashprice and the network*"),
            bk.fields_section(fields),
            bk.context(data_note(view, shared)),
        ],
    )


def handle(ctx: Ctx, text: str) -> Reply:
    toks = parsing.tokens(text)
    share = bool(toks) and toks[0].lower() == "share"
    if toks[share:]:
        raise parsing.ParseError(toks[share], "`/hashprice` takes no arguments (or `share`)")
    reply = hashprice_reply(ctx.service.view(ctx.team, ctx.now), share)
    reply.in_channel = share
    return reply
