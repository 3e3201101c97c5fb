"""`hashfloor doctor`: every check an operator needs before trusting the bot; exit 0 when all pass."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from bot.cli.common import settings_or_exit

out = Console(highlight=False, soft_wrap=True)


def doctor() -> None:
    """Check the token and its scopes, the signing secret, the database, every source and the
    clock; one line each. Exit 0 only when every check passes."""
    from bot.doctor import run_checks
    from bot.market.poll import MarketPoller
    from bot.run import mode

    settings = settings_or_exit()
    snap = MarketPoller(settings).poll()
    checks = run_checks(settings, mode(settings), snap)
    for c in checks:
        mark = "[green]ok  [/green]" if c.ok else "[red]FAIL[/red]"
        out.print(f"{mark} {escape(c.name)}: {escape(c.detail)}")
    failed = [c for c in checks if not c.ok]
    if failed:
        out.print(f"{len(failed)} of {len(checks)} checks failed")
        raise typer.Exit(1)
    out.print(f"all {len(checks)} checks passed")


def register(app: typer.Typer) -> None:
    app.command()(doctor)
