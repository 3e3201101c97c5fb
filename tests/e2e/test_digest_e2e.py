"""The weekly digest end to end: `python -m bot run` as a process, a digest due in its database.

Before start, the database holds 90 days of synthetic snapshots, an alert rule (so the channel is
subscribed) and a digest schedule that came due two minutes ago. The digest's minute job runs a
minute after start: the fake Slack must get the message and the chart's whole upload sequence
(files.getUploadURLExternal → upload → files.completeUploadExternal), once. The bot is then killed
with SIGKILL and started again; its first minute job must not send that week a second time.

Slow by nature (two one-minute waits): the job's interval is the product's, not the test's.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.alerts.rules import RuleState
from bot.digest.schedule import DigestSchedule, decide
from bot.service import Hashfloor
from bot.settings import Settings
from storage import alerts, digests
from tests.fakes import history
from tests.fakes.market import FakeMarket
from tests.fakes.slack import FakeSlack

pytestmark = pytest.mark.e2e

SECRET = "e2e-digest-signing-secret"
TOKEN = "xoxb-e2e-digest"
TEAM = "T0HASHFLR"
CHANNEL = "C0DIGEST"
SECOND = "C0SECOND"  # sorted after CHANNEL: the job looks at CHANNEL first in a run
JOB_WAIT_S = 100  # the minute job first runs 60 s after start
UPLOAD = ("files.getUploadURLExternal", "files.completeUploadExternal")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def market() -> Iterator[FakeMarket]:
    now = time.time()
    with FakeMarket(price=history.price_at(now, now)) as fake:  # continues the history's price
        fake.server.socket.listen(64)  # the poller opens every source's connection at once
        yield fake


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(team_id=TEAM) as fake:
        yield fake


def prepare(db: Path, now: datetime) -> str:
    """The database before start; returns the ISO week whose digest is due."""
    svc = Hashfloor(Settings(hashfloor_db=db))
    svc.migrate()
    history.store(svc.storage, history.history(now.timestamp()))
    due = now - timedelta(minutes=2)
    schedule = DigestSchedule(due.weekday(), due.strftime("%H:%M"), "UTC")
    month_ago = (now - timedelta(days=30)).timestamp()
    alerts.add_rule(
        svc.storage.db, TEAM, CHANNEL, "cash", RuleState(), 79_995.0, "v1", "U0MEMBER", month_ago
    )
    digests.set_schedule(svc.storage.db, TEAM, CHANNEL, schedule, "U0MEMBER", month_ago)
    svc.close()
    decision = decide(schedule, now, None)
    assert decision.action == "send" and decision.week
    return decision.week


def start(workdir: Path, db: Path, market: FakeMarket, slack: FakeSlack) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HASHFLOOR_"))}
    env |= market.env() | {
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "PORT": str(free_port()),
        "HASHFLOOR_DB": str(db),
        "HASHFLOOR_POLL_SECONDS": "15",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    log = (workdir / "bot.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=workdir, env=env, stdout=log, stderr=log
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def digest_calls(slack: FakeSlack) -> list[str]:
    return [c.method for c in slack.calls if c.method == "chat.postMessage" or c.method in UPLOAD]


def test_a_due_digest_goes_out_once_with_its_chart(
    tmp_path: Path, market: FakeMarket, slack: FakeSlack
) -> None:
    db = tmp_path / "hashfloor.db"
    week = prepare(db, datetime.now(UTC))
    log = tmp_path / "bot.log"

    bot = start(tmp_path, db, market, slack)
    try:
        slack.wait_for(lambda calls: any(c.method == UPLOAD[1] for c in calls), JOB_WAIT_S)
    except AssertionError:
        raise AssertionError(log.read_text(errors="replace")) from None
    finally:
        stop(bot)  # SIGKILL: no orderly shutdown

    (message,) = slack.messages(CHANNEL)
    assert message["text"].startswith("Hashfloor weekly digest: BTC $")
    blocks = message["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert blocks[0]["text"]["text"] == "Weekly digest: BTC against the cost to mine"
    # On the real clock (after 2026-03-25) the cash line is 2025-Q4's.
    assert "CoinShares cash cost (2025-Q4)" in json.dumps(blocks)
    assert digest_calls(slack) == ["chat.postMessage", *UPLOAD]
    (get_url,) = slack.calls_to(UPLOAD[0])
    assert get_url.args["filename"] == f"hashfloor-week-{week}.png"
    (png,) = slack.uploads.values()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) == int(get_url.args["length"])
    (tmp_path / "uploaded-chart.png").write_bytes(png)  # to look at: pytest --basetemp=…
    (complete,) = slack.calls_to(UPLOAD[1])
    assert complete.ok and complete.args["channel_id"] == CHANNEL
    assert complete.args["thread_ts"] == slack.calls_to("chat.postMessage")[0].response["ts"]
    assert "Traceback" not in log.read_text(errors="replace")

    # Killed, and started again with a second channel due as well: the restarted process's first
    # minute job sends that one (so it did run) and not the first channel's week a second time.
    svc = Hashfloor(Settings(hashfloor_db=db))
    due = datetime.now(UTC) - timedelta(minutes=2)
    second = DigestSchedule(due.weekday(), due.strftime("%H:%M"), "UTC")
    month_ago = (due - timedelta(days=30)).timestamp()
    digests.set_schedule(svc.storage.db, TEAM, SECOND, second, "U0MEMBER", month_ago)
    svc.close()
    again = start(tmp_path, db, market, slack)
    try:
        slack.wait_for(
            lambda calls: any(
                c.method == UPLOAD[1] and c.args.get("channel_id") == SECOND for c in calls
            ),
            JOB_WAIT_S,
        )
    except AssertionError:
        raise AssertionError(log.read_text(errors="replace")) from None
    finally:
        stop(again)
    assert len(slack.messages(CHANNEL)) == 1 and len(slack.messages(SECOND)) == 1
    completes = [c.args["channel_id"] for c in slack.calls_to(UPLOAD[1])]
    assert sorted(completes) == [CHANNEL, SECOND]
    assert len(slack.calls_to(UPLOAD[0])) == 2 and len(slack.uploads) == 2
    svc = Hashfloor(Settings(hashfloor_db=db))
    try:
        for channel in (CHANNEL, SECOND):
            row = digests.get(svc.storage.db, TEAM, channel)
            assert row is not None and row.last_sent_week == week and row.last_error is None
    finally:
        svc.close()
    assert "Traceback" not in log.read_text(errors="replace")
