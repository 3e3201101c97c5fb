"""Block Kit pieces: long text is spread or cut within Slack's limits, never mid-markup."""

from __future__ import annotations

import re

import pytest
from slack_sdk.models.blocks import Block

from bot.slack import blocks as bk

# A row with every kind of markup a cut could fall into: an entity, a link, a mention, bold.
ROW = "*Acme &amp; Sons* <https://example.com/q3|report> &lt;b&gt; <@U0BOSS> _ok_ "


def broken(text: str) -> bool:
    """True when the text ends inside `&…;`, `<…>` or an unclosed `*…*`."""
    body = text.removesuffix("…")
    return (
        re.search(r"&[a-z]*$", body) is not None
        or body.count("<") != body.count(">")
        or body.count("*") % 2 == 1
    )


@pytest.mark.parametrize("limit", range(5, len(ROW) * 3))
def test_a_cut_never_falls_inside_markup(limit: int) -> None:
    text = ROW * 3
    cut = bk._cut(text, limit)
    assert len(cut) <= limit
    assert not broken(cut), cut
    assert cut.endswith("…") and text.startswith(cut.removesuffix("…").rstrip())


def test_a_section_of_long_text_is_cut_safely_and_stays_valid() -> None:
    block = bk.section(ROW * 100)
    Block.parse(block).validate_json()
    assert not broken(block["text"]["text"])


def test_lines_are_spread_over_sections_not_cut() -> None:
    lines = [f"{ROW}{i}" for i in range(200)]
    blocks = bk.line_sections(lines)
    for block in blocks:
        Block.parse(block).validate_json()
    assert [row for b in blocks for row in b["text"]["text"].split("\n")] == lines


def test_past_the_budget_the_last_block_counts_what_is_left_out() -> None:
    lines = [f"{ROW}{i}" for i in range(2000)]
    blocks = bk.line_sections(lines, budget=10, more="see `/costs`")
    assert len(blocks) == 10
    shown = [row for b in blocks[:-1] for row in b["text"]["text"].split("\n")]
    assert shown == lines[: len(shown)]
    assert blocks[-1] == bk.context(f"…and {2000 - len(shown)} more: see `/costs`")


def test_a_line_longer_than_a_section_is_cut_on_its_own() -> None:
    blocks = bk.line_sections(["short", ROW * 60, "after"])
    assert [b["text"]["text"].split("\n")[-1] for b in blocks][-1] == "after"
    assert all(len(b["text"]["text"]) <= bk.MAX_SECTION_CHARS for b in blocks)
    assert not any(broken(b["text"]["text"]) for b in blocks)
