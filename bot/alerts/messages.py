"""Alert messages: pure functions from what happened to Slack's text and blocks."""

from __future__ import annotations

from typing import Any

from bot import economics as econ
from bot import fmt
from bot.alerts import rules
from bot.lines import CostLine
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
    body = (
        f"*BTC {fmt.usd(price_usd)}* is {fmt.margin_words(margin)} {_line_name(line)} "
        f"of {fmt.usd(line.value_usd)} per BTC."
    )
    text = (
        f"{head.split(' ', 1)[1]}: BTC {fmt.usd(price_usd)}, {fmt.pct(margin)} vs "
        f"{fmt.usd(line.value_usd)}"
    )
    notes = " · ".join(
        p for p in (_source(line), f"Price as of {fmt.when(data_at)}, {_median_of(sources)}") if p
    )
    blocks = [bk.section(f"*{head}*\n{body}"), bk.context(notes)]
    if below:
        blocks.append(
            bk.actions(
                bk.button("Snooze 24h", SNOOZE_ACTION, str(rule_id)),
                bk.button("Breakeven", BREAKEVEN_ACTION, str(rule_id), style="primary"),
                block_id=f"alert-{rule_id}",
            )
        )
    return text, blocks


def expectation(state: str, price_usd: float, line_usd: float) -> str:
    """What the rule will alert on next, worded from where the price is now and what the rule
    has confirmed: between two polls (or inside the 1% band) they may differ, and saying
    "if it falls below" of a price already below would contradict the sentence before it."""
    below_now = rules.classify(price_usd, line_usd) == "below"
    if state == "below":
        if below_now:
            return "you will be alerted when it recovers above it"
        recovered = fmt.usd(line_usd * (1 + rules.RECOVERY_BAND))
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
    lines: list[tuple[CostLine, str]],
    fresh: bool,
    by: str | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """The subscription confirmation: where the price stands against each new rule's line.
    `by`: the user who subscribed, when the confirmation is posted in the channel for all."""
    who = f"<@{by}> subscribed this channel" if by else "Subscribed"
    if price_usd is None:
        head = (
            "No fresh price yet: each rule will take its state from the first good poll, silently."
        )
        body = "\n".join(f"• {_line_name(line)} ({fmt.usd(line.value_usd)})" for line, _ in lines)
        text = f"{who}. {head}" if by else head
        return text, [bk.section(f":bell: {who}. {head}"), bk.section(body)]
    rows = []
    for line, state in lines:
        margin = econ.margin_over_line(price_usd, line.value_usd)
        rows.append(
            f"• BTC {fmt.usd(price_usd)} is {fmt.margin_words(margin)} {_line_name(line)} "
            f"({fmt.usd(line.value_usd)}): {expectation(state, price_usd, line.value_usd)}."
        )
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
