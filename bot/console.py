"""`hashfloor console`: type `/breakeven 17.5 0.05` and read the answer Slack would show."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.markup import escape

import commands
from bot.service import Hashfloor
from bot.slack.blocks import as_text
from commands.context import Ctx, Roles

INTRO = (
    "Hashfloor console — the slash commands without Slack. Try /breakeven, /breakeven 17.5 0.05 2,\n"
    "/hashprice, /costs, /hashfloor help. Run `hashfloor check` first if there is no market data.\n"
    "Ctrl-D or `quit` to leave."
)


def one(svc: Hashfloor, line: str, user: str = "console", channel: str = "console") -> str:
    """Answer one command line as text."""
    name, _, text = line.strip().partition(" ")
    if not name.startswith("/"):
        name = "/" + name
    # At the console you are the operator: you may change workspace-wide settings.
    ctx = Ctx(svc, user, None, channel, svc.clock(), roles=lambda: Roles(is_admin=True))
    reply = commands.answer(ctx, name, text)
    shared = "(posted in the channel)\n" if reply.in_channel else ""
    return shared + (as_text(reply.blocks) if reply.blocks else reply.text)


def repl(svc: Hashfloor, user: str, channel: str, out: Console, stdin: TextIO) -> None:
    interactive = stdin.isatty()
    if interactive:
        out.print(INTRO)
    while True:
        if interactive:
            out.print("[bold]hashfloor>[/bold] ", end="")
        line = stdin.readline()
        if not line or line.strip() in ("quit", "exit"):
            break
        if not line.strip():
            continue
        # Slack's shortcodes stay as written: rich knows most but not all of them
        # (`:large_green_circle:`), and half-converted margins would read worse than none.
        out.print(escape(one(svc, line, user, channel)), highlight=False, emoji=False)
        out.print()
