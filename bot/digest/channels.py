"""Which channels get a weekly digest, on which schedule, and what the minute job does for each.

A channel gets the digest when it has an explicit schedule that is on, or when it is subscribed to
alerts (an active rule) and has no explicit setting: then the default, Monday 09:00 UTC. An explicit
`digest off` wins over a subscription.

A schedule applies from when it started (the schedule set, or the first active subscription): a
due time before that is not sent, so subscribing on a Monday at 09:30 does not post last week's
digest at once. Those weeks are recorded as skipped, silently.

Pure: storage rows and the time come in as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.digest.schedule import DEFAULT_SCHEDULE, Decision, DigestSchedule, decide, next_send
from storage.digests import DigestRow

Action = Literal["send", "skip_late", "skip_before_start", "wait"]


@dataclass(frozen=True)
class ChannelDigest:
    channel_id: str
    team_id: str
    enterprise_id: str | None
    schedule: DigestSchedule
    enabled: bool
    explicit: bool  # set with /hashfloor digest (otherwise the subscription's default)
    subscribed: bool  # has an active alert rule
    since: float | None  # when this schedule started to apply (unix s)
    last_sent_week: str | None
    last_sent_at: float | None
    last_error: str | None


@dataclass(frozen=True)
class Step:
    action: Action
    decision: Decision


def channel_digest(
    channel_id: str, row: DigestRow | None, subscription: Mapping[str, Any] | None
) -> ChannelDigest | None:
    """The channel's digest; None when it has neither an explicit setting nor a subscription.

    `subscription` is the channel's entry of storage.alerts.subscribed_channels (team_id,
    enterprise_id, since) or None when no rule is active.
    """
    explicit = row is not None and row.explicit
    if not explicit and subscription is None:
        return None
    team_id = row.team_id if row else subscription["team_id"]  # type: ignore[index]
    enterprise_id = row.enterprise_id if row else subscription["enterprise_id"]  # type: ignore[index]
    if explicit:
        assert row is not None
        schedule, enabled, since = row.schedule, row.enabled, row.updated_at
    else:
        assert subscription is not None
        schedule, enabled, since = DEFAULT_SCHEDULE, True, subscription["since"]
    return ChannelDigest(
        channel_id=channel_id,
        team_id=team_id,
        enterprise_id=enterprise_id,
        schedule=schedule,
        enabled=enabled,
        explicit=explicit,
        subscribed=subscription is not None,
        since=since,
        last_sent_week=row.last_sent_week if row else None,
        last_sent_at=row.last_sent_at if row else None,
        last_error=row.last_error if row else None,
    )


def all_channels(
    rows: Iterable[DigestRow], subscriptions: Iterable[Mapping[str, Any]]
) -> list[ChannelDigest]:
    """Every workspace's channel with a digest setting or a subscription, on or off, by workspace
    and channel id (two workspaces sharing a channel each have their own)."""
    by_row = {(r.team_id, r.channel_id): r for r in rows}
    by_sub = {(s["team_id"], s["channel_id"]): s for s in subscriptions}
    out = []
    for key in sorted(by_row.keys() | by_sub.keys()):
        digest = channel_digest(key[1], by_row.get(key), by_sub.get(key))
        if digest is not None:
            out.append(digest)
    return out


def step(digest: ChannelDigest, now_utc: datetime) -> Step:
    """What the minute job does for this channel now."""
    if not digest.enabled:
        return Step("wait", Decision("wait"))
    decision = decide(digest.schedule, now_utc, digest.last_sent_week)
    if decision.action == "wait":
        return Step("wait", decision)
    assert decision.due_at is not None
    if digest.since is not None and decision.due_at.timestamp() < digest.since:
        return Step("skip_before_start", decision)
    return Step(decision.action, decision)


def next_time(digest: ChannelDigest, now_utc: datetime) -> datetime | None:
    """When the next digest goes out, aware in the channel's zone; None when it is off."""
    if not digest.enabled:
        return None
    current = step(digest, now_utc)
    last = digest.last_sent_week
    if current.action in ("skip_late", "skip_before_start"):
        last = current.decision.week  # the job records it as skipped at its next run
    return next_send(digest.schedule, now_utc, last)


def next_words(digest: ChannelDigest, now_utc: datetime) -> str | None:
    """The next send time for people, in the channel's zone; None when the digest is off."""
    at = next_time(digest, now_utc)
    if at is None:
        return None
    if at <= now_utc:  # due and not sent yet: the minute job sends it at its next run
        return f"going out now (due {when_words(at)})"
    return when_words(at)


def when_words(at: datetime) -> str:
    """ "Mon 30 Nov 2026 09:00 CET": a time in the channel's zone, for people."""
    return f"{at:%a} {at.day} {at:%b %Y %H:%M} {at.tzname() or at.tzinfo}"
