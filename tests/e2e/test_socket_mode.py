"""`hashfloor run` in Socket Mode (SLACK_APP_TOKEN) against a fake Socket Mode server on loopback."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.e2e.test_http_e2e import TEAM, TOKEN, Bot, kill, listening_market, start_bot
from tests.fakes.market import FakeMarket
from tests.fakes.signing import slack_headers
from tests.fakes.slack import FakeSlack
from tests.fakes.slash_commands import command_fields
from tests.fakes.socket_mode import FakeSocketMode

pytestmark = pytest.mark.e2e

APP_TOKEN = "xapp-1-A0HASHAPP-1111-socketmodetoken"


def command_payload(
    slack: FakeSlack, command: str, text: str, user: str = "U0MEMBER", reply_to: str = "r"
) -> dict[str, Any]:
    # Socket Mode sends the same fields as the HTTP form, as JSON
    return command_fields(command, text, slack.response_url(reply_to), user, team=TEAM)


@pytest.fixture
def market() -> Iterator[FakeMarket]:
    with listening_market() as fake:
        yield fake


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(team_id=TEAM) as fake:
        yield fake


@pytest.fixture
def socket_mode(slack: FakeSlack) -> Iterator[FakeSocketMode]:
    with FakeSocketMode(slack) as fake:
        yield fake


@pytest.fixture
def bot(
    tmp_path: Path, market: FakeMarket, slack: FakeSlack, socket_mode: FakeSocketMode
) -> Iterator[Bot]:
    running = start_bot(
        tmp_path / "bot",
        market,
        slack,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=socket_mode.url,
        SLACK_SIGNING_SECRET="",  # Socket Mode needs no signing secret
        HASHFLOOR_HOST="127.0.0.1",
    )
    try:
        socket_mode.wait_connected()
        # the start-up check of the bot token (DESIGN §10); the tests count what comes after it
        assert [c.token for c in slack.calls_to("auth.test")] == [TOKEN]
        slack.reset()
        yield running
    finally:
        kill(running)


def test_connects_with_the_app_token(bot: Bot, socket_mode: FakeSocketMode) -> None:
    assert socket_mode.opened == [APP_TOKEN]
    assert "connected to Slack in Socket Mode" in bot.stderr()
    assert bot.healthz().status == 200  # /healthz still served on PORT
    assert f"listening on 127.0.0.1:{bot.port} (socket mode) — /healthz" in bot.stderr()
    ready = bot.request("GET", "/readyz")
    assert ready.status == 200
    assert ready.json()["socket_mode_connected"] is True and ready.json()["role"] == "scheduler"


@pytest.mark.parametrize("secret", ["", "anything"])
def test_no_slack_route_over_http(bot: Bot, slack: FakeSlack, secret: str) -> None:
    """A forged command on PORT (signed with the empty secret Socket Mode runs with) is a 404."""
    slack.users["U0BOSS"] = {"is_admin": True}
    fields = command_fields("/costs", 'add "Mallory" cash=1', slack.response_url("evil"), "U0BOSS")
    body = urlencode(fields).encode()
    form = "application/x-www-form-urlencoded"
    answer = bot.post_events(body, form, slack_headers(body, secret))
    assert answer.status == 404
    assert bot.request("GET", "/slack/install").status == 404
    time.sleep(0.3)
    assert slack.calls == [] and slack.responses("evil") == []
    assert "Traceback" not in bot.stderr()


def test_breakeven_answer_comes_back_in_the_ack(
    bot: Bot, slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    eid = socket_mode.send("slash_commands", command_payload(slack, "/breakeven", "20 0.06 2"))
    ack = socket_mode.ack(eid)
    assert ack["envelope_id"] == eid
    assert ack["payload"]["text"] == (
        "20 J/TH at $0.06/kWh, pool fee 2%: breakeven BTC price $70,605, "
        "breakeven power price $0.0773/kWh"
    )
    assert ack["payload"]["response_type"] == "ephemeral"
    assert ack["payload"]["blocks"][1]["fields"][0]["text"] == "*Breakeven BTC price*\n$70,605"
    time.sleep(0.2)
    assert slack.calls == [] and slack.responses("r") == []


def test_bad_text_is_answered_in_the_ack(
    bot: Bot, slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    eid = socket_mode.send("slash_commands", command_payload(slack, "/hashprice", "<!channel>"))
    assert "I could not read `&lt;!channel&gt;`" in socket_mode.ack(eid)["payload"]["text"]


def test_a_change_acks_empty_and_answers_at_the_response_url(
    bot: Bot, slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    slack.users["U0BOSS"] = {"is_admin": True}
    payload = command_payload(slack, "/hashfloor", "fleet 17.5 0.05 2", "U0BOSS", "fleet")
    eid = socket_mode.send("slash_commands", payload)
    assert socket_mode.ack(eid) == {"envelope_id": eid}
    slack.wait_for(lambda _: slack.responses("fleet"))
    assert slack.responses("fleet")[0]["text"].startswith(
        "Fleet main set: 17.5 J/TH at $0.05/kWh, pool fee 2%. It breaks even at $51,483"
    )
    # users.info went through the fake's Web API front to FakeSlack, with the bot token
    (lookup,) = slack.calls_to("users.info")
    assert lookup.token == TOKEN and lookup.args["user"] == "U0BOSS"


def test_a_command_sent_twice_is_applied_once(
    bot: Bot, slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    """The same slash command (same trigger_id) delivered again, as Slack may on a reconnect:
    the second copy is answered in its ack and changes nothing (DESIGN §9, once per trigger)."""
    slack.users["U0BOSS"] = {"is_admin": True}
    payload = command_payload(slack, "/costs", 'add "Acme" cash=61000', "U0BOSS", "add")
    first = socket_mode.send("slash_commands", payload)
    assert socket_mode.ack(first) == {"envelope_id": first}
    slack.wait_for(lambda _: slack.responses("add"))
    again = socket_mode.send("slash_commands", payload)
    ack = socket_mode.ack(again)
    assert ack["payload"]["text"].startswith("That command was already carried out once")
    assert ack["payload"]["response_type"] == "ephemeral"
    time.sleep(0.3)
    assert [r["text"][:12] for r in slack.responses("add")] == ["Added *Acme*"]
    listed = socket_mode.send("slash_commands", command_payload(slack, "/costs", ""))
    assert "1 of this workspace's own" in socket_mode.ack(listed)["payload"]["text"]


def test_a_redelivered_event_is_handled_once(
    bot: Bot, slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    event = {
        "token": "verification-token-unused",
        "team_id": TEAM,
        "api_app_id": "A0HASHAPP",
        "event": {
            "type": "app_home_opened",
            "user": "U0MEMBER",
            "channel": "D0HOME",
            "tab": "home",
        },
        "type": "event_callback",
        "event_id": "Ev0SOCKET",
        "event_time": 1_764_000_000,
    }
    first = socket_mode.send("events_api", event)
    socket_mode.ack(first)
    slack.wait_for(lambda calls: [c for c in calls if c.method == "views.publish"])
    again = socket_mode.send("events_api", event, retry_attempt=1, retry_reason="timeout")
    socket_mode.ack(again)
    time.sleep(0.3)
    assert len(slack.calls_to("views.publish")) == 1


def test_sigterm_stops_cleanly(bot: Bot, slack: FakeSlack, socket_mode: FakeSocketMode) -> None:
    eid = socket_mode.send("slash_commands", command_payload(slack, "/hashprice", ""))
    assert json.dumps(socket_mode.ack(eid)).count("Hashprice $37.88/PH/day") >= 1
    bot.close()
    bot.proc.send_signal(signal.SIGTERM)
    assert bot.proc.wait(15) == 0
    assert bot.stderr().rstrip().endswith("stopped")
