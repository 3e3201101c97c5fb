"""Forgiving numbers for slash commands: `74,600`, `$74.6k`, `2%`, `0.05`, `5c`, `17.5 J/TH`, `4h`.

Every parser raises ParseError quoting the bad part and showing the right form.
"""

from __future__ import annotations

import math
import re
import shlex

from bot.fmt import escape


class ParseError(ValueError):
    """Bad command text; the message is ready to show (user text already escaped)."""

    def __init__(self, bad: str, expected: str) -> None:
        self.bad = bad
        self.expected = expected
        super().__init__(f"I could not read `{escape(bad)}`: {expected}")


class NotPossible(ParseError):
    """The text was read fine but asks for what cannot be done now ("No fleet is set: …"):
    answered like a parse error, without claiming that something was misread."""

    def __init__(self, why: str) -> None:
        self.bad = ""
        self.expected = why
        ValueError.__init__(self, why)


_NUM = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+"
_USD = re.compile(rf"^\$?\s*({_NUM})\s*([kKmM]?)\s*(?:usd|USD)?$")
_PLAIN = re.compile(rf"^({_NUM})$")
# Unit words people type after a number; tokens made only of these join the number before them.
_UNIT_TOKENS = {
    "j/th",
    "w/th",
    "$/kwh",
    "/kwh",
    "c/kwh",
    "¢/kwh",
    "kwh",
    "%",
    "c",
    "¢",
    "ph/s",
    "ph",
}


def tokens(text: str) -> list[str]:
    """Split command text; quotes group words; a lone unit joins the number before it."""
    try:
        raw = shlex.split(text.replace("“", '"').replace("”", '"'))
    except ValueError:
        raise ParseError(text, "a quote is not closed") from None
    out: list[str] = []
    for tok in raw:
        if out and tok.lower() in _UNIT_TOKENS:
            out[-1] += tok
        else:
            out.append(tok)
    return out


def _finite(value: float, bad: str, expected: str) -> float:
    if not math.isfinite(value):
        raise ParseError(bad, expected)
    return value


def _number(text: str) -> float | None:
    m = _PLAIN.match(text.strip())
    return float(m.group(1).replace(",", "")) if m else None


def usd(text: str) -> float:
    """`74600`, `74,600`, `$74.6k`, `1.2m` → US$; must be positive."""
    expected = "a dollar amount such as `74600`, `74,600` or `$74.6k`"
    m = _USD.match(text.strip())
    if not m:
        raise ParseError(text, expected)
    value = float(m.group(1).replace(",", ""))
    value *= {"": 1, "k": 1e3, "m": 1e6}[m.group(2).lower()]
    if value <= 0:
        raise ParseError(text, "the amount must be more than zero")
    return _finite(value, text, expected)


def efficiency_j_per_th(text: str) -> float:
    """`17.5`, `17.5J/TH`, `17.5 W/TH` (the same number) → J/TH."""
    expected = "a fleet efficiency in J/TH such as `17.5` or `17.5 J/TH`"
    core = re.sub(r"(?i)\s*[jw]/th$", "", text.strip())
    value = _number(core)
    if value is None:
        raise ParseError(text, expected)
    if not 1 <= value <= 500:
        raise ParseError(text, "efficiency should be between 1 and 500 J/TH (today's ASICs: 12–35)")
    return value


def power_usd_per_kwh(text: str) -> float:
    """`0.05`, `$0.05`, `0.05/kWh`, `5c`, `5¢`, `5c/kWh` → $/kWh."""
    expected = "a power price in $/kWh such as `0.05` or `5c`"
    t = text.strip().lower().replace("¢", "c")
    # "/kwh" or a bare "kwh": tokens() joins `0.05 kWh` into one token.
    t = re.sub(r"\s*/?\s*kwh$", "", t).removesuffix("$").strip()
    cents = t.endswith("c")
    t = t.removesuffix("c").removeprefix("$").strip()
    value = _number(t)
    if value is None:
        raise ParseError(text, expected)
    if cents:
        value /= 100
    if value < 0:
        raise ParseError(text, "the power price cannot be negative")
    if value >= 1:
        hint = "" if cents else f" — for {value:g} cents write `{value:g}c`"
        raise ParseError(text, f"${value:g}/kWh is more than any grid charges{hint}")
    return value


def pool_fee(text: str) -> float:
    """`2`, `2%`, `0.5%` → a fraction (0.02); the number is always a percentage."""
    expected = "a pool fee in percent such as `2` or `2%`"
    value = _number(text.strip().removesuffix("%").strip())
    if value is None:
        raise ParseError(text, expected)
    if not 0 <= value < 100:
        raise ParseError(text, "the pool fee must be at least 0% and under 100%")
    return value / 100


def hashrate_ph(text: str) -> float:
    """`350`, `350PH/s`, `350 PH` → PH/s."""
    value = _number(re.sub(r"(?i)\s*ph(/s)?$", "", text.strip()))
    if value is None or value <= 0:
        raise ParseError(text, "a hashrate in PH/s such as `350` or `350 PH/s`")
    return value


_DURATION = re.compile(
    r"^(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hr|hrs|hours?|d|days?|w|weeks?)$"
)
_UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_s(text: str) -> float:
    """`30m`, `4h`, `1d`, `2w` → seconds (at most 30 days)."""
    m = _DURATION.match(text.strip().lower())
    if not m:
        raise ParseError(text, "a duration such as `30m`, `4h` or `1d`")
    seconds = float(m.group(1)) * _UNIT_S[m.group(2)[0]]
    if not 60 <= seconds <= 30 * 86400:
        raise ParseError(text, "a duration between 1 minute and 30 days")
    return seconds


def quarter(text: str) -> str:
    """`2025-Q3`, `2025q3`, `Q3 2025` → `2025-Q3`."""
    t = text.strip().upper().replace(" ", "")
    m = re.match(r"^(\d{4})-?Q([1-4])$", t) or re.match(r"^Q([1-4])-?(\d{4})$", t)
    if not m:
        raise ParseError(text, "a quarter such as `2025-Q3`")
    year, q = (m.group(1), m.group(2)) if len(m.group(1)) == 4 else (m.group(2), m.group(1))
    return f"{year}-Q{q}"


def key_values(toks: list[str]) -> tuple[list[str], dict[str, str]]:
    """Split `name cash=74600 period=2025-Q3` into positional words and key=value pairs."""
    words: list[str] = []
    pairs: dict[str, str] = {}
    for tok in toks:
        key, sep, value = tok.partition("=")
        if sep and key and re.fullmatch(r"[A-Za-z_-]+", key):
            pairs[key.lower().replace("-", "")] = value
        else:
            words.append(tok)
    return words, pairs
