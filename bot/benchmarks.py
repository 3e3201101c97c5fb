"""Which shipped benchmark is current at a given time, and how old a line is (DESIGN §4).

Pure: the caller passes `now` (unix s); nothing here reads a clock.

- Current: each kind (cash, all-in) takes the latest quarter that has a value of that kind *and was
  published by `now`*. A report that came out on 2026-03-25 did not exist on 2025-11-24: a backtest
  or an answer "as of" an earlier day must not use it. Rows without a known publication date count
  from the start (they were all public before this release).
- Old: reports come out about three months after their quarter, so when a line's quarter ended
  more than OLD_AFTER_DAYS ago, the next report is overdue and the figure must not pass for today's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from bot.lines import CostLine

SHIPPED_KINDS = ("cash", "allin")
OLD_AFTER_DAYS = 270
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def quarter_last_day(period: str) -> date | None:
    """`2025-Q4` → 2025-12-31; None for anything that is not a quarter."""
    parsed = _quarter(period)
    return parsed[1] if parsed else None


def _last_day(year: int, q: int) -> date:
    year, q = year + (q - 1) // 4, (q - 1) % 4 + 1
    first_of_next = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return first_of_next - timedelta(days=1)


@dataclass(frozen=True)
class LineAge:
    period: str  # "2025-Q4"
    ended: date  # the quarter's last day
    days: int  # whole days since that day (UTC): the day after it is day 1
    next_report: date  # when the next quarter's report is due (~3 months after that quarter)
    today: date

    @property
    def old(self) -> bool:
        return self.days > OLD_AFTER_DAYS

    @property
    def next_words(self) -> str:
        """`next report expected around 30 Jun 2026` or `… overdue since about 30 Jun 2026`."""
        when = f"{self.next_report:%d %b %Y}"
        if self.today > self.next_report:
            return f"next report overdue since about {when}"
        return f"next report expected around {when}"

    @property
    def words(self) -> str:
        """The mark shown beside an old line (empty for a line that is not old)."""
        if not self.old:
            return ""
        return f"old: {self.period} ended {self.days} days ago, {self.next_words}"


@lru_cache(maxsize=256)
def _quarter(period: str) -> tuple[str, date, date] | None:
    """`2025-q4` → ("2025-Q4", its last day, the day the next report is due); parsed once: every
    answer that shows a line asks."""
    m = _QUARTER.match(period.strip().upper())
    if not m:
        return None
    year, q = int(m.group(1)), int(m.group(2))
    # The next quarter ends 3 months later and its report comes ~3 months after that.
    return f"{year}-Q{q}", _last_day(year, q), _last_day(year, q + 2)


def line_age(period: str | None, now: float) -> LineAge | None:
    """How old a line of `period` is at `now`; None when the period is not a quarter."""
    parsed = _quarter(period) if period else None
    if parsed is None:
        return None
    name, ended, next_report = parsed
    today = datetime.fromtimestamp(now, UTC).date()
    return LineAge(name, ended, (today - ended).days, next_report, today)


def old_note(period: str | None, now: float) -> str:
    """The words that mark a line of `period` as old at `now`, or "" when it is not old."""
    age = line_age(period, now)
    return age.words if age else ""


@lru_cache(maxsize=64)
def published_at(published: str | None) -> float | None:
    """`2026-03-25` → unix s of that day's start (UTC); None when unknown."""
    if not published:
        return None
    return datetime.fromisoformat(published).replace(tzinfo=UTC).timestamp()


def is_published(line: CostLine, now: float) -> bool:
    start = published_at(line.published)
    return start is None or start <= now


def current(lines: Iterable[CostLine], now: float) -> list[CostLine]:
    """The shipped line of each kind from the latest quarter published by `now`, then the rest.

    `lines`: every shipped line (key `cash` or `allin`, with its period) and a workspace's own
    lines (any other key), which are kept as they come."""
    latest: dict[str, CostLine] = {}
    own: list[CostLine] = []
    for line in lines:
        if line.key not in SHIPPED_KINDS:
            own.append(line)
            continue
        if not line.period or _quarter(line.period) is None:
            continue
        if not is_published(line, now):
            continue
        best = latest.get(line.key)
        if best is None or (line.period or "") > (best.period or ""):
            latest[line.key] = line
    return [latest[k] for k in SHIPPED_KINDS if k in latest] + own


def slack_mark(period: str | None, now: float) -> str:
    """The old mark as Slack mrkdwn, to follow a line's name and value; "" when not old."""
    note = old_note(period, now)
    return f" :hourglass: _{note}_" if note else ""


def short_mark(period: str | None, now: float) -> str:
    """` (old)` for one-line fallbacks (notifications, tables); "" when not old."""
    return " (old)" if old_note(period, now) else ""
