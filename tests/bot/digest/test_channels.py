"""Which channels get a digest and what the minute job does for each: tables of vectors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.digest.channels import all_channels, channel_digest, next_words, step
from bot.digest.schedule import DEFAULT_SCHEDULE, DigestSchedule
from storage.digests import DigestRow

MON_0900 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # ISO week 2026-W48
LONG_AGO = (MON_0900 - timedelta(days=60)).timestamp()
H = timedelta(hours=1)


def row(
    schedule: DigestSchedule = DEFAULT_SCHEDULE,
    enabled: bool = True,
    explicit: bool = True,
    last: str | None = None,
    set_at: float | None = LONG_AGO,
    channel: str = "C1",
) -> DigestRow:
    return DigestRow(
        channel_id=channel,
        team_id="T1",
        enterprise_id=None,
        schedule=schedule,
        enabled=enabled,
        explicit=explicit,
        last_sent_week=last,
        last_sent_at=None,
        last_ts=None,
        last_error=None,
        last_error_at=None,
        updated_by="U1" if explicit else None,
        updated_at=set_at if explicit else None,
    )


def sub(channel: str = "C1", since: float = LONG_AGO) -> dict:
    return {"channel_id": channel, "team_id": "T1", "enterprise_id": None, "since": since}


TUE = DigestSchedule(1, "08:00", "UTC")


@pytest.mark.parametrize(
    ("r", "s", "expected"),
    [
        # (schedule, enabled, explicit, subscribed) or None: no digest at all
        (None, None, None),
        (None, sub(), (DigestSchedule(), True, False, True)),
        (row(explicit=False, last="2026-W40"), sub(), (DigestSchedule(), True, False, True)),
        (row(explicit=False), None, None),  # an implicit row means nothing once unsubscribed
        (row(TUE), None, (TUE, True, True, False)),
        (row(TUE), sub(), (TUE, True, True, True)),
        (row(enabled=False), sub(), (DigestSchedule(), False, True, True)),  # off wins
        (row(TUE, enabled=False), None, (TUE, False, True, False)),
    ],
)
def test_channel_digest(r, s, expected) -> None:
    got = channel_digest("C1", r, s)
    if expected is None:
        assert got is None
    else:
        assert got is not None
        assert (got.schedule, got.enabled, got.explicit, got.subscribed) == expected


def test_since_is_the_schedule_or_the_subscription() -> None:
    assert channel_digest("C1", row(set_at=123.0), sub(since=456.0)).since == 123.0
    assert channel_digest("C1", None, sub(since=456.0)).since == 456.0
    assert channel_digest("C1", row(explicit=False, last="2026-W47"), sub(since=9.0)).since == 9.0


def test_all_channels_joins_rows_and_subscriptions() -> None:
    rows = [row(channel="C3"), row(channel="C2", explicit=False)]
    subs = [sub("C1"), sub("C3")]
    assert [(d.channel_id, d.explicit) for d in all_channels(rows, subs)] == [
        ("C1", False),
        ("C3", True),
    ]


@pytest.mark.parametrize(
    ("digest_row", "subscription", "now", "action", "week"),
    [
        # a minute early: last week's time is the latest, 7 days old (never sent): skipped
        (None, sub(), MON_0900 - timedelta(minutes=1), "skip_late", "2026-W47"),
        (
            row(explicit=False, last="2026-W47"),
            sub(),
            MON_0900 - timedelta(minutes=1),
            "wait",
            None,
        ),
        (None, sub(), MON_0900, "send", "2026-W48"),
        (None, sub(), MON_0900 + 23 * H, "send", "2026-W48"),
        (None, sub(), MON_0900 + 25 * H, "skip_late", "2026-W48"),
        (row(explicit=False, last="2026-W48"), sub(), MON_0900 + H, "wait", None),
        (row(explicit=False, last="2026-W47"), sub(), MON_0900 + H, "send", "2026-W48"),
        # subscribed at 09:30, after this week's due time: not sent, recorded
        (
            None,
            sub(since=(MON_0900 + H / 2).timestamp()),
            MON_0900 + H,
            "skip_before_start",
            "2026-W48",
        ),
        (None, sub(since=(MON_0900 - H).timestamp()), MON_0900 + H, "send", "2026-W48"),
        # a schedule set at 09:30 for Mondays 09:00 starts next week
        (
            row(set_at=(MON_0900 + H / 2).timestamp()),
            None,
            MON_0900 + H,
            "skip_before_start",
            "2026-W48",
        ),
        (row(enabled=False), sub(), MON_0900 + H, "wait", None),
        (row(TUE), None, MON_0900 + H, "skip_late", "2026-W47"),  # last Tuesday, 6 days ago
        (row(TUE, last="2026-W47"), None, MON_0900 + H, "wait", None),
        (row(TUE), None, MON_0900 + 23 * H, "send", "2026-W48"),
    ],
)
def test_step(digest_row, subscription, now, action, week) -> None:
    digest = channel_digest("C1", digest_row, subscription)
    got = step(digest, now)
    assert (got.action, got.decision.week) == (action, week)


@pytest.mark.parametrize(
    ("digest_row", "subscription", "now", "words"),
    [
        (None, sub(), MON_0900 - H, "Mon 23 Nov 2026 09:00 UTC"),
        (None, sub(), MON_0900 + H, "going out now (due Mon 23 Nov 2026 09:00 UTC)"),
        (row(explicit=False, last="2026-W48"), sub(), MON_0900 + H, "Mon 30 Nov 2026 09:00 UTC"),
        (None, sub(), MON_0900 + 25 * H, "Mon 30 Nov 2026 09:00 UTC"),  # the late one is skipped
        (
            row(DigestSchedule(0, "09:00", "Europe/Berlin"), set_at=(MON_0900 + H).timestamp()),
            None,
            MON_0900 + H,
            "Mon 30 Nov 2026 09:00 CET",
        ),
        (
            row(DigestSchedule(6, "18:00", "America/Los_Angeles"), last="2026-W47"),
            None,
            MON_0900,
            "Sun 29 Nov 2026 18:00 PST",
        ),
        (  # Sunday 18:00 in Los Angeles is Monday 02:00 UTC: 7 hours late, still to send
            row(DigestSchedule(6, "18:00", "America/Los_Angeles")),
            None,
            MON_0900,
            "going out now (due Sun 22 Nov 2026 18:00 PST)",
        ),
        (row(enabled=False), sub(), MON_0900, None),
    ],
)
def test_next_words(digest_row, subscription, now, words) -> None:
    assert next_words(channel_digest("C1", digest_row, subscription), now) == words
