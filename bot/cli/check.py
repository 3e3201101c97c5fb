"""`hashfloor check`: one poll of every source, printed as a table."""

from __future__ import annotations

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from bot import benchmarks, fmt
from bot.cli.common import service
from bot.market.snapshot import Snapshot
from bot.market.view import MarketView, build_view


def sources_table(snap: Snapshot) -> Table:
    table = Table(title="Price sources", title_justify="left")
    table.add_column("source")
    table.add_column("price", justify="right")
    table.add_column("latency", justify="right")
    table.add_column("status")
    for q in snap.quotes:
        if q.error:
            status = f"[red]{q.error}[/red]"
        elif q.source in snap.used_sources:
            status = "[green]used[/green]"
        else:
            status = "[yellow]discarded: > 5% from the median[/yellow]"
        table.add_row(q.source, fmt.usd(q.price_usd, cents=True), f"{q.latency_ms:.0f} ms", status)
    return table


def market_table(snap: Snapshot, view: MarketView) -> Table:
    table = Table(title="Market", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    fresh = (
        "[green]fresh[/green]"
        if snap.fresh
        else "[red]not fresh (fewer than 2 sources agree)[/red]"
    )
    table.add_row("BTC price (median)", f"{fmt.usd(snap.price_usd, cents=True)}  {fresh}")
    table.add_row("sources agreeing", ", ".join(snap.used_sources) or "none")
    net = snap.network
    table.add_row("network data", net.source or "[red]unavailable[/red]")
    if net.error:
        table.add_row("network errors", f"[red]{net.error}[/red]")
    table.add_row("difficulty", fmt.difficulty(view.difficulty))
    table.add_row("hashrate", fmt.hashrate(view.hashrate_hs))
    table.add_row("tip height", f"{view.tip_height:,}" if view.tip_height else "—")
    table.add_row(
        "fees per block (144-block avg)",
        f"{view.fees_per_block_btc:.4f} BTC" if view.fees_per_block_btc is not None else "—",
    )
    table.add_row("fees share of reward", fmt.pct(view.fees_share, signed=False))
    hp = view.hashprice_usd_per_ph_day
    table.add_row("hashprice", f"${hp:,.2f}/PH/day" if hp is not None else "—")
    sats = view.hashprice_sats_per_th_day
    table.add_row("hashvalue", f"{sats:,.1f} sats/TH/day" if sats is not None else "—")
    if view.next_adjustment_percent is not None:
        table.add_row(
            "next difficulty adjustment",
            f"{fmt.pct(view.next_adjustment_percent / 100, digits=2)} around "
            f"{fmt.when(view.next_adjustment_at)} ({view.next_adjustment_blocks:,} blocks)",
        )
    if view.blocks_to_halving is not None:
        table.add_row("blocks to the next halving", f"{view.blocks_to_halving:,}")
    return table


def margins_table(view: MarketView) -> Table:
    table = Table(title="Price against the cost lines", title_justify="left")
    table.add_column("line")
    table.add_column("cost per BTC", justify="right")
    table.add_column("margin", justify="right")
    old = {m.line.key: benchmarks.old_note(m.line.period, view.now) for m in view.margins}
    if any(old.values()):
        table.add_column("age")
    for m in view.margins:
        color = "green" if m.margin >= 0 else "red"
        row = [m.line.label, fmt.usd(m.line.value_usd), f"[{color}]{fmt.pct(m.margin)}[/]"]
        if any(old.values()):
            row.append(f"[yellow]{escape(old[m.line.key])}[/]")
        table.add_row(*row)
    return table


def unreachable_panel(snap: Snapshot) -> Panel:
    lines = [f"{q.source}: {q.error}" for q in snap.quotes]
    if snap.network.error:
        lines.append(f"network: {snap.network.error}")
    return Panel(
        "No price source answered, so there is no price to compare with the cost lines.\n"
        "Is this machine offline, or behind a proxy? Each source said:\n  " + "\n  ".join(lines),
        title="market sources unreachable",
        border_style="red",
    )


def report(snap: Snapshot, view: MarketView) -> Group:
    if all(q.error for q in snap.quotes) and snap.network.source is None:
        return Group(unreachable_panel(snap))
    parts = [sources_table(snap), market_table(snap, view)]
    if view.margins:
        parts.append(margins_table(view))
    return Group(*parts)


def register(app: typer.Typer) -> None:
    @app.command()
    def check() -> None:
        """Poll every source once and show where the price stands; exit 0 when the price is fresh."""
        svc = service()
        snap = svc.poll_once()
        # The view of *this* poll, not the last good one: check is about the sources right now.
        view = build_view(
            snap if snap.price_usd else None, snap, svc.lines(None, snap.taken_at), snap.taken_at
        )
        Console().print(report(snap, view))
        svc.close()
        raise typer.Exit(0 if snap.fresh else 1)
