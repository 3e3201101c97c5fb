"""`python -m bot run` as a real process against FakeMarket and FakeSlack, for the alert e2e tests.

The bot is configured only through its environment (DESIGN §3.2): the market base URLs and
SLACK_API_URL point at the fakes, and slash commands arrive as Slack sends them — form-encoded,
signed with the signing secret, on POST /slack/events.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx

from tests.fakes.market import PRICE_SOURCES, FakeMarket
from tests.fakes.signing import slack_headers
from tests.fakes.slack import FakeSlack

T = TypeVar("T")

SIGNING_SECRET = "e2e-signing-secret"
BOT_TOKEN = "xoxb-e2e-hashfloor"
POLL_S = 1  # HASHFLOOR_ALLOW_FAST_POLL=1: the fakes are local


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], T], timeout: float, what: str, every: float = 0.05) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def signed_headers(body: str, secret: str = SIGNING_SECRET) -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded", **slack_headers(body, secret)}


class Db:
    """Read-only looks at the bot's SQLite file (WAL: readers never block the bot)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params)]
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        finally:
            conn.close()

    def count(self, table: str, where: str = "") -> int:
        rows = self.rows(f"SELECT COUNT(*) AS n FROM {table} {where}")
        return rows[0]["n"] if rows else 0

    def latest_snapshot(self) -> dict[str, Any] | None:
        rows = self.rows("SELECT * FROM market_snapshots ORDER BY id DESC LIMIT 1")
        return rows[0] if rows else None

    def outbox(self) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM outbox ORDER BY id")

    def rules(self, channel: str | None = None) -> list[dict[str, Any]]:
        if channel:
            return self.rows("SELECT * FROM rules WHERE channel_id = ? ORDER BY id", (channel,))
        return self.rows("SELECT * FROM rules ORDER BY id")


class BotProcess:
    """One `python -m bot run`; start, kill -9 and restart it on the same database."""

    def __init__(
        self, workdir: Path, market: FakeMarket, slack: FakeSlack, db_path: Path | None = None
    ) -> None:
        self.workdir = workdir
        self.market = market
        self.slack = slack
        self.db_path = db_path or workdir / "hashfloor.db"
        self.db = Db(self.db_path)
        self.log_path = workdir / "bot.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HASHFLOOR_"))}
        env.update(self.market.env())
        env.update(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=self.slack.url,
            HASHFLOOR_DB=str(self.db_path),
            PORT=str(self.port),
            HASHFLOOR_POLL_SECONDS=str(POLL_S),
            HASHFLOOR_ALLOW_FAST_POLL="1",
            HASHFLOOR_HTTP_TIMEOUT="2",
            PYTHONUNBUFFERED="1",
        )
        return env

    def start(self, ready: bool = True) -> BotProcess:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = free_port()  # a fresh port: a killed process's socket may linger
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n--- start {self.starts} on :{self.port} ---\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=self.env(),
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        if ready:
            self.wait_ready()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 20) -> None:
        def answers() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"the bot exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                httpx.get(self.url + "/healthz", timeout=1)
                return True
            except httpx.TransportError:
                return False

        wait_until(answers, timeout, "the bot to listen")

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 15) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode

    def tail(self, n: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    # --- what Slack and operators send ---------------------------------------------------------

    def healthz(self) -> tuple[int, dict[str, Any]]:
        r = httpx.get(self.url + "/healthz", timeout=5)
        return r.status_code, r.json()

    def command(
        self,
        text: str,
        channel: str,
        command: str = "/hashfloor",
        user: str = "U0E2EUSER",
        response_name: str | None = None,
    ) -> httpx.Response:
        """A slash command, signed, as Slack POSTs it to the Request URL."""
        fields = {
            "token": "legacy-verification-token",
            "team_id": self.slack.team_id,
            "team_domain": self.slack.team_domain,
            "channel_id": channel,
            "channel_name": channel.lower(),
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.slack.app_id,
            "is_enterprise_install": "false",
            "response_url": self.slack.response_url(response_name or f"{channel}-{text}"),
            "trigger_id": f"{time.time():.6f}.e2e",
        }
        body = urlencode(fields)
        return httpx.post(
            self.url + "/slack/events", content=body, headers=signed_headers(body), timeout=10
        )

    def subscribe(self, channel: str, what: str = "cash") -> dict[str, Any]:
        """/hashfloor subscribe: a change, so the reply comes through the response_url; the
        confirmation, where the price stands, is posted in the channel. Returns the latter."""
        # A path segment of the fake's response URL: words such as `hashprice below 30` joined.
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"subscribe-{channel}-{what}")
        r = self.command(f"subscribe {what}", channel, response_name=name)
        assert r.status_code == 200, r.text
        wait_until(lambda: self.slack.responses(name), 10, f"the reply to {name}")
        assert self.slack.responses(name)[-1]["text"].startswith("Subscribed")
        return confirmations(self.slack, channel)[-1].args

    def status(self, channel: str) -> dict[str, Any]:
        """/hashfloor status: read-only, so the reply rides on the ack."""
        r = self.command("status", channel)
        assert r.status_code == 200, r.text
        return r.json()

    def wait_polls(self, n: int, fresh: bool | None = None, timeout: float | None = None) -> None:
        """Until at least `n` polls (of the given freshness) that started after this call have
        been stored *and evaluated*. Polls run one at a time and a poll's alert evaluation ends
        before the next poll is stored, so: one poll may be under way now (+1), and the n-th is
        evaluated once the one after it is stored (+1)."""
        where = "" if fresh is None else f"WHERE fresh = {int(fresh)}"
        start = self.db.count("market_snapshots", where)
        wait_until(
            lambda: self.db.count("market_snapshots", where) >= start + n + 2,
            timeout or (n + 2) * POLL_S + 10,
            f"{n} more polls",
        )


def all_sources(market: FakeMarket, **override: Any) -> None:
    for source in PRICE_SOURCES:
        market.override(source, **override)


def is_confirmation(call: Any) -> bool:
    """A subscription's confirmation, posted by the command itself rather than the outbox."""
    return " subscribed this channel" in call.args.get("text", "")


def confirmations(slack: FakeSlack, channel: str) -> list[Any]:
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.ok and c.args.get("channel") == channel and is_confirmation(c)
    ]


def alert_posts(slack: FakeSlack) -> list[Any]:
    """chat.postMessage calls the delivery worker made, accepted or not."""
    return [c for c in slack.calls_to("chat.postMessage") if not is_confirmation(c)]


def accepted_posts(slack: FakeSlack, channel: str | None = None) -> list[Any]:
    """Messages from the outbox Slack accepted, with their answers (the message ts)."""
    return [
        c
        for c in alert_posts(slack)
        if c.ok and (channel is None or c.args.get("channel") == channel)
    ]


def blocks_text(reply: dict[str, Any]) -> str:
    return reply.get("text", "") + json.dumps(reply.get("blocks", []))
