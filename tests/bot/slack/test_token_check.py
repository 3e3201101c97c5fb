"""The start-up check of the Slack credentials (DESIGN §10), against the fake Slack on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.slack.token_check import check_bot_token, placeholder_problem
from tests.fakes.slack import FakeSlack

TOKEN = "xoxb-1111-2222-startup"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def settings(tmp_path: Path, api_url: str, **kw: str) -> Settings:
    values = {"slack_bot_token": TOKEN, "slack_signing_secret": "0123abcd"} | kw
    return Settings(hashfloor_db=tmp_path / "t.db", slack_api_url=api_url, **values)


def test_an_accepted_token_starts_and_says_who_the_bot_is(tmp_path: Path, slack: FakeSlack) -> None:
    check = check_bot_token(settings(tmp_path, slack.url))
    assert not check.fatal and not check.warn
    assert check.line == "SLACK_BOT_TOKEN accepted by Slack: bot @hashfloor in Hashfloor Test"
    (call,) = slack.calls_to("auth.test")
    assert call.token == TOKEN


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive"])
def test_a_refused_token_is_fatal_in_one_line_naming_the_variable(
    tmp_path: Path, slack: FakeSlack, error: str
) -> None:
    slack.fail("auth.test", error=error)
    check = check_bot_token(settings(tmp_path, slack.url))
    assert check.fatal
    assert check.line.startswith(f"SLACK_BOT_TOKEN: Slack refused the token ({error})")
    assert "\n" not in check.line


def test_slack_unreachable_warns_and_starts(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/api/"
    check = check_bot_token(settings(tmp_path, closed))
    assert not check.fatal and check.warn
    assert "could not reach Slack" in check.line and "starting anyway" in check.line
    assert "HTTPS_PROXY" in check.line


def test_a_slack_outage_is_not_a_refusal(tmp_path: Path, slack: FakeSlack) -> None:
    slack.fail("auth.test", status=503)
    check = check_bot_token(settings(tmp_path, slack.url))
    assert not check.fatal and check.warn
    assert "starting anyway" in check.line


@pytest.mark.parametrize(
    "values, words",
    [
        ({"slack_bot_token": "xoxb-..."}, ["SLACK_BOT_TOKEN is still a placeholder", "xoxb-"]),
        ({"slack_bot_token": "xoxb-…"}, ["SLACK_BOT_TOKEN is still a placeholder"]),
        ({"slack_signing_secret": "..."}, ["SLACK_SIGNING_SECRET is still a placeholder"]),
        ({"slack_app_token": "xapp-..."}, ["SLACK_APP_TOKEN is still a placeholder"]),
        ({"slack_bot_token": "<your token>"}, ["SLACK_BOT_TOKEN is still a placeholder"]),
        (
            {"slack_bot_token": "xapp-1-A0-1-abc"},
            ["SLACK_BOT_TOKEN does not start with 'xoxb-'", "Bot User OAuth Token"],
        ),
        ({"slack_app_token": "xoxb-1-2-3"}, ["SLACK_APP_TOKEN does not start with 'xapp-'"]),
    ],
)
def test_placeholders_and_wrong_kinds_are_named(
    tmp_path: Path, values: dict[str, str], words: list[str]
) -> None:
    problem = placeholder_problem(settings(tmp_path, "http://127.0.0.1:9/api/", **values))
    assert problem is not None and "\n" not in problem
    assert all(w in problem for w in words), problem


def test_real_looking_credentials_pass(tmp_path: Path) -> None:
    s = settings(
        tmp_path,
        "http://127.0.0.1:9/api/",
        slack_bot_token="xoxb-123-456-abcDEF",
        slack_signing_secret="8f742231b10e8888abcd99yyyzzz85a5",
        slack_app_token="xapp-1-A0-1-abc",
    )
    assert placeholder_problem(s) is None
