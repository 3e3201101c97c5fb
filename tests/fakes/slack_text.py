"""What Slack makes of the text in a payload: which `<…>` are entities, and whether Block Kit's own
models (slack_sdk) accept the blocks and views.

Slack reads `<…>` in mrkdwn and in a message's `text` as an entity: a mention, a channel, a date, a
link. Anything else between angle brackets is swallowed or shown as a broken link — a usage hint
`cash=<usd>` arrives as `cash=`. Text meant literally has its `<` and `>` escaped (`&lt;`, `&gt;`).
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

# The entities Slack documents for mrkdwn ("Formatting text for app surfaces").
_ENTITY = re.compile(
    r"<(?:"
    r"@[UW][A-Z0-9]+(?:\|[^<>]*)?"  # a user
    r"|#C[A-Z0-9]+(?:\|[^<>]*)?"  # a channel
    r"|!subteam\^S[A-Z0-9]+(?:\|[^<>]*)?"  # a user group
    r"|!(?:here|channel|everyone)(?:\|[^<>]*)?"  # special mentions
    r"|!date\^\d+\^[^<>|^]+(?:\^[^<>|]+)?\|[^<>]+"  # a date with its fallback
    r"|(?:https?://|mailto:)[^\s<>|]+(?:\|[^<>]+)?"  # a link, with or without a label
    r")>"
)


def stray_brackets(mrkdwn: str) -> list[str]:
    """The `<`/`>` in mrkdwn text that do not belong to a real Slack entity (each with context)."""
    rest = _ENTITY.sub("", mrkdwn)
    return [rest[max(i - 25, 0) : i + 25] for i, ch in enumerate(rest) if ch in "<>"]


def _texts(node: Any, plain: bool = False) -> list[tuple[str, bool]]:
    """Every text in a block tree, with whether it is plain_text (shown as typed)."""
    out: list[tuple[str, bool]] = []
    if isinstance(node, dict):
        if isinstance(node.get("text"), str) and node.get("type") in ("mrkdwn", "plain_text"):
            out.append((node["text"], node["type"] == "plain_text"))
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                out += _texts(value)
    elif isinstance(node, list):
        for item in node:
            out += _texts(item)
    return out


def problems(payload: dict[str, Any], where: str) -> list[str]:
    """What real Slack would garble or refuse in a message payload or a view (`type` home/modal)."""
    found: list[str] = []
    texts = _texts(payload.get("blocks", []))
    if isinstance(payload.get("text"), str):
        texts.append((payload["text"], False))  # a message's fallback text is mrkdwn too
    for text, plain in texts:
        if plain:
            # plain_text is shown as typed: an escape in it would read as `&lt;`.
            if re.search(r"&(?:lt|gt|amp);", text):
                found.append(f"{where}: escaped entity in plain_text: {text[:60]!r}")
        else:
            found += [f"{where}: stray bracket in {bit!r}" for bit in stray_brackets(text)]
            if re.search(r"&amp;(?:lt|gt|amp);", text):
                found.append(f"{where}: escaped twice (Slack shows `&lt;`): {text[:60]!r}")
    try:
        if payload.get("type") in ("home", "modal"):
            View(**payload).validate_json()
        else:
            blocks = Block.parse_all(payload.get("blocks") or [])
            if len(blocks) != len(payload.get("blocks") or []) or None in blocks:
                found.append(f"{where}: a block slack_sdk does not know")
            for block in blocks:
                block.validate_json()
            if [b.to_dict() for b in blocks] != (payload.get("blocks") or []):
                found.append(f"{where}: blocks do not survive slack_sdk's models unchanged")
    except Exception as exc:  # slack_sdk's SlackObjectFormationError and friends
        found.append(f"{where}: Block Kit refused it: {exc}")
    return found
