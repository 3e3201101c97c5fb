"""/hashfloor mute <duration> | unmute — quiet a channel's alerts for a while."""

from __future__ import annotations

from bot import fmt
from bot.slack import blocks as bk
from bot.slack.blocks import Reply
from commands import parsing
from commands.context import Ctx
from storage import workspaces

USAGE = "`/hashfloor mute <30m|4h|1d…>` · `/hashfloor unmute`"


def mute(ctx: Ctx, toks: list[str]) -> Reply:
    if not toks:
        raise parsing.NotPossible("Say for how long, e.g. `/hashfloor mute 4h`.")
    if len(toks) > 1:
        raise parsing.ParseError(toks[1], "one duration only, e.g. `4h`")
    seconds = parsing.duration_s(toks[0])
    if not ctx.channel_id:
        raise parsing.NotPossible("Run it in the channel to mute.")
    ctx.require_member()
    until = ctx.now + seconds
    with ctx.service.storage.transaction():
        workspaces.set_muted_until(
            ctx.service.storage.db, ctx.team_id, ctx.channel_id, until, ctx.now
        )
        ctx.audit("channel.mute", channel=ctx.channel_id, until=until)
    msg = (
        f"Muted until {fmt.when(until)}. Alerts keep tracking the price; when the mute ends you "
        "get one message if anything changed."
    )
    return Reply(text=msg, blocks=[bk.section(f":mute: {msg}")])


def unmute(ctx: Ctx, toks: list[str]) -> Reply:
    if toks:
        raise parsing.ParseError(toks[0], "`/hashfloor unmute` takes nothing after it")
    if not ctx.channel_id:
        raise parsing.NotPossible("Run it in the channel to unmute.")
    ctx.require_member()
    db = ctx.service.storage.db
    was = workspaces.muted_until(db, ctx.team, ctx.channel_id, ctx.now)
    with ctx.service.storage.transaction():
        workspaces.set_muted_until(db, ctx.team_id, ctx.channel_id, None, ctx.now)
        ctx.audit("channel.unmute", channel=ctx.channel_id)
    msg = "Unmuted." if was else "This channel was not muted."
    return Reply(text=msg, blocks=[bk.section(f":loud_sound: {msg}")])
