"""Alert fan-out benchmark: one crossing to many channels, and AlertEngine.evaluate at scale.

    python bench/fanout.py [--runs 5] [--channels 1000] [--workspaces 10] [--rules 10000]
                           [--part all|a|b|c]

(a) Fan-out. 1,000 channels across 10 workspaces subscribe to the cash line (rules inserted with
    storage.alerts.add_rule). Each workspace has its own bot token: the DeliveryWorker asks a
    `client_for(team)` for a client, as in multi-workspace mode — the installation store is left
    out, the tokens come from a dict. Then one crossing: two fresh polls below the line. Timed from
    the start of the confirming poll's evaluation to the moment FakeSlack (a loopback HTTP server)
    has accepted all 1,000 messages. Then the price recovers at once, so every channel has a
    second message queued right behind the first: the smallest gap between two messages of one
    channel shows the 1 message/s per channel limit at work.
(b) AlertEngine.evaluate over 10,000 rules in one poll, in 10 workspaces, once with price lines
    only (2,500 channels each watching cash, all-in, a fixed $80,000 level and the workspace's
    fleet) and once with every kind mixed (1,667 channels each watching those four, a hashprice
    level of $30/PH/day and an early warning within 5% of the cash cost). Timed per kind of
    poll: a quiet one (nothing moves), a stale one, the first poll below (the rules start
    confirming), the confirming poll (transitions and outbox rows), a quiet poll after.
(c) AlertEngine.evaluate over 10,000 difficulty-retarget rules (`adjustment`, half of them with
    a ±5% heads-up), one per channel: a quiet poll, a poll under 144 blocks from the retarget with
    an estimate below every threshold, the poll that shows the retarget (10,000 messages queued)
    and the quiet poll after it.

Figures are medians over --runs runs, each on a fresh temporary database.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_sdk import WebClient  # noqa: E402

from bot.alerts import rules, targets  # noqa: E402
from bot.alerts.delivery import PER_CHANNEL_INTERVAL_S, DeliveryWorker  # noqa: E402
from bot.alerts.engine import AlertEngine, benchmark_lines  # noqa: E402
from bot.alerts.retarget import Memory, epoch_of  # noqa: E402
from bot.alerts.targets import Target, resolve  # noqa: E402
from bot.market.snapshot import Network, Quote, Snapshot  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.slack.client import make_client  # noqa: E402
from storage import alerts, snapshots, workspaces  # noqa: E402
from storage import retarget as retarget_rules  # noqa: E402
from storage.db import Storage  # noqa: E402
from storage.migrations import migrate  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402

T0 = 1_764_000_000.0
ABOVE, BELOW = 91_000.0, 70_000.0
NET = Network(difficulty=152e12, tip_height=925_000, fees_per_block_btc=0.02, source="mempool")
SOURCES = ("coinbase", "kraken", "bitstamp")
FLEET = workspaces.Fleet(20.0, 0.06, 0.02)  # breaks even at $70,605: below it at $70,000
FLEETS = {FLEET.key: FLEET}  # the fleet `main`, by key, as storage.workspaces.get_fleets gives


def snap(t: float, price: float, fresh: bool = True) -> Snapshot:
    used = SOURCES if fresh else SOURCES[:1]
    return Snapshot(t, tuple(Quote(s, price, None, 50.0) for s in used), price, fresh, used, NET)


def fresh_db(folder: str) -> Storage:
    storage = Storage(Path(folder) / "bench.db")
    migrate(storage.db)
    snapshots.insert(storage.db, snap(T0, ABOVE))
    return storage


def subscribe(
    storage: Storage, team: str, channel: str, key: str, lines: dict[str, Target | None]
) -> None:
    """What /hashfloor subscribe stores: the state where the price stands, the line's version."""
    db = storage.db
    if f"{team}/{key}" not in lines:
        benchmarks, fleets = benchmark_lines(db, team, T0), workspaces.get_fleets(db, team)
        lines[f"{team}/{key}"] = resolve(key, benchmarks, fleets, NET)
    target = lines[f"{team}/{key}"]
    assert target is not None, key
    line = target.line.value_usd
    value, fresh = targets.read(target.metric, snap(T0, ABOVE))  # the price, or a hashprice
    state = rules.initial_state(value, fresh, line, T0)
    alerts.add_rule(db, team, channel, key, state, line, target.version, "UBENCH", T0)


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.1f} ms"


# --- (a) fan-out ---------------------------------------------------------------------------------


def fanout_run(channels: int, teams: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder, FakeSlack() as slack:
        # socketserver's default backlog of 5 would drop SYNs under 8 concurrent senders.
        slack._server.socket.listen(128)  # type: ignore[union-attr]
        storage = fresh_db(folder)
        targets: dict[str, Target | None] = {}
        with storage.transaction():
            for i in range(channels):
                subscribe(storage, f"T{i % teams:04d}", f"C{i:06d}", "cash", targets)
        settings = load_settings(slack_api_url=slack.url)
        clients: dict[str, WebClient] = {}
        lock = threading.Lock()

        def client_for(team: str, enterprise: str | None = None) -> WebClient:
            with lock:
                if team not in clients:
                    clients[team] = make_client(settings, f"xoxb-{team}", retries=False)
                return clients[team]

        worker = DeliveryWorker(storage, client_for)
        engine = AlertEngine(storage, on_queued=worker.wake.set)
        worker.start()
        engine.evaluate(snap(T0 + 60, BELOW))
        start = time.perf_counter()
        queued = engine.evaluate(snap(T0 + 120, BELOW))
        evaluated = time.perf_counter()
        assert queued == channels, queued
        slack.wait_for(lambda calls: sum(c.ok for c in calls) >= channels, timeout=300)
        delivered = time.perf_counter()
        # The recovery, queued right behind each channel's alert.
        engine.evaluate(snap(T0 + 180, ABOVE))
        engine.evaluate(snap(T0 + 240, ABOVE))
        slack.wait_for(lambda calls: sum(c.ok for c in calls) >= 2 * channels, timeout=300)
        both = time.perf_counter()
        worker.stop()
        posts = [c for c in slack.calls_to("chat.postMessage") if c.ok]
        per_channel: dict[str, list[float]] = defaultdict(list)
        for c in posts:
            per_channel[c.args["channel"]].append(c.at)
            assert c.token == f"xoxb-T{int(c.args['channel'][1:]) % teams:04d}"
        assert len(per_channel) == channels
        assert all(len(ts) == 2 for ts in per_channel.values())
        gap = min(b - a for a, b in per_channel.values())
        storage.close()
        return {
            "evaluate": evaluated - start,
            "delivered": delivered - start,
            "both": both - start,
            "min_gap": gap,
            "refused": sum(not c.ok for c in slack.calls_to("chat.postMessage")),
        }


# --- (b) evaluate at scale -----------------------------------------------------------------------


PRICE_KEYS = ("cash", "allin", "below:80000", "fleet:main")
QUIET_REPEATS = 20
MIXED_KEYS = (*PRICE_KEYS, "hashprice:usd:30", "within:5:cash")


def evaluate_run(n_rules: int, teams: int, keys: tuple[str, ...]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        storage = fresh_db(folder)
        targets: dict[str, Target | None] = {}
        with storage.transaction():
            for t in range(teams):
                workspaces.set_fleet(storage.db, f"T{t:04d}", FLEET, "UBENCH", T0)
            for i in range(n_rules):
                channel = i // len(keys)
                key = keys[i % len(keys)]
                subscribe(storage, f"T{channel % teams:04d}", f"C{channel:06d}", key, targets)
        engine = AlertEngine(storage)
        out: dict[str, float] = {}
        for name, s in (
            ("quiet", snap(T0 + 60, ABOVE)),
            ("stale", snap(T0 + 120, BELOW, fresh=False)),
            ("first_below", snap(T0 + 180, BELOW)),
            ("crossing", snap(T0 + 240, BELOW)),
            ("quiet_after", snap(T0 + 300, BELOW)),
        ):
            start, cpu = time.perf_counter(), time.process_time()
            queued = engine.evaluate(s)
            out[name] = time.perf_counter() - start
            # CPU time too: on a shared machine the wall time mostly measures the neighbours.
            out[f"{name}_cpu"] = time.process_time() - cpu
            if name == "crossing":
                out["queued"] = queued
        # The best of many quiet polls: on a loaded machine the fastest one is the one the
        # neighbours disturbed least, the nearest to what the code itself costs.
        walls, cpus = [], []
        for i in range(QUIET_REPEATS):
            start, cpu = time.perf_counter(), time.process_time()
            engine.evaluate(snap(T0 + 360 + i, BELOW))
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
        out["quiet_best"], out["quiet_best_cpu"] = min(walls), min(cpus)
        storage.close()
        return out


# --- (c) difficulty retargets --------------------------------------------------------------------


def retarget_run(n_rules: int, teams: int) -> dict[str, float]:
    """`n_rules` adjustment rules (half with a ±5% heads-up), one per channel, stepped by
    AlertEngine.evaluate: a quiet poll, a poll in the heads-up window below every threshold, the
    poll that shows the retarget (one message per channel) and the quiet poll after it."""
    mem = Memory(epoch_of(NET.tip_height), NET.difficulty)
    with tempfile.TemporaryDirectory() as folder:
        storage = fresh_db(folder)
        with storage.transaction():
            for t in range(teams):
                workspaces.set_fleet(storage.db, f"T{t:04d}", FLEET, "UBENCH", T0)
            for i in range(n_rules):
                key = "adjustment:5" if i % 2 else "adjustment"
                team, channel = f"T{i % teams:04d}", f"C{i:06d}"
                retarget_rules.subscribe(storage.db, team, channel, key, mem, "UBENCH", T0)
        engine = AlertEngine(storage)
        boundary = (mem.epoch + 1) * 2016  # type: ignore[operator]
        window = replace(NET, next_adjustment_percent=2.0, next_adjustment_blocks=100)
        new = replace(NET, tip_height=boundary, difficulty=NET.difficulty * 1.05)
        after = replace(new, tip_height=boundary + 1)
        out: dict[str, float] = {}
        for i, (name, network) in enumerate(
            (("quiet", NET), ("window", window), ("retarget", new), ("quiet_after", after))
        ):
            s = replace(snap(T0 + 60 * (i + 1), ABOVE), network=network)
            snapshots.insert(storage.db, s)  # as Hashfloor.poll_once stores it before evaluating
            start, cpu = time.perf_counter(), time.process_time()
            queued = engine.evaluate(s)
            out[name] = time.perf_counter() - start
            out[f"{name}_cpu"] = time.process_time() - cpu
            if name == "retarget":
                out["queued"] = queued
        storage.close()
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--workspaces", type=int, default=10)
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--part", choices=("all", "a", "b", "c"), default="all")
    args = parser.parse_args()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load:.2f}; medians of {args.runs} runs"
    )

    if args.part in ("all", "a"):
        runs = [fanout_run(args.channels, args.workspaces) for _ in range(args.runs)]
        print(
            f"\n(a) one crossing, {args.channels} channels in {args.workspaces} workspaces "
            "(one token each), DeliveryWorker → FakeSlack"
        )
        print(
            f"  evaluate (the confirming poll, {args.channels} rows queued) {median_ms([r['evaluate'] for r in runs])}"
        )
        print(
            f"  crossing → all {args.channels} messages accepted        {median_ms([r['delivered'] for r in runs])}"
        )
        print(
            f"  … and the {args.channels} recoveries right behind them     {median_ms([r['both'] for r in runs])}"
        )
        gap = min(r["min_gap"] for r in runs)
        print(
            f"  smallest gap between two messages of one channel: {gap:.3f} s "
            f"(limit {PER_CHANNEL_INTERVAL_S:.0f} per {PER_CHANNEL_INTERVAL_S:.0f} s); "
            f"refused calls: {sum(r['refused'] for r in runs)}"
        )
    if args.part == "a":
        return
    if args.part == "c":
        retarget_part(args)
        return

    for title, keys in (
        ("price lines: cash, all-in, $80k, fleet", PRICE_KEYS),
        (
            "mixed kinds: cash, all-in, $80k, fleet, hashprice < $30/PH/day, cash within 5%",
            MIXED_KEYS,
        ),
    ):
        runs = [evaluate_run(args.rules, args.workspaces, keys) for _ in range(args.runs)]
        channels = -(-args.rules // len(keys))
        print(
            f"\n(b) AlertEngine.evaluate, {args.rules} rules ({channels} channels × {title}) "
            f"in {args.workspaces} workspaces; goal < 100 ms"
        )
        labels = {
            "quiet": "a quiet poll (nothing moves)",
            "stale": "a stale poll",
            "first_below": "first poll below (rules start confirming)",
            "crossing": f"confirming poll ({int(runs[0]['queued'])} transitions + outbox rows)",
            "quiet_after": "a quiet poll, all below",
            "quiet_best": f"the fastest of {QUIET_REPEATS} more quiet polls",
        }
        print(f"  {'':<55} {'wall':>11} {'CPU':>11}")
        for key, label in labels.items():
            wall, cpu = (
                median_ms([r[key] for r in runs]),
                median_ms([r[f"{key}_cpu"] for r in runs]),
            )
            print(f"  {label:<55} {wall} {cpu}")
    if args.part == "all":
        retarget_part(args)


def retarget_part(args: argparse.Namespace) -> None:
    runs = [retarget_run(args.rules, args.workspaces) for _ in range(args.runs)]
    print(
        f"\n(c) AlertEngine.evaluate, {args.rules} difficulty-retarget rules (one per channel, "
        f"half with a ±5% heads-up) in {args.workspaces} workspaces"
    )
    labels = {
        "quiet": "a quiet poll (same epoch, same difficulty)",
        "window": "under 144 blocks to go, estimate +2% (below every threshold)",
        "retarget": f"the retarget poll ({int(runs[0]['queued'])} messages queued)",
        "quiet_after": "a quiet poll after it",
    }
    print(f"  {'':<62} {'wall':>11} {'CPU':>11}")
    for key, label in labels.items():
        wall = median_ms([r[key] for r in runs])
        cpu = median_ms([r[f"{key}_cpu"] for r in runs])
        print(f"  {label:<62} {wall} {cpu}")


if __name__ == "__main__":
    main()
