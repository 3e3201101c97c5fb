"""A user's own history: `hashfloor backtest --csv FILE`.

The header row names the columns `date,price_usd[,difficulty]` (any order, any case; other
columns are ignored). Dates are ISO dates or date-times (`2024-03-01`, `2024-03-01T14:00`,
`2024-03-01 14:00:00+02:00`); a date alone is midnight UTC, a date-time without an offset is UTC.
Rows may come in any order. A row that cannot be read is reported by its line number and skipped,
never used: a bad date, a price that is not a positive number, a bad difficulty, a time already
given by an earlier row.

Pure: text in, rows and problems out.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime

HEADER = "date,price_usd[,difficulty]"
REQUIRED = ("date", "price_usd")
# A BTC price outside this range is a typo (a missing decimal point, cents instead of dollars).
MIN_PRICE_USD = 0.01
MAX_PRICE_USD = 10_000_000.0


class CsvError(ValueError):
    """The file as a whole cannot be used (no header, no usable row)."""


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based line number in the file
    reason: str


@dataclass(frozen=True)
class CsvSeries:
    rows: tuple[tuple[float, float, float | None], ...]  # (unix s, US$, difficulty), time order
    problems: tuple[Problem, ...]
    has_difficulty: bool  # the header has a difficulty column


def parse_time(text: str) -> float:
    """An ISO date or date-time as unix seconds (naive means UTC)."""
    value = text.strip()
    if not value:
        raise ValueError("the date is empty")
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text.strip()!r} is not an ISO date or date-time (2024-03-01 or 2024-03-01T14:00)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _number(text: str, what: str) -> float:
    cleaned = text.strip().removeprefix("$").replace(",", "").replace("_", "").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"{what} {text.strip()!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} {text.strip()!r} is not a positive number")
    return value


def parse_price(text: str) -> float:
    value = _number(text, "price_usd")
    if not MIN_PRICE_USD <= value <= MAX_PRICE_USD:
        raise ValueError(f"price_usd {text.strip()!r} is not a plausible BTC price in US$")
    return value


def parse_csv(text: str) -> CsvSeries:
    """Read a history CSV; raises CsvError only when the header is missing or wrong."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header: list[str] | None = None
    for row in reader:
        if any(cell.strip() for cell in row):
            header = [cell.strip().lower() for cell in row]
            break
    if header is None:
        raise CsvError(f"the file is empty: it needs a header row {HEADER} and rows under it")
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise CsvError(
            f"the header row must name the columns {HEADER}; "
            f"{', '.join(missing)} missing (found: {','.join(header)})"
        )
    i_date, i_price = header.index("date"), header.index("price_usd")
    i_diff = header.index("difficulty") if "difficulty" in header else None

    rows: list[tuple[float, float, float | None]] = []
    problems: list[Problem] = []
    seen: dict[float, int] = {}
    start = reader.line_num  # the row just read ends on this line
    for row in reader:
        line = start + 1
        start = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # a blank line is not a row
        try:
            if len(row) < len(header):
                raise ValueError(f"{len(row)} columns where the header has {len(header)}")
            time = parse_time(row[i_date])
            price = parse_price(row[i_price])
            difficulty = None
            if i_diff is not None and row[i_diff].strip():
                difficulty = _number(row[i_diff], "difficulty")
            if time in seen:
                raise ValueError(f"the same time as line {seen[time]}")
        except ValueError as exc:
            problems.append(Problem(line, str(exc)))
            continue
        seen[time] = line
        rows.append((time, price, difficulty))
    rows.sort(key=lambda r: r[0])
    return CsvSeries(tuple(rows), tuple(problems), i_diff is not None)
