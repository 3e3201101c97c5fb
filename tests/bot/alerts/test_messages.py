"""The subscription confirmation says where the price is now and what will be alerted next,
without contradicting itself (the verb must agree with the position)."""

from __future__ import annotations

import pytest

from bot.alerts import messages
from bot.lines import CostLine

ALLIN = CostLine("allin", "CoinShares all-in cost (2025-Q2)", 137_800.0)
CASH = CostLine("cash", "CoinShares cash cost (2025-Q2)", 74_600.0)


@pytest.mark.parametrize(
    ("state", "price", "next_words"),
    [
        ("above", 91_000.0, "you will be alerted if it falls below it"),
        ("below", 70_000.0, "you will be alerted when it recovers above it"),
        # Confirmed above, but the latest poll is below: one more poll below makes the alert.
        ("above", 70_000.0, "it has not yet stayed below it for two polls: you will be alerted"),
        # Confirmed below, but the price is back above (inside the 1% band, or one poll only).
        ("below", 75_000.0, "it has not yet held above $75,346 (the line + 1%) for two polls"),
        ("unknown", 70_000.0, "the rule takes its state from the next fresh poll, silently"),
    ],
)
def test_the_confirmation_words_follow_the_price_now(state, price, next_words) -> None:
    text, blocks = messages.where_it_stands(price, [(CASH, state)], fresh=True)
    position = "above" if price > CASH.value_usd else "below"
    assert f"% {position} CoinShares cash cost (2025-Q2) ($74,600): {next_words}" in text
    assert next_words in blocks[1]["text"]["text"]


def test_the_issue_example_no_longer_contradicts_itself() -> None:
    """BTC $91,000 is 34% below the all-in cost: never "alerted if it falls below it"."""
    for state in ("above", "below", "unknown"):
        text, _ = messages.where_it_stands(91_000.0, [(ALLIN, state)], fresh=False)
        assert "34.0% below CoinShares all-in cost" in text
        assert "if it falls below it" not in text


def test_posted_in_the_channel_it_names_who_subscribed() -> None:
    text, blocks = messages.where_it_stands(91_000.0, [(CASH, "above")], True, by="U0BOSS")
    assert text.startswith("<@U0BOSS> subscribed this channel. BTC $91,000 is 22.0% above")
    assert blocks[0]["text"]["text"] == (
        ":bell: *<@U0BOSS> subscribed this channel* — this is not an alert"
    )


# --- DESIGN §4: a line whose quarter ended more than 270 days ago is marked old ------------------

OLD_CASH = CostLine("cash", "CoinShares cash cost (2025-Q4)", 79_995.0, "src", "2025-Q4")
LATER = 1_796_000_000.0  # 2026-11-30: 2025-Q4 ended 334 days before
MARK = ":hourglass: _old: 2025-Q4 ended 334 days ago, next report overdue since about 30 Jun 2026_"


def test_the_confirmation_marks_an_old_line() -> None:
    text, blocks = messages.where_it_stands(91_000.0, [(OLD_CASH, "above")], True, now=LATER)
    assert blocks[1]["text"]["text"].endswith(f"if it falls below it. {MARK}")
    assert MARK in text
    # Not old a day before its 271st day; without a time, no mark at all.
    day_270 = 1_790_467_200.0  # 2026-09-27 00:00 UTC
    assert (
        ":hourglass:"
        not in messages.where_it_stands(91_000.0, [(OLD_CASH, "above")], True, now=day_270)[0]
    )
    assert ":hourglass:" not in messages.where_it_stands(91_000.0, [(OLD_CASH, "above")], True)[0]
    # With no price yet, the list of lines carries the mark too.
    _, blocks = messages.where_it_stands(None, [(OLD_CASH, "unknown")], True, now=LATER)
    assert blocks[1]["text"]["text"] == f"• CoinShares cash cost (2025-Q4) ($79,995) {MARK}"


def test_an_alert_marks_an_old_line_as_of_its_price() -> None:
    text, blocks = messages.crossing("crossed_below", OLD_CASH, 70_000.0, LATER, 7)
    assert text.endswith("-12.5% vs $79,995 (old)")
    assert blocks[0]["text"]["text"].endswith(f"of $79,995 per BTC. {MARK}")
    fresh, fresh_blocks = messages.crossing("crossed_below", CASH, 70_000.0, LATER, 7)
    assert "(old)" not in fresh and ":hourglass:" not in fresh_blocks[0]["text"]["text"]
