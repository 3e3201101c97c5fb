"""A workspace's digest from storage: its cost lines, its fleet, the stored snapshots.

Shared by the minute job, `/hashfloor digest preview` and `hashfloor digest preview`, so the three
always show the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot import benchmarks, currency
from bot.alerts import engine
from bot.alerts.messages import state_words
from bot.alerts.targets import resolve, rule_name
from bot.digest.chart import HISTORY_S
from bot.digest.contents import WEEK_S, WeekDigest, build_digest
from bot.digest.render import RuleLine
from bot.lines import CostLine
from bot.market.snapshot import Snapshot
from storage import alerts, costs, snapshots, workspaces
from storage.db import Storage

# Network data is carried forward from before the week when a week's polls lack it.
LOOKBACK_S = WEEK_S + 86_400
CHUNK_S = 5 * 86_400  # older history is read a few days at a time and kept as prices only


@dataclass(frozen=True)
class Composed:
    digest: WeekDigest
    lines: tuple[CostLine, ...]  # the benchmark lines the digest compares with
    chart_lines: tuple[CostLine, ...]  # those and the fleet's breakeven, for the chart


def load_snapshots(storage: Storage, now: float, history: bool = True) -> list[Snapshot]:
    """The snapshots a digest needs, oldest first: the week (and a day) in full, and with
    `history` the 90 days before for the chart, as prices only.

    Only the week's numbers need quotes and network data; 90 days of one-minute polls in full
    would hold some 130,000 snapshots with their quotes in memory for a chart that draws prices.
    """
    db = storage.db
    week_start = now - LOOKBACK_S
    week = snapshots.between(db, week_start, now)
    if not history:
        return week
    older: list[Snapshot] = []
    start = now - HISTORY_S
    while start < week_start:
        end = min(start + CHUNK_S, week_start)
        older.extend(
            Snapshot(s.taken_at, (), s.price_usd, s.fresh)
            for s in snapshots.between(db, start, end)
            if s.taken_at < end  # `between` includes both ends; the next chunk has this one
        )
        start = end
    return older + week


# Fleets drawn on the chart (all are in the text): more lines than this would be a tangle.
CHART_FLEETS = 6


def compose(storage: Storage, team: str | None, now: float, snaps: Sequence[Snapshot]) -> Composed:
    """The digest of the 7 days before `now` for a workspace (`team` None: shipped lines only)."""
    db = storage.db
    lines = tuple(costs.current_lines(db, team, now))
    fleets = workspaces.get_fleets(db, team) if team else {}
    if any(f.power_currency != "USD" for f in fleets.values()):
        # Priced in another currency: converted at the newest rate on file if it is fresh at
        # `now`; a fleet without one is left out of the digest rather than shown at a guess.
        quoted = snapshots.latest_rates(db)
        rates = currency.rates(quoted.btc_prices, quoted.taken_at) if quoted else {}
        converted = {k: currency.fleet_in_usd(f, rates, now) for k, f in fleets.items()}
        fleets = {k: f for k, f in converted.items() if f is not None}
    money = workspaces.get_currency(db, team) if team else "USD"
    lease = workspaces.get_hpc_lease(db, team) if team else None
    digest = build_digest(
        snaps,
        lines,
        now,
        [
            (f.name, (f.efficiency_j_per_th, f.power_usd_per_kwh, f.pool_fee))
            for f in fleets.values()
        ],
        money,
        hpc_lease_usd_per_kw_month=lease,
    )
    chart_lines = lines
    for f in digest.fleets[:CHART_FLEETS]:
        if f.breakeven_price_usd is not None:
            key = workspaces.Fleet(
                f.efficiency_j_per_th, f.power_usd_per_kwh, f.pool_fee, None, f.name
            )
            label = f"Fleet {f.name} breakeven ({f.efficiency_j_per_th:g} J/TH)"
            line = CostLine(key.line_key, label, f.breakeven_price_usd, "Hashfloor fleet")
            chart_lines = (*chart_lines, line)
    return Composed(digest, lines, chart_lines)


def channel_rules(storage: Storage, team: str, channel: str, now: float) -> tuple[RuleLine, ...]:
    """The channel's alert rules of every kind, named as written, with state and last message."""
    db = storage.db
    rows = alerts.channel_rules(db, team, channel)
    if not rows:
        return ()
    lines = engine.benchmark_lines(db, team, now)
    fleets = workspaces.get_fleets(db, team)
    net = engine.network(db)
    out = []
    for r in rows:
        target = resolve(r["line_key"], lines, fleets, net)
        watched = (target.near or target.line) if target else None
        out.append(
            RuleLine(
                rule_name(r["line_key"], target, fleets),
                state_words(r["line_key"], r["state"]),
                r["last_message_at"],
                r["last_message"],
                benchmarks.old_note(watched.period, now) if watched else "",
            )
        )
    return tuple(out)
