"""The alert shell: runs every rule through `rules.step` after each poll and queues the messages.

One transaction per poll: rule states and outbox rows commit together or not at all.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bot import currency
from bot.alerts import messages, retarget_pass, rules
from bot.alerts.targets import METRICS, Metric, Target, read, resolve, split_within
from bot.lines import CostLine
from bot.market.snapshot import Network, Snapshot
from bot.market.view import is_fresh_age
from storage import alerts, costs, snapshots, workspaces
from storage.db import Storage, select

log = logging.getLogger("hashfloor.alerts")


@dataclass
class TeamLines:
    benchmarks: dict[str, CostLine]
    fleets: dict[str, workspaces.Fleet]  # by key: a rule `fleet:<key>` watches one of them
    targets: dict[str, Target | None] = field(default_factory=dict)

    def target(
        self, key: str, net: Network | None, rates: dict[str, currency.Rate] | None = None
    ) -> Target | None:
        """The line a rule key names, resolved once per poll and workspace."""
        if key not in self.targets:
            self.targets[key] = resolve(key, self.benchmarks, self.fleets, net, rates)
        return self.targets[key]


def shared_lines(db: Any, now: float) -> dict[str, CostLine]:
    """The lines every workspace has: the CoinShares `cash` and `allin` current at `now`, and each
    shipped row as `cost:<id>`."""
    lines = {line.key: line for line in costs.current_lines(db, None, now)}
    return with_rows(lines, costs.all_rows(db, None))


def with_rows(shared: dict[str, CostLine], rows: list[dict[str, Any]]) -> dict[str, CostLine]:
    """`shared` and the benchmark `rows` as `cost:<id>` lines (`shared` itself when no rows)."""
    if not rows:
        return shared
    lines = dict(shared)
    for row in rows:
        line = costs.line_from_row(row)
        key = f"cost:{row['id']}"
        lines[key] = line if line.key == key else replace(line, key=key)
    return lines


def benchmark_lines(db: Any, team: str, now: float) -> dict[str, CostLine]:
    """The lines at `now` and every line of the workspace's own, by rule key."""
    own = costs.own_rows_by_workspace(db, [team]).get(team, [])
    lines = with_rows(shared_lines(db, now), own)
    return dict(lines)  # the caller's own: shared_lines may one day be kept between calls


def _is_fleet_key(key: str) -> bool:
    return key.startswith("fleet:")


@functools.lru_cache(maxsize=4096)
def _base_key(key: str) -> str:
    """The line an early warning (`within:<pct>:<key>`) watches; any other key itself. Cached:
    a poll asks it of every rule, and a channel's keys repeat across the workspaces."""
    parsed = split_within(key)
    return parsed[1] if parsed else key


_UNSET = object()


class PollLines:
    """Every workspace's lines for one poll, read in three queries whatever the number of
    workspaces (a query per workspace took 0.3 ms each: 3 s a poll at 10,000 workspaces). A line
    every workspace has (`cash`, `allin`, a shipped row, `below:`, `hashprice:`, an early warning
    on one of them) is resolved once per poll; a workspace's TeamLines (its own cost rows, its fleets)
    are put together when a rule needs them."""

    def __init__(
        self,
        db: Any,
        rules_to_step: list[Any],
        net: Network | None,
        now: float,
        rates: dict[str, currency.Rate] | None = None,
    ) -> None:
        self.net = net
        # This poll's rates: a fleet priced in another currency is converted with them.
        self.rates = rates or {}
        self.shared = shared_lines(db, now)
        self.shared_targets: dict[str, Target | None] = {}
        self.team_keys: set[str] = set()  # keys whose line is each workspace's own
        # Only the workspaces whose rules need them: their own cost rows, their fleets.
        own, fleet = set(), set()
        needs: dict[str, set[str] | None] = {}  # each distinct key parsed once
        for row in rules_to_step:
            key = row["line_key"]
            if key not in needs:
                base = _base_key(key)
                own_cost = base.startswith("cost:") and base not in self.shared
                needs[key] = fleet if _is_fleet_key(base) else own if own_cost else None
            teams = needs[key]
            if teams is not None:
                teams.add(row["team_id"])
        self.own_rows = costs.own_rows_by_workspace(db, sorted(own))
        self.fleets = workspaces.fleets_by_team(db, sorted(fleet))
        self.teams: dict[str, TeamLines] = {}

    def _shares(self, key: str) -> bool:
        """Whether `key` names the same line in every workspace."""
        base = _base_key(key)
        return base in self.shared or base.startswith(("below:", "hashprice:"))

    def target(self, team: str, key: str) -> Target | None:
        """The line `key` names in workspace `team`, resolved once per poll."""
        found = self.shared_targets.get(key, _UNSET)
        if found is not _UNSET:
            return found  # type: ignore[return-value]
        if key not in self.team_keys:  # each key is parsed once per poll, not once per rule
            if self._shares(key):
                target = self.shared_targets[key] = resolve(key, self.shared, {}, self.net)
                return target
            self.team_keys.add(key)
        return self.team(team).target(key, self.net, self.rates)

    def team(self, team: str) -> TeamLines:
        lines = self.teams.get(team)
        if lines is None:
            benchmarks = with_rows(self.shared, self.own_rows.get(team, []))
            fleets = self.fleets.get(workspaces.team_key(team), {})
            lines = self.teams[team] = TeamLines(benchmarks, fleets)
        return lines


Reading = tuple[float | None, bool]  # a metric at one poll and whether it is fresh


def _untouched(row: Any, target: Target, reading: Reading, mute: float | None) -> bool:
    """True when this poll cannot change the rule, so `rules.step` need not run: its mute and its
    line are as last seen, and either the data is stale (which changes nothing) or the rule is
    settled with nothing pending and its metric stands on its side of the line. A quiet poll over
    10,000 rules is then mostly this test."""
    if row["muted_until"] != mute:
        return False  # a mute to record or to settle
    price, fresh = reading
    if not (fresh and price is not None and math.isfinite(price)):
        return True
    return (
        row["state"] != "unknown"
        and row["pending"] is None
        and not row["pending_silent"]
        and row["last_line_version"] == target.version
        and rules.stands(row["state"], price, target.line.value_usd)
    )


def transition_key(row: Any, transitions: int) -> str:
    """The outbox key of a rule's n-th transition. SQLite may give a new rule the id of a deleted
    one (unsubscribe, subscribe again), so the key names the rule by id *and* creation time."""
    return f"rule:{row['id']}@{row['created_at']!r}:t{transitions}"


class AlertEngine:
    def __init__(self, storage: Storage, on_queued: Callable[[], None] | None = None) -> None:
        self.storage = storage
        self.on_queued = on_queued or (lambda: None)
        # A poll is one vote: the same snapshot evaluated again (a retried hook) must not count
        # as the second confirmation of a crossing. Recognised by value, not by its time: after
        # the wall clock steps back, every new poll's taken_at is older than the last one's.
        self._evaluated: deque[Snapshot] = deque(maxlen=32)

    def evaluate(self, snap: Snapshot) -> int:
        """Step every active rule with this poll; returns how many messages were queued."""
        db = self.storage.db
        now = snap.taken_at
        if snap in self._evaluated:
            log.warning("poll of %.0f already evaluated; skipped", now)
            return 0
        net_snap = snapshots.latest_network(db)
        net = net_snap.network if net_snap else None
        queued = 0
        # Each metric read once per poll: the price, and the hashprices from this poll's network.
        readings: dict[Metric, Reading] = {m: read(m, snap) for m in METRICS}
        with self.storage.transaction():
            to_step = alerts.rules_to_step(db)
            rates = currency.rates(snap.btc_prices, snap.taken_at)
            lines = PollLines(db, to_step, net, now, rates)
            # Channels muted now, by workspace and channel; a mute that is over counts as none.
            mutes = {
                (r["team_id"], r["channel_id"]): r["muted_until"]
                for r in select(
                    db,
                    "SELECT team_id, channel_id, muted_until FROM channels WHERE muted_until > ?",
                    [now],
                )
            }
            unmuted: dict[tuple[str, str], list[tuple[dict, str, Target]]] = defaultdict(list)
            changed: list[dict[str, Any]] = []
            for row in to_step:
                target = lines.target(row["team_id"], row["line_key"])
                if target is None:
                    continue  # the line is gone (removed benchmark, fleet off): status says so
                mute = mutes.get((row["team_id"], row["channel_id"]))
                reading = readings[target.metric]
                if _untouched(row, target, reading, mute):
                    continue
                queued += self._step_rule(
                    db, row, target, snap, reading, now, mute, unmuted, changed
                )
            alerts.save_steps(db, changed)
            for team_channel, items in unmuted.items():
                queued += self._unmute_message(db, team_channel, items, snap, now)
            # Difficulty-retarget rules have no line to cross: their own pass (and their own
            # memory), in the same transaction as every other rule's step.
            queued += retarget_pass.evaluate(db, snap, mutes)
        self._evaluated.append(snap)
        if queued:
            self.on_queued()
        return queued

    def _step_rule(
        self,
        db: Any,
        row: Any,  # sqlite3.Row of alerts.STEP_READ
        target: Target,
        snap: Snapshot,
        reading: Reading,
        now: float,
        mute: float | None,
        unmuted: dict[tuple[str, str], list[tuple[dict[str, Any], str, Target]]],
        changed: list[dict[str, Any]],
    ) -> int:
        """Step one rule (`mute`: its channel's mute, None when over); a rule that changed is
        appended to `changed`, to be saved with the rest."""
        stored = alerts.rule_state(row)
        # A mute that ended (expired, or /hashfloor unmute) is settled after this step, on fresh
        # data only: the catch-up message needs a price, and settling it on a stale poll would
        # forget that the channel was muted and lose that message.
        value, fresh = reading  # the rule's metric: the price, or a hashprice
        ended = stored.muted_until is not None and mute is None
        if ended and not (fresh and value is not None):
            ended, mute = False, stored.muted_until
        # Once ended, this poll is not muted: a crossing it confirms posts as a real alert.
        state = stored if mute == stored.muted_until else replace(stored, muted_until=mute)
        moved = bool(row["last_line_version"]) and target.version != row["last_line_version"]
        obs = rules.Observation(value, fresh, target.line.value_usd, moved)
        result = rules.step(state, obs, now)
        new = result.state
        cols: dict[str, Any] = {}
        if fresh and value is not None and target.version != row["last_line_version"]:
            cols.update(last_line_version=target.version, last_line_usd=target.line.value_usd)
        transitions = row["transitions"] or 0
        if new.state != stored.state:
            transitions += 1
            cols["transitions"] = transitions
        queued = 0
        if result.event:
            text, blocks = messages.for_rule(result.event, target, snap, row["id"])
            kind = "alert" if result.event == "crossed_below" else "recovery"
            outbox_id = alerts.enqueue(
                db,
                transition_key(row, transitions),
                row["team_id"],
                row["channel_id"],
                kind,
                text,
                blocks,
                now,
                rule_id=row["id"],
                thread_of=row["alert_outbox_id"] if kind == "recovery" else None,
                enterprise_id=row["enterprise_id"],
            )
            if outbox_id:
                queued = 1
                cols["alert_outbox_id"] = outbox_id if kind == "alert" else None
                if kind == "recovery" and row["alert_outbox_id"]:
                    self._queue_edit(db, row, transitions, (text, blocks), now)
        if ended:
            new, event = rules.unmute(new, value if fresh else None, target.line.value_usd, now)
            if event:
                unmuted[(row["team_id"], row["channel_id"])].append((row, event, target))
        if new != stored:
            cols.update(alerts.state_columns(new))
        if cols:
            changed.append({**dict(row), **cols})
        return queued

    def _queue_edit(
        self,
        db: Any,
        row: Any,
        transitions: int,
        recovery: tuple[str, list[dict[str, Any]]],
        now: float,
    ) -> None:
        """One message per episode: the alert a recovery ends is edited to say so. Its own
        outbox row, queued after the recovery in the channel's queue, so the recovery goes
        first and a failed edit never holds it back; written with it, so neither is lost."""
        alert = alerts.get(db, row["alert_outbox_id"])
        # A catch-up after a mute speaks for several rules: it is not rewritten for one of them.
        if alert is None or alert["kind"] != "alert":
            return
        text, blocks = messages.episode_closed(
            alert["text"],
            json.loads(alert["blocks"] or "[]"),
            alert["created_at"],
            *recovery,
            now,
            row["id"],
        )
        alerts.enqueue(
            db,
            transition_key(row, transitions) + ":edit",
            row["team_id"],
            row["channel_id"],
            "edit",
            text,
            blocks,
            now,
            rule_id=row["id"],
            thread_of=alert["id"],
            enterprise_id=row["enterprise_id"],
        )

    def _unmute_message(
        self,
        db: Any,
        team_channel: tuple[str, str],
        items: list[tuple[dict[str, Any], str, Target]],
        snap: Snapshot,
        now: float,
    ) -> int:
        """One message per channel when a mute ends and the price stands elsewhere than last told."""
        if snap.price_usd is None:
            return 0
        team, channel = team_channel
        first = items[0][0]
        parts = [messages.for_rule(event, target, snap, row["id"]) for row, event, target in items]
        text = " · ".join(t for t, _ in parts)
        blocks = [b for _, bl in parts for b in bl[:2]]
        key = f"unmute:{team}:{channel}:{first['muted_until'] or now:.0f}"
        outbox_id = alerts.enqueue(
            db,
            key,
            team,
            channel,
            "unmute",
            text,
            blocks,
            now,
            enterprise_id=first["enterprise_id"],
        )
        if not outbox_id:
            return 0
        # The catch-up now stands for the alert the mute held back: a rule it reports below
        # recovers in its thread; one it reports above has no open alert any more.
        for row, event, _ in items:
            db.execute(
                "UPDATE rules SET alert_outbox_id = ? WHERE id = ?",
                [outbox_id if event == "now_below" else None, row["id"]],
            )
        return 1


def fresh_price(db: Any, now: float) -> tuple[float | None, bool]:
    """The price a new subscription starts from, and whether it is fresh enough to set a state."""
    snap = snapshots.latest_fresh(db)
    if snap is None:
        return None, False
    return snap.price_usd, is_fresh_age(now - snap.taken_at)


def current(db: Any, now: float) -> dict[Metric, Reading]:
    """Each metric as a new subscription starts from: the latest good price, and the hashprices
    from it and the latest complete network data, fresh only when both are."""
    snap = snapshots.latest_fresh(db)
    if snap is None:
        return {m: (None, False) for m in METRICS}
    price_fresh = is_fresh_age(now - snap.taken_at)
    net_snap = snapshots.latest_network(db)
    net_fresh = net_snap is not None and is_fresh_age(now - net_snap.taken_at)
    with_net = replace(snap, network=net_snap.network if net_snap else Network())
    out: dict[Metric, Reading] = {}
    for m in METRICS:
        value, _ = read(m, with_net)
        out[m] = (value, price_fresh and (m == "price" or net_fresh))
    return out


def network(db: Any) -> Network | None:
    snap = snapshots.latest_network(db)
    return snap.network if snap else None
