"""Uninstall forgets (DESIGN §9): `hashfloor run` in multi-workspace mode, installed through the
OAuth flow, used, uninstalled by a signed `app_uninstalled` event, and installed again."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.e2e.test_http_e2e import (
    TEAM,
    Bot,
    db_rows,
    kill,
    listening_market,
    sign,
    start_bot,
)
from tests.fakes.market import FakeMarket
from tests.fakes.slack import FakeSlack

pytestmark = pytest.mark.e2e

OAUTH = {
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "client-secret-for-e2e",
    "HASHFLOOR_SECRET_KEY": "e2e secret key, well over 32 characters",
}
ADMIN = "U0BOSS"
# What the workspace typed that must not outlive it.
LINE_NAME = "Acme Hosting Q9"
SOURCE = "https://acme.example/private-report"
# Where what the workspace set up lives.
WORKSPACE_DATA = ("cost_benchmarks", "fleets", "rules", "digests", "channels", "outbox")


@pytest.fixture(scope="module")
def market() -> Iterator[FakeMarket]:
    with listening_market() as fake:
        yield fake


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(team_id=TEAM) as fake:
        yield fake


def install(bot: Bot, code: str) -> None:
    start = bot.request("GET", "/slack/install")
    assert start.status == 302, start.body
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    cookie = start.headers["set-cookie"].split(";")[0]
    done = bot.request(
        "GET",
        "/slack/oauth_redirect?" + urlencode({"code": code, "state": state}),
        headers={"Cookie": cookie},
    )
    assert done.status == 200, done.body


def change(bot: Bot, slack: FakeSlack, command: str, text: str, reply_to: str) -> str:
    """An admin's command; its answer, as posted to the response_url."""
    assert bot.command(command, text, reply_to, ADMIN).status == 200
    slack.wait_for(lambda _: slack.responses(reply_to), timeout=10)
    return slack.responses(reply_to)[-1]["text"]


def uninstalled(event_id: str) -> bytes:
    return json.dumps(
        {
            "token": "verification-token-unused",
            "team_id": TEAM,
            "api_app_id": "A0HASHAPP",
            "event": {"type": "app_uninstalled"},
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
        }
    ).encode()


def team_columns(db: Path) -> list[tuple[str, str]]:
    """Every (table, column) naming a workspace, read from the schema itself."""
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [
            (t, c)
            for t in tables
            for c in (r[1] for r in conn.execute(f"PRAGMA table_info([{t}])"))
            if c in ("team_id", "workspace")
        ]
    finally:
        conn.close()


def rows_of_team(db: Path) -> dict[str, int]:
    counts = {}
    for table, column in team_columns(db):
        [(n,)] = db_rows(db, f"SELECT count(*) FROM [{table}] WHERE [{column}] = ?", (TEAM,))
        if n:
            counts[table] = counts.get(table, 0) + n
    return counts


def test_uninstall_deletes_everything_of_the_workspace_but_the_audit_trail(
    tmp_path: Path, market: FakeMarket, slack: FakeSlack
) -> None:
    slack.users[ADMIN] = {"is_admin": True}
    bot = start_bot(tmp_path / "bot", market, slack, **OAUTH)
    try:
        install(bot, "code-1")
        added = change(bot, slack, "/costs", f'add "{LINE_NAME}" cash=61000 source={SOURCE}', "add")
        assert LINE_NAME in added
        change(bot, slack, "/hashfloor", "fleet 17.5 0.05 2", "fleet")
        change(bot, slack, "/hashfloor", "subscribe cash", "subscribe")
        change(bot, slack, "/hashfloor", "digest mon 09:00 Europe/Berlin", "digest")
        change(bot, slack, "/hashfloor", "mute 4h", "mute")
        # A message the bot sent in the workspace, as the delivery worker leaves it.
        conn = sqlite3.connect(bot.db, timeout=10)
        conn.execute(
            "INSERT INTO outbox (key, team_id, channel_id, kind, text, blocks, created_at,"
            " status, sent_at) VALUES ('e2e:sent', ?, 'C0MINING', 'alert', ?, '[]', 1, 'sent', 2)",
            (TEAM, f"BTC fell below {LINE_NAME}"),
        )
        conn.commit()
        conn.close()
        before = rows_of_team(bot.db)
        for table in WORKSPACE_DATA:
            assert before.get(table), f"the test set nothing up in {table}: {before}"
        assert before.get("slack_bots") and before.get("slack_installations")

        body = uninstalled("Ev0UNINSTALL1")
        assert bot.post_events(body, "application/json", sign(body)).status == 200

        deadline = time.monotonic() + 10
        while rows_of_team(bot.db).keys() - {"audit"}:
            assert time.monotonic() < deadline, rows_of_team(bot.db)
            time.sleep(0.05)
        left = rows_of_team(bot.db)
        assert set(left) == {"audit"}  # every other table with a workspace column is empty
        actions = [a for (a,) in db_rows(bot.db, "SELECT action FROM audit ORDER BY id")]
        assert actions[-1] == "uninstall"
        assert "costs.add" in actions  # kept: who changed what, until the retention period
        # Nothing the workspace typed is anywhere but in the audit trail.
        conn = sqlite3.connect(bot.db)
        for table, _ in team_columns(bot.db):
            if table != "audit":
                dump = json.dumps(conn.execute(f"SELECT * FROM [{table}]").fetchall())
                assert LINE_NAME not in dump and SOURCE not in dump, table
        conn.close()

        # Installed again: a clean workspace, none of the old lines, rules or fleet.
        install(bot, "code-2")
        lines = bot.command("/costs", "", "costs").json()["text"]
        assert LINE_NAME not in lines
        status = bot.command("/hashfloor", "status", "status").json()["text"]
        assert "not subscribed" in status and "Muted: no" in status and "Fleets: none set" in status
        again = rows_of_team(bot.db)
        assert again.keys().isdisjoint(WORKSPACE_DATA), again
    finally:
        kill(bot)
