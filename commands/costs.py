"""/costs — the cost benchmarks on file; `add` and `remove` a workspace's own lines."""

from __future__ import annotations

from bot import benchmarks, fmt
from bot.slack import blocks as bk
from bot.slack.blocks import Reply
from commands import parsing
from commands.context import Ctx
from storage import costs

NAME = "/costs"
USAGE = '`/costs` · `/costs add "<name>" cash=<usd> [allin=<usd>] [period=2025-Q3] [source=<url>]` · `/costs remove <id>`'


def is_change(text: str) -> bool:
    # Split as handle() splits: a quoted `"add"` is an add, applied once per trigger.
    try:
        toks = parsing.tokens(text)
    except parsing.ParseError:
        return False  # answered with the parse error; nothing changes
    return bool(toks) and toks[0].lower() in ("add", "remove", "rm", "delete")


def list_reply(ctx: Ctx) -> Reply:
    rows = costs.all_rows(ctx.service.storage.db, ctx.team)
    current = costs.current_shipped_ids(ctx.service.storage.db, ctx.now)
    shipped, own = [], []
    for r in rows:
        mark = " (current)" if r["id"] in current else ""
        note = f" ({fmt.escape(r['note'])})" if r.get("note") else ""
        src = f" — {fmt.escape(r['source'])}" if r["source"] else ""
        entry = (
            f"`#{r['id']}` {r['quarter'] or ''} {costs.KIND_LABEL[r['kind']]} "
            f"*{fmt.usd(r['value_usd'])}*{mark}{note}{src}"
        )
        if mark or r["workspace"] is not None:  # a line someone may be watching now
            entry += benchmarks.slack_mark(r["quarter"], ctx.now)
        if r["workspace"] is None:
            shipped.append(entry)
        else:
            own.append(f"`#{r['id']}` *{fmt.escape(r['name'])}* " + entry.split(" ", 1)[1])
    blocks = [bk.section("*CoinShares — listed miners' weighted average, US$ per BTC*")]
    blocks += bk.line_sections(shipped)
    # However many lines a workspace adds, they are spread over sections, not cut at 3,000
    # characters; past Slack's 50 blocks the last one counts what is left out.
    blocks += bk.line_sections(
        ["*This workspace's own lines*", *(own or ["none yet"])],
        budget=bk.MAX_BLOCKS - len(blocks) - 1,
        more=fmt.escape("`/costs remove <id>` removes the ones no longer needed"),
    )
    blocks.append(bk.context(f"Add yours: {fmt.escape(USAGE)}"))
    text = f"{len(shipped)} shipped benchmarks, {len(own)} of this workspace's own"
    return Reply(text=text, blocks=blocks)


def add(ctx: Ctx, toks: list[str]) -> Reply:
    words, pairs = parsing.key_values(toks)
    if len(words) != 1:
        raise parsing.ParseError(
            " ".join(toks), 'name the line once, in quotes: `/costs add "Acme Mining" cash=61000`'
        )
    unknown = set(pairs) - {"cash", "allin", "period", "quarter", "source"}
    if unknown:
        key = sorted(unknown)[0]
        raise parsing.ParseError(f"{key}=", "the keys are cash=, allin=, period=, source=")
    if not {"cash", "allin"} & set(pairs):
        raise parsing.ParseError(" ".join(toks), "give at least `cash=<usd>` or `allin=<usd>`")
    period = pairs.get("period") or pairs.get("quarter")
    # The same checks as `hashfloor costs add` and CSV import (commands.parsing.cost_input).
    lines = [
        parsing.cost_input(words[0], kind, pairs[kind], period, pairs.get("source"))
        for kind in ("cash", "allin")
        if kind in pairs
    ]
    name = lines[0].name
    ctx.require_admin()
    db = ctx.service.storage.db
    added = []
    with ctx.service.storage.transaction():
        for line in lines:
            row_id = costs.add(
                db,
                ctx.team,
                line.name,
                line.kind,
                line.value_usd,
                line.quarter,
                line.source,
                ctx.user_id,
                ctx.now,
            )
            added.append(f"`#{row_id}` {costs.KIND_LABEL[line.kind]} {fmt.usd(line.value_usd)}")
            ctx.audit(
                "costs.add",
                id=row_id,
                name=line.name,
                kind=line.kind,
                value_usd=line.value_usd,
                quarter=line.quarter,
            )
    msg = f"Added *{fmt.escape(name)}*: " + ", ".join(added)
    hint = "Subscribe a channel to it with `/hashfloor subscribe &lt;id&gt;`."
    return Reply(text=msg, blocks=[bk.section(f":white_check_mark: {msg}"), bk.context(hint)])


def remove(ctx: Ctx, toks: list[str]) -> Reply:
    if len(toks) != 1:
        raise parsing.ParseError(
            " ".join(toks) or "(nothing)", "the id of a line: `/costs remove 12`"
        )
    row_id = parsing.row_id(toks[0])
    ctx.require_admin()
    db = ctx.service.storage.db
    row = costs.get(db, row_id)
    if row is None or row["workspace"] != ctx.team:
        msg = f"There is no line #{row_id} of this workspace's own (shipped benchmarks stay)."
        return Reply(text=msg, blocks=[bk.section(f":warning: {msg}")])
    with ctx.service.storage.transaction():
        costs.remove(db, ctx.team, row_id)
        ctx.audit("costs.remove", id=row_id, name=row["name"], kind=row["kind"])
    msg = f"Removed #{row_id} ({fmt.escape(row['name'])} {costs.KIND_LABEL[row['kind']]})"
    return Reply(text=msg, blocks=[bk.section(f":wastebasket: {msg}")])


def handle(ctx: Ctx, text: str) -> Reply:
    toks = parsing.tokens(text)
    if not toks or toks[0].lower() == "list":
        return list_reply(ctx)
    verb, rest = toks[0].lower(), toks[1:]
    if verb == "add":
        return add(ctx, rest)
    if verb in ("remove", "rm", "delete"):
        return remove(ctx, rest)
    raise parsing.ParseError(toks[0], f"try {USAGE}")
