"""`hashfloor console`: type `/breakeven 17.5 0.05` and read the answer Slack would show."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.markup import escape

import commands
from bot import fmt
from bot.service import Hashfloor
from bot.slack.blocks import as_text
from commands.context import Ctx, Roles
from storage.workspaces import LOCAL_TEAM

INTRO = (
    "Hashfloor console — the slash commands without Slack. Try /breakeven, /breakeven 17.5 0.05 2,\n"
    "/hashprice, /costs, /hashfloor help. ↑/↓ recall earlier lines. Ctrl-D or `quit` to leave.\n"
    f"What you set here (cost lines, the fleet) belongs to the workspace `{LOCAL_TEAM}` in {{db}},\n"
    f"not to a Slack workspace: `hashfloor costs list` shows its lines."
)
HISTORY_FILE = Path("~/.hashfloor_history")
HISTORY_LENGTH = 1000
PROMPT = "hashfloor> "


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


def poll_if_stale(svc: Hashfloor, note: Console) -> None:
    """No bot may be running to poll: answers from old data (or none) would mislead."""
    view = svc.view()
    if not view.stale:
        return
    since = (
        "no market data yet"
        if view.age_s is None
        else f"the market data on file is from {fmt.age(view.age_s)}"
    )
    note.print(f"{since}: polling the price sources once (--no-poll skips this)…", highlight=False)
    snap = svc.poll_once()
    if snap.fresh:
        note.print(
            f"polled: BTC {fmt.usd(snap.price_usd, cents=True)}, median of "
            f"{', '.join(snap.used_sources)}",
            highlight=False,
        )
        return
    failed = "; ".join(f"{q.source}: {q.error}" for q in snap.quotes if q.error)
    note.print(
        "the poll found no fresh price (fewer than 2 sources agree"
        + (f" — {failed}" if failed else "")
        + "); answers use the last good data. Offline or behind a proxy? See HTTPS_PROXY in README.",
        highlight=False,
    )


def _line_editing(history: Path) -> object | None:
    """Readline with a history file kept between sessions; None where readline is missing."""
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input() still works
        return None
    readline.set_history_length(HISTORY_LENGTH)
    # First session, or an unreadable home: start with no history.
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    return readline


def repl(
    svc: Hashfloor,
    user: str,
    channel: str,
    out: Console,
    stdin: TextIO,
    history: Path = HISTORY_FILE,
) -> None:
    interactive = stdin.isatty()
    readline = None
    if interactive:
        out.print(escape(INTRO.format(db=svc.settings.hashfloor_db.resolve())), highlight=False)
        readline = _line_editing(history.expanduser())
    try:
        while True:
            try:
                # input() at a terminal goes through readline: arrows, editing, history.
                line = input(PROMPT) + "\n" if interactive else stdin.readline()
            except EOFError:
                line = ""
            except KeyboardInterrupt:  # Ctrl-C drops the line being typed, as in a shell
                out.print()
                continue
            if not line or line.strip() in ("quit", "exit"):
                if readline is not None and line:
                    # the next session's Up arrow should bring back a command, not `quit`
                    last = readline.get_current_history_length()  # type: ignore[attr-defined]
                    readline.remove_history_item(last - 1)  # type: ignore[attr-defined]
                break
            if not line.strip():
                continue
            # Slack's shortcodes stay as written: rich knows most but not all of them
            # (`:large_green_circle:`), and half-converted margins would read worse than none.
            out.print(escape(one(svc, line, user, channel)), highlight=False, emoji=False)
            out.print()
    finally:
        if readline is not None:
            # A read-only home loses the history, not the session.
            with contextlib.suppress(OSError):
                readline.write_history_file(history.expanduser())  # type: ignore[attr-defined]
