"""Another writer holds the database (DESIGN §7 "SQLite in WAL mode with a busy timeout").

A process that holds `BEGIN IMMEDIATE` (a backup tool, a long CLI import, a stuck writer) must not
take the bot's request threads with it: reads and /healthz keep answering, Slack's retried events
do not pile up on their de-duplication insert, and a change says it could not be saved.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.e2e.alert_harness import SIGNING_SECRET, BotProcess, blocks_text, wait_until
from tests.fakes.market import FakeMarket
from tests.fakes.signing import slack_headers
from tests.fakes.slack import FakeSlack

pytestmark = pytest.mark.e2e

# Far longer than any request may wait (Slack allows 3 s), far shorter than the lock is held.
ANSWER_WITHIN_S = 8.0
WAITRESS_THREADS = 8
ADMIN = "U0E2EADMIN"


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[BotProcess]:
    with FakeMarket(price=91_000.0) as market, FakeSlack() as slack:
        proc = BotProcess(tmp_path, market, slack)
        proc.start()
        wait_until(lambda: proc.healthz()[0] == 200, 15, "the first fresh poll")
        yield proc
        code = proc.stop()
        print(proc.tail())  # shown when the test failed
        assert code in (None, 0), f"the bot did not stop cleanly ({code})"


def home_opened(bot: BotProcess, event_id: str) -> httpx.Response:
    body = json.dumps(
        {
            "token": "unused",
            "team_id": bot.slack.team_id,
            "api_app_id": bot.slack.app_id,
            "event": {"type": "app_home_opened", "user": "U0E2EUSER", "tab": "home"},
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
        }
    )
    headers = {"Content-Type": "application/json", **slack_headers(body, SIGNING_SECRET)}
    return httpx.post(bot.url + "/slack/events", content=body, headers=headers, timeout=30)


def test_a_held_write_lock_leaves_reads_and_healthz_answering(bot: BotProcess) -> None:
    holder = sqlite3.connect(bot.db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # held until the end of the test
    try:
        # More events than waitress has threads, each needing the de-duplication insert.
        with ThreadPoolExecutor(2 * WAITRESS_THREADS) as pool:
            events = [
                pool.submit(home_opened, bot, f"Ev0LOCK{i}") for i in range(2 * WAITRESS_THREADS)
            ]
            time.sleep(0.5)  # they are in the bot's threads now
            health = httpx.get(bot.url + "/healthz", timeout=ANSWER_WITHIN_S)
            breakeven = bot.command("", "C0LOCKED", command="/breakeven")
            for event in events:
                assert event.result().status_code == 200
        assert health.status_code == 200 and health.json()["database"] == "ok"
        assert breakeven.status_code == 200
        assert "CoinShares" in blocks_text(breakeven.json())

        # A change cannot be saved while the lock is held, and says so.
        reply = add_line(bot, "held")
        assert "database is busy, try again" in reply["text"]
        assert cost_lines(bot) == []
    finally:
        holder.rollback()
        holder.close()
    reply = add_line(bot, "released")  # the same change, once the other writer let go
    assert reply["text"].startswith("Added *Locked fleet*")
    assert cost_lines(bot) == ["Locked fleet"]


def add_line(bot: BotProcess, name: str) -> dict:
    """/costs add as a workspace admin: a change, answered at the response_url."""
    bot.slack.users[ADMIN] = {"is_admin": True}
    r = bot.command('add "Locked fleet" cash=70000', "C0LOCKED", "/costs", ADMIN, name)
    assert r.status_code == 200, r.text
    wait_until(lambda: bot.slack.responses(name), 15, f"the reply to /costs add ({name})")
    return bot.slack.responses(name)[-1]


def cost_lines(bot: BotProcess) -> list[str]:
    return [
        r["name"]
        for r in bot.db.rows("SELECT name FROM cost_benchmarks WHERE workspace IS NOT NULL")
    ]
