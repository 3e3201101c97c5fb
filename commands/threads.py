"""/hashfloor threads on|off — where a channel's recoveries go: in the alert's thread, or top-level.

Either way the alert itself is edited to say it recovered (one message per episode, DESIGN §5.1).
A channel's setting, like mute and the digest: any member may change it.
"""

from __future__ import annotations

from bot.slack import blocks as bk
from bot.slack.blocks import Reply
from commands import parsing
from commands.context import Ctx
from storage import workspaces

USAGE = "`/hashfloor threads on` · `/hashfloor threads off`"


def describe(on: bool) -> str:
    """The setting as status shows it."""
    return "in the alert's thread" if on else "top-level (threads off)"


def handle(ctx: Ctx, toks: list[str]) -> Reply:
    if len(toks) > 1:
        raise parsing.ParseError(toks[1], f"`on` or `off` only: {USAGE}")
    word = toks[0].lower() if toks else None
    if word not in (None, "on", "off"):
        raise parsing.ParseError(toks[0], f"`on` or `off`: {USAGE}")
    if not ctx.channel_id:
        raise parsing.NotPossible("Run it in the channel whose recoveries you mean.")
    db = ctx.service.storage.db
    if word is None:
        on = workspaces.threads_on(db, ctx.team, ctx.channel_id)
        msg = f"Recoveries in this channel go {describe(on)}."
        return Reply(text=msg, blocks=[bk.section(msg), bk.context(USAGE)])
    ctx.require_member()
    on = word == "on"
    with ctx.service.storage.transaction():
        workspaces.set_threads(db, ctx.team_id, ctx.channel_id, on, ctx.now)
        ctx.audit("channel.threads", channel=ctx.channel_id, on=on)
    if on:
        msg = "Recoveries in this channel now go in the thread of the alert they end."
    else:
        msg = "Recoveries in this channel now go top-level, not in the alert's thread."
    msg += " Either way the alert is edited to say it recovered."
    return Reply(text=msg, blocks=[bk.section(f":thread: {msg}")])
