"""A cost line: a price level (US$ per BTC) that a channel can watch."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class CostLine:
    key: str  # stable identifier: "cash", "allin", "cost:<id>", "fleet:<name>", "below:<usd>"
    label: str  # for people: "CoinShares cash cost (2025-Q2)"
    value_usd: float
    source: str | None = None
    period: str | None = None  # "2025-Q2"
    published: str | None = None  # "2026-03-25": a shipped figure counts from that day on
    note: str | None = None  # what the publisher says about the figure (2024-Q4's tax expense)


# The words that name lines the same way in `/hashfloor subscribe` and `hashfloor backtest --rules`.
_NAMED_KEYS: dict[str, tuple[str, ...]] = {
    "all": ("cash", "allin"),
    "cash": ("cash",),
    "allin": ("allin",),
    "all-in": ("allin",),
    "all_in": ("allin",),
    "fleet": ("fleet",),
}


def named_keys(word: str) -> tuple[str, ...] | None:
    """The line keys a word names (`all` is cash and all-in), or None if it names none."""
    return _NAMED_KEYS.get(word.strip().lower())


# Characters that draw nothing or reorder what follows (format, control, separator, private use):
# a name made of them could fake a second alert line or flip the text around it.
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}
# Fillers and joiners that are letters or marks to Unicode but show nothing.
_HIDDEN_CHARS = {"\u034f", "\u115f", "\u1160", "\u17b4", "\u17b5", "\u3164", "\uffa0"}
# Slack's mrkdwn markers, swapped for their full-width forms so a name reads the same but can
# never open bold, italics, strike-through or code around the text that follows it.
_MRKDWN = str.maketrans({"*": "＊", "_": "＿", "~": "～", "`": "｀"})


def clean_label(text: str) -> str:
    """A label people typed (a cost line's name), safe to show in Slack, a terminal or a chart.

    Whitespace of any kind (newlines, tabs) becomes one space; hidden characters go; mrkdwn markers
    are neutralised. `&`, `<`, `>` stay: every renderer escapes them (bot.fmt.escape)."""
    return visible_text(text).translate(_MRKDWN)


def visible_text(text: str) -> str:
    """`text` on one line: whitespace runs become one space, hidden characters go."""
    kept = []
    for ch in text:
        if ch.isspace():
            kept.append(" ")
        elif ch in _HIDDEN_CHARS or unicodedata.category(ch) in _HIDDEN_CATEGORIES:
            continue
        else:
            kept.append(ch)
    return " ".join("".join(kept).split())
