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
    """Step the adjustment rules this poll may change; returns how many messages were queued.
    `mutes`: the channels muted now, by (workspace, channel)."""
    net = snap.network
    if not net.difficulty or net.tip_height is None:
        return 0  # this poll has no network data: nothing to tell, nothing to learn
    blocks, change = net.next_adjustment_blocks, net.next_adjustment_percent
    window = change is not None and blocks is not None and 0 < blocks < retarget.HEADSUP_BLOCKS
    rows = store.rules_to_step(
        db,
        retarget.epoch_of(net.tip_height),
        net.difficulty,
        abs(change) if window and change is not None else None,
    )
    if not rows:
        return 0
    current = Reading(net, snap.taken_at)
    market = msgs.Market(snap.price_usd if snap.fresh else None, net)
    previous: dict[float, Reading | None] = {}
    # One rendering per workspace and event: every channel of a workspace gets the same message.
    rendered: dict[tuple[str, Retarget | HeadsUp], tuple[str, list[dict[str, Any]]]] = {}
    moved: list[tuple[int, retarget.Memory]] = []
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
            moved.append((row["id"], result.memory))
        for event in result.events:
            if (team, event) not in rendered:
                rendered[(team, event)] = _render(db, team, event, market, snap.taken_at)
            queued += _enqueue(db, row, event, rendered[(team, event)], snap.taken_at)
    store.save_memories(db, moved)
    return queued


def _render(
    db: Any, team: str, event: Retarget | HeadsUp, market: msgs.Market, now: float
) -> tuple[str, list[dict[str, Any]]]:
    fleets = list(workspaces.get_fleets(db, team).values())  # every fleet of the workspace
    if isinstance(event, Retarget):
        return msgs.retarget(event, market, fleets)
    return msgs.heads_up(event, market, fleets, now)


def _enqueue(
    db: Any,
    row: dict[str, Any],
    event: Retarget | HeadsUp,
    message: tuple[str, list[dict[str, Any]]],
    now: float,
) -> int:
    team, channel = row["team_id"], row["channel_id"]
    kind = "retarget" if isinstance(event, Retarget) else "headsup"
    text, blocks = message
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
