"""Forgiving numbers for slash commands: `74,600`, `$74.6k`, `2%`, `0.05`, `5c`, `17.5 J/TH`, `4h`.

Every parser raises ParseError quoting the bad part and showing the right form. The same parsers
read Slack commands, `hashfloor costs add` and CSV import, so all three accept and refuse alike.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.currency import CURRENCIES, MAX_PER_KWH, TYPED_SIGNS, USD
from bot.currency import SIGNS as CURRENCY_SIGNS
from bot.fmt import escape
from bot.fmt import usd as usd_words
from bot.lines import clean_label, visible_text

# Sane bounds, the same in Slack, the CLI and CSV import (README, "Cost lines"). Anything outside
# is a typo (a missing `k`, three zeros too many) or an attack on the charts and the maths.
COST_USD_PER_BTC = (1_000.0, 10_000_000.0)  # a cost line: what it costs to mine one BTC
BTC_PRICE_USD = (100.0, 10_000_000.0)  # a price level: `subscribe below <usd>`
HASHRATE_MAX_PH = 10_000_000.0  # 10 ZH/s, about ten times the whole network today
NAME_MAX = 80
SOURCE_MAX = 300
ID_MAX = 2**63 - 1  # SQLite's largest integer; a longer id is refused, not an OverflowError
QUARTER_YEARS = (2009, 2100)


class ParseError(ValueError):
    """Bad command text; the message is mrkdwn ready to show (`&`, `<`, `>` escaped, so a
    placeholder such as `<usd>` in the expected form is not read by Slack as a link).

    `bad` and `expected` are plain text: escaped here, once (callers never escape them)."""

    def __init__(self, bad: str, expected: str) -> None:
        self.bad = bad
        self.expected = expected
        self.field: str | None = None  # which field of a cost line (cost_input), for CSV rows
        super().__init__(f"I could not read `{escape(self.shown)}`: {escape(expected)}")

    @property
    def shown(self) -> str:
        # Quoted back on one line, without hidden or bidi characters, and no backtick that
        # would close the code span around it.
        return visible_text(self.bad).replace("`", "'") or "(nothing)"

    def plain(self) -> str:
        """The same words for a terminal or a log: nothing escaped."""
        return f"I could not read `{self.shown}`: {self.expected}"


class NotPossible(ParseError):
    """The text was read fine but asks for what cannot be done now ("No fleet is set: …"):
    answered like a parse error, without claiming that something was misread."""

    def __init__(self, why: str) -> None:
        self.bad = ""
        self.expected = why
        self.field = None
        ValueError.__init__(self, escape(why))

    def plain(self) -> str:
        return self.expected


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
    "$/mwh",
    "/mwh",
    "mwh",
    "%",
    "c",
    "¢",
    "ph/s",
    "ph",
}
# Currencies after a power price (`0.045 EUR`, `45 €/MWh`, `45 EUR/MWh`): joined only to a
# number, so `currency eur` stays two words.
_CURRENCY_TOKENS = {
    f"{c}{unit}"
    for c in ("usd", "eur", "gbp", "cad", "chf", "aud", "jpy", "€", "£", "¥")
    for unit in ("", "/kwh", "/mwh")
    if c.isalpha() or unit
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
        elif out and tok.lower() in _CURRENCY_TOKENS and out[-1][-1:].isdigit():
            # Joined with its space, so a bad price is quoted as typed (`0 EUR`).
            out[-1] += " " + tok
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


def number(text: str) -> float | None:
    """A plain number (`150`, `1,200.5`), or None."""
    return _number(text)


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


@dataclass(frozen=True)
class PowerPrice:
    """A power price as typed: so much a kWh in a currency (`€0.045` → 0.045 EUR).

    `explicit` is False for a bare number (`0.05`, `45/MWh`), which means the workspace's
    currency; a sign or a code (`$0.05`, `0.05 USD`) keeps its own."""

    per_kwh: float
    currency: str
    explicit: bool


_NO_CENTS = {"JPY"}  # no one prices power in hundredths of a yen
_SIGN = "|".join(re.escape(s) for s in TYPED_SIGNS)
_POWER = re.compile(
    rf"^(?P<pre>{_SIGN})?\s*(?P<num>{_NUM})\s*(?P<cents>c)?\s*"
    rf"(?P<post>{_SIGN}|(?!kwh|mwh)[a-z]{{3}})?\s*(?P<unit>/?\s*[km]wh)?$"
)
POWER_EXPECTED = (
    "a power price per kWh such as `0.05`, `5c`, `€0.045` or `0.045 EUR`, "
    "or per MWh such as `45/MWh` or `45 €/MWh`"
)


def power_price(text: str, default: str = USD) -> PowerPrice:
    """`0.05`, `$0.05`, `5c/kWh`, `€0.045`, `0.045 EUR`, `£0.04`, `¥7`, `45/MWh`, `45 €/MWh`,
    `45 EUR/MWh` → so much a kWh in a currency; a bare number is in `default`."""
    t = " ".join(text.strip().lower().replace("¢", "c").split())
    m = _POWER.match(t)
    if not m:
        code = re.search(r"[a-z]{3}", re.sub(r"[km]wh", "", t))
        if code and re.search(r"\d", t) and code.group(0).upper() not in CURRENCIES:
            raise ParseError(text, _unknown_currency(code.group(0)))
        raise ParseError(text, POWER_EXPECTED)
    typed = [c for c in (m.group("pre"), m.group("post")) if c]
    codes = {TYPED_SIGNS.get(c) or c.upper() for c in typed}
    for c in codes:
        if c not in CURRENCIES:
            raise ParseError(text, _unknown_currency(c))
    if len(codes) > 1:
        raise ParseError(text, f"one currency per price, not {' and '.join(sorted(codes))}")
    currency = codes.pop() if codes else default
    value = float(m.group("num").replace(",", ""))
    if value < 0:
        raise ParseError(text, "the power price cannot be negative")
    if value == 0 and typed and currency != USD:
        # Free power (flare gas) is `0`, in any currency: a price *in* a currency must be one.
        raise ParseError(text, f"a price in {currency} more than zero (free power is plain `0`)")
    per_mwh = (m.group("unit") or "").endswith("mwh")
    if m.group("cents"):
        if per_mwh or currency in _NO_CENTS:
            raise ParseError(text, POWER_EXPECTED)
        value /= 100
    top = MAX_PER_KWH[currency]
    sign = CURRENCY_SIGNS[currency]
    if per_mwh:
        if value >= top * 1000:
            raise ParseError(text, f"{sign}{value:g}/MWh is more than any grid charges")
        value /= 1000
    elif value >= top:
        hint = (
            ""
            if m.group("cents") or currency in _NO_CENTS
            else f" — for {value:g} cents write `{value:g}c`"
        )
        raise ParseError(text, f"{sign}{value:g}/kWh is more than any grid charges{hint}")
    return PowerPrice(value, currency, bool(typed))


def _unknown_currency(code: str) -> str:
    # The code as typed, shown like ParseError shows the bad part: no hidden or bidi characters,
    # no backtick to end the code span.
    shown = visible_text(code).replace("`", "'").upper()
    return f"`{shown}` is not a currency I convert; use one of {', '.join(CURRENCIES)}"


def power_usd_per_kwh(text: str) -> float:
    """A power price that must be in US$ (where no live rate is at hand: the backtest)."""
    price = power_price(text)
    if price.currency != USD:
        raise ParseError(text, "a power price in US$ here, such as `0.05` or `45/MWh`")
    return price.per_kwh


def currency_code(text: str) -> str:
    """`eur`, `EUR`, `€` → `EUR`, one of CURRENCIES."""
    # What the user sees: a zero-width or bidi character pasted along is not part of the code.
    t = visible_text(text).lower()
    code = TYPED_SIGNS.get(t) or t.upper()
    if code not in CURRENCIES:
        raise ParseError(text, _unknown_currency(text.strip()))
    return code


def power_words(words: list[str], default: str = USD) -> tuple[PowerPrice, list[str]]:
    """The power price at the start of `words`, with a currency code typed as its own word
    (`0.05 XYZ` is one price with an unknown currency, not a pool fee of `XYZ`)."""
    # Known codes are joined to their number by tokens(); a word left here is an unknown one.
    if len(words) >= 2 and re.fullmatch(r"(?i)[a-z]{3}(/[km]wh)?", words[1]):
        return power_price(f"{words[0]} {words[1]}", default), words[2:]
    return power_price(words[0], default), words[1:]


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
    if value > HASHRATE_MAX_PH:
        raise ParseError(text, f"a hashrate of at most {HASHRATE_MAX_PH:,.0f} PH/s")
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
    if not QUARTER_YEARS[0] <= int(year) <= QUARTER_YEARS[1]:
        raise ParseError(text, f"a quarter between {QUARTER_YEARS[0]} and {QUARTER_YEARS[1]}")
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


def _within(value: float, bounds: tuple[float, float], bad: str, what: str) -> float:
    low, high = bounds
    if not low <= value <= high:
        raise ParseError(bad, f"{what} between {usd_words(low)} and {usd_words(high)}")
    return value


def cost_usd(text: str) -> float:
    """A cost line's value in US$ per BTC: `74600`, `$74.6k`, within COST_USD_PER_BTC."""
    return _within(usd(text), COST_USD_PER_BTC, text, "a cost per BTC")


def price_usd(text: str) -> float:
    """A BTC price level (`below 80000`), within BTC_PRICE_USD."""
    return _within(usd(text), BTC_PRICE_USD, text, "a BTC price")


_KINDS = {"cash": "cash", "allin": "allin", "all-in": "allin", "all_in": "allin", "all in": "allin"}


def cost_kind(text: str) -> str:
    """`cash`, `allin`, `all-in` → the stored kind."""
    kind = _KINDS.get(" ".join(text.strip().lower().split()))
    if kind is None:
        raise ParseError(text, "a kind: `cash` or `allin` (also written `all-in`)")
    return kind


def label(text: str) -> str:
    """A cost line's name as people typed it, cleaned (bot.lines.clean_label): 1 to 80 characters."""
    name = clean_label(text)
    if not name:
        raise ParseError(text, "a name with at least one visible character")
    if len(name) > NAME_MAX:
        raise ParseError(name[:40] + "…", f"a name of at most {NAME_MAX} characters")
    return name


def source_url(text: str) -> str:
    """Where a number comes from: an `http(s)` address, nothing else (no `javascript:`, `file:`)."""
    url = text.strip()
    shown = url if len(url) <= 60 else url[:60] + "…"
    if len(url) > SOURCE_MAX:
        raise ParseError(shown, f"a source of at most {SOURCE_MAX} characters")
    # Only the characters a URL may hold (RFC 3986): no spaces, quotes, `<`, `>` or `|`, which
    # would end a Slack link early or break out of it.
    parts = urlsplit(url) if re.fullmatch(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", url) else None
    try:
        ok = parts is not None and parts.scheme.lower() in ("http", "https") and parts.hostname
        _ = parts and parts.port  # raises on a port that is no number or out of range
    except ValueError:
        ok = False
    if not ok:
        raise ParseError(shown, "a source that is a web address: `https://…`")
    return url


def row_id(text: str) -> int:
    """A cost line's id as `/costs` shows it: `12` or `#12`."""
    digits = text.strip().removeprefix("#")
    if not digits.isascii() or not digits.isdigit():
        raise ParseError(text or "(nothing)", "the id of a line, as `/costs` shows it: `12`")
    value = int(digits) if len(digits) <= 19 else ID_MAX + 1
    if not 1 <= value <= ID_MAX:
        raise ParseError(text, "an id as `/costs` shows it; no line has that one")
    return value


@dataclass(frozen=True)
class CostInput:
    """One cost line as given in Slack, at the CLI or in a CSV row, every field checked."""

    name: str
    kind: str
    value_usd: float
    quarter: str | None = None
    source: str | None = None


def cost_input(
    name: str, kind: str, value: str, quarter_text: str | None = None, source: str | None = None
) -> CostInput:
    """Check every field of one line; the first bad one raises ParseError naming its field."""
    checks: dict[str, tuple[Callable[[str], Any], str | None]] = {
        "name": (label, name),
        "kind": (cost_kind, kind),
        "value": (cost_usd, value),
        "quarter": (quarter, quarter_text),
        "source": (source_url, source),
    }
    got: dict[str, Any] = {}
    for field, (check, text) in checks.items():
        optional = field in ("quarter", "source")
        if optional and not (text and text.strip()):
            got[field] = None
            continue
        try:
            got[field] = check(text or "")
        except ParseError as exc:
            exc.field = field
            raise
    return CostInput(got["name"], got["kind"], got["value"], got["quarter"], got["source"])
