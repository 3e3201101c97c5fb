"""`hashfloor db migrate|backup|rekey`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.cli.common import err, service
from bot.settings import secret_key_problem

app = typer.Typer(
    help="The SQLite file: migrations, online backup, and the key of the stored tokens.",
    no_args_is_help=True,
)
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


@app.command()
def rekey(
    new_key: Annotated[
        str,
        typer.Option(
            envvar="HASHFLOOR_NEW_SECRET_KEY",
            prompt="new secret key",
            hide_input=True,
            confirmation_prompt=True,
            show_default=False,
            help="The key to seal the tokens with from now on (better: the environment "
            "variable, which stays out of the shell history).",
        ),
    ],
) -> None:
    """Re-encrypt every stored workspace token under a new key, all or nothing.

    The old key is HASHFLOOR_SECRET_KEY. Stop the bot first; afterwards set HASHFLOOR_SECRET_KEY
    to the new key and start it again.
    """
    from storage.installations import EncryptedInstallationStore, rekey

    svc = service()
    old_key = svc.settings.hashfloor_secret_key
    if not old_key:
        err.print(
            "hashfloor: HASHFLOOR_SECRET_KEY (the current key) is not set",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)
    if problem := secret_key_problem(new_key, "the new key"):
        err.print(f"hashfloor: {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    check = EncryptedInstallationStore(svc.storage, old_key).check_key()
    if check.problem:
        err.print(
            f"hashfloor: {check.problem} Nothing was changed.", highlight=False, soft_wrap=True
        )
        raise typer.Exit(2)
    count = rekey(svc.storage, old_key, new_key)
    svc.close()
    out.print(
        f"re-encrypted {count} stored tokens under the new key. Set HASHFLOOR_SECRET_KEY to it "
        "and restart every Hashfloor process on this database: one still running with the old "
        "key cannot read the tokens.",
        highlight=False,
        soft_wrap=True,
    )
