"""Alert messages: pure functions from what happened to Slack's text and blocks."""

from __future__ import annotations

from typing import Any

from bot import economics as econ
from bot import fmt
from bot.lines import CostLine
from bot.slack import blocks as bk

SNOOZE_ACTION = "hashfloor_snooze_24h"
BREAKEVEN_ACTION = "hashfloor_breakeven"


def _line_name(line: CostLine) -> str:
    return fmt.escape(line.label)


def _source(line: CostLine) -> str:
    parts = [p for p in (line.source, line.period) if p]
    return f"Line: {fmt.escape(' · '.join(parts))}" if parts else ""


def crossing(
    event: str, line: CostLine, price_usd: float, data_at: float, rule_id: int
) -> tuple[str, list[dict[str, Any]]]:
    """`crossed_below` / `recovered_above` (and `now_below` / `now_above` after a mute)."""
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
        p for p in (_source(line), f"Price as of {fmt.when(data_at)}, median of the sources") if p
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


def where_it_stands(
    price_usd: float | None, lines: list[tuple[CostLine, str]], fresh: bool
) -> tuple[str, list[dict[str, Any]]]:
    """The subscription confirmation: where the price stands against each new rule's line."""
    if price_usd is None:
        head = (
            "No fresh price yet: each rule will take its state from the first good poll, silently."
        )
        body = "\n".join(f"• {_line_name(line)} ({fmt.usd(line.value_usd)})" for line, _ in lines)
        return head, [bk.section(f":bell: Subscribed. {head}"), bk.section(body)]
    rows = []
    for line, state in lines:
        margin = econ.margin_over_line(price_usd, line.value_usd)
        verb = "falls below" if state != "below" else "recovers above"
        rows.append(
            f"• BTC {fmt.usd(price_usd)} is {fmt.margin_words(margin)} {_line_name(line)} "
            f"({fmt.usd(line.value_usd)}): you will be alerted if it {verb} it."
        )
    note = "" if fresh else " (from the last good data; the sources are not fresh right now)"
    text = "Subscribed. " + " ".join(r.removeprefix("• ") for r in rows)
    return text, [
        bk.section(":bell: *Subscribed* — this is not an alert" + note),
        bk.section("\n".join(rows)),
    ]


def unthreaded(
    text: str, blocks: list[dict[str, Any]], alert_sent_at: float | None
) -> tuple[str, list[dict[str, Any]]]:
    """A recovery posted top-level because Slack accepted its alert without returning the alert's
    ts (so there is no thread to reply in): the message says which alert it ends."""
    when = fmt.when(alert_sent_at) if alert_sent_at else "earlier"
    note = f"This ends the alert posted {when} (Slack did not return its id, so not in its thread)."
    return f"{text} ({note})", [*blocks, bk.context(note)]
