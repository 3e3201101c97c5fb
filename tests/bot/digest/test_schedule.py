from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.digest.schedule import (
    DEFAULT_SCHEDULE,
    DigestSchedule,
    ScheduleError,
    decide,
    due_at,
    next_send,
    parse_schedule,
    parse_week_key,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mon 09:00", DigestSchedule(0, "09:00", "UTC")),
        ("Monday 9:00", DigestSchedule(0, "09:00", "UTC")),
        ("MON 21:30 Europe/Berlin", DigestSchedule(0, "21:30", "Europe/Berlin")),
        ("fri 0:05 america/new_york", DigestSchedule(4, "00:05", "America/New_York")),
        ("  sun   23:59   UTC ", DigestSchedule(6, "23:59", "UTC")),
        ("Wednesday 12:00 Asia/Kolkata", DigestSchedule(2, "12:00", "Asia/Kolkata")),
    ],
)
def test_parse_schedule(text, expected):
    assert parse_schedule(text) == expected


@pytest.mark.parametrize(
    "text, bad, words",
    [
        ("", None, "needs a day and a time"),
        ("funday 09:00", "funday", "not a day of the week"),
        ("mo 09:00", "mo", "not a day of the week"),
        ("mon", None, "time is missing"),
        ("mon 25:00", "25:00", "not a time of day"),
        ("mon 9:60", "9:60", "not a time of day"),
        ("mon 9am", "9am", "not a time of day"),
        ("mon 0900", "0900", "not a time of day"),
        ("mon 09:00 Mars/Olympus", "Mars/Olympus", "not an IANA time zone"),
        ("mon 09:00 ../etc/passwd", "../etc/passwd", "not an IANA time zone"),
        ("mon 09:00 Europe", "Europe", "not an IANA time zone"),
        ("mon 09:00 UTC weekly", "weekly", "Unexpected"),
    ],
)
def test_parse_schedule_errors_quote_the_bad_part(text, bad, words):
    with pytest.raises(ScheduleError) as info:
        parse_schedule(text)
    message = str(info.value)
    assert words in message
    assert "digest <mon..sun> <HH:MM> [<IANA zone>]" in message
    assert info.value.bad == bad
    if bad is not None:
        assert f'"{bad}"' in message


def test_schedule_error_is_a_value_error():
    assert issubclass(ScheduleError, ValueError)


def test_default_schedule_is_monday_0900_utc():
    assert DigestSchedule(0, "09:00", "UTC") == DEFAULT_SCHEDULE
    assert DEFAULT_SCHEDULE.describe() == "Monday 09:00 UTC"


@pytest.mark.parametrize(
    "kwargs",
    [{"weekday": 7}, {"weekday": -1}, {"hhmm": "24:00"}, {"tz": "Nowhere/Town"}],
)
def test_schedule_rejects_bad_fields(kwargs):
    with pytest.raises(ScheduleError):
        DigestSchedule(**kwargs)


# 2026: Europe/Berlin springs forward on Sun 29 March (02:00 CET -> 03:00 CEST) and falls back on
# Sun 25 October; America/New_York springs forward on Sun 8 March and falls back on Sun 1 November.
@pytest.mark.parametrize(
    "schedule, year, week, expected_utc",
    [
        (DigestSchedule(0, "09:00", "UTC"), 2026, 1, utc(2025, 12, 29, 9, 0)),
        (DigestSchedule(0, "09:00", "UTC"), 2026, 48, utc(2026, 11, 23, 9, 0)),
        (DigestSchedule(0, "09:00", "Europe/Berlin"), 2026, 13, utc(2026, 3, 23, 8, 0)),  # CET
        (DigestSchedule(0, "09:00", "Europe/Berlin"), 2026, 14, utc(2026, 3, 30, 7, 0)),  # CEST
        (DigestSchedule(0, "09:00", "Europe/Berlin"), 2026, 43, utc(2026, 10, 19, 7, 0)),  # CEST
        (DigestSchedule(0, "09:00", "Europe/Berlin"), 2026, 44, utc(2026, 10, 26, 8, 0)),  # CET
        (DigestSchedule(4, "17:30", "America/New_York"), 2026, 10, utc(2026, 3, 6, 22, 30)),  # EST
        (DigestSchedule(4, "17:30", "America/New_York"), 2026, 11, utc(2026, 3, 13, 21, 30)),  # EDT
        # The change day itself: 09:00 Sunday is after the change in both zones.
        (DigestSchedule(6, "09:00", "Europe/Berlin"), 2026, 13, utc(2026, 3, 29, 7, 0)),
        (DigestSchedule(6, "09:00", "America/New_York"), 2026, 44, utc(2026, 11, 1, 14, 0)),
        # 02:30 does not exist in Berlin on 29 March: the shifted time, 03:30 CEST, is used.
        (DigestSchedule(6, "02:30", "Europe/Berlin"), 2026, 13, utc(2026, 3, 29, 1, 30)),
        # 02:30 happens twice in Berlin on 25 October: the first one (CEST) is used.
        (DigestSchedule(6, "02:30", "Europe/Berlin"), 2026, 43, utc(2026, 10, 25, 0, 30)),
        # A zone ahead of UTC: Monday 06:00 in Tokyo is still Sunday in UTC.
        (DigestSchedule(0, "06:00", "Asia/Tokyo"), 2026, 2, utc(2026, 1, 4, 21, 0)),
        # ISO year 2026 has 53 weeks; week 53 starts on Monday 28 December 2026.
        (DigestSchedule(0, "09:00", "UTC"), 2026, 53, utc(2026, 12, 28, 9, 0)),
    ],
)
def test_due_at(schedule, year, week, expected_utc):
    due = due_at(schedule, year, week)
    assert due == expected_utc
    assert due.utcoffset() == timedelta(0)


def test_gap_time_is_the_shifted_local_time():
    due = due_at(DigestSchedule(6, "02:30", "Europe/Berlin"), 2026, 13)
    local = due.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute, local.utcoffset()) == (3, 30, timedelta(hours=2))


BERLIN_MON_9 = DigestSchedule(0, "09:00", "Europe/Berlin")
UTC_MON_9 = DigestSchedule(0, "09:00", "UTC")
TOKYO_MON_6 = DigestSchedule(0, "06:00", "Asia/Tokyo")


@pytest.mark.parametrize(
    "schedule, now, last, action, week",
    [
        # before the due time: nothing this week, last week's was sent
        (UTC_MON_9, utc(2026, 11, 23, 8, 59), "2026-W47", "wait", None),
        # at the due time, and a minute later
        (UTC_MON_9, utc(2026, 11, 23, 9, 0), "2026-W47", "send", "2026-W48"),
        (UTC_MON_9, utc(2026, 11, 23, 9, 1), "2026-W47", "send", "2026-W48"),
        # once per week: sent already, so a restart an hour later does not send again
        (UTC_MON_9, utc(2026, 11, 23, 10, 0), "2026-W48", "wait", None),
        (UTC_MON_9, utc(2026, 11, 29, 23, 59), "2026-W48", "wait", None),
        # never sent before (new channel after its due time)
        (UTC_MON_9, utc(2026, 11, 23, 9, 30), None, "send", "2026-W48"),
        # down at the due time: sends late up to 24 hours...
        (UTC_MON_9, utc(2026, 11, 24, 8, 0), "2026-W47", "send", "2026-W48"),
        (UTC_MON_9, utc(2026, 11, 24, 9, 0), "2026-W47", "send", "2026-W48"),
        # ...and skips beyond that
        (UTC_MON_9, utc(2026, 11, 24, 9, 1), "2026-W47", "skip_late", "2026-W48"),
        (UTC_MON_9, utc(2026, 11, 29, 12, 0), "2026-W40", "skip_late", "2026-W48"),
        # a skipped week is recorded like a sent one
        (UTC_MON_9, utc(2026, 11, 25, 12, 0), "2026-W48", "wait", None),
        # Sunday before the due time, late for last week's: the due time that counts is last week's
        (UTC_MON_9, utc(2026, 11, 22, 8, 0), "2026-W46", "skip_late", "2026-W47"),
        # Berlin in winter: due 08:00 UTC
        (BERLIN_MON_9, utc(2026, 11, 23, 7, 59), "2026-W47", "wait", None),
        (BERLIN_MON_9, utc(2026, 11, 23, 8, 0), "2026-W47", "send", "2026-W48"),
        # Berlin in summer: due 07:00 UTC
        (BERLIN_MON_9, utc(2026, 6, 15, 6, 59), "2026-W24", "wait", None),
        (BERLIN_MON_9, utc(2026, 6, 15, 7, 0), "2026-W24", "send", "2026-W25"),
        # the week after spring-forward: 07:00 UTC, not 08:00
        (BERLIN_MON_9, utc(2026, 3, 30, 7, 0), "2026-W13", "send", "2026-W14"),
        (BERLIN_MON_9, utc(2026, 3, 23, 7, 30), "2026-W12", "wait", None),
        (BERLIN_MON_9, utc(2026, 3, 23, 8, 0), "2026-W12", "send", "2026-W13"),
        # the late window is 24 real hours across the change (due Sun 01:30 UTC, 03:30 CEST)
        (
            DigestSchedule(6, "02:30", "Europe/Berlin"),
            utc(2026, 3, 30, 1, 30),
            "2026-W12",
            "send",
            "2026-W13",
        ),
        (
            DigestSchedule(6, "02:30", "Europe/Berlin"),
            utc(2026, 3, 30, 1, 31),
            "2026-W12",
            "skip_late",
            "2026-W13",
        ),
        # the week key is the ISO week in the channel's zone: Mon 06:00 Tokyo = Sun 21:00 UTC
        (TOKYO_MON_6, utc(2026, 11, 22, 21, 0), "2026-W47", "send", "2026-W48"),
        (TOKYO_MON_6, utc(2026, 11, 22, 20, 59), "2026-W47", "wait", None),
        # across the ISO year: 2026 has 53 weeks
        (UTC_MON_9, utc(2026, 12, 28, 9, 0), "2026-W52", "send", "2026-W53"),
        (UTC_MON_9, utc(2027, 1, 4, 9, 0), "2026-W53", "send", "2027-W01"),
        (UTC_MON_9, utc(2027, 1, 4, 9, 0), "2027-W01", "wait", None),
    ],
)
def test_decide(schedule, now, last, action, week):
    decision = decide(schedule, now, last)
    assert (decision.action, decision.week) == (action, week)
    if action != "wait":
        assert decision.due_at is not None and decision.due_at <= now
        assert decision.late == now - decision.due_at


def test_decide_accepts_any_aware_now():
    now_berlin = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert decide(BERLIN_MON_9, now_berlin, "2026-W47").action == "send"


def test_decide_late_is_exact():
    d = decide(UTC_MON_9, utc(2026, 11, 23, 12, 15), None)
    assert d.due_at == utc(2026, 11, 23, 9, 0)
    assert d.late == timedelta(hours=3, minutes=15)


def test_a_week_of_minute_ticks_sends_exactly_once():
    """The minute job over two weeks with a restart (state kept) sends each week once."""
    last = "2026-W47"
    sent = []
    t = utc(2026, 11, 23, 0, 0)
    while t < utc(2026, 12, 7, 0, 0):
        d = decide(BERLIN_MON_9, t, last)
        if d.action == "send":
            sent.append((d.week, t))
            last = d.week
        assert d.action != "skip_late"
        t += timedelta(minutes=1)
    assert sent == [("2026-W48", utc(2026, 11, 23, 8, 0)), ("2026-W49", utc(2026, 11, 30, 8, 0))]


@pytest.mark.parametrize(
    "now",
    [datetime(2026, 11, 23, 9, 0)],
)
def test_naive_now_is_refused(now):
    with pytest.raises(ValueError, match="aware"):
        decide(UTC_MON_9, now, None)


@pytest.mark.parametrize("last", ["2026-48", "2026-W7", "W48", "2025-W53"])
def test_bad_last_sent_week_is_refused(last):
    with pytest.raises(ValueError):
        decide(UTC_MON_9, utc(2026, 11, 23, 9, 0), last)


def test_parse_week_key():
    assert parse_week_key("2026-W53") == (2026, 53)


@pytest.mark.parametrize(
    "schedule, now, last, expected_local",
    [
        # waiting for this week's due time
        (BERLIN_MON_9, utc(2026, 11, 23, 7, 0), "2026-W47", (2026, 11, 23, 9, 0)),
        # this week's sent: next Monday
        (BERLIN_MON_9, utc(2026, 11, 23, 8, 5), "2026-W48", (2026, 11, 30, 9, 0)),
        # due and not sent: its due time (the minute job is about to send it)
        (BERLIN_MON_9, utc(2026, 11, 23, 8, 5), "2026-W47", (2026, 11, 23, 9, 0)),
        # this week's too late to send: next week's
        (BERLIN_MON_9, utc(2026, 11, 25, 8, 5), "2026-W47", (2026, 11, 30, 9, 0)),
        # across spring-forward: still 09:00 local
        (BERLIN_MON_9, utc(2026, 3, 24, 12, 0), "2026-W13", (2026, 3, 30, 9, 0)),
    ],
)
def test_next_send(schedule, now, last, expected_local):
    nxt = next_send(schedule, now, last)
    assert nxt.tzinfo == ZoneInfo(schedule.tz)
    assert (nxt.year, nxt.month, nxt.day, nxt.hour, nxt.minute) == expected_local


def test_next_send_across_spring_forward_has_summer_offset():
    nxt = next_send(BERLIN_MON_9, utc(2026, 3, 24, 12, 0), "2026-W13")
    assert nxt.utcoffset() == timedelta(hours=2)
    assert nxt.astimezone(UTC) == utc(2026, 3, 30, 7, 0)
