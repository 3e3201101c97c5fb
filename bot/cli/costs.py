"""`hashfloor costs list|add|remove|import|export`: the cost benchmarks, CSV in and out."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot import fmt
from bot.cli.common import service
from storage import costs

app = typer.Typer(help="Cost benchmarks (US$ per BTC).", no_args_is_help=True)
out = Console()

CSV_FIELDS = ("id", "workspace", "name", "quarter", "kind", "value_usd", "source")
WorkspaceOpt = Annotated[
    str | None, typer.Option("--workspace", "-w", help="Slack team ID; omit for shipped rows")
]


@app.command("list")
def list_(workspace: WorkspaceOpt = None) -> None:
    """Show every benchmark on file (shipped rows, and a workspace's own with --workspace)."""
    svc = service()
    table = Table()
    for col in ("id", "name", "quarter", "kind", "US$/BTC", "source", "workspace"):
        table.add_column(col, justify="right" if col in ("id", "US$/BTC") else "left")
    for r in costs.all_rows(svc.storage.db, workspace):
        table.add_row(
            str(r["id"]),
            r["name"],
            r["quarter"] or "",
            costs.KIND_LABEL[r["kind"]],
            fmt.usd(r["value_usd"]),
            r["source"] or "",
            r["workspace"] or "shipped",
        )
    out.print(table)


@app.command()
def add(
    name: Annotated[str, typer.Argument(help='Who measured it, e.g. "Acme Mining"')],
    kind: Annotated[str, typer.Option(help="cash or allin")] = "cash",
    value: Annotated[float, typer.Option(help="US$ per BTC", min=0.01)] = ...,  # type: ignore[assignment]
    quarter: Annotated[str | None, typer.Option(help="e.g. 2025-Q3")] = None,
    source: Annotated[str | None, typer.Option(help="where the number comes from")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Add a cost line."""
    svc = service()
    try:
        row_id = costs.add(svc.storage.db, workspace, name, kind, value, quarter, source, "cli")
    except ValueError as exc:
        out.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    out.print(f"added #{row_id}: {name} {costs.KIND_LABEL[kind]} {fmt.usd(value)}")


@app.command()
def remove(row_id: Annotated[int, typer.Argument(help="id from `hashfloor costs list`")]) -> None:
    """Remove a line you added (shipped rows stay)."""
    svc = service()
    if not costs.remove(svc.storage.db, None, row_id):
        out.print(f"[red]no removable row #{row_id}[/red] (shipped rows cannot be removed)")
        raise typer.Exit(1)
    out.print(f"removed #{row_id}")


@app.command("export")
def export(
    path: Annotated[Path | None, typer.Argument(help="CSV file; stdout when omitted")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Write the benchmarks as CSV."""
    svc = service()
    rows = costs.all_rows(svc.storage.db, workspace)
    handle = path.open("w", newline="") if path else sys.stdout
    writer = csv.DictWriter(handle, CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    if path:
        handle.close()
        out.print(f"wrote {len(rows)} rows to {path}")


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="CSV with name,kind,value_usd[,quarter,source]")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Add lines from a CSV (header: name,kind,value_usd, optional quarter,source). Bad rows are
    reported by line number and nothing is written unless every row is good; rows already on file
    (shipped ones, as `export` writes them too, or the workspace's own) are skipped."""
    svc = service()
    problems: list[str] = []
    good: list[dict] = []
    with path.open(newline="") as handle:
        for line_no, row in enumerate(csv.DictReader(handle), start=2):
            try:
                value = float(str(row.get("value_usd", "")).replace(",", "").replace("$", ""))
                kind = (row.get("kind") or "").strip().lower().replace("-", "")
                name = (row.get("name") or "").strip()
                if not name:
                    raise ValueError("name is empty")
                if kind not in costs.KINDS:
                    raise ValueError(f"kind {row.get('kind')!r} is not cash or allin")
                if value <= 0:
                    raise ValueError("value_usd must be positive")
            except ValueError as exc:
                problems.append(f"line {line_no}: {exc}")
                continue
            good.append(
                {
                    "name": name,
                    "kind": kind,
                    "value_usd": value,
                    "quarter": (row.get("quarter") or None),
                    "source": (row.get("source") or None),
                }
            )
    for p in problems:
        out.print(f"[red]{p}[/red]")
    if problems:
        out.print("nothing imported: fix the rows above and run again")
        raise typer.Exit(1)
    db = svc.storage.db
    added = 0
    with svc.storage.transaction():
        on_file = {_same_line(r) for r in costs.all_rows(db, workspace)}
        for g in good:
            if _same_line(g) in on_file:
                continue
            on_file.add(_same_line(g))
            costs.add(db, workspace, created_by="cli-import", **g)
            added += 1
    skipped = len(good) - added
    note = f" ({skipped} already on file, skipped)" if skipped else ""
    out.print(f"imported {added} rows from {path}{note}")


def _same_line(row: dict) -> tuple:
    """What makes two rows the same cost line, whatever their id, author or spelling of case."""
    return (
        row["name"].strip().casefold(),
        row["kind"],
        round(float(row["value_usd"]), 2),
        row["quarter"] or None,
    )
