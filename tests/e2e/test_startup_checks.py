"""`hashfloor run` checks its Slack credentials before it starts (DESIGN §10).

Wrong credentials must stop the bot at once with one line naming the variable, not let it start
and fail every change later; Slack being unreachable only warns.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_http_e2e import kill, listening_market, start_bot
from tests.fakes.market import FakeMarket
from tests.fakes.slack import FakeSlack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def run_bot(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HASHFLOOR_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=clean | {"COLUMNS": "200"} | env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_unedited_copy_of_env_example_does_not_start(tmp_path: Path) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    out = run_bot(tmp_path)
    assert out.returncode == 2
    [line] = out.stderr.splitlines()
    assert line.startswith("hashfloor run: SLACK_BOT_TOKEN is still a placeholder")
    assert not (tmp_path / "hashfloor.db").exists()  # nothing was started


def test_a_token_slack_refuses_stops_the_bot_in_one_line(tmp_path: Path, slack: FakeSlack) -> None:
    slack.fail("auth.test", error="invalid_auth", times=None)
    out = run_bot(
        tmp_path,
        SLACK_API_URL=slack.url,
        SLACK_BOT_TOKEN="xoxb-1-2-wrong",
        SLACK_SIGNING_SECRET="0123abcd",
        HASHFLOOR_DB=str(tmp_path / "x.db"),
    )
    assert out.returncode == 2
    [line] = out.stderr.splitlines()
    assert line.startswith("hashfloor run: SLACK_BOT_TOKEN: Slack refused the token (invalid_auth)")
    assert [c.token for c in slack.calls_to("auth.test")] == ["xoxb-1-2-wrong"]
    assert not (tmp_path / "x.db").exists()


@pytest.fixture
def market() -> Iterator[FakeMarket]:
    with listening_market() as fake:
        yield fake


def test_slack_unreachable_starts_with_a_warning(
    tmp_path: Path, market: FakeMarket, slack: FakeSlack
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/api/"
    bot = start_bot(tmp_path / "bot", market, slack, SLACK_API_URL=closed)
    try:
        log = bot.stderr()
        assert "WARNING hashfloor.run: could not reach Slack" in log
        assert "starting anyway" in log
    finally:
        kill(bot)


def test_an_accepted_token_and_the_database_path_are_logged(
    tmp_path: Path, market: FakeMarket, slack: FakeSlack
) -> None:
    # a relative HASHFLOOR_DB: the log says which file that is
    bot = start_bot(tmp_path / "bot", market, slack, HASHFLOOR_DB="data.db")
    try:
        log = bot.stderr()
        assert "SLACK_BOT_TOKEN accepted by Slack: bot @hashfloor in Hashfloor Test" in log
        assert len(slack.calls_to("auth.test")) == 1
        assert f"hashfloor.run: database: {(tmp_path / 'bot' / 'data.db').resolve()}\n" in log
    finally:
        kill(bot)
