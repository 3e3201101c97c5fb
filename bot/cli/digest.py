"""`hashfloor digest preview`: this week's digest in the terminal and its chart as a PNG."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.cli.common import service
from bot.digest import channels
from bot.digest.chart import render_chart
from bot.digest.compose import compose, load_snapshots
from bot.digest.render import digest_text
from storage import alerts, digests

app = typer.Typer(help="The weekly digest.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)


@app.command()
def preview(
    channel: Annotated[
        str | None,
        typer.Option(
            "--channel", "-c", help="Slack channel ID: its workspace's lines, fleet and schedule"
        ),
    ] = None,
    chart_path: Annotated[
        Path, typer.Option("--out", "-o", help="where to write the chart (PNG)")
    ] = Path("hashfloor-digest.png"),
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Slack team ID; needed only when two workspaces share the channel",
        ),
    ] = None,
) -> None:
    """Print this week's digest as it would be posted now, and write its chart."""
    if not chart_path.expanduser().resolve().parent.is_dir():
        out.print(f"[red]folder {chart_path.parent} does not exist[/red]")
        raise typer.Exit(2)
    svc = service()
    now = svc.clock()
    db = svc.storage.db
    team = None
    digest = None
    if channel:
        # A Slack Connect channel has the same id in each workspace sharing it.
        teams = sorted(
            set(alerts.channel_teams(db, channel))
            | {r.team_id for r in digests.all_rows(db) if r.channel_id == channel}
        )
        if workspace is None and len(teams) > 1:
            out.print(
                f"[red]{channel} is shared by workspaces {', '.join(teams)}: choose one with "
                "--workspace[/red]"
            )
            raise typer.Exit(2)
        team = workspace or (teams[0] if teams else None)
        if team is not None:
            subscription = next(
                (
                    s
                    for s in alerts.subscribed_channels(db)
                    if (s["team_id"], s["channel_id"]) == (team, channel)
                ),
                None,
            )
            digest = channels.channel_digest(channel, digests.get(db, team, channel), subscription)
        if team is None:
            out.print(
                f"[yellow]{channel} has no digest or subscription on file: showing the shipped "
                "cost lines only[/yellow]"
            )
    snaps = load_snapshots(svc.storage, now)
    composed = compose(svc.storage, team, now, snaps)
    out.print(digest_text(composed.digest), markup=False)
    render_chart(snaps, composed.chart_lines, now, chart_path)
    out.print(f"\nchart written to {chart_path}", markup=False)
    if digest is not None:
        nxt = channels.next_words(digest, datetime.fromtimestamp(now, UTC))
        if nxt is None:
            out.print(f"{channel}: the weekly digest is off", markup=False)
        else:
            out.print(f"{channel}: every {digest.schedule.describe()}; next {nxt}", markup=False)
