"""The running bot's parts, wired once: settings, storage, the market poller and after-poll work."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable

from sqlite_utils import Database

from bot import benchmarks
from bot.lines import CostLine
from bot.machines import Machine
from bot.market.poll import MarketPoller
from bot.market.snapshot import Snapshot
from bot.market.view import MarketView, build_view
from bot.metrics import Metrics, StateCollector, database_state
from bot.settings import Settings
from storage import costs, machines, snapshots, workspaces
from storage.db import Storage, fault
from storage.migrations import migrate
from storage.read_cache import ReadCache

log = logging.getLogger("hashfloor.service")

AfterPoll = Callable[[Snapshot], None]
# latest fresh snapshot, latest with network data, cost lines (every shipped quarter),
# fleets by key, latest with currency prices
WorkspaceRows = tuple[
    Snapshot | None,
    Snapshot | None,
    tuple[CostLine, ...],
    dict[str, workspaces.Fleet],
    Snapshot | None,
]


class Hashfloor:
    def __init__(
        self,
        settings: Settings,
        storage: Storage | None = None,
        poller: MarketPoller | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.storage = storage or Storage(settings.hashfloor_db)
        self.clock = clock
        self.reads = ReadCache(self.storage)
        self.poller = poller or MarketPoller(settings, clock=clock)
        self.metrics = Metrics(sources=tuple(settings.price_sources))
        self.metrics.add_state(
            StateCollector(
                lambda: database_state(self.storage.db, self.clock()),
                lambda: self.role == "scheduler",
            )
        )
        # Work that follows each stored poll (alert rules); each hook runs even if another fails.
        self.after_poll: list[AfterPoll] = []
        # "scheduler" while this process holds the scheduler lock (bot.scheduler.SchedulerGuard).
        self.role = "standby"

    def migrate(self) -> list[str]:
        return migrate(self.storage.db)

    def poll_once(self) -> Snapshot:
        snap = self.poller.poll()
        self.metrics.observe_poll(snap)
        try:
            with self.storage.transaction() as db:  # notes a full or read-only database
                snapshots.insert(db, snap)
        except sqlite3.Error as exc:
            if fault(exc) is None:
                raise
            # One line a poll, not a traceback: /healthz says "database not writable" meanwhile.
            log.error("poll not stored: the database refused the write (%s)", exc)
            return snap
        ok = [q.source for q in snap.quotes if q.error is None]
        failed = [f"{q.source} ({q.error})" for q in snap.quotes if q.error is not None]
        # A poll without a fresh price is what an operator must see: a warning naming who failed.
        log.log(
            logging.INFO if snap.fresh else logging.WARNING,
            "poll: price=%s fresh=%s sources=%s failed=%s network=%s",
            f"{snap.price_usd:.2f}" if snap.price_usd else None,
            snap.fresh,
            ",".join(ok) or "none",
            ", ".join(failed) or "none",
            snap.network.error or snap.network.source,
        )
        for hook in self.after_poll:
            try:
                hook(snap)
            except Exception:
                log.exception("after-poll step %s failed", getattr(hook, "__name__", hook))
        return snap

    def lines(self, workspace: str | None = None, now: float | None = None) -> list[CostLine]:
        return costs.current_lines(self.storage.db, workspace, self.clock() if now is None else now)

    def view(self, workspace: str | None = None, now: float | None = None) -> MarketView:
        """The market as the last good data saw it: SQLite only, never the network."""
        return self.view_and_fleets(workspace, now)[0]

    def view_and_fleets(
        self, workspace: str | None = None, now: float | None = None
    ) -> tuple[MarketView, dict[str, workspaces.Fleet]]:
        """The market view and the workspace's fleets, from one look at the read cache."""
        fresh, network, candidates, fleets, rates = self.reads.get(workspace, self._read_workspace)
        now = self.clock() if now is None else now
        # The cache keeps every shipped quarter: which one is current depends on `now`.
        view = build_view(fresh, network, benchmarks.current(candidates, now), now, rates)
        return view, fleets

    def settings_of(self, workspace: str | None) -> workspaces.Settings:
        """The workspace's currency and HPC lease, from the read cache (every /breakeven asks)."""
        return self.reads.get(("settings", workspace), _read_settings)

    def machines(self) -> tuple[Machine, ...]:
        """The machine catalogue, from the read cache: a model name is matched on every ask."""
        return self.reads.get(("machines",), _read_machines)

    @staticmethod
    def _read_workspace(db: Database, workspace: str | None) -> WorkspaceRows:
        lines = costs.candidate_lines(db, workspace)
        fleets = workspaces.get_fleets(db, workspace)
        return (
            snapshots.latest_fresh(db),
            snapshots.latest_network(db),
            lines,
            fleets,
            snapshots.latest_rates(db),
        )

    def close(self) -> None:
        self.storage.close()


def _read_settings(db: Database, key: tuple[str, str | None]) -> workspaces.Settings:
    return workspaces.get_settings(db, key[1])


def _read_machines(db: Database, key: tuple[str]) -> tuple[Machine, ...]:
    return tuple(machines.all_machines(db))
