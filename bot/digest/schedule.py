"""When a channel's weekly digest is due (DESIGN §6): parsing the schedule and the due rules.

Pure: the current time is always an argument. A schedule is a weekday, a wall-clock time and an
IANA zone; the digest for an ISO week is due at that wall-clock time on that weekday of the week,
in the channel's zone, so "Monday 09:00 Europe/Berlin" is 08:00 UTC in winter and 07:00 UTC in
summer.

Wall-clock times that do not exist or exist twice on a daylight-saving change day follow
zoneinfo's ``fold=0`` semantics:
- a time in the spring-forward gap (02:30 on the day Berlin jumps from 02:00 to 03:00) is read
  with the offset in force before the change, which lands on the shifted time 03:30 local;
- a time repeated at the autumn fall-back (02:30 happens twice) means its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

FORM = "digest <mon..sun> <HH:MM> [<IANA zone>], e.g. digest mon 09:00 Europe/Berlin"
LATE_LIMIT = timedelta(hours=24)  # a missed digest still goes out up to this late

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAYS = {name.lower(): i for i, name in enumerate(DAY_NAMES)} | {
    name[:3].lower(): i for i, name in enumerate(DAY_NAMES)
}
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")


class ScheduleError(ValueError):
    """A schedule that does not parse. The message quotes the bad part and shows the right form.

    The quoted part is the user's raw text: escape the message before posting it to Slack.
    """

    def __init__(self, message: str, bad: str | None = None) -> None:
        super().__init__(message)
        self.bad = bad


@dataclass(frozen=True)
class DigestSchedule:
    weekday: int = 0  # 0 = Monday … 6 = Sunday, as date.weekday()
    hhmm: str = "09:00"
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if not (isinstance(self.weekday, int) and 0 <= self.weekday <= 6):
            raise ScheduleError(f"weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday!r}")
        object.__setattr__(self, "hhmm", _parse_hhmm(self.hhmm).strftime("%H:%M"))
        object.__setattr__(self, "tz", _zone_name(self.tz))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def local_time(self) -> time:
        return _parse_hhmm(self.hhmm)

    def describe(self) -> str:
        """For people: "Monday 09:00 Europe/Berlin"."""
        return f"{DAY_NAMES[self.weekday]} {self.hhmm} {self.tz}"


@dataclass(frozen=True)
class Decision:
    """What the minute job should do for one channel now.

    - "send": the digest for `week` is due and not yet sent; send it, then record `week`.
    - "skip_late": the digest for `week` was missed by more than 24 hours; log it and record
      `week` as skipped so it is not considered again.
    - "wait": nothing to do.
    """

    action: Literal["send", "skip_late", "wait"]
    week: str | None = None  # ISO week key, "2026-W48"
    due_at: datetime | None = None  # UTC
    late: timedelta | None = None  # how long after the due time `now` is


def parse_schedule(text: str) -> DigestSchedule:
    """Parse "<day> <HH:MM> [<IANA zone>]" (the text after `/hashfloor digest`).

    Days: mon/monday in any case. Times: 9:00, 09:00, 21:30. Zone: an IANA name (any case),
    default UTC. `digest off` is the caller's to handle; this only parses a schedule.
    """
    parts = text.split()
    if not parts:
        raise ScheduleError(f"A digest schedule needs a day and a time. Use: {FORM}")
    if len(parts) > 3:
        extra = " ".join(parts[3:])
        raise ScheduleError(f'Unexpected "{extra}" after the time zone. Use: {FORM}', extra)
    day = _DAYS.get(parts[0].lower())
    if day is None:
        raise ScheduleError(
            f'"{parts[0]}" is not a day of the week: use mon, tue, wed, thu, fri, sat or sun. '
            f"Use: {FORM}",
            parts[0],
        )
    if len(parts) < 2:
        raise ScheduleError(f"A time is missing after the day. Use: {FORM}")
    try:
        hhmm = _parse_hhmm(parts[1])
    except ScheduleError as exc:
        raise ScheduleError(f"{exc} Use: {FORM}", parts[1]) from None
    zone = "UTC"
    if len(parts) == 3:
        try:
            zone = _zone_name(parts[2])
        except ScheduleError as exc:
            raise ScheduleError(f"{exc} Use: {FORM}", parts[2]) from None
    return DigestSchedule(weekday=day, hhmm=hhmm.strftime("%H:%M"), tz=zone)


def week_key(iso_year: int, iso_week: int) -> str:
    return f"{iso_year:04d}-W{iso_week:02d}"


def parse_week_key(key: str) -> tuple[int, int]:
    m = _WEEK_KEY.match(key)
    if not m:
        raise ValueError(f'not an ISO week key like "2026-W48": {key!r}')
    year, week = int(m.group(1)), int(m.group(2))
    date.fromisocalendar(year, week, 1)  # raises ValueError for week 53 of a 52-week year
    return year, week


def due_at(schedule: DigestSchedule, iso_year: int, iso_week: int) -> datetime:
    """When the digest of ISO week `iso_year`-W`iso_week` (in the channel's zone) is due, in UTC."""
    day = date.fromisocalendar(iso_year, iso_week, schedule.weekday + 1)
    local = datetime.combine(day, schedule.local_time, tzinfo=schedule.zone)  # fold=0: see top
    return local.astimezone(UTC)


def decide(schedule: DigestSchedule, now_utc: datetime, last_sent_week: str | None) -> Decision:
    """Whether the digest should be sent now; `last_sent_week` is the last week sent or skipped.

    Only the most recent due time at or before `now_utc` counts: an older one was either handled
    then or is more than a week late. Week keys compare as strings ("2026-W09" < "2026-W10").
    """
    now = _aware_utc(now_utc)
    if last_sent_week is not None:
        parse_week_key(last_sent_week)
    year, week = _latest_due_week(schedule, now)
    key = week_key(year, week)
    if last_sent_week is not None and last_sent_week >= key:
        return Decision("wait")
    due = due_at(schedule, year, week)
    late = now - due
    action = "send" if late <= LATE_LIMIT else "skip_late"
    return Decision(action, week=key, due_at=due, late=late)


def next_send(schedule: DigestSchedule, now_utc: datetime, last_sent_week: str | None) -> datetime:
    """When the next digest goes out, aware in the channel's zone (for `/hashfloor status`).

    When a digest is due and not yet sent, that is its due time, which may be a little in the past:
    the minute job sends it at its next run.
    """
    now = _aware_utc(now_utc)
    decision = decide(schedule, now, last_sent_week)
    if decision.action == "send":
        assert decision.due_at is not None
        return decision.due_at.astimezone(schedule.zone)
    monday = _local_monday(schedule, now)
    for k in range(0, 110):  # bounded: a last_sent_week far in the future is skipped over
        year, week, _ = (monday + timedelta(weeks=k)).isocalendar()
        due = due_at(schedule, year, week)
        if due > now and (last_sent_week is None or week_key(year, week) > last_sent_week):
            return due.astimezone(schedule.zone)
    raise ValueError(f"last_sent_week {last_sent_week!r} is more than two years ahead of now")


def _latest_due_week(schedule: DigestSchedule, now: datetime) -> tuple[int, int]:
    monday = _local_monday(schedule, now)
    year, week, _ = monday.isocalendar()
    if due_at(schedule, year, week) <= now:
        return year, week
    year, week, _ = (monday - timedelta(weeks=1)).isocalendar()
    return year, week


def _local_monday(schedule: DigestSchedule, now: datetime) -> date:
    local_day = now.astimezone(schedule.zone).date()
    return local_day - timedelta(days=local_day.weekday())


def _aware_utc(now_utc: datetime) -> datetime:
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError("now_utc must be timezone-aware")
    return now_utc.astimezone(UTC)


def _parse_hhmm(text: str) -> time:
    m = _HHMM.match(text.strip())
    if m:
        hour, minute = int(m.group(1)), int(m.group(2))
        if hour <= 23 and minute <= 59:
            return time(hour, minute)
    raise ScheduleError(f'"{text}" is not a time of day: use 24-hour HH:MM, e.g. 09:00 or 21:30.')


def _zone_name(name: str) -> str:
    """The canonical IANA name for `name` (any case); ScheduleError when there is none."""
    try:
        ZoneInfo(name)
        return name
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    canonical = _zones_by_lower_name().get(name.lower())
    if canonical is None:
        raise ScheduleError(
            f'"{name}" is not an IANA time zone: use a name like UTC, Europe/Berlin or '
            "America/New_York."
        )
    return canonical


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {z.lower(): z for z in available_timezones()}


DEFAULT_SCHEDULE = DigestSchedule()  # Monday 09:00 UTC (DESIGN §6)
