"""A workspace's digest from storage: its cost lines, its fleet, the stored snapshots.

Shared by the minute job, `/hashfloor digest preview` and `hashfloor digest preview`, so the three
always show the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.digest.chart import HISTORY_S
from bot.digest.contents import WEEK_S, WeekDigest, build_digest
from bot.lines import CostLine
from bot.market.snapshot import Snapshot
from storage import costs, snapshots, workspaces
from storage.db import Storage

# Network data is carried forward from before the week when a week's polls lack it.
LOOKBACK_S = WEEK_S + 86_400


@dataclass(frozen=True)
class Composed:
    digest: WeekDigest
    lines: tuple[CostLine, ...]  # the benchmark lines the digest compares with
    chart_lines: tuple[CostLine, ...]  # those and the fleet's breakeven, for the chart


def load_snapshots(storage: Storage, now: float, history: bool = True) -> list[Snapshot]:
    """The snapshots a digest needs: 90 days for the chart, or just the week for text."""
    return snapshots.between(storage.db, now - (HISTORY_S if history else LOOKBACK_S), now)


def compose(storage: Storage, team: str | None, now: float, snaps: Sequence[Snapshot]) -> Composed:
    """The digest of the 7 days before `now` for a workspace (`team` None: shipped lines only)."""
    db = storage.db
    lines = tuple(costs.current_lines(db, team))
    fleet = workspaces.get_fleet(db, team) if team else None
    fleet_tuple = (
        (fleet.efficiency_j_per_th, fleet.power_usd_per_kwh, fleet.pool_fee) if fleet else None
    )
    digest = build_digest(snaps, lines, now, fleet_tuple)
    chart_lines = lines
    if digest.fleet is not None and digest.fleet.breakeven_price_usd is not None:
        f = digest.fleet
        label = f"Your fleet's breakeven ({f.efficiency_j_per_th:g} J/TH)"
        chart_lines = (*lines, CostLine("fleet", label, f.breakeven_price_usd, "Hashfloor fleet"))
    return Composed(digest, lines, chart_lines)
