"""Capacity: one `hashfloor run` serving many workspaces, slash commands while a crossing fans out.

    python bench/capacity.py [--workspaces 10000] [--rate 50] [--seconds 20] [--clients 10]

One real `python -m bot run` process in multi-workspace (OAuth) mode, on loopback fakes of the
market APIs and of Slack (tests/fakes/), with a database filled beforehand: `--workspaces`
installations (each its own bot token, sealed by the installation store with
HASHFLOOR_SECRET_KEY), a fleet per workspace, and three subscribed channels per workspace, one rule
each, the kinds taken in turn (cash, all-in, a `below:<usd>` level, the fleet). Rules are stored
with storage.alerts.add_rule in the state where the price stands, as /hashfloor subscribe does.

1. Quiet: `--rate` signed /breakeven requests a second (open loop, spread over random workspaces
   and channels) for `--seconds`, while the bot polls every 15 s and nothing crosses.
2. Fan-out: the same load while the fake market's price drops under every line; two polls confirm
   the crossing and every channel gets a message, sent under Slack's 1 message/s per channel pacing.
   Latency is reported for the requests sent between the confirming poll and the moment the fake
   Slack has accepted the last message.
3. After the bot has stopped: AlertEngine.evaluate timed in a fresh process of its own on a copy of
   the database as it was filled (the bot logs no evaluation time and /metrics has none).

Also prints the bot's resident memory (/proc/PID/status: VmRSS now, VmHWM the peak) and the size
of the database. Loopback only; it stops by itself and stops the processes it started.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slack_sdk.oauth.installation_store import Installation  # noqa: E402

from bench.fanout import FLEET, FLEETS, snap  # noqa: E402
from bench.slash import TEXTS  # noqa: E402
from bot.alerts import rules  # noqa: E402
from bot.alerts.engine import AlertEngine, benchmark_lines  # noqa: E402
from bot.alerts.targets import resolve  # noqa: E402
from bot.market.poll import MarketPoller  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from storage import alerts, snapshots, workspaces  # noqa: E402
from storage.db import Storage  # noqa: E402
from storage.installations import EncryptedInstallationStore  # noqa: E402
from storage.migrations import migrate  # noqa: E402
from tests.e2e.alert_harness import Db, signed_headers  # noqa: E402
from tests.e2e.test_http_e2e import SECRET, Bot, kill, listening_market, start_bot  # noqa: E402
from tests.fakes.market import FakeMarket  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.fakes.slash_commands import command_fields  # noqa: E402

SECRET_KEY = "capacity-bench-secret-key-0123456789abcdef"  # seals the tokens (32+ characters)
CLIENT_ID = "1234567890.0987654321"
CLIENT_SECRET = "capacitybenchclientsecret0123456"
POLL_S = 15  # the shortest interval allowed without HASHFLOOR_ALLOW_FAST_POLL
KINDS = ("cash", "allin", "below", "fleet")
CHANNELS_PER_WORKSPACE = 3
# Lines of the bot's log that tell why a message could be sent twice (bot/alerts/delivery.py).
DELIVERY_LOG = {
    "sends retried": "retrying in",
    "of them timed out": "timed out",
    "sent, marked later (database busy)": "could not mark it yet",
    "delivery passes failed": "delivery pass failed",
    "database locked": "database is locked",
}


def team(i: int) -> str:
    return f"T{i:08d}"


def channel(i: int, c: int) -> str:
    return f"C{i:08d}{c}"


# --- the database, filled before the bot starts -------------------------------------------------


@dataclass
class Filled:
    rules: int
    lines: dict[str, float]  # line key -> USD, the same in every workspace
    seconds: float


def fill(db_path: Path, market: FakeMarket, n: int) -> Filled:
    """Installations, fleets and rules of `n` workspaces, stored where the bot's commands put them."""
    start = time.perf_counter()
    storage = Storage(db_path)
    migrate(storage.db)
    # A real poll of the fakes gives the network the lines stand on; the price is then set above
    # every line (and an alert level between them and the price), so one move crosses them all.
    settings = load_settings(**{k.lower(): v for k, v in market.env().items()})
    poller = MarketPoller(settings)
    net = poller.poll().network
    store = EncryptedInstallationStore(storage, SECRET_KEY)
    benchmarks = benchmark_lines(storage.db, team(0), time.time())
    highest = max(
        t.line.value_usd
        for t in (resolve(k, benchmarks, FLEETS, net) for k in ("cash", "allin", "fleet:main"))
        if t is not None
    )
    market.set_price(round(highest * 1.1, -3))
    level = round(highest * 1.05, -3)
    keys = {"cash": "cash", "allin": "allin", "below": f"below:{level:.0f}", "fleet": "fleet:main"}
    now = time.time()
    first = poller.poll()  # the snapshot the rules start from
    assert first.fresh and first.price_usd, first
    snapshots.insert(storage.db, first)
    targets = {key: resolve(key, benchmarks, FLEETS, first.network) for key in keys.values()}
    lines = {}
    for key, target in targets.items():
        assert target is not None, key
        lines[key] = target.line.value_usd
        assert lines[key] < first.price_usd, (key, lines[key], first.price_usd)
    count = 0
    with storage.transaction():
        for i in range(n):
            t = team(i)
            store.save(
                Installation(
                    app_id="A0HASHAPP",
                    team_id=t,
                    team_name=f"Workspace {i}",
                    bot_token=f"xoxb-{t}-capacity",
                    bot_id=f"B{i:08d}",
                    bot_user_id=f"U{i:08d}",
                    bot_scopes="commands,chat:write,files:write,users:read",
                    user_id="U0INSTALLER",
                    installed_at=now,
                )
            )
            workspaces.set_fleet(storage.db, t, FLEET, "U0INSTALLER", now)
            for c in range(CHANNELS_PER_WORKSPACE):
                key = keys[KINDS[(i * CHANNELS_PER_WORKSPACE + c) % len(KINDS)]]
                target = targets[key]
                assert target is not None
                line = target.line.value_usd
                state = rules.initial_state(first.price_usd, True, line, now)
                alerts.add_rule(
                    storage.db, t, channel(i, c), key, state, line, target.version, "U0ADMIN", now
                )
                count += 1
    storage.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    storage.close()
    return Filled(count, lines, time.perf_counter() - start)


# --- the load -----------------------------------------------------------------------------------


@dataclass
class Sample:
    sent_at: float  # wall clock of the scheduled send, to place it against the bot's poll times
    seconds: float  # from the scheduled send to the full answer (queueing is not hidden)
    status: int


def client(
    bot: Bot,
    n_workspaces: int,
    stop: threading.Event,
    until: float,
    interval: float,
    offset: float,
    seed: int,
    out: list[Sample],
) -> None:
    """Open loop: request k goes out at its scheduled time, however late the answers are."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", bot.port, timeout=30)
    due = time.perf_counter() + offset
    k = 0
    while time.perf_counter() < until and not stop.is_set():
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        i = rng.randrange(n_workspaces)
        fields = command_fields(
            "/breakeven",
            TEXTS[k % len(TEXTS)],
            bot.slack.response_url("capacity"),
            user=f"U0CLIENT{seed:02d}",
            channel=channel(i, rng.randrange(CHANNELS_PER_WORKSPACE)),
            team=team(i),
        )
        body = urlencode(fields)
        sent_at = time.time() - (time.perf_counter() - due)
        start = due
        due += interval
        k += 1
        try:
            conn.request("POST", "/slack/events", body=body, headers=signed_headers(body, SECRET))
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", bot.port, timeout=30)
            status = 0
        out.append(Sample(sent_at, time.perf_counter() - start, status))
    conn.close()


class Load:
    """`rate` requests a second from `clients` threads until `seconds` pass or stop() is called."""

    def __init__(self, bot: Bot, n_workspaces: int, rate: float, clients: int, seconds: float):
        self.samples: list[list[Sample]] = [[] for _ in range(clients)]
        self._stop = threading.Event()
        interval = clients / rate
        until = time.perf_counter() + seconds
        self._threads = [
            threading.Thread(
                target=client,
                args=(bot, n_workspaces, self._stop, until, interval, interval * n / clients, n)
                + (self.samples[n],),
                daemon=True,
            )
            for n in range(clients)
        ]
        for t in self._threads:
            t.start()

    def stop(self) -> list[Sample]:
        self._stop.set()
        return self.join()

    def join(self) -> list[Sample]:
        for t in self._threads:
            t.join()
        return sorted((s for per in self.samples for s in per), key=lambda s: s.sent_at)


def latency_row(name: str, samples: list[Sample]) -> None:
    ok = [s.seconds * 1000 for s in samples if s.status == 200]
    errors = len(samples) - len(ok)
    if len(ok) < 2:
        print(f"  {name:<44} {len(ok):>7} answered, {errors} errors: too few to say")
        return
    q = statistics.quantiles(ok, n=100, method="inclusive")
    print(
        f"  {name:<44} {len(ok):>7,} {statistics.median(ok):>8.1f} {q[98]:>8.1f} "
        f"{max(ok):>8.1f} {errors:>6}"
    )


# --- what the bot holds -------------------------------------------------------------------------


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (the peak so far) of a process, in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = int(value.split()[0])
    return out


def db_bytes(path: Path, suffix: str = "") -> int:
    """The size of the database file (with `suffix` "-wal": of its write-ahead log)."""
    file = Path(f"{path}{suffix}")
    return file.stat().st_size if file.exists() else 0


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.1f} MiB"


def accepted_posts(slack: FakeSlack) -> list[float]:
    return [c.at for c in slack.calls_to("chat.postMessage") if c.ok]


def wait(predicate, timeout: float, what: str, every: float = 0.25):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise SystemExit(f"capacity: gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
    return result


# --- evaluation, apart from the bot ----------------------------------------------------------------


def evaluate_times(db_copy: Path, price: float, below: float) -> dict[str, float]:
    """AlertEngine.evaluate on the filled database: a quiet poll, the first poll below, the
    confirming one (every rule crosses: one outbox row each), and a quiet poll after."""
    storage = Storage(db_copy)
    engine = AlertEngine(storage)
    t0 = time.time()
    out: dict[str, float] = {}
    for name, s in (
        ("quiet", snap(t0 + 60, price)),
        ("quiet 2", snap(t0 + 120, price)),
        ("first below", snap(t0 + 180, below)),
        ("confirming", snap(t0 + 240, below)),
        ("quiet after", snap(t0 + 300, below)),
    ):
        start = time.perf_counter()
        queued = engine.evaluate(s)
        out[name] = time.perf_counter() - start
        if name == "confirming":
            out["queued"] = queued
    storage.close()
    return out


def evaluate_apart(db_copy: Path, price: float, below: float) -> dict[str, float]:
    """evaluate_times in a fresh process, like the bot's: this one still holds the fake Slack's
    record of every call (a quiet poll timed 2.6-4.6 s here in one run of 2026-11-30, 1.2-1.7 s
    in a fresh process in the next, both on a loaded machine)."""
    out = subprocess.run(
        [sys.executable, __file__, "--evaluate", str(db_copy), str(price), str(below)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


# --- the run ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspaces", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=50.0, help="slash commands a second")
    parser.add_argument("--seconds", type=float, default=20.0, help="of quiet load")
    parser.add_argument("--clients", type=int, default=10, help="connections sending the load")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="give up on the fan-out after this long"
    )
    parser.add_argument(
        "--evaluate",
        nargs=3,
        metavar=("DB", "PRICE", "BELOW"),
        help=argparse.SUPPRESS,  # the run's own use: evaluate_times, printed as JSON
    )
    args = parser.parse_args()
    if args.evaluate:
        db_copy, price, below = args.evaluate
        print(json.dumps(evaluate_times(Path(db_copy), float(price), float(below))))
        return
    n = args.workspaces

    load_avg = os.getloadavg()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f} before the run"
    )
    with (
        tempfile.TemporaryDirectory(prefix="hashfloor-capacity-") as tmp,
        listening_market() as market,
        FakeSlack() as slack,
    ):
        # socketserver's default backlog of 5 would drop SYNs under the delivery's senders.
        slack._server.socket.listen(128)  # type: ignore[union-attr]
        work = Path(tmp)
        db_path = work / "hashfloor.db"
        filled = fill(db_path, market, n)
        filled_bytes = db_bytes(db_path)
        shutil.copy(db_path, work / "filled.db")
        price = market.prices["coinbase"]
        below = round(min(filled.lines.values()) * 0.95)
        print(
            f"filled in {filled.seconds:.1f} s: {n:,} workspaces (installations, fleets), "
            f"{n * CHANNELS_PER_WORKSPACE:,} channels, {filled.rules:,} rules; "
            f"database {mib(filled_bytes)}"
        )
        lines = ", ".join(f"{k} ${v:,.0f}" for k, v in filled.lines.items())
        print(f"price ${price:,.0f}, lines {lines}; the crossing moves it to ${below:,.0f}")

        bot = start_bot(
            work,
            market,
            slack,
            SLACK_BOT_TOKEN="",
            SLACK_CLIENT_ID=CLIENT_ID,
            SLACK_CLIENT_SECRET=CLIENT_SECRET,
            HASHFLOOR_SECRET_KEY=SECRET_KEY,
            HASHFLOOR_POLL_SECONDS=str(POLL_S),
        )
        pid = bot.proc.pid
        try:
            db = Db(db_path)
            polls = db.count("market_snapshots")
            wait(lambda: db.count("market_snapshots") > polls, 3 * POLL_S, "the first poll")
            print(
                f"bot pid {pid} serving on :{bot.port}, OAuth mode, polling every {POLL_S} s; "
                f"resident {memory_kib(pid)['VmRSS'] / 1024:,.0f} MiB after start"
            )
            Load(bot, n, args.rate, args.clients, 2.0).join()  # warm-up, not counted

            print(
                f"\nslash commands: /breakeven at {args.rate:g}/s from {args.clients} "
                "connections, open loop, random workspace and channel"
            )
            print(
                f"  {'':<44} {'answered':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}"
            )
            before = db.count("market_snapshots")
            quiet = Load(bot, n, args.rate, args.clients, args.seconds).join()
            quiet_polls = db.count("market_snapshots") - before
            latency_row(f"{args.seconds:g} s, {quiet_polls} quiet poll(s) in it", quiet)
            rss_quiet = memory_kib(pid)["VmRSS"]

            # The crossing: two polls below every line, then one message to every channel.
            load = Load(bot, n, args.rate, args.clients, args.timeout)
            moved = time.time()
            market.set_price(below)
            expected = n * CHANNELS_PER_WORKSPACE
            try:
                wait(
                    lambda: db.count("outbox") >= expected,
                    4 * POLL_S + 60,
                    "the confirming poll's outbox rows",
                )
                confirmed = db.rows("SELECT MIN(created_at) AS t FROM outbox")[0]["t"]
                wait(
                    lambda: len(accepted_posts(slack)) >= expected,
                    args.timeout,
                    f"Slack to accept {expected:,} messages",
                    every=0.5,
                )
            finally:
                during = load.stop()
            posts = sorted(accepted_posts(slack))
            delivered = posts[-1]
            latency_row(
                "price moved → confirming poll", [s for s in during if s.sent_at < confirmed]
            )
            latency_row(
                f"during the fan-out ({delivered - confirmed:.0f} s)",
                [s for s in during if confirmed <= s.sent_at <= delivered],
            )
            mem = memory_kib(pid)
            refused = sum(not c.ok for c in slack.calls_to("chat.postMessage"))
            per_channel = Counter(
                c.args.get("channel") for c in slack.calls_to("chat.postMessage") if c.ok
            )
            twice = {ch: k for ch, k in per_channel.items() if k > 1}
            other = Counter(c.method for c in slack.calls if c.method != "chat.postMessage")
        finally:
            kill(bot)
        # Why a channel got a message more than once: the bot's log of its delivery, and the
        # outbox rows of those channels (attempts > 1: sent again after a failure).
        log_text = bot.log.read_text(errors="replace")
        delivery_log: Counter[str] = Counter()
        log_examples: dict[str, str] = {}
        for line in log_text.splitlines():
            for what, phrase in DELIVERY_LOG.items():
                if phrase in line:
                    delivery_log[what] += 1
                    log_examples.setdefault(what, line.strip()[:240])
        twice_rows = db.rows(
            "SELECT channel_id, attempts, last_error FROM outbox WHERE channel_id IN"
            " (SELECT value FROM json_each(?))",
            (json.dumps(sorted(twice)),),
        )
        size_end, wal_end = db_bytes(db_path), db_bytes(db_path, "-wal")
        slash_sent = len(quiet) + len(during)
        # With the bot gone, so the two do not share the CPU.
        evals = evaluate_apart(work / "filled.db", price, below)

    print(f"\nfan-out: {len(posts):,} messages to {expected:,} channels in {n:,} workspaces")
    print(f"  price moved → confirming poll            {confirmed - moved:8.1f} s")
    print(f"  confirming poll → first message accepted {posts[0] - confirmed:8.1f} s")
    print(
        f"  confirming poll → all {len(posts):,} accepted {delivered - confirmed:8.1f} s "
        f"({len(posts) / (delivered - confirmed):,.0f} messages/s); refused {refused}"
        "; other Web API calls: "
        + (", ".join(f"{m} {k:,}" for m, k in other.most_common()) or "none")
        + f" (for {slash_sent:,} measured slash commands and the warm-up)"
    )
    print(
        f"  channels that got a message: {len(per_channel):,}; channels that got more than one: "
        f"{len(twice):,}" + (f" (e.g. {next(iter(twice))})" if twice else "")
    )
    print(
        "  delivery log: "
        + (", ".join(f"{what} {k:,}" for what, k in delivery_log.most_common()) or "nothing")
    )
    for what, line in log_examples.items():
        print(f"    first '{what}' line: {line}")
    for r in twice_rows[:10]:
        print(f"    {r['channel_id']}: attempts {r['attempts']}, last error {r['last_error']!r}")
    print("\nmemory and disk")
    print(f"  bot resident after quiet load   {rss_quiet / 1024:8,.0f} MiB")
    print(f"  bot resident after the fan-out  {mem['VmRSS'] / 1024:8,.0f} MiB")
    print(f"  bot peak resident (VmHWM)       {mem['VmHWM'] / 1024:8,.0f} MiB")
    print(f"  database filled                 {mib(filled_bytes):>12}")
    print(
        f"  database after the run          {mib(size_end):>12} (with {expected:,} outbox rows), "
        f"its write-ahead log {mib(wal_end)}"
    )
    print(
        f"\nAlertEngine.evaluate over {filled.rules:,} rules, in a process of its own on a copy of "
        "the filled database (the bot does not report it)"
    )
    for name in ("quiet", "quiet 2", "first below", "confirming", "quiet after"):
        extra = f" ({int(evals['queued']):,} outbox rows)" if name == "confirming" else ""
        print(f"  {name + ' poll' + extra:<44} {evals[name] * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
