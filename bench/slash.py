"""Slash-command latency under load: Hashfloor's /breakeven next to a bare Bolt app that only acks.

    python bench/slash.py [--seconds 20] [--clients 20] [--warmup 2]

Four apps, each in its own process, served the way `hashfloor run` serves (waitress, threads=8)
on its own loopback port, in the same run: Hashfloor, a bare Bolt app with Hashfloor's options
(`process_before_response=True`) that only acks, and the same bare app with Bolt's defaults. The load comes from this process: `--clients` threads,
each with one persistent HTTP connection, sending /breakeven requests signed as Slack signs them
(half `/breakeven`, half `/breakeven 17.5 0.05 2`), back to back, for `--seconds` per app.
The fourth app is Hashfloor again, asked only `/breakeven S21 €0.045 2`: a model name matched in
the catalogue and a price in euros converted at the seeded poll's rate (an answer without the
rate counts as an error, so a rate gone stale mid-run cannot pass for a fast answer).
The real app answers from a SQLite file seeded with one market snapshot; its scheduler does not run
(a poll every minute would only add noise). Prints requests, p50 and p99 of each and the ratios.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
UNUSED_API = "http://127.0.0.1:9/api/"  # reads never call Slack; a call would fail loudly
TEXTS = ("", "17.5 0.05 2")
CURRENCY_TEXT = "S21 €0.045 2"
KINDS = {
    "bare": "bare Bolt, same options",
    "bare-default": "bare Bolt, defaults",
    "real": "hashfloor /breakeven",
    "real-currency": "hashfloor S21 €0.045 2",
}
# What each app is asked (alternating), and a piece every answer must hold (None: any 200).
ASKED: dict[str, tuple[tuple[str, ...], bytes | None]] = {
    "real-currency": ((CURRENCY_TEXT,), b"EUR/USD"),
}


# --- the servers (run in child processes) -----------------------------------------------------


def seed(db: Path) -> None:
    from tests.fakes.snapshots import design_snapshot
    from tests.fakes.snapshots import seed as seed_db

    sources = ("coinbase", "kraken", "bitstamp", "coingecko", "mempool")
    # BTC in euros too (DESIGN §4.1: €83,720, 0.92 EUR/USD): the rate of the currency case.
    prices = {"USD": 91_000.0, "EUR": 83_720.0}
    seed_db(db, design_snapshot(time.time() - 30, sources=sources, btc_prices=prices))


def real_wsgi(db: Path) -> object:
    from bot.service import Hashfloor
    from bot.settings import Settings
    from bot.slack.app import build_app
    from bot.slack.http import WsgiApp

    settings = Settings(
        hashfloor_db=db,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=UNUSED_API,
    )
    service = Hashfloor(settings)
    return WsgiApp(build_app(service), service)


def bare_wsgi(process_before_response: bool) -> object:
    from slack_bolt import Ack, App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    from bot.slack.app import StaticToken

    # The same Bolt pipeline (signature check, authorize, ack runner) with a listener that acks;
    # with Hashfloor's options, or with Bolt's defaults (the listener in a worker thread while the
    # request's thread polls for the ack every 10 ms).
    app = App(
        signing_secret=SECRET,
        client=WebClient(base_url=UNUSED_API),
        authorize=StaticToken(TOKEN),
        process_before_response=process_before_response,
    )

    @app.command("/breakeven")
    def ack_only(ack: Ack) -> None:
        ack()

    return SlackRequestHandler(app)


def serve(kind: str, port: int, db: Path) -> None:
    import logging

    from bot.server import HttpServer

    logging.basicConfig(level=logging.WARNING)
    # waitress warns at every queued task; under this load that is every request
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    app = real_wsgi(db) if kind.startswith("real") else bare_wsgi(kind == "bare")
    # the server `hashfloor run` uses, with its tuning (bot/server.py)
    server = HttpServer("127.0.0.1", port, ident=kind)
    print(f"ready {server.port}", flush=True)
    server.serve(app)


# --- the load (this process) ------------------------------------------------------------------


def signed_request(text: str, user: str) -> tuple[bytes, dict[str, str]]:
    body = urlencode(
        {
            "token": "unused",
            "team_id": "T0BENCH",
            "team_domain": "bench",
            "channel_id": "C0BENCH",
            "channel_name": "bench",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/breakeven",
            "text": text,
            "api_app_id": "A0BENCH",
            "is_enterprise_install": "false",
            "response_url": "http://127.0.0.1:9/response",
            "trigger_id": "1.2.3",
        }
    ).encode()
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + sig.hexdigest(),
    }


def client(
    port: int,
    until: float,
    n: int,
    interval: float,
    offset: float,
    out: list[float],
    errors: list[str],
    asked: tuple[tuple[str, ...], bytes | None] = (TEXTS, None),
) -> None:
    texts, must_hold = asked
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = 0
    # open loop: request i goes out at its scheduled time (staggered by client), however late
    # the answers are; the latency counts from the scheduled time, so queueing is not hidden
    due = time.perf_counter() + offset
    while time.perf_counter() < until:
        if interval:
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        body, headers = signed_request(texts[i % len(texts)], f"U0CLIENT{n:02d}")
        i += 1
        start = due if interval else time.perf_counter()
        due += interval
        try:
            conn.request("POST", "/slack/events", body=body, headers=headers)
            resp = conn.getresponse()
            answer = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        elapsed = time.perf_counter() - start
        if resp.status != 200:
            errors.append(str(resp.status))
        elif must_hold is not None and must_hold not in answer:
            errors.append("unexpected answer")
        else:
            out.append(elapsed)


def load(
    port: int,
    seconds: float,
    clients: int,
    rate: float = 0.0,
    asked: tuple[tuple[str, ...], bytes | None] = (TEXTS, None),
) -> tuple[list[float], list[str]]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    until = time.perf_counter() + seconds
    interval = clients / rate if rate else 0.0
    threads = [
        threading.Thread(
            target=client,
            args=(port, until, n, interval, interval * n / clients, latencies[n], errors, asked),
        )
        for n in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [x for per in latencies for x in per], errors


def start_server(kind: str, db: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--db", str(db)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("ready "):
        proc.kill()
        raise SystemExit(f"{kind} server did not start")
    return proc, int(line.split()[1])


def summary(name: str, lat: list[float], errors: list[str], seconds: float) -> dict[str, float]:
    q = statistics.quantiles(lat, n=100, method="inclusive")
    row = {
        "requests": len(lat),
        "rps": len(lat) / seconds,
        "p50": statistics.median(lat) * 1000,
        "p90": q[89] * 1000,
        "p99": q[98] * 1000,
        "max": max(lat) * 1000,
        "errors": len(errors),
    }
    print(
        f"{name:<25}{row['requests']:>9,}{row['rps']:>9.0f}{row['p50']:>9.1f}{row['p90']:>9.1f}"
        f"{row['p99']:>9.1f}{row['max']:>9.1f}{row['errors']:>8}"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per app")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per app")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per app")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="requests per second in all (open loop); 0: each client sends as soon as answered",
    )
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, 0, args.db)
        return

    with tempfile.TemporaryDirectory(prefix="hashfloor-bench-") as tmp:
        db = Path(tmp) / "bench.db"
        seed(db)
        servers = {kind: start_server(kind, db) for kind in KINDS}
        try:
            print(
                f"{platform.python_implementation()} {platform.python_version()}, "
                f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}; "
                f"{args.clients} clients"
                + (f" at {args.rate:g} req/s in all" if args.rate else ", closed loop")
                + f", {args.seconds:g} s per app in {args.rounds} alternating rounds after "
                f"{args.warmup:g} s warm-up, waitress threads=8, loopback"
            )
            print(
                f"{'':<25}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
                f"{'max ms':>9}{'errors':>8}"
            )
            for kind, (_, port) in servers.items():
                load(port, args.warmup, args.clients, args.rate, ASKED.get(kind, (TEXTS, None)))
            # Alternate short rounds, so a change in the machine's other load hits both alike.
            got: dict[str, tuple[list[float], list[str]]] = {kind: ([], []) for kind in KINDS}
            for _ in range(args.rounds):
                for kind, (_, port) in servers.items():
                    asked = ASKED.get(kind, (TEXTS, None))
                    lat, errors = load(
                        port, args.seconds / args.rounds, args.clients, args.rate, asked
                    )
                    got[kind][0].extend(lat)
                    got[kind][1].extend(errors)
            rows = {kind: summary(name, *got[kind], args.seconds) for kind, name in KINDS.items()}
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(10)
    for real in ("real", "real-currency"):
        for kind in ("bare", "bare-default"):
            r50 = rows[real]["p50"] / rows[kind]["p50"]
            r99 = rows[real]["p99"] / rows[kind]["p99"]
            print(f"ratio {KINDS[real]} / {KINDS[kind]}: p50 {r50:.2f}x, p99 {r99:.2f}x")
    real_p99 = rows["real"]["p99"]
    # The goal's baseline is a bare Bolt app; the one with Hashfloor's option is the stricter one.
    for kind, words in (("bare-default", "goal"), ("bare", "stricter")):
        r99 = real_p99 / rows[kind]["p99"]
        verdict = "met" if r99 <= 1.5 else "missed"
        print(f"{words}: p99 within 1.5x of {KINDS[kind]}: {verdict} ({r99:.2f}x)")
    print(f"goal: p99 under 50 ms: {'met' if real_p99 < 50 else 'missed'} ({real_p99:.1f} ms)")


if __name__ == "__main__":
    main()
