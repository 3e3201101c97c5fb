"""`hashfloor db migrate|backup`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.cli.common import service

app = typer.Typer(help="The SQLite file: migrations and online backup.", no_args_is_help=True)
out = Console()


@app.command()
def migrate() -> None:
    """Apply pending schema migrations (they also run at every start)."""
    svc = service(migrate=False)
    applied = svc.migrate()
    for name in applied:
        out.print(f"applied {name}")
    out.print(f"{svc.settings.hashfloor_db}: schema up to date ({len(applied)} applied)")


@app.command()
def backup(path: Annotated[Path, typer.Argument(help="File to write the copy to")]) -> None:
    """Copy the live database with SQLite's online backup (safe while the bot runs)."""
    if not path.expanduser().resolve().parent.is_dir():
        out.print(f"[red]folder {path.parent} does not exist[/red]")
        raise typer.Exit(2)
    svc = service()
    svc.storage.backup(path)
    out.print(f"backed up {svc.settings.hashfloor_db} to {path}")
