"""`hashfloor costs list|add|remove|import|export`: the cost benchmarks, CSV in and out."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot import benchmarks, fmt
from bot.cli.common import service
from commands import parsing
from storage import costs
from storage.workspaces import LOCAL_TEAM

app = typer.Typer(help="Cost benchmarks (US$ per BTC).", no_args_is_help=True)
out = Console()

CSV_FIELDS = ("id", "workspace", "name", "quarter", "kind", "value_usd", "source")
WorkspaceOpt = Annotated[
    str | None, typer.Option("--workspace", "-w", help="Slack team ID; omit for shipped rows")
]


@app.command("list")
def list_(
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            "-w",
            help="only the shipped rows and this Slack team's (`local`: the console's)",
        ),
    ] = None,
) -> None:
    """Show every benchmark on file: shipped rows, then each workspace's own (`local` holds
    those added at `hashfloor console`)."""
    svc = service()
    table = Table()
    for col in ("id", "name", "quarter", "kind", "US$/BTC", "notes", "source", "workspace"):
        table.add_column(col, justify="right" if col in ("id", "US$/BTC") else "left")
    db = svc.storage.db
    now = svc.clock()
    current = costs.current_shipped_ids(db, now)
    for r in costs.all_rows(db, workspace) if workspace else costs.every_row(db):
        table.add_row(
            str(r["id"]),
            escape(r["name"]),
            r["quarter"] or "",
            costs.KIND_LABEL[r["kind"]],
            fmt.usd(r["value_usd"]),
            escape(_notes(r, r["id"] in current, now)),
            escape(r["source"] or ""),
            _workspace_label(r["workspace"]),
        )
    out.print(table)


def _notes(row: dict, current: bool, now: float) -> str:
    """Whether the row is a current line (and old), and the publisher's caveat."""
    parts = ["current"] if current else []
    if current or row["workspace"] is not None:
        parts.append(benchmarks.old_note(row["quarter"], now))
    parts.append(row.get("note") or "")
    return "; ".join(p for p in parts if p)


NO_WORKSPACE = (
    "give the workspace the line belongs to: --workspace T0123ABCD (its Slack team ID, the T… in "
    "app.slack.com/client/T…/ URLs) or --workspace local (the console's). Without one a line would "
    "stand for every workspace, which only the shipped CoinShares benchmarks do; they change with a "
    "release of Hashfloor, never from this command."
)


def _need_workspace(workspace: str | None) -> str:
    """Adding needs a workspace: a row without one would read as a shipped benchmark everywhere."""
    if not workspace or not workspace.strip():
        out.print(f"[red]{escape(NO_WORKSPACE)}[/red]")
        raise typer.Exit(2)
    return workspace.strip()


@app.command()
def add(
    name: Annotated[str, typer.Argument(help='Who measured it, e.g. "Acme Mining"')],
    value: Annotated[str, typer.Option(help="US$ per BTC: 98000, 98,000 or $98k")] = ...,  # type: ignore[assignment]
    kind: Annotated[str, typer.Option(help="cash or allin (all-in)")] = "cash",
    quarter: Annotated[str | None, typer.Option(help="e.g. 2025-Q3")] = None,
    source: Annotated[
        str | None, typer.Option(help="where the number comes from: https://…")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Add a workspace's own cost line (the same checks as /costs add in Slack)."""
    team = _need_workspace(workspace)
    try:
        line = parsing.cost_input(name, kind, value, quarter, source)
    except parsing.ParseError as exc:
        out.print(f"[red]{escape(exc.plain())}[/red]")
        raise typer.Exit(2) from None
    svc = service()
    row_id = costs.add(
        svc.storage.db, team, line.name, line.kind, line.value_usd, line.quarter, line.source, "cli"
    )
    label = f"{line.name} {costs.KIND_LABEL[line.kind]} {fmt.usd(line.value_usd)}"
    out.print(f"added #{row_id}: {escape(label)}")


@app.command()
def remove(row_id: Annotated[str, typer.Argument(help="id from `hashfloor costs list`")]) -> None:
    """Remove a line you added (shipped rows stay)."""
    try:
        line_id = parsing.row_id(row_id)
    except parsing.ParseError as exc:
        out.print(f"[red]{escape(exc.plain())}[/red]")
        raise typer.Exit(2) from None
    svc = service()
    if not costs.remove(svc.storage.db, None, line_id):
        out.print(f"[red]no removable row #{line_id}[/red] (shipped rows cannot be removed)")
        raise typer.Exit(1)
    out.print(f"removed #{line_id}")


# A cell that starts like a formula is one in a spreadsheet (`=HYPERLINK(…)`, `@SUM(…)`): export
# prefixes it with `'`, which spreadsheets read as "text", and import takes the `'` off again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def unguard_cell(text: str) -> str:
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


@app.command("export")
def export(
    path: Annotated[Path | None, typer.Argument(help="CSV file; stdout when omitted")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Write the benchmarks as CSV (cells that would start a spreadsheet formula begin with ')."""
    svc = service()
    rows = costs.all_rows(svc.storage.db, workspace)
    handle = path.open("w", newline="") if path else sys.stdout
    writer = csv.DictWriter(handle, CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: guard_cell(v) for k, v in r.items()} for r in rows)
    if path:
        handle.close()
        out.print(f"wrote {len(rows)} rows to {path}")


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="CSV with name,kind,value_usd[,quarter,source]")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Add lines from a CSV (header: name,kind,value_usd, optional quarter,source) to a workspace.

    Every row gets the checks of /costs add in Slack. Bad rows are reported by line number and
    nothing is written unless every row is good; rows already on file (shipped ones, as `export`
    writes them too, or the workspace's own) are skipped whatever their source."""
    team = _need_workspace(workspace)
    svc = service()
    db = svc.storage.db
    problems: list[str] = []
    good: list[parsing.CostInput] = []
    already = 0
    on_file = {_same_line(r) for r in costs.all_rows(db, team)}
    with path.open(newline="") as handle:
        for line_no, row in enumerate(csv.DictReader(handle), start=2):
            cell = {k: unguard_cell(str(row.get(k) or "")) for k in CSV_FIELDS}
            try:
                line = parsing.cost_input(
                    cell["name"], cell["kind"], cell["value_usd"], cell["quarter"]
                )
                if _same_line(line.__dict__) in on_file:
                    already += 1
                    continue
                line = parsing.cost_input(
                    cell["name"], cell["kind"], cell["value_usd"], cell["quarter"], cell["source"]
                )
            except parsing.ParseError as exc:
                column = {"value": "value_usd"}.get(exc.field or "", exc.field)
                problems.append(f"line {line_no}, {column}: {exc.plain()}")
                continue
            good.append(line)
    for p in problems:
        out.print(f"[red]{escape(p)}[/red]")
    if problems:
        out.print("nothing imported: fix the rows above and run again")
        raise typer.Exit(1)
    added = 0
    with svc.storage.transaction():
        on_file = {_same_line(r) for r in costs.all_rows(db, team)}
        for g in good:
            if _same_line(g.__dict__) in on_file:
                continue
            on_file.add(_same_line(g.__dict__))
            costs.add(db, team, created_by="cli-import", **g.__dict__)
            added += 1
    skipped = already + len(good) - added
    note = f" ({skipped} already on file, skipped)" if skipped else ""
    out.print(f"imported {added} rows from {path}{note}")


def _workspace_label(workspace: str | None) -> str:
    if workspace is None:
        return "shipped"
    return f"{workspace} (console)" if workspace == LOCAL_TEAM else workspace


def _same_line(row: dict) -> tuple:
    """What makes two rows the same cost line, whatever their id, author or spelling of case."""
    return (
        row["name"].strip().casefold(),
        row["kind"],
        round(float(row["value_usd"]), 2),
        row["quarter"] or None,
    )
