"""Block Kit pieces and the Reply every command returns; pure, within Slack's limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.fmt import escape

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_CONTEXT_CHARS = 2000
MAX_HEADER_CHARS = 150
MAX_FIELD_CHARS = 2000
MAX_FIELDS = 10

Block = dict[str, Any]


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters, never ending inside `&…;`, `<…>` or a `*…*` span: half an
    entity, link or mention shows as garbage, and an unclosed `*` turns the rest bold."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    lt = cut.rfind("<")
    if lt != -1 and ">" not in cut[lt:]:
        cut = cut[:lt]
    if cut.count("*") % 2:
        cut = cut[: cut.rfind("*")]
    return cut.rstrip() + "…"


def pack_lines(lines: list[str], limit: int = MAX_SECTION_CHARS) -> list[list[str]]:
    """Lines grouped, in order, into as few texts as fit in `limit` characters each (joined by
    newlines); a line longer than that is cut on its own."""
    groups: list[list[str]] = []
    size = 0
    for line in lines:
        line = _cut(line, limit)
        if groups and size + 1 + len(line) <= limit:
            groups[-1].append(line)
            size += 1 + len(line)
        else:
            groups.append([line])
            size = len(line)
    return groups


def line_sections(lines: list[str], budget: int = MAX_BLOCKS, more: str = "") -> list[Block]:
    """One line per row, spread over sections within Slack's limits instead of cut at 3,000
    characters. At most `budget` blocks: when the lines need more, the last block counts the
    lines left out ("…and 12 more: see `/costs`", with `more` after the colon)."""
    groups = pack_lines(lines)
    if len(groups) > budget:
        groups = groups[: max(budget - 1, 0)]
        left = len(lines) - sum(len(g) for g in groups)
        note = f"…and {left} more" + (f": {more}" if more else "")
        return [*(section("\n".join(g)) for g in groups), context(note)]
    return [section("\n".join(g)) for g in groups]


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": _cut(text, MAX_HEADER_CHARS)}}


def section(text: str, fields: list[str] | None = None) -> Block:
    block: Block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _cut(text, MAX_SECTION_CHARS)},
    }
    if fields:
        block["fields"] = [
            {"type": "mrkdwn", "text": _cut(f, MAX_FIELD_CHARS)} for f in fields[:MAX_FIELDS]
        ]
    return block


def fields_section(fields: list[str]) -> Block:
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": _cut(f, MAX_FIELD_CHARS)} for f in fields[:MAX_FIELDS]
        ],
    }


def context(text: str) -> Block:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": _cut(text, MAX_CONTEXT_CHARS)}],
    }


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str = "", style: str | None = None) -> Block:
    b: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        b["style"] = style
    return b


def actions(*buttons: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(buttons)}
    if block_id:
        block["block_id"] = block_id
    return block


def fit(blocks: list[Block]) -> list[Block]:
    """Keep at most 50 blocks; the last says how many were left out."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    kept = blocks[: MAX_BLOCKS - 1]
    return [*kept, context(f"…and {len(blocks) - len(kept)} more not shown")]


@dataclass
class Reply:
    """What a command answers: a plain-text fallback and the blocks."""

    text: str
    blocks: list[Block] = field(default_factory=list)
    in_channel: bool = False

    def to_slack(self) -> dict[str, Any]:
        return {
            "text": _cut(self.text, 3000),
            "blocks": fit(self.blocks),
            "response_type": "in_channel" if self.in_channel else "ephemeral",
        }


def error_reply(message: str, usage: str) -> Reply:
    """`message` is mrkdwn already (user text escaped); `usage` is plain and gets escaped here."""
    return Reply(
        text=f"{message}\nUsage: {escape(usage)}",
        blocks=[section(f":warning: {message}"), context(f"Usage: {escape(usage)}")],
    )


_LINK = re.compile(r"<([^|>]+)\|([^>]+)>")


_DATE = re.compile(r"<!date\^[^|>]*\|([^>]*)>")


def _plain(mrkdwn: str) -> str:
    text = _DATE.sub(r"\1", mrkdwn)  # a date Slack renders for each reader: its fallback
    text = _LINK.sub(r"\2 (\1)", text)
    text = re.sub(r"<([^>]+)>", r"\1", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"(?<!\w)[*_~](\S(?:.*?\S)?)[*_~](?!\w)", r"\1", text)


def as_text(blocks: list[Block]) -> str:
    """Blocks rendered for a terminal (the `hashfloor console`)."""
    out: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            title = b["text"]["text"]
            out += [title, "=" * len(title)]
        elif kind == "section":
            if "text" in b:
                out.append(_plain(b["text"]["text"]))
            for f in b.get("fields", []):
                out.append("  " + _plain(f["text"]).replace("\n", ": ", 1))
        elif kind == "context":
            out.append("  " + " · ".join(_plain(e.get("text", "")) for e in b["elements"]))
        elif kind == "divider":
            out.append("-" * 40)
        elif kind == "actions":
            out.append("  [" + "] [".join(e["text"]["text"] for e in b["elements"]) + "]")
        elif kind == "image":
            out.append(f"  (image: {b.get('alt_text', '')})")
    return "\n".join(out)
