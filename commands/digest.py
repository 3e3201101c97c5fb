"""/hashfloor digest <mon..sun> <HH:MM> [<IANA zone>] | digest off | digest preview.

The weekly digest of a channel: when it goes out, off, or this week's digest shown now. A subscribed
channel gets it on Mondays at 09:00 UTC unless set otherwise (bot.digest.channels).
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot import fmt
from bot.digest import channels
from bot.digest.channels import ChannelDigest
from bot.digest.compose import channel_rules, compose, load_snapshots
from bot.digest.render import MAX_BLOCKS, digest_blocks
from bot.digest.schedule import ScheduleError, parse_schedule
from bot.slack import blocks as bk
from bot.slack.blocks import Block, Reply
from commands import parsing, status
from commands.context import Ctx
from storage import alerts, digests

USAGE = "/hashfloor digest <mon..sun> <HH:MM> [<IANA zone>] · /hashfloor digest off · /hashfloor digest preview"


def for_channel(ctx: Ctx) -> ChannelDigest | None:
    """This channel's digest, on or off; None when it has no setting and no subscription."""
    if not ctx.channel_id:
        return None
    db = ctx.service.storage.db
    rules = alerts.channel_rules(db, ctx.team, ctx.channel_id)
    active = [r for r in rules if not r["paused_reason"]]
    subscription = (
        {
            "channel_id": ctx.channel_id,
            "team_id": active[0]["team_id"],
            "enterprise_id": active[0]["enterprise_id"],
            "since": min(r["created_at"] for r in active),
        }
        if active
        else None
    )
    row = digests.get(db, ctx.team, ctx.channel_id)
    return channels.channel_digest(ctx.channel_id, row, subscription)


def describe(digest: ChannelDigest | None, now: float) -> str:
    """One mrkdwn line: the schedule, whether it is the default, and the next send time."""
    if digest is None:
        return (
            "*Weekly digest:* off — subscribe this channel to alerts (Mondays 09:00 UTC) or set "
            "a time with `/hashfloor digest mon 09:00 Europe/Berlin`."
        )
    if not digest.enabled:
        return "*Weekly digest:* off (`/hashfloor digest &lt;day&gt; &lt;HH:MM&gt; [zone]` turns it on)."
    words = digest.schedule.describe()
    if not digest.explicit:
        words += " (the default for subscribed channels)"
    nxt = channels.next_words(digest, datetime.fromtimestamp(now, UTC))
    return f"*Weekly digest:* every {words}" + (f" · next: {nxt}" if nxt else "")


def status_section(ctx: Ctx) -> list[Block]:
    """The channel's digest for `/hashfloor status`: schedule, next send, the last one."""
    if not ctx.channel_id:
        return []
    digest = for_channel(ctx)
    lines = [describe(digest, ctx.now)]
    if digest is not None and digest.last_sent_at is not None:
        lines.append(f"   last sent {fmt.when(digest.last_sent_at)}")
    if digest is not None and digest.last_error:
        lines.append(f"   :warning: {fmt.escape(digest.last_error)}")
    return [bk.section("\n".join(lines))]


def preview(ctx: Ctx) -> Reply:
    """This week's digest as it would be posted now, for the asker only (the chart is not shown)."""
    team = ctx.team
    snaps = load_snapshots(ctx.service.storage, ctx.now, history=False)
    composed = compose(ctx.service.storage, team, ctx.now, snaps)
    rules = (
        channel_rules(ctx.service.storage, team, ctx.channel_id, ctx.now) if ctx.channel_id else ()
    )
    text, blocks = digest_blocks(composed.digest, ctx.channel_name, rules)
    note = bk.context(
        "Preview, for you only. The weekly post also carries a chart of the price against the "
        "cost lines. " + describe(for_channel(ctx), ctx.now).replace("*", "")
    )
    if len(blocks) < MAX_BLOCKS:
        blocks = [*blocks, note]
    return Reply(text=f"Preview: {text}", blocks=blocks)


def _error(exc: ScheduleError) -> Reply:
    return bk.error_reply(fmt.escape(str(exc)), USAGE)


def handle(ctx: Ctx, toks: list[str]) -> Reply:
    word = toks[0].lower() if toks else ""
    if not toks:
        msg = describe(for_channel(ctx), ctx.now)
        return Reply(
            text=msg.replace("*", ""), blocks=[bk.section(msg), bk.context(fmt.escape(USAGE))]
        )
    if word == "preview":
        if len(toks) > 1:
            raise parsing.ParseError(toks[1], "`digest preview` takes nothing after it")
        return preview(ctx)
    if word == "off" and len(toks) > 1:
        raise parsing.ParseError(toks[1], "`digest off` takes nothing after it")
    schedule = None
    if word != "off":
        try:
            schedule = parse_schedule(" ".join(toks))
        except ScheduleError as exc:
            return _error(exc)
    if not ctx.channel_id:
        raise parsing.NotPossible("Run it in the channel that should get the digest.")
    ctx.require_member()
    db = ctx.service.storage.db
    with ctx.service.storage.transaction():
        digests.set_schedule(db, ctx.team, ctx.channel_id, schedule, ctx.user_id, ctx.now)
        if schedule is None:
            ctx.audit("digest.off", channel=ctx.channel_id)
        else:
            ctx.audit(
                "digest.set",
                channel=ctx.channel_id,
                weekday=schedule.weekday,
                hhmm=schedule.hhmm,
                tz=schedule.tz,
            )
    if schedule is None:
        msg = "Weekly digest off for this channel. Alerts are not affected."
        return Reply(text=msg, blocks=[bk.section(f":no_bell: {msg}")])
    digest = for_channel(ctx)
    msg = describe(digest, ctx.now)
    tip = "See this week's digest now: `/hashfloor digest preview`."
    return Reply(
        text=msg.replace("*", ""),
        blocks=[bk.section(f":calendar: {msg}"), bk.context(tip)],
    )


if status_section not in status.SECTIONS:
    status.SECTIONS.append(status_section)
