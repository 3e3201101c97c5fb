"""The weekly digest as Slack Block Kit (with its text fallback) and as text for a terminal.

Pure functions of a WeekDigest. Slack's limits hold for any input: at most 50 blocks, at most
3,000 characters in a section's text, 10 fields of at most 2,000 characters. User text (line
labels, the channel name) is cut to a sane length first and escaped (&, <, >).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot import currency, fmt, hpc
from bot.alerts.messages import last_message_words
from bot.digest.contents import FleetStat, LineStat, WeekDigest
from bot.slack.blocks import pack_lines

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_FIELD_CHARS = 2000
MAX_LINES_SHOWN = 30  # more lines than this make an unreadable digest; the rest are counted
MAX_LABEL_CHARS = 120  # before escaping, which can make it up to 5× longer
MAX_FALLBACK_LINES = 3
MAX_FLEET_SECTIONS = 3  # 50 fleets' sentences fit in three sections of 3,000 characters
TITLE = "Weekly digest: BTC against the cost to mine"
MAX_RULES_SHOWN = 20  # the channel's alert rules listed; the rest are counted


@dataclass(frozen=True)
class RuleLine:
    """One alert rule of the channel, in people's words (bot.digest.compose.channel_rules)."""

    name: str  # as written: `hashprice below $30/PH/day` (plain text, escaped here)
    state: str  # in its kind's words: `price below`, `within 5%`, `waiting for data`
    last_message_at: float | None = None
    last_message: str | None = None
    old: str = ""  # the watched line's old mark (bot.benchmarks.old_note); "" when not old


def digest_blocks(
    d: WeekDigest, channel_name: str | None = None, rules: Sequence[RuleLine] = ()
) -> tuple[str, list[dict]]:
    """(text fallback, blocks) for chat.postMessage; `rules`: the channel's alert rules, each
    with its state and the last message it sent."""
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": TITLE, "emoji": True}},
        _context(_about(d, channel_name)),
    ]
    if d.has_prices:
        blocks.append(_section(fields=_price_fields(d)))
    else:
        blocks.append(_section(text=":warning: " + _no_prices_sentence()))
    blocks.append({"type": "divider"})

    tail = [{"type": "divider"}, _section(fields=_network_fields(d))]
    fleet_rows = [_fleet_sentence(d, f, md=True) for f in d.fleets]
    for group in pack_lines(fleet_rows)[:MAX_FLEET_SECTIONS]:
        tail.append(_section(text="\n".join(group)))
    if rules:
        tail.append(_section(text=_rules_text(rules)))
    tail.append(_context(_method_note(d)))

    budget = MAX_BLOCKS - len(blocks) - len(tail)
    blocks.extend(_line_sections(d, budget))
    blocks.extend(tail)
    return _fallback(d, channel_name), blocks


def digest_text(d: WeekDigest) -> str:
    """The digest for a terminal (`hashfloor digest preview`): plain text, times in UTC."""
    out = [TITLE, f"Week to {fmt.when(d.now)}", ""]
    if d.has_prices:
        out += [
            f"BTC now      {_money(d, d.price_now_usd)}",
            f"Week change  {_change_words(d)}",
            f"Open, close  {_money(d, d.open_usd)}, {_money(d, d.close_usd)}",
            f"High, low    {_money(d, d.high_usd)}, {_money(d, d.low_usd)}",
        ]
    else:
        out.append(_no_prices_sentence())
    out += ["", "Cost lines"]
    if not d.lines:
        out.append("  (none)")
    width = min(max((len(s.label) for s in d.lines), default=0), 60)
    for stat in d.lines:
        label = _cut(stat.label, 60).ljust(width)
        old = f"  ({stat.old})" if stat.old else ""
        out.append(f"  {label}  {fmt.usd(stat.value_usd):>9}  {_line_words(stat, d)}{old}")
    out += [
        "",
        f"Hashprice    {_hashprice_words(d, md=False)}",
        f"Difficulty   {fmt.difficulty(d.difficulty)}",
        f"Last adj.    {_adjustment_words(d.previous_adjustment_percent, d.previous_adjustment_at)}",
        f"Next adj.    {_next_adjustment_words(d, md=False)}",
        f"Halving      {_halving_words(d)}",
    ]
    for f in d.fleets:
        out.append(f"Fleet {_cut(f.name, 24):<6} {_fleet_sentence(d, f, md=False)}")
    out += ["", _method_note(d, md=False)]
    return "\n".join(out)


# --- blocks ------------------------------------------------------------------------------------


def _section(text: str | None = None, fields: list[str] | None = None) -> dict:
    block: dict = {"type": "section"}
    if text is not None:
        block["text"] = {"type": "mrkdwn", "text": _fit(text, MAX_SECTION_CHARS)}
    if fields is not None:
        block["fields"] = [
            {"type": "mrkdwn", "text": _fit(f, MAX_FIELD_CHARS)} for f in fields[:10]
        ]
    return block


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _fit(text, 3000)}]}


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _about(d: WeekDigest, channel_name: str | None) -> str:
    parts = [f"Week to {_date(d.now, md=True)}"]
    if channel_name:
        parts.append("#" + fmt.escape(_cut(channel_name.lstrip("#"), 80)))
    return " · ".join(parts)


def _price_fields(d: WeekDigest) -> list[str]:
    return [
        f"*BTC now*\n{_money(d, d.price_now_usd)}",
        f"*Week change*\n{_change_words(d)}",
        f"*Open, close*\n{_money(d, d.open_usd)}, {_money(d, d.close_usd)}",
        f"*High, low*\n{_money(d, d.high_usd)}, {_money(d, d.low_usd)}",
    ]


def _network_fields(d: WeekDigest) -> list[str]:
    return [
        f"*Hashprice*\n{_hashprice_words(d, md=True)}",
        f"*Difficulty*\n{fmt.difficulty(d.difficulty)}",
        "*Last difficulty adjustment*\n"
        + _adjustment_words(d.previous_adjustment_percent, d.previous_adjustment_at, md=True),
        f"*Next difficulty adjustment*\n{_next_adjustment_words(d, md=True)}",
        f"*Next halving*\n{_halving_words(d)}",
    ]


def _line_sections(d: WeekDigest, budget: int) -> list[dict]:
    """The cost lines, packed into as few sections as fit, within `budget` blocks."""
    heading = "*Cost lines*"
    if not d.lines:
        return [_section(text=heading + "\nNone on file: add one with `/costs add`.")]
    rows = [
        f"• *{fmt.escape(_cut(s.label, MAX_LABEL_CHARS))}* {fmt.usd(s.value_usd)}: {_line_words(s, d)}"
        + (f" :hourglass: _{fmt.escape(s.old)}_" if s.old else "")
        for s in d.lines
    ]
    shown = min(len(rows), MAX_LINES_SHOWN)
    while True:  # the constants make one pass enough; the loop keeps the limit whatever they are
        hidden = len(rows) - shown
        note = [f"…and {hidden} more line{'s' if hidden != 1 else ''}: see `/costs`."]
        texts = _pack([heading, *rows[:shown], *(note if hidden else [])])
        if len(texts) <= budget or shown == 0:
            return [_section(text=t) for t in texts]
        shown -= 1


def _rules_text(rules: Sequence[RuleLine]) -> str:
    """The channel's alert rules in one section: name, state, last message."""
    rows = ["*Alerts in this channel*"]
    for r in rules[:MAX_RULES_SHOWN]:
        row = f"• {fmt.escape(_cut(r.name, MAX_LABEL_CHARS))}: *{r.state}*"
        if r.old:
            row += f" :hourglass: _{fmt.escape(r.old)}_"
        if last := last_message_words(r.last_message_at, r.last_message, limit=100):
            row += f" · {last}"
        rows.append(row)
    if len(rules) > MAX_RULES_SHOWN:
        rows.append(f"…and {len(rules) - MAX_RULES_SHOWN} more: `/hashfloor status` here.")
    return "\n".join(rows)


def _pack(rows: list[str]) -> list[str]:
    """Rows joined by newlines into texts of at most MAX_SECTION_CHARS (rows are shorter)."""
    texts = [rows[0]]
    for row in rows[1:]:
        if len(texts[-1]) + 1 + len(row) > MAX_SECTION_CHARS:
            texts.append(row)
        else:
            texts[-1] += "\n" + row
    return texts


def _fallback(d: WeekDigest, channel_name: str | None) -> str:
    where = f" for #{fmt.escape(_cut(channel_name.lstrip('#'), 80))}" if channel_name else ""
    head = f"Hashfloor weekly digest{where}"
    if not d.has_prices:
        return f"{head}: no fresh price data this week."
    parts = [f"BTC {_money(d, d.price_now_usd)} ({fmt.pct(d.change)} on the week)"]
    for stat in d.lines[:MAX_FALLBACK_LINES]:
        if stat.margin is not None:
            label = fmt.escape(_cut(stat.label, 60))
            old = " (old)" if stat.old else ""
            parts.append(
                f"{fmt.margin_words(stat.margin)} {label}{old} of {fmt.usd(stat.value_usd)}"
            )
    if d.hashprice_usd_per_ph_day is not None:
        parts.append(f"hashprice {fmt.usd(d.hashprice_usd_per_ph_day, cents=True)}/PH/day")
    return f"{head}: " + "; ".join(parts) + "."


# --- phrases shared by blocks and text ---------------------------------------------------------


def _money(d: WeekDigest, usd: float | None, cents: bool = False) -> str:
    """Money in the workspace's currency first, US$ beside it (cost lines stay in US$)."""
    return currency.both(usd, d.rate, cents)


def _no_prices_sentence() -> str:
    return (
        "No fresh price data this week: the price sources did not agree or the bot was not "
        "polling, so there is no price, margin or time below a line to report."
    )


def _change_words(d: WeekDigest) -> str:
    if d.change is None or d.change_usd is None:
        return "—"
    sign = "+" if d.change_usd >= 0 else "-"
    return f"{fmt.pct(d.change)} ({sign}{fmt.usd(abs(d.change_usd))})"


def _line_words(stat: LineStat, d: WeekDigest) -> str:
    if stat.margin is None:
        return "no fresh price to compare"
    return f"{fmt.margin_words(stat.margin)} · {_hours_words(stat.hours_below, stat.margin, d)}"


# Below this many hours of data, "this week" says how much data it rests on.
FULL_WEEK_H = 0.9 * 7 * 24


def _hours_words(hours: float, margin: float | None, d: WeekDigest) -> str:
    """Hours below a line, worded from what is true now and from the data they rest on: in the
    first week, "34% below · not below it this week" would contradict itself."""
    covered = d.hours_covered
    if covered <= 0:
        return "hours below not counted yet (one poll of data this week)"
    scope = "this week" if covered >= FULL_WEEK_H else f"in the {covered:,.1f} h of data this week"
    if hours > 0:
        return f"{hours:,.1f} h below it {scope}"
    if margin is not None and margin < 0:
        return f"below it since the latest poll, not before it {scope}"
    return f"not below it {scope}"


def _hashprice_words(d: WeekDigest, md: bool) -> str:
    if d.hashprice_usd_per_ph_day is None:
        return "—"
    words = f"{_money(d, d.hashprice_usd_per_ph_day, cents=True)}/PH/day"
    if d.hashprice_change is not None and d.hashprice_week_ago_at is not None:
        since = "on the week"
        if d.hashprice_week_ago_at > d.week_start + 86_400:  # data began later in the week
            since = f"since {_date(d.hashprice_week_ago_at, md)}"
        words += f" ({fmt.pct(d.hashprice_change)} {since})"
    return words


def _adjustment_words(percent: float | None, at: float | None, md: bool = False) -> str:
    if percent is None:
        return "—"
    words = fmt.pct(percent / 100, digits=2)
    return f"{words} on {_date(at, md)}" if at is not None else words


def _next_adjustment_words(d: WeekDigest, md: bool) -> str:
    if d.next_adjustment_percent is None:
        return "—"
    words = f"{fmt.pct(d.next_adjustment_percent / 100, digits=2)} (estimate)"
    if d.next_adjustment_at is not None:
        words += f" around {_date(d.next_adjustment_at, md)}"
    if d.next_adjustment_blocks is not None:
        words += f", in {d.next_adjustment_blocks:,} blocks"
    return words


def _halving_words(d: WeekDigest) -> str:
    if d.blocks_to_halving is None:
        return "—"
    days = d.blocks_to_halving * 600 / 86_400  # at the 10-minute target spacing
    return f"in {d.blocks_to_halving:,} blocks (about {days:,.0f} days)"


def _fleet_sentence(d: WeekDigest, f: FleetStat, md: bool) -> str:
    power = f"${f.power_usd_per_kwh:.3f}".rstrip("0").rstrip(".") if f.power_usd_per_kwh else "$0"
    fee = f"{f.pool_fee * 100:g}% pool fee"
    who = f"{f.efficiency_j_per_th:g} J/TH at {power}/kWh, {fee}"
    if f.breakeven_price_usd is None:
        tail = "breakeven unknown (no network data this week)"
    else:
        tail = f"breaks even at {_money(d, f.breakeven_price_usd)}"
        if f.margin is not None:
            tail += f"; BTC is {fmt.margin_words(f.margin)} it"
        if d.has_prices:
            tail += f"; {_hours_words(f.hours_below, f.margin, d)}"
    tail += _per_mwh_words(f.earnings_usd_per_mwh, d.hpc_lease_usd_per_kw_month)
    return f"*Fleet {fmt.escape(f.name)}* ({who}): {tail}." if md else f"{who}: {tail}."


def _per_mwh_words(mining_usd_per_mwh: float | None, lease: float | None) -> str:
    """What a MWh earns mining and, with `/hashfloor hpc` set, leased (DESIGN §4.1)."""
    out = ""
    if mining_usd_per_mwh is not None:
        out += f"; mining earns ${mining_usd_per_mwh:,.2f}/MWh (its curtailment price)"
    if lease is not None:
        out += f"; {hpc.lease_words(lease, mining_usd_per_mwh)}"
    return out


def _method_note(d: WeekDigest, md: bool = True) -> str:
    if not d.has_prices:
        return "No fresh poll this week."
    polls = f"{d.samples:,} fresh poll{'s' if d.samples != 1 else ''}"
    if d.poll_interval_s is not None:
        polls += f", about every {_duration(d.poll_interval_s)}"
    if d.hours_covered < FULL_WEEK_H:
        polls += f", covering {d.hours_covered:,.1f} h of the week's 168"
    note = (
        f"From {polls}. Hours below a line leave out gaps in the data; margins use the latest "
        "fresh price."
    )
    if d.price_at is not None:
        note += f" Price as of {_date(d.price_at, md, time=True)}."
    if d.rate is not None:
        note += f" {currency.note(d.rate, d.now)}; cost lines in US$, as published."
    elif d.rate_warning:
        note += " " + (d.rate_warning if md else d.rate_warning.removeprefix(":warning: "))
    return note


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _date(unix_s: float, md: bool, time: bool = False) -> str:
    """A date; in Slack, shown in each reader's own time zone, with a UTC fallback."""
    plain = fmt.when(unix_s) if time else fmt.day(unix_s)
    if not md:
        return plain
    token = "{date_short_pretty} {time}" if time else "{date_short_pretty}"
    return f"<!date^{int(unix_s)}^{token}|{plain}>"


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())  # user text: no newlines breaking the layout
    return text if len(text) <= limit else text[: limit - 1] + "…"
