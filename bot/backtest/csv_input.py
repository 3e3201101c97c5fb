"""A user's own history: `hashfloor backtest --csv FILE`.

The header row names the columns `date,price_usd[,difficulty]` (any order, any case; other
columns are ignored). A difficulty is the whole number or one with a unit: `1.52e14`, `152T`. Dates are ISO dates or date-times (`2024-03-01`, `2024-03-01T14:00`,
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
import re
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


# Difficulty is a plain number (1.52e14, 152000000000000) or one with a unit: an SI letter (152T) or
# the word `hashfloor check` prints (152.00 trillion). A number that cannot be Bitcoin's difficulty is refused, not
# used: `152` meaning 152 T would make a fleet breakeven of about $0 and silence every alert.
DIFFICULTY_UNITS = {"K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18, "TRILLION": 1e12}
DIFFICULTY_FORM = "152T, 152.5 trillion or 1.52e14"
# Consensus keeps the difficulty at 1 or more. Since 2015 it has been above 4e10 (40 G in January
# 2015, 150 T by 2025): 1e9 leaves a margin of 40x, and still refuses the usual unit slips (a
# value in T, G or M written as a bare number). Above 1e18 (a million T, ~7,000x the 2025 level)
# is a hashrate in H/s or a typo, not a difficulty.
MIN_DIFFICULTY_SINCE_2015 = 1e9
MAX_DIFFICULTY = 1e18
_YEAR_2015 = datetime(2015, 1, 1, tzinfo=UTC).timestamp()
_DIFFICULTY = re.compile(r"^\s*([0-9][0-9,_]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$")


def _sci(value: float) -> str:
    return f"{value:.6g}".replace("e+", "e")


def parse_difficulty(text: str, when: float) -> float:
    """A difficulty as a number, checked against what Bitcoin's difficulty could be at `when`."""
    shown = text.strip()
    match = _DIFFICULTY.match(text)
    unit = match.group(2).upper() if match else ""
    if match is None or (unit and unit not in DIFFICULTY_UNITS):
        raise ValueError(
            f"difficulty {shown!r} is not a number; write it as {DIFFICULTY_FORM} (152 x 10^12)"
        )
    value = float(match.group(1).replace(",", "").replace("_", "")) * DIFFICULTY_UNITS.get(unit, 1)
    floor = MIN_DIFFICULTY_SINCE_2015 if when >= _YEAR_2015 else 1.0
    if not math.isfinite(value) or value < floor:
        since = "over 4e10 since 2015" if floor > 1 else "at least 1"
        if not unit and 1 <= value < 1e4:  # most likely written in trillions
            fix = f"if you meant {shown} trillion, write {shown}T or {_sci(value * 1e12)}"
        else:
            fix = f"write the whole number or add a unit: {DIFFICULTY_FORM}"
        raise ValueError(f"difficulty {shown!r} is too small for Bitcoin ({since}): {fix}")
    if value > MAX_DIFFICULTY:
        raise ValueError(
            f"difficulty {shown!r} is far above any Bitcoin difficulty (a hashrate in H/s?); "
            f"write it as {DIFFICULTY_FORM}"
        )
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
                difficulty = parse_difficulty(row[i_diff], time)
            if time in seen:
                raise ValueError(f"the same time as line {seen[time]}")
        except ValueError as exc:
            problems.append(Problem(line, str(exc)))
            continue
        seen[time] = line
        rows.append((time, price, difficulty))
    rows.sort(key=lambda r: r[0])
    return CsvSeries(tuple(rows), tuple(problems), i_diff is not None)
