"""The alert engine's pass over difficulty-retarget rules: each active `adjustment` rule steps
through `bot.alerts.retarget.step` with this poll, in the engine's transaction, so a rule's memory
and the message it queues commit together.

Exactly once per channel and epoch: the outbox key names the workspace, the channel and the epoch
(`retarget:<team>:<channel>:e<epoch>`, `headsup:…`), not the rule, so neither evaluating a poll
again, a restart, a kill -9 between the stored poll and its evaluation, nor unsubscribing and
subscribing again can queue a second message for the same epoch.
"""

from __future__ import annotations

from typing import Any

from bot.alerts import retarget
from bot.alerts import retarget_messages as msgs
from bot.alerts.retarget import HeadsUp, Reading, Retarget
from bot.market.snapshot import Snapshot
from storage import alerts, snapshots, workspaces
from storage import retarget as store


def _needs_previous(mem: retarget.Memory, current: Reading) -> bool:
    """Only a candidate retarget asks the snapshots for the last poll of the old difficulty."""
    net = current.network
    return (
        mem.epoch is not None
        and mem.difficulty is not None
        and net.tip_height is not None
        and bool(net.difficulty)
        and net.difficulty != mem.difficulty
        and retarget.epoch_of(net.tip_height) > mem.epoch
    )


def evaluate(db: Any, snap: Snapshot, mutes: dict[tuple[str, str], float]) -> int:
    """Step every active adjustment rule with this poll; returns how many messages were queued.
    `mutes`: the channels muted now, by (workspace, channel)."""
    net = snap.network
    if not net.difficulty or net.tip_height is None:
        return 0  # this poll has no network data: nothing to tell, nothing to learn
    rows = store.active_rules(db)
    if not rows:
        return 0
    current = Reading(net, snap.taken_at)
    market = msgs.Market(snap.price_usd if snap.fresh else None, net)
    previous: dict[float, Reading | None] = {}
    fleets: dict[str, list[workspaces.Fleet]] = {}
    queued = 0
    for row in rows:
        mem = store.memory(row)
        before = None
        if _needs_previous(mem, current):
            if mem.difficulty not in previous:
                last = snapshots.last_with_difficulty(db, mem.difficulty)
                previous[mem.difficulty] = Reading(last.network, last.taken_at) if last else None
            before = previous[mem.difficulty]
        team, channel = row["team_id"], row["channel_id"]
        result = retarget.step(
            mem, before, current, retarget.parse_pct(row["line_key"]), (team, channel) in mutes
        )
        if result.memory != mem:
            store.save_memory(db, row["id"], result.memory)
        for event in result.events:
            if team not in fleets:
                fleet = workspaces.get_fleet(db, team)
                fleets[team] = [fleet] if fleet else []
            queued += _enqueue(db, row, event, market, fleets[team], snap.taken_at)
    return queued


def _enqueue(
    db: Any,
    row: dict[str, Any],
    event: Retarget | HeadsUp,
    market: msgs.Market,
    fleets: list[workspaces.Fleet],
    now: float,
) -> int:
    team, channel = row["team_id"], row["channel_id"]
    if isinstance(event, Retarget):
        kind = "retarget"
        text, blocks = msgs.retarget(event, market, fleets)
    else:
        kind = "headsup"
        text, blocks = msgs.heads_up(event, market, fleets, now)
    key = f"{kind}:{team}:{channel}:e{event.epoch}"
    outbox_id = alerts.enqueue(
        db,
        key,
        team,
        channel,
        kind,
        text,
        blocks,
        now,
        rule_id=row["id"],
        enterprise_id=row["enterprise_id"],
    )
    return 1 if outbox_id else 0
