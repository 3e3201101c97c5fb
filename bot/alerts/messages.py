"""Alert messages: pure functions from what happened to Slack's text and blocks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot import benchmarks, fmt
from bot import economics as econ
from bot.alerts import rules
from bot.alerts.retarget import is_adjustment_key
from bot.alerts.targets import Metric, Target, hashvalue_of, read, show, split_within
from bot.lines import CostLine
from bot.market.snapshot import Snapshot
from bot.slack import blocks as bk

SNOOZE_ACTION = "hashfloor_snooze_24h"
BREAKEVEN_ACTION = "hashfloor_breakeven"


def _line_name(line: CostLine) -> str:
    return fmt.escape(line.label)


def _source(line: CostLine) -> str:
    parts = [p for p in (line.source, line.period) if p]
    return f"Line: {fmt.escape(' · '.join(parts))}" if parts else ""


def _median_of(sources: tuple[str, ...]) -> str:
    return f"median of {', '.join(sources)}" if sources else "median of the sources"


def _standing(price_usd: float, line: CostLine) -> str:
    margin = econ.margin_over_line(price_usd, line.value_usd)
    return (
        f"*BTC {fmt.usd(price_usd)}* is {fmt.margin_words(margin)} {_line_name(line)} "
        f"of {fmt.usd(line.value_usd)} per BTC."
    )


def crossing(
    event: str,
    line: CostLine,
    price_usd: float,
    data_at: float,
    rule_id: int,
    sources: tuple[str, ...] = (),
) -> tuple[str, list[dict[str, Any]]]:
    """`crossed_below` / `recovered_above` (and `now_below` / `now_above` after a mute);
    `sources`: the price sources whose median this is, named as every answer names them."""
    margin = econ.margin_over_line(price_usd, line.value_usd)
    below = event in ("crossed_below", "now_below")
    if event == "crossed_below":
        head = f":rotating_light: BTC fell below {_line_name(line)}"
    elif event == "recovered_above":
        head = f":white_check_mark: BTC recovered above {_line_name(line)}"
    else:
        head = f":information_source: Since the mute: BTC is now {'below' if below else 'above'} {_line_name(line)}"
    # Old as of the price it reports: the engine evaluates each poll at its own time.
    body = _standing(price_usd, line) + benchmarks.slack_mark(line.period, data_at)
    text = (
        f"{head.split(' ', 1)[1]}: BTC {fmt.usd(price_usd)}, {fmt.pct(margin)} vs "
        f"{fmt.usd(line.value_usd)}{benchmarks.short_mark(line.period, data_at)}"
    )
    notes = _price_notes(line, data_at, sources)
    blocks = [bk.section(f"*{head}*\n{body}"), bk.context(notes)]
    if below:
        blocks.append(_buttons(rule_id))
    return text, blocks


def for_rule(
    event: str, target: Target, snap: Snapshot, rule_id: int
) -> tuple[str, list[dict[str, Any]]]:
    """The message of a rule's event (`crossed_below`, `recovered_above`, and `now_below` /
    `now_above` after a mute), whatever its kind, from the poll that made it."""
    if target.metric != "price":
        return hashprice_crossing(event, target, snap, rule_id)
    assert snap.price_usd is not None
    if target.near is not None:
        return near_crossing(
            event, target, snap.price_usd, snap.taken_at, rule_id, snap.used_sources
        )
    return crossing(event, target.line, snap.price_usd, snap.taken_at, rule_id, snap.used_sources)


def _buttons(rule_id: int) -> dict[str, Any]:
    return bk.actions(
        bk.button("Snooze 24h", SNOOZE_ACTION, str(rule_id)),
        bk.button("Breakeven", BREAKEVEN_ACTION, str(rule_id), style="primary"),
        block_id=f"alert-{rule_id}",
    )


def near_crossing(
    event: str,
    target: Target,
    price_usd: float,
    data_at: float,
    rule_id: int,
    sources: tuple[str, ...] = (),
) -> tuple[str, list[dict[str, Any]]]:
    """An early warning (`within`): how close the price is, the line's name and value. The
    line's own crossing is another rule's message, if the channel has that rule."""
    assert target.near is not None and target.within is not None
    line, pct = target.near, f"{target.within * 100:g}%"
    name = _line_name(line)
    margin = econ.margin_over_line(price_usd, line.value_usd)
    near = event in ("crossed_below", "now_below")
    if event == "crossed_below":
        head = f":warning: BTC came within {pct} of {name}"
    elif event == "recovered_above":
        head = f":white_check_mark: BTC is again more than {pct} above {name}"
    else:
        where = f"within {pct} of" if near else f"more than {pct} above"
        head = f":information_source: Since the mute: BTC is now {where} {name}"
    body = (
        f"*BTC {fmt.usd(price_usd)}* is {fmt.margin_words(margin)} {name} "
        f"of {fmt.usd(line.value_usd)} per BTC"
    )
    if near and margin < 0:
        body += ": already past the line itself."
    elif near:
        body += f": {fmt.usd(price_usd - line.value_usd)} from it."
    else:
        body += "."
    body += f" Early warning at {pct} above it: {fmt.usd(target.line.value_usd)}."
    body += benchmarks.slack_mark(line.period, data_at)
    text = (
        f"{head.split(' ', 1)[1]}: BTC {fmt.usd(price_usd)}, {fmt.pct(margin)} vs "
        f"{fmt.usd(line.value_usd)}"
    )
    notes = _price_notes(line, data_at, sources)
    blocks = [bk.section(f"*{head}*\n{body}"), bk.context(notes)]
    if near:
        blocks.append(_buttons(rule_id))
    return text, blocks


def hashprice_crossing(
    event: str, target: Target, snap: Snapshot, rule_id: int
) -> tuple[str, list[dict[str, Any]]]:
    """A hashprice rule's message: hashprice now, the threshold, and the price and difficulty
    behind it (a hashprice falls with the price or with a difficulty retarget)."""
    value, _ = read(target.metric, snap)
    assert value is not None and snap.price_usd is not None
    level = target.line.value_usd
    if target.near is not None and target.within is not None:
        level = target.near.value_usd
        pct, shown = f"{target.within * 100:g}%", show(target.metric, level)
        words = {
            "crossed_below": f"came within {pct} of {shown}",
            "recovered_above": f"is again more than {pct} above {shown}",
            "now_below": f"is now within {pct} of {shown}",
            "now_above": f"is now more than {pct} above {shown}",
        }
    else:
        shown = show(target.metric, level)
        words = {
            "crossed_below": f"fell below {shown}",
            "recovered_above": f"recovered above {shown}",
            "now_below": f"is now below {shown}",
            "now_above": f"is now above {shown}",
        }
    below = event in ("crossed_below", "now_below")
    warn = ":warning:" if target.near is not None else ":rotating_light:"
    icon = {"crossed_below": warn, "recovered_above": ":white_check_mark:"}
    since = "" if event in icon else "Since the mute: "
    head = f"{icon.get(event, ':information_source:')} {since}Hashprice {words[event]}"
    margin = value / level - 1
    hashvalue = hashvalue_of(snap.network)
    other = (
        (
            econ.hashprice_sats_per_th_day(hashvalue)
            if target.metric == "hashprice_usd"
            else econ.hashprice_usd_per_ph_day(hashvalue, snap.price_usd)
        )
        if hashvalue is not None and snap.price_usd
        else None
    )
    other_metric: Metric = "hashprice_sats" if target.metric == "hashprice_usd" else "hashprice_usd"
    body = (
        f"*Hashprice {show(target.metric, value)}* ({show(other_metric, other)}) is "
        f"{fmt.margin_words(margin)} your threshold of {show(target.metric, level)}.\n"
        f"Behind it: BTC {fmt.usd(snap.price_usd)}, difficulty "
        f"{fmt.difficulty(snap.network.difficulty)}, fees {snap.network.fees_per_block_btc:.3f} BTC "
        "a block."
    )
    text = (
        f"{head.split(' ', 1)[1]}: {show(target.metric, value)}, {fmt.pct(margin)} vs "
        f"{show(target.metric, level)} (BTC {fmt.usd(snap.price_usd)}, difficulty "
        f"{fmt.difficulty(snap.network.difficulty)})"
    )
    notes = (
        f"Before pool fee · as of {fmt.when(snap.taken_at)}; price: "
        f"{_median_of(snap.used_sources)}; network: {fmt.escape(snap.network.source or 'unknown')}"
    )
    blocks = [bk.section(f"*{head}*\n{body}"), bk.context(notes)]
    if below:
        blocks.append(_buttons(rule_id))
    return text, blocks


def episode_closed(
    alert_text: str,
    alert_blocks: list[dict[str, Any]],
    alert_at: float,
    recovery_text: str,
    recovery_blocks: list[dict[str, Any]],
    recovered_at: float,
    rule_id: int,
) -> tuple[str, list[dict[str, Any]]]:
    """The alert as it reads once its recovery is posted (chat.update): what it said, then that
    it recovered, when, after how long, and where the metric stands then (the recovery's own
    body: the price against the line, or the hashprice and the price behind it). Snooze goes
    (nothing left to snooze); Breakeven stays, still a useful question after the episode."""
    lasted = fmt.duration(recovered_at - alert_at)
    said = [b for b in alert_blocks if b.get("type") != "actions"]
    # Every rule's message opens with a section "*<head>*\n<body>"; the body says where it stands.
    first = recovery_blocks[0].get("text", {}).get("text", "") if recovery_blocks else ""
    standing = first.split("\n", 1)[1] if "\n" in first else ""
    closed = bk.section(
        f":white_check_mark: *Recovered {fmt.when(recovered_at)}, after {lasted}.* {standing}"
    )
    buttons = bk.actions(
        bk.button("Breakeven", BREAKEVEN_ACTION, str(rule_id), style="primary"),
        block_id=f"alert-{rule_id}",
    )
    text = f"Recovered {fmt.when(recovered_at)} after {lasted}: {recovery_text} (was: {alert_text})"
    return text, [*said, closed, buttons]


def expectation(state: str, price_usd: float, line_usd: float, metric: Metric = "price") -> str:
    """What the rule will alert on next, worded from where the price is now and what the rule
    has confirmed: between two polls (or inside the 1% band) they may differ, and saying
    "if it falls below" of a price already below would contradict the sentence before it."""
    below_now = rules.classify(price_usd, line_usd) == "below"
    if state == "below":
        if below_now:
            return "you will be alerted when it recovers above it"
        recovered = show(metric, line_usd * (1 + rules.RECOVERY_BAND))
        return (
            f"it has not yet held above {recovered} (the line + 1%) for two polls: "
            "you will be alerted when it does"
        )
    if state == "above":
        if not below_now:
            return "you will be alerted if it falls below it"
        return "it has not yet stayed below it for two polls: you will be alerted if it does"
    return "the rule takes its state from the next fresh poll, silently; alerts follow from there"


def where_it_stands(
    price_usd: float | None,
    lines: Sequence[tuple[CostLine | Target, str]],
    fresh: bool,
    by: str | None = None,
    values: Mapping[Metric, float | None] | None = None,
    now: float | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """The subscription confirmation: where the price (or a hashprice rule's hashprice, from
    `values`) stands against each new rule's line. `by`: the user who subscribed, when the
    confirmation is posted in the channel for all; `now`: when it is said, for the old marks
    (None: no marks)."""

    def old(target: Target) -> str:
        line = target.near or target.line
        return "" if now is None else benchmarks.slack_mark(line.period, now)

    who = f"<@{by}> subscribed this channel" if by else "Subscribed"
    targets = [(t if isinstance(t, Target) else Target(t, ""), state) for t, state in lines]
    if price_usd is None:
        head = (
            "No fresh price yet: each rule will take its state from the first good poll, silently."
        )
        body = "\n".join(f"• {_watched(t)}{old(t)}" for t, _ in targets)
        text = f"{who}. {head}" if by else head
        return text, [bk.section(f":bell: {who}. {head}"), bk.section(body)]
    metrics: dict[str, float | None] = {"price": price_usd, **(values or {})}
    rows = [_stands(t, state, metrics.get(t.metric)) + old(t) for t, state in targets]
    note = "" if fresh else " (from the last good data; the sources are not fresh right now)"
    text = f"{who}. " + " ".join(r.removeprefix("• ") for r in rows)
    return text, [
        bk.section(f":bell: *{who}* — this is not an alert" + note),
        *bk.line_sections(rows),
    ]


def unthreaded(
    text: str, blocks: list[dict[str, Any]], alert_sent_at: float | None
) -> tuple[str, list[dict[str, Any]]]:
    """A recovery posted top-level because Slack accepted its alert without returning the alert's
    ts (so there is no thread to reply in): the message says which alert it ends."""
    when = fmt.when(alert_sent_at) if alert_sent_at else "earlier"
    note = f"This ends the alert posted {when} (Slack did not return its id, so not in its thread)."
    return f"{text} ({note})", [*blocks, bk.context(note)]


def _watched(target: Target) -> str:
    """A rule's line and its value, for a list: `CoinShares cash cost (2025-Q2) ($74,600)`."""
    line = target.near or target.line
    what = f"{_line_name(line)} ({show(target.metric, line.value_usd)})"
    if target.metric != "price":
        what = (
            line.label if target.near else f"hashprice below {show(target.metric, line.value_usd)}"
        )
    if target.within is not None:
        what = f"within {target.within * 100:g}% of {what}"
    return what


def _stands(target: Target, state: str, value: float | None) -> str:
    """One row of the confirmation: where the metric stands and what will be alerted next."""
    metric, level = target.metric, target.line.value_usd
    if value is None:
        return (
            f"• {_watched(target)}: no fresh hashprice now (it needs fresh price and network "
            "data): the rule takes its state from the first good poll, silently"
        )
    nxt = expectation(state, value, level, metric)
    if metric == "price" and target.near is None:
        margin = econ.margin_over_line(value, level)
        return (
            f"• BTC {fmt.usd(value)} is {fmt.margin_words(margin)} {_line_name(target.line)} "
            f"({fmt.usd(level)}): {nxt}."
        )
    if metric == "price":
        assert target.near is not None and target.within is not None
        margin = econ.margin_over_line(value, target.near.value_usd)
        return (
            f"• BTC {fmt.usd(value)} is {fmt.margin_words(margin)} {_line_name(target.near)} "
            f"({fmt.usd(target.near.value_usd)}); the early warning is at "
            f"{target.within * 100:g}% above it, {fmt.usd(level)}: {nxt}."
        )
    if target.near is not None and target.within is not None:
        mark = (
            f"your early warning at {show(metric, level)} ({target.within * 100:g}% above "
            f"{show(metric, target.near.value_usd)})"
        )
    else:
        mark = f"your threshold of {show(metric, level)}"
    return (
        f"• Hashprice {show(metric, value)} is {fmt.margin_words(value / level - 1)} {mark}: {nxt}."
    )


def state_words(key: str, state: str) -> str:
    """A rule's confirmed state for people, in its own kind's words: `price below`, `within 5%`,
    `hashprice above`; `waiting for data` while unknown."""
    if is_adjustment_key(key):
        return "watching each retarget"  # no line, no state: bot.alerts.retarget
    if state not in ("above", "below"):
        return "waiting for data"
    if key.startswith("within:") and (parsed := split_within(key)):
        pct = f"{parsed[0]:g}%"
        return f"within {pct}" if state == "below" else f"more than {pct} above"
    if key.startswith("hashprice:"):
        return f"hashprice {state}"
    return f"price {state}"


def line_value(key: str, target: Target | None) -> str:
    """The value a rule's name leaves out, for status and the App Home: a cost line's value
    (`$74,600`), an early warning's line and level (`$74,600, warns below $78,330`); nothing for
    a level whose name already holds it."""
    if target is None:
        return "line removed"
    if target.near is not None:
        near = show(target.metric, target.near.value_usd)
        return f"{near}, warns below {show(target.metric, target.line.value_usd)}"
    if key.startswith(("below:", "hashprice:")):
        return ""
    return show(target.metric, target.line.value_usd)


def last_message_words(at: float | None, text: str | None, limit: int = 140) -> str:
    """`last message 2026-11-30 06:00 UTC: “BTC fell below …”` (escaped), or nothing."""
    if not at:
        return ""
    words = f"last message {fmt.when(at)}"
    if text:
        short = " ".join(text.split())
        short = short if len(short) <= limit else short[: limit - 1] + "…"
        words += f": “{fmt.escape(short)}”"
    return words


def _price_notes(line: CostLine, data_at: float, sources: Sequence[str]) -> str:
    """The context line under a price message: the line's source, and the price's time and
    sources."""
    return " · ".join(
        p for p in (_source(line), f"Price as of {fmt.when(data_at)}, {_median_of(sources)}") if p
    )
