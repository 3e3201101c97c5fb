"""/hashfloor — settings and subscriptions; each subcommand lives in its own module."""

from __future__ import annotations

from collections.abc import Callable

from bot.fmt import escape
from bot.slack import blocks as bk
from bot.slack.blocks import Reply
from commands import (
    currency,
    digest,
    fleet,
    hpc,
    machines,
    mute,
    parsing,
    status,
    subscribe,
    threads,
)
from commands.context import Ctx

NAME = "/hashfloor"

HELP = """*Hashfloor* — BTC price against the cost of mining it.
`/breakeven` — price vs every cost line · `/breakeven S21 0.05 2` — a fleet's breakeven (model or J/TH, $/kWh, pool fee %)
`/hashprice` — hashprice, difficulty, next adjustment, halving
`/costs` — cost benchmarks · `/costs add "Acme" cash=61000 allin=98000 period=2025-Q3` · `/costs remove <id>`
`/hashfloor subscribe [cash|allin|all|<cost id>|fleet [<name>]|below <usd>]` — alerts in this channel (`fleet`: every fleet; `unsubscribe` the same; `unsubscribe all`: every rule here)
`/hashfloor subscribe hashprice below 30` ($/PH/day) or `below 40 sats` · `subscribe cash within 5%` — an early warning on any line
`/hashfloor subscribe adjustment [<pct>]` — each difficulty retarget, and a heads-up when the estimate is past ±pct (`unsubscribe adjustment`)
`/hashfloor digest <mon..sun> <HH:MM> [<zone>]` · `digest off` · `digest preview` — the weekly digest
`/hashfloor fleet [<name>] <model|J/TH> <$/kWh> [fee %] [hashrate <PH/s>]` · `fleet list` · `fleet [<name>] off` — your fleets (no name: `main`), each a line `fleet:<name>`
`/hashfloor hpc <usd per kW-month>` · `hpc off` — compare mining with an HPC/AI lease
`/hashfloor currency <USD|EUR|GBP|CAD|CHF|AUD|JPY>` — money in that currency first; power prices may be `€0.045`, `0.045 EUR`, `45 €/MWh`
`/hashfloor machines [filter]` — the machine catalogue; a model works wherever a J/TH does (`/breakeven S21 0.05 2`)
`/hashfloor mute <30m|4h|1d>` · `unmute` · `/hashfloor status`
`/hashfloor threads on|off` — recoveries in the alert's thread (default) or top-level; the alert is edited either way
Add `share` after `/breakeven` or `/hashprice` to post the answer in the channel."""

USAGE = "`/hashfloor help`"

Sub = Callable[[Ctx, list[str]], Reply]


def help_(ctx: Ctx, toks: list[str]) -> Reply:
    # Both are mrkdwn to Slack: the placeholders (`<usd>`) are escaped in the fallback text too.
    plain = escape(HELP.replace("*", "").replace("`", ""))
    return Reply(text=plain, blocks=[bk.section(escape(HELP))])


def coming(name: str) -> Sub:
    def answer(ctx: Ctx, toks: list[str]) -> Reply:
        msg = f"`/hashfloor {name}` is coming in the next release."
        return Reply(text=msg, blocks=[bk.section(f":construction: {msg}")])

    return answer


# Subcommands; features that arrive later replace their entry.
SUBCOMMANDS: dict[str, Sub] = {
    "help": help_,
    "status": status.handle,
    "fleet": fleet.handle,
    "mute": mute.mute,
    "unmute": mute.unmute,
    "subscribe": subscribe.subscribe,
    "unsubscribe": subscribe.unsubscribe,
    "digest": digest.handle,
    "machines": machines.handle,
    "hpc": hpc.handle,
    "currency": currency.handle,
    "threads": threads.handle,
}
# Reading these changes nothing; every other subcommand may write.
READ_ONLY = {"help", "status", "machines"}


def is_change(text: str) -> bool:
    # Split as handle() splits (quotes group words): `"threads" off` is the change it runs as,
    # applied once per trigger in the lazy path, not answered as a read.
    try:
        toks = parsing.tokens(text)
    except parsing.ParseError:
        return False  # answered with the parse error; nothing changes
    if not toks:
        return False
    if toks[0].lower() in ("fleet", "hpc", "currency", "threads") and len(toks) == 1:
        return False
    if [t.lower() for t in toks] == ["fleet", "list"]:
        return False
    return toks[0].lower() in SUBCOMMANDS and toks[0].lower() not in READ_ONLY


def handle(ctx: Ctx, text: str) -> Reply:
    toks = parsing.tokens(text)
    if not toks:
        return help_(ctx, [])
    sub = SUBCOMMANDS.get(toks[0].lower())
    if sub is None:
        raise parsing.ParseError(toks[0], "the subcommands are " + ", ".join(SUBCOMMANDS))
    return sub(ctx, toks[1:])
