"""/hashfloor subscribe | unsubscribe — which lines this channel is alerted about."""

from __future__ import annotations

from bot import fmt
from bot.alerts import engine, messages, rules
from bot.alerts.targets import Target, resolve
from bot.lines import named_keys
from bot.slack import blocks as bk
from bot.slack.blocks import Block, Reply
from commands import parsing
from commands.context import Ctx
from storage import alerts, workspaces

USAGE = (
    "`/hashfloor subscribe [cash|allin|all|<cost id>|fleet|below <usd>]` (default: cash and allin)"
)


def parse_keys(toks: list[str]) -> list[str]:
    """Rule keys named by the text; nothing means cash and all-in."""
    if not toks:
        return ["cash", "allin"]
    words = [t.lower() for t in toks]
    if words[0] == "below":
        if len(toks) != 2:
            raise parsing.ParseError(" ".join(toks), "one price after `below`, e.g. `below 80000`")
        return [f"below:{parsing.usd(toks[1]):g}"]
    keys: list[str] = []
    for tok, word in zip(toks, words, strict=True):
        if (named := named_keys(word)) is not None:
            keys += named
        elif word.lstrip("#").isdigit():
            keys.append(f"cost:{int(word.lstrip('#'))}")
        else:
            raise parsing.ParseError(tok, f"try {USAGE}")
    return list(dict.fromkeys(keys))


def _targets(ctx: Ctx, keys: list[str]) -> list[tuple[str, Target]]:
    db = ctx.service.storage.db
    lines = engine.benchmark_lines(db, ctx.team)
    fleet = workspaces.get_fleet(db, ctx.team_id)
    out = []
    for key in keys:
        target = resolve(key, lines, fleet, engine.network(db))
        if target is None:
            what = {
                "fleet": "No fleet is set: `/hashfloor fleet <J/TH> <$/kWh>` first.",
            }.get(key, f"There is no cost line #{key.removeprefix('cost:')}: see `/costs`.")
            if key == "fleet" and fleet:
                what = "The fleet line needs network data; try again after the next poll."
            raise parsing.ParseError(key.removeprefix("cost:"), what)
        out.append((key, target))
    return out


def subscribe(ctx: Ctx, toks: list[str]) -> Reply:
    if not ctx.channel_id:
        raise parsing.ParseError("subscribe", "run it in the channel that should get the alerts")
    targets = _targets(ctx, parse_keys(toks))
    ctx.require_member()
    db = ctx.service.storage.db
    price, fresh = engine.fresh_price(db, ctx.now)
    stood = []
    with ctx.service.storage.transaction():
        for key, target in targets:
            state = rules.initial_state(price, fresh, target.line.value_usd, ctx.now)
            alerts.add_rule(
                db,
                ctx.team,
                ctx.channel_id,
                key,
                state,
                target.line.value_usd,
                target.version,
                ctx.user_id,
                ctx.now,
            )
            existing = next(
                r
                for r in alerts.channel_rules(db, ctx.team, ctx.channel_id)
                if r["line_key"] == key
            )
            stood.append((target.line, existing["state"]))
        ctx.audit("subscribe", channel=ctx.channel_id, lines=[k for k, _ in targets])
    text, blocks = messages.where_it_stands(price, stood, fresh)
    return Reply(text=text, blocks=blocks)


def unsubscribe(ctx: Ctx, toks: list[str]) -> Reply:
    if not ctx.channel_id:
        raise parsing.ParseError("unsubscribe", "run it in the channel")
    keys = parse_keys(toks)
    ctx.require_member()
    db = ctx.service.storage.db
    with ctx.service.storage.transaction():
        gone = [k for k in keys if alerts.remove_rule(db, ctx.team, ctx.channel_id, k)]
        ctx.audit("unsubscribe", channel=ctx.channel_id, lines=gone)
    if not gone:
        msg = "This channel was not subscribed to that."
    else:
        msg = "Unsubscribed from " + ", ".join(f"`{k}`" for k in gone) + "."
    return Reply(text=msg, blocks=[bk.section(msg)])


def status_section(ctx: Ctx) -> list[Block]:
    """The channel's rules for `/hashfloor status`: state, since when, last message, pauses."""
    if not ctx.channel_id:
        return []
    db = ctx.service.storage.db
    rows = alerts.channel_rules(db, ctx.team, ctx.channel_id)
    if not rows:
        return [bk.section("*Alerts:* this channel is not subscribed. " + fmt.escape(USAGE))]
    lines = engine.benchmark_lines(db, ctx.team)
    fleet = workspaces.get_fleet(db, ctx.team_id)
    net = engine.network(db)
    out = []
    for r in rows:
        target = resolve(r["line_key"], lines, fleet, net)
        name = (
            f"{fmt.escape(target.line.label)} ({fmt.usd(target.line.value_usd)})"
            if target
            else f"`{r['line_key']}` (line no longer exists)"
        )
        since = f" since {fmt.when(r['since'])}" if r["since"] else ""
        last = f"; last message {fmt.when(r['last_message_at'])}" if r["last_message_at"] else ""
        entry = f"• {name}: *{r['state']}*{since}{last}"
        if r["paused_reason"]:
            entry += (
                f"\n   :warning: paused {fmt.when(r['paused_at'])}: Slack said "
                f"`{fmt.escape(r['paused_reason'])}` — invite the bot or subscribe again to resume"
            )
        out.append(entry)
    return [bk.section("*Alerts in this channel*\n" + "\n".join(out))]
