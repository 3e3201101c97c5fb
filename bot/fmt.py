"""How numbers read to people, in Slack and in the terminal alike."""

from __future__ import annotations

from datetime import UTC, datetime


def usd(value: float | None, cents: bool = False) -> str:
    """74600 → '$74,600'; −172.12 → '-$172.12' (the sign before the currency, as people write)."""
    if value is None:
        return "—"
    text = f"{abs(value):,.2f}" if cents else f"{abs(value):,.0f}"
    return f"-${text}" if value < 0 and text.strip("0.,") else f"${text}"


def pct(fraction: float | None, signed: bool = True, digits: int = 1) -> str:
    """0.0432 → '+4.3%'."""
    if fraction is None:
        return "—"
    return f"{fraction * 100:+.{digits}f}%" if signed else f"{fraction * 100:.{digits}f}%"


def margin_words(fraction: float) -> str:
    """0.22 → '22.0% above'; −0.34 → '34.0% below'."""
    return f"{abs(fraction) * 100:.1f}% {'above' if fraction >= 0 else 'below'}"


def age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 0:  # stamped by a wall clock that has since gone back
        return "at an unknown time (the clock went back since)"
    return f"{span(seconds)} ago"


def span(seconds: float) -> str:
    """An age in one unit, as `age` words it: `42s`, `3 min`, `1.5 h`, `2.0 days`."""
    s = int(seconds)
    if s < 90:
        return f"{s}s"
    if s < 90 * 60:
        return f"{round(s / 60)} min"
    if s < 36 * 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


def duration(seconds: float) -> str:
    """How long something lasted: 50 → '50 s', 4,000 → '1 h 7 min', 200,000 → '2 days 7 h'."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{round(s / 60)} min"
    m = round(s / 60)
    if m < 24 * 60:
        h, m = divmod(m, 60)
        return f"{h} h {m} min" if m else f"{h} h"
    h = round(s / 3600)
    d, h = divmod(h, 24)
    days = f"{d} day" if d == 1 else f"{d} days"
    return f"{days} {h} h" if h else days


def when(unix_s: float | None) -> str:
    if unix_s is None:
        return "—"
    return datetime.fromtimestamp(unix_s, UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(unix_s: float | None) -> str:
    if unix_s is None:
        return "—"
    return datetime.fromtimestamp(unix_s, UTC).strftime("%a %d %b %Y")


def hashrate(hs: float | None) -> str:
    if hs is None:
        return "—"
    for unit, scale in (("ZH/s", 1e21), ("EH/s", 1e18), ("PH/s", 1e15), ("TH/s", 1e12)):
        if hs >= scale:
            return f"{hs / scale:,.1f} {unit}"
    return f"{hs:,.0f} H/s"


def difficulty(d: float | None) -> str:
    if d is None:
        return "—"
    # "152.00 T" reads as a unit (TH, T for tera); difficulty is a plain number.
    return f"{d / 1e12:,.2f} trillion"


def escape(text: str) -> str:
    """Slack's three control characters; user text is echoed back only through this."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
