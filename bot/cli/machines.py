"""`hashfloor machines list|import`: the machine catalogue from the shell."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.cli.common import service
from bot.machines import read_csv
from storage import machines as catalogue

app = typer.Typer(
    help="The machine catalogue: ASIC models and their efficiency.", no_args_is_help=True
)
out = Console(highlight=False, soft_wrap=True)


@app.command("list")
def list_(
    filter_: Annotated[str, typer.Argument(help="Part of a maker, model or cooling")] = "",
) -> None:
    """The models a J/TH can be named by, least efficient first, with where each figure comes from."""
    svc = service()
    origin = catalogue.origins(svc.storage.db)
    table = Table(show_lines=False)
    for col in ("model", "J/TH", "TH/s", "W", "cooling", "source", "from"):
        table.add_column(col, justify="right" if col in ("J/TH", "TH/s", "W") else "left")
    rows = 0
    for m in catalogue.all_machines(svc.storage.db):
        text = f"{m.maker} {m.model} {m.cooling}".lower()
        if filter_ and filter_.lower() not in text and not m.key.startswith(filter_.lower()):
            continue
        rows += 1
        table.add_row(
            escape(m.model),
            f"{m.efficiency_j_th:g}",
            f"{m.hashrate_ths:g}" if m.hashrate_ths else "—",
            f"{m.power_w:,.0f}" if m.power_w else "—",
            m.cooling,
            escape(m.source),
            origin.get(m.key, ""),
        )
    out.print(table)
    out.print(f"{rows} models")


@app.command("import")
def import_(
    path: Annotated[
        Path,
        typer.Argument(
            help="CSV: maker,model,hashrate_ths,power_w,efficiency_j_th,cooling,source,note"
        ),
    ],
) -> None:
    """Add or correct models. Every row is checked first; one bad row imports nothing."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        out.print(f"[red]cannot read {escape(str(path))}: {escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    good, bad = read_csv(text)
    for err in bad:
        out.print(f"[red]{escape(str(path))}, {escape(str(err))}[/red]")
    if bad:
        out.print(f"{len(bad)} bad row(s): nothing was imported; fix them and import again")
        raise typer.Exit(1)
    if not good:
        out.print("no rows to import")
        raise typer.Exit(1)
    svc = service()
    with svc.storage.transaction():
        added, corrected = catalogue.upsert(svc.storage.db, good, time.time())
    out.print(f"imported {len(good)} model(s): {added} added, {corrected} corrected")


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="machines")
