"""`hashfloor run` as a process: Slack's signed HTTP requests in, answers out, fakes all around.

The bot runs as `python -m bot run` with SLACK_API_URL and every market URL on loopback fakes. Its
replies are read where Slack would read them: in the HTTP response, at the response_url, and in
the Web API calls the fake Slack received.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.fakes.market import NETWORK_ROUTES, PRICE_SOURCES, FakeMarket
from tests.fakes.signing import slack_headers
from tests.fakes.slack import FakeSlack
from tests.fakes.slash_commands import command_fields
from tests.fakes.snapshots import design_snapshot, seed

pytestmark = pytest.mark.e2e

SECRET = "e2e-signing-secret-0123456789abcdef"
TOKEN = "xoxb-e2e-0000-token"
TEAM = "T0HASHFLR"
START_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """Headers as Slack sends them: v0 HMAC-SHA256 over `v0:{timestamp}:{body}`."""
    return slack_headers(body, secret, timestamp)


def command_form(
    command: str, text: str, response_url: str, user: str = "U0MEMBER", channel: str = "C0MINING"
) -> bytes:
    return urlencode(command_fields(command, text, response_url, user, channel, TEAM)).encode()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Bot:
    """One `python -m bot run` process and the way to talk to it."""

    proc: subprocess.Popen[bytes]
    port: int
    db: Path
    log: Path
    slack: FakeSlack
    _conn: http.client.HTTPConnection | None = field(default=None, repr=False)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            try:
                self._conn.request(method, path, body=body, headers=headers or {})
                resp = self._conn.getresponse()
                data = resp.read()
                return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
            except (ConnectionError, http.client.BadStatusLine):
                # the server closed a kept-alive connection: one fresh try
                self._conn.close()
                self._conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def post_events(
        self, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> Answer:
        return self.request(
            "POST", "/slack/events", body, {"Content-Type": content_type, **(headers or {})}
        )

    def command(
        self, command: str, text: str, reply_to: str = "r", user: str = "U0MEMBER", **sign_kw: Any
    ) -> Answer:
        body = command_form(command, text, self.slack.response_url(reply_to), user)
        return self.post_events(body, "application/x-www-form-urlencoded", sign(body, **sign_kw))

    def healthz(self) -> Answer:
        return self.request("GET", "/healthz")

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def bot_env(
    db: Path, port: int, market: FakeMarket, slack: FakeSlack, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HASHFLOOR_"))}
    env |= market.env()
    env |= {
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "HASHFLOOR_DB": str(db),
        "HASHFLOOR_HTTP_TIMEOUT": "1",
        "PORT": str(port),
    }
    env |= extra
    return env


def start_bot(
    workdir: Path,
    market: FakeMarket,
    slack: FakeSlack,
    healthy: bool = True,
    **extra: str,
) -> Bot:
    """Start the bot and wait until /healthz answers (200 when `healthy`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    db = workdir / "hashfloor.db"
    log = workdir / "bot.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=bot_env(db, port, market, slack, **extra),
            cwd=workdir,
            stdout=err,
            stderr=err,
        )
    bot = Bot(proc, port, db, log, slack)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"bot exited with {proc.returncode}:\n{bot.stderr()}")
        try:
            status = bot.healthz().status
            if status == 200 or not healthy:
                return bot
        except OSError:
            bot.close()
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"bot not ready in {START_TIMEOUT_S}s:\n{bot.stderr()}")
        time.sleep(0.05)


def kill(bot: Bot) -> None:
    bot.close()
    if bot.proc.poll() is None:
        bot.proc.kill()
    bot.proc.wait(10)


def listening_market() -> FakeMarket:
    market = FakeMarket()
    # ThreadingHTTPServer listens with a backlog of 5; the poller opens ten connections at once and
    # the SYNs over the backlog are retried after a second, past HASHFLOOR_HTTP_TIMEOUT=1.
    market.server.socket.listen(64)
    return market


@pytest.fixture(scope="module")
def market() -> Iterator[FakeMarket]:
    with listening_market() as fake:
        yield fake


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(team_id=TEAM) as fake:
        yield fake


@pytest.fixture
def start(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Bot]]:
    """Start bots; every one is killed at the end of the test, whatever happened."""
    bots: list[Bot] = []

    def _start(market: FakeMarket, slack: FakeSlack, **kw: Any) -> Bot:
        bot = start_bot(tmp_path_factory.mktemp("bot"), market, slack, **kw)
        bots.append(bot)
        return bot

    yield _start
    for bot in bots:
        kill(bot)


@pytest.fixture(scope="module")
def bot(
    tmp_path_factory: pytest.TempPathFactory, market: FakeMarket, slack: FakeSlack
) -> Iterator[Bot]:
    """One bot for the tests that only read or that clean up after themselves."""
    running = start_bot(tmp_path_factory.mktemp("shared"), market, slack)
    yield running
    kill(running)


@pytest.fixture
def fresh_slack(slack: FakeSlack) -> FakeSlack:
    slack.reset()
    slack.users.clear()
    return slack


def db_rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# --- answers --------------------------------------------------------------------------------


def test_breakeven_of_the_design_fleet(bot: Bot, fresh_slack: FakeSlack) -> None:
    answer = bot.command("/breakeven", "20 0.06 2")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["text"] == (
        "20 J/TH at $0.06/kWh, pool fee 2%: breakeven BTC price $70,605, "
        "breakeven power price $0.0773/kWh"
    )
    assert body["response_type"] == "ephemeral"
    note = body["blocks"][-1]["elements"][0]["text"]
    assert note.startswith("Median of coinbase, kraken, bitstamp, coingecko, mempool · fetched ")
    # answered from SQLite: nothing was asked of Slack, nothing posted to the response_url
    time.sleep(0.2)
    assert fresh_slack.calls == [] and fresh_slack.responses("r") == []


@pytest.mark.parametrize(
    ("command", "text", "starts"),
    [
        # The real clock: after 2026-03-25 the cash line is 2025-Q4's, and both lines are old.
        ("/breakeven", "", "BTC $91,000: +13.8% vs CoinShares cash cost (2025-Q4) (old)"),
        (
            "/breakeven",
            "17.5 J/TH 5c 2%",
            "17.5 J/TH at $0.05/kWh, pool fee 2%: breakeven BTC price $51,483",
        ),
        ("/hashprice", "", "Hashprice $37.88/PH/day; difficulty 152.00 trillion"),
        ("/costs", "", "10 shipped benchmarks"),
        ("/hashfloor", "help", "Hashfloor — BTC price against the cost of mining it."),
        ("/breakeven", "17.5 <!channel>", "I could not read `&lt;!channel&gt;`"),
    ],
)
def test_reads_answer_in_the_http_response(
    bot: Bot, fresh_slack: FakeSlack, command: str, text: str, starts: str
) -> None:
    answer = bot.command(command, text)
    assert answer.status == 200
    assert answer.json()["text"].startswith(starts)


def test_share_is_posted_in_channel(bot: Bot, fresh_slack: FakeSlack) -> None:
    assert bot.command("/hashprice", "share").json()["response_type"] == "in_channel"


def test_healthz_reports_the_poll(bot: Bot) -> None:
    answer = bot.healthz()
    assert answer.status == 200
    body = answer.json()
    assert body["ok"] is True and body["database"] == "ok"
    assert body["price_usd"] == 91_000.0 and 0 <= body["data_age_s"] < 90  # polls every 60 s
    ready = bot.request("GET", "/readyz")
    assert ready.status == 200
    assert ready.json() | {"data_age_s": 0} == {
        "ready": True,
        "migrated": True,
        "price_fresh": True,
        "data_age_s": 0,
        "role": "scheduler",
    }


# --- signatures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how",
    [
        "no signature",
        "wrong secret",
        "older than five minutes",
        "from the future",
        "tampered",
        "timestamp not a number",
    ],
)
def test_unverified_requests_get_401_and_change_nothing(
    bot: Bot, fresh_slack: FakeSlack, how: str
) -> None:
    fresh_slack.users["U0BOSS"] = {"is_admin": True}
    body = command_form(
        "/costs", 'add "Mallory" cash=61000', fresh_slack.response_url("evil"), "U0BOSS"
    )
    now = int(time.time())
    headers = {
        "no signature": {},
        "wrong secret": sign(body, secret="guessed"),
        "older than five minutes": sign(body, timestamp=now - 6 * 60),
        "from the future": sign(body, timestamp=now + 6 * 60),
        "tampered": sign(body.replace(b"Mallory", b"Trudy")),
        "timestamp not a number": {**sign(body), "X-Slack-Request-Timestamp": "soon"},
    }[how]
    answer = bot.post_events(body, "application/x-www-form-urlencoded", headers)
    assert answer.status == 401
    time.sleep(0.3)
    assert fresh_slack.calls == [] and fresh_slack.responses("evil") == []
    assert db_rows(bot.db, "SELECT COUNT(*) FROM audit")[0][0] == 0
    assert db_rows(bot.db, "SELECT COUNT(*) FROM cost_benchmarks WHERE name = 'Mallory'") == [(0,)]


def test_unverified_events_get_401(bot: Bot) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc", "token": "x"}).encode()
    assert bot.post_events(body, "application/json").status == 401
    answer = bot.post_events(body, "application/json", sign(body))
    assert answer.status == 200 and answer.json() == {"challenge": "abc"}


# --- changes: ack empty, answer at the response_url, audit -----------------------------------


def test_admin_change_answers_at_response_url_and_is_audited(
    start: Callable[..., Bot], market: FakeMarket, fresh_slack: FakeSlack
) -> None:
    bot = start(market, fresh_slack)
    fresh_slack.users["U0BOSS"] = {"is_admin": True}
    answer = bot.command("/costs", 'add "Acme <b>" cash=$61k allin=98,000', "add", "U0BOSS")
    assert answer.status == 200 and answer.body == b""
    fresh_slack.wait_for(lambda _: fresh_slack.responses("add"))
    (posted,) = fresh_slack.responses("add")
    assert posted["text"] == (
        "Added *Acme &lt;b&gt;*: `#11` cash cost $61,000, `#12` all-in cost $98,000"
    )
    assert [c.args["user"] for c in fresh_slack.calls_to("users.info")] == ["U0BOSS"]
    assert fresh_slack.calls_to("users.info")[0].token == TOKEN
    rows = db_rows(bot.db, "SELECT team_id, user_id, action FROM audit ORDER BY id")
    assert rows == [(TEAM, "U0BOSS", "costs.add"), (TEAM, "U0BOSS", "costs.add")]
    assert "vs Acme &lt;b&gt; cash cost" in bot.command("/breakeven", "").json()["text"]


def test_a_line_added_from_the_shell_shows_within_seconds(bot: Bot) -> None:
    assert "Shell Co" not in bot.command("/breakeven", "").json()["text"]  # cached from here on
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HASHFLOOR_"))}
    added = subprocess.run(
        [sys.executable, "-m", "bot", "costs", "add", "Shell Co", "--value", "50000", "-w", TEAM],
        env=env | {"HASHFLOOR_DB": str(bot.db)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    began = time.monotonic()
    while "Shell Co" not in bot.command("/breakeven", "").json()["text"]:
        assert time.monotonic() - began < 5, "the shell's line never reached the answer"
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({}, "Only workspace admins and owners"),
        ({"is_restricted": True}, "Guests cannot change"),
        ({"is_ultra_restricted": True}, "Guests cannot change"),
        ({"is_stranger": True, "is_admin": True}, "People from other organisations"),
    ],
)
def test_non_admins_cannot_set_the_fleet(
    bot: Bot, fresh_slack: FakeSlack, fields: dict[str, Any], why: str
) -> None:
    user = "U0" + hashlib.sha1(json.dumps(fields).encode()).hexdigest()[:8].upper()
    fresh_slack.users[user] = fields
    answer = bot.command("/hashfloor", "fleet 17.5 0.05 2", "fleet", user)
    assert answer.status == 200 and answer.body == b""
    fresh_slack.wait_for(lambda _: fresh_slack.responses("fleet"))
    assert fresh_slack.responses("fleet")[0]["text"].startswith(why)
    assert db_rows(bot.db, "SELECT COUNT(*) FROM fleets") == [(0,)]
    assert db_rows(bot.db, "SELECT COUNT(*) FROM audit WHERE user_id = ?", (user,)) == [(0,)]


# --- Slack's retries: no second side effect ---------------------------------------------------


def home_opened(event_id: str, user: str = "U0MEMBER") -> bytes:
    return json.dumps(
        {
            "token": "verification-token-unused",
            "team_id": TEAM,
            "api_app_id": "A0HASHAPP",
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": "D0HOME",
                "tab": "home",
                "event_ts": "1764000000.000100",
            },
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1_764_000_000,
            "authorizations": [{"team_id": TEAM, "user_id": "U0HASHBOT", "is_bot": True}],
        }
    ).encode()


def test_a_retried_event_has_no_second_side_effect(bot: Bot, fresh_slack: FakeSlack) -> None:
    body = home_opened("Ev0E2EFIRST")
    assert bot.post_events(body, "application/json", sign(body)).status == 200
    fresh_slack.wait_for(lambda calls: [c for c in calls if c.method == "views.publish"])
    for retry in ("1", "2"):
        headers = {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
        answer = bot.post_events(body, "application/json", {**sign(body), **headers})
        assert answer.status == 200 and answer.body == b""
    # a different event still gets its own answer, and only one
    other = home_opened("Ev0E2ESECOND")
    assert bot.post_events(other, "application/json", sign(other)).status == 200
    fresh_slack.wait_for(lambda calls: len([c for c in calls if c.method == "views.publish"]) >= 2)
    time.sleep(0.3)
    assert len(fresh_slack.calls_to("views.publish")) == 2
    seen = db_rows(bot.db, "SELECT event_id FROM seen_events WHERE event_id LIKE 'Ev0E2E%'")
    assert sorted(seen) == [("Ev0E2EFIRST",), ("Ev0E2ESECOND",)]


# --- market sources hanging: answers from the last good data ----------------------------------


def seed_snapshot(db: Path, taken_at: float) -> None:
    seed(db, design_snapshot(taken_at))


def test_every_source_hanging_breakeven_answers_from_the_last_good_data(
    tmp_path: Path, start: Callable[..., Bot], fresh_slack: FakeSlack
) -> None:
    with listening_market() as hanging:
        for route in (*PRICE_SOURCES, *NETWORK_ROUTES, "blockchain_info"):
            hanging.override(route, delay=30)
        workdir = tmp_path / "hanging"
        workdir.mkdir()
        seed_snapshot(workdir / "hashfloor.db", time.time() - 600)
        # the poll's deadline is longer than the test: the poll is in flight throughout
        bot = start_bot(workdir, hanging, fresh_slack, healthy=False, HASHFLOOR_HTTP_TIMEOUT="20")
        try:
            deadline = time.monotonic() + 10
            while hanging.hits["coinbase"] == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert hanging.hits["coinbase"] >= 1, "the start-up poll never reached the market"
            health = bot.healthz()
            assert health.status == 503 and health.json()["data_age_s"] >= 600
            began = time.monotonic()
            answer = bot.command("/breakeven", "20 0.06 2")
            elapsed = time.monotonic() - began
            assert answer.status == 200
            body = answer.json()
            assert "breakeven BTC price $70,605" in body["text"]
            note = body["blocks"][-1]["elements"][0]["text"]
            assert note.startswith(":warning: Stale data — Median of coinbase, kraken, bitstamp")
            assert "fetched 10 min ago" in note
            market_answer = bot.command("/breakeven", "").json()
            assert market_answer["text"].startswith("BTC $91,000")
            assert elapsed < 3  # a sanity bound, far above a normal answer
            # still in flight: no snapshot was written since the seeded one
            assert db_rows(bot.db, "SELECT COUNT(*) FROM market_snapshots") == [(1,)]
        finally:
            kill(bot)


# --- process life ------------------------------------------------------------------------------


def test_sigterm_stops_cleanly(
    start: Callable[..., Bot], market: FakeMarket, fresh_slack: FakeSlack
) -> None:
    bot = start(market, fresh_slack)
    assert bot.command("/hashprice", "").status == 200
    bot.close()
    bot.proc.send_signal(signal.SIGTERM)
    assert bot.proc.wait(15) == 0
    log = bot.stderr()
    assert "signal 15" in log and log.rstrip().endswith("stopped")
    assert "Traceback" not in log
    # the scheduler's lock went with the process: another start schedules normally
    again = start(market, fresh_slack)
    assert again.healthz().status == 200
    assert "another Hashfloor process" not in again.stderr()


def test_sigterm_lets_an_acked_change_finish(
    start: Callable[..., Bot], market: FakeMarket, fresh_slack: FakeSlack
) -> None:
    bot = start(market, fresh_slack)
    fresh_slack.users["U0BOSS"] = {"is_admin": True}
    fresh_slack.delay("users.info", 1.5)  # the change is still checking the user's role
    answer = bot.command("/hashfloor", "fleet 17.5 0.05 2", "fleet", "U0BOSS")
    assert answer.status == 200 and answer.body == b""
    bot.close()
    bot.proc.send_signal(signal.SIGTERM)
    assert bot.proc.wait(15) == 0
    # The user was told it was received: it was done, and answered.
    assert fresh_slack.responses("fleet")[0]["text"].startswith("Fleet main set: 17.5 J/TH")
    assert db_rows(bot.db, "SELECT COUNT(*) FROM fleets") == [(1,)]
    assert "Traceback" not in bot.stderr()


def test_a_port_in_use_is_one_line_and_exit_2(
    tmp_path: Path, market: FakeMarket, fresh_slack: FakeSlack
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = bot_env(tmp_path / "x.db", port, market, fresh_slack, HASHFLOOR_HOST="127.0.0.1")
        out = subprocess.run(
            [sys.executable, "-m", "bot", "run"],
            env=env | {"COLUMNS": "200"},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert out.returncode == 2
    # after the start-up line about the token, one line, and no traceback
    assert out.stderr.splitlines()[-1] == (
        f"hashfloor: port {port} is already in use (127.0.0.1:{port}): "
        "stop the other process or set PORT"
    )
    assert "Traceback" not in out.stderr and out.stderr.count(str(port)) == 2
    # bound first: nothing was migrated or started (start-up checks may have created the file)
    db = tmp_path / "x.db"
    assert not db.exists() or db_rows(db, "SELECT name FROM sqlite_master") == []


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]),
        ({"SLACK_BOT_TOKEN": TOKEN}, ["SLACK_SIGNING_SECRET"]),
        ({"SLACK_SIGNING_SECRET": SECRET}, ["SLACK_BOT_TOKEN"]),
        ({"SLACK_APP_TOKEN": "xapp-1-A0-1-abc"}, ["SLACK_BOT_TOKEN"]),
    ],
)
def test_run_without_credentials_exits_2_naming_what_is_missing(
    tmp_path: Path, env: dict[str, str], missing: list[str]
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HASHFLOOR_"))}
    clean |= {"HASHFLOOR_DB": str(tmp_path / "x.db"), "COLUMNS": "200", **env}
    out = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=clean,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    first = out.stderr.splitlines()[0]
    assert f"needs {', '.join(missing)}, which are not set" in first
    for name in {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"} - set(missing):
        assert name not in first
    assert "manifest.yml" in out.stderr
    assert not (tmp_path / "x.db").exists()  # nothing was started


def test_database_files_are_private_and_older_ones_are_named_at_start(
    tmp_path: Path, market: FakeMarket, slack: FakeSlack
) -> None:
    fresh = start_bot(tmp_path / "fresh", market, slack)
    try:
        files = [fresh.db, Path(f"{fresh.db}-wal"), Path(f"{fresh.db}-shm")]
        files.append(Path(f"{fresh.db}.scheduler.lock"))
        assert {p.name: p.stat().st_mode & 0o777 for p in files} == {p.name: 0o600 for p in files}
        assert "other users of this machine can read" not in fresh.stderr()
    finally:
        kill(fresh)
    # A database made before this release, with SQLite's default mode.
    older = tmp_path / "older"
    older.mkdir()
    sqlite3.connect(older / "hashfloor.db").close()
    (older / "hashfloor.db").chmod(0o644)
    bot = start_bot(older, market, slack)
    try:
        [line] = [x for x in bot.stderr().splitlines() if "other users" in x]
        assert f"{bot.db} (644)" in line and f"chmod 600 {bot.db}" in line
    finally:
        kill(bot)


def scrape(bot: Bot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    answer = bot.request("GET", "/metrics")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    text = answer.body.decode()
    for user_team_channel in ("U0MEMBER", "T0HASHFLR", "C0MINING"):
        assert user_team_channel not in text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_in_prometheus_text(bot: Bot, fresh_slack: FakeSlack) -> None:
    """/metrics (DESIGN §10): parsed with prometheus_client's own parser; no ids as labels."""
    breakeven = ("hashfloor_slash_commands_total", (("command", "/breakeven"),))
    timed = ("hashfloor_slash_command_seconds_count", (("command", "/breakeven"),))
    before = scrape(bot)
    assert bot.command("/breakeven", "20 0.06 2").status == 200
    after = scrape(bot)
    assert after[breakeven] == before[breakeven] + 1
    assert after[timed] == before.get(timed, 0) + 1
    assert after[("hashfloor_polls_total", (("result", "fresh"),))] >= 1
    assert after[("hashfloor_source_requests_total", (("result", "ok"), ("source", "coinbase")))]
    assert after[("hashfloor_scheduler_holder", ())] == 1
    assert 0 <= after[("hashfloor_price_age_seconds", ())] < 300
    assert after[("hashfloor_database_up", ())] == 1


def seal(db: Path, key: str, team: str) -> None:
    """An installation of `team` stored with its tokens sealed under `key`."""
    from slack_sdk.oauth.installation_store import Bot as SlackBot

    from storage.db import Storage
    from storage.installations import EncryptedInstallationStore
    from storage.migrations import migrate

    storage = Storage(db)
    migrate(storage.db)
    EncryptedInstallationStore(storage, key).save_bot(
        SlackBot(
            app_id="A1",
            team_id=team,
            bot_token=f"xoxb-{team}",
            bot_id="B1",
            bot_user_id="UBOT",
            bot_refresh_token=f"xoxe-1-{team}",
            installed_at=1.0,
        )
    )
    storage.close()


def test_start_tries_the_key_on_every_stored_token(
    tmp_path: Path, market: FakeMarket, slack: FakeSlack
) -> None:
    key, other = "the key of this bot, 32 characters+", "another key of 32 characters or more"
    oauth = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "HASHFLOOR_SECRET_KEY": key}
    workdir = tmp_path / "mixed"
    workdir.mkdir()
    seal(workdir / "hashfloor.db", key, "T1")
    seal(workdir / "hashfloor.db", other, "T2")  # sealed under another key: the first is fine

    bot = start_bot(workdir, market, slack, **oauth)
    try:
        [line] = [x for x in bot.stderr().splitlines() if "does not decrypt" in x]
        assert "for 2 of 4 stored tokens (workspaces T2)" in line
        assert "those workspaces must reinstall the app" in line
    finally:
        kill(bot)

    # With a key that opens none of them, the bot does not start.
    env = bot_env(workdir / "hashfloor.db", free_port(), market, slack, **oauth)
    env["HASHFLOOR_SECRET_KEY"] = "a third key, also 32 characters long"
    out = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    [line] = out.stderr.splitlines()
    assert "none of the 4 stored tokens decrypts (workspaces T1, T2)" in line
