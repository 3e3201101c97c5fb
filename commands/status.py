"""/hashfloor status — this channel's alerts, mute, digest, and the last poll."""

from __future__ import annotations

from collections.abc import Callable

from bot import fmt
from bot.slack import blocks as bk
from bot.slack.blocks import Block, Reply
from commands import subscribe, threads
from commands.context import Ctx
from commands.fleet import listing
from storage import snapshots, workspaces

# Each feature adds a section: a function of the context returning blocks.
SECTIONS: list[Callable[[Ctx], list[Block]]] = [subscribe.status_section]


def handle(ctx: Ctx, toks: list[str]) -> Reply:
    db = ctx.service.storage.db
    blocks: list[Block] = [bk.section("*Hashfloor status*")]
    for part in SECTIONS:
        blocks.extend(part(ctx))
    muted = (
        workspaces.muted_until(db, ctx.team, ctx.channel_id, ctx.now) if ctx.channel_id else None
    )
    threads_on = workspaces.threads_on(db, ctx.team, ctx.channel_id) if ctx.channel_id else True
    fleets = workspaces.get_fleets(db, ctx.team_id)
    last = snapshots.latest(db)
    good = snapshots.latest_fresh(db)
    lines = [
        f"*Muted:* until {fmt.when(muted)}" if muted else "*Muted:* no",
        f"*Recoveries:* {threads.describe(threads_on)}",
        f"*Fleets:* {listing(fleets)}" if fleets else "*Fleets:* none set",
        f"*Last poll:* {fmt.age(ctx.now - last.taken_at) if last else 'never'}"
        + ("" if not last or last.fresh else " (not fresh: fewer than 2 sources agreed)"),
        f"*Last good price:* {fmt.usd(good.price_usd)} {fmt.age(ctx.now - good.taken_at)}"
        if good
        else "*Last good price:* none yet",
    ]
    blocks.append(bk.section("\n".join(lines)))
    # The fallback (notifications, screen readers, clients without blocks) carries every section,
    # still escaped: Slack reads `text` as mrkdwn too.
    parts = [b["text"]["text"].replace("*", "") for b in blocks[1:] if "text" in b]
    return Reply(text="Hashfloor status\n" + "\n".join(parts), blocks=blocks)
