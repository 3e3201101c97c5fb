"""The listeners through a real Bolt app (bot.slack.app.build_app), its Web API client on FakeSlack.

Requests are signed the way Slack signs them (v0, HMAC-SHA256 of `v0:{timestamp}:{body}`) and go
through App.dispatch, so Bolt's own request verification, URL verification and ack handling run.
A few go through the WSGI app served by waitress on loopback.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.alerts.messages import SNOOZE_ACTION
from bot.server import HttpServer
from bot.service import Hashfloor
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.http import WsgiApp
from storage import alerts, audit, costs, digests, seen_events, snapshots, workspaces
from tests.fakes.signing import slack_headers
from tests.fakes.slack import FakeSlack
from tests.fakes.slash_commands import command_fields
from tests.fakes.snapshots import design_snapshot

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-1111-2222-listener"
TEAM = "T0HASHFLR"
LISTED = "U0LISTED"  # in HASHFLOOR_ADMINS
NOW = 1_764_000_000.0


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(team_id=TEAM) as fake:
        yield fake


@pytest.fixture
def service(tmp_path: Path, slack: FakeSlack) -> Iterator[Hashfloor]:
    settings = Settings(
        hashfloor_db=tmp_path / "listeners.db",
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.url,
        hashfloor_admins=f"{LISTED}, U0OTHER",
    )
    svc = Hashfloor(settings, clock=lambda: NOW)
    svc.migrate()
    snapshots.insert(svc.storage.db, design_snapshot(NOW - 42))
    yield svc
    svc.close()


@pytest.fixture
def app(service: Hashfloor) -> App:
    return build_app(service)


# --- requests as Slack sends them ------------------------------------------------------------


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    return {k.lower(): v for k, v in slack_headers(body, secret, timestamp).items()}


def command_body(
    slack: FakeSlack, command: str, text: str, user: str = "U0MEMBER", reply_to: str = "r"
) -> str:
    return urlencode(command_fields(command, text, slack.response_url(reply_to), user, team=TEAM))


def form_headers(body: str, **kw: Any) -> dict[str, str]:
    return {"content-type": "application/x-www-form-urlencoded", **sign(body, **kw)}


def dispatch(app: App, body: str, headers: dict[str, str]) -> BoltResponse:
    return app.dispatch(BoltRequest(body=body, headers=headers))


def command(
    app: App, slack: FakeSlack, name: str, text: str, user: str = "U0MEMBER", reply_to: str = "r"
) -> BoltResponse:
    body = command_body(slack, name, text, user, reply_to)
    return dispatch(app, body, form_headers(body))


def reply_at(slack: FakeSlack, name: str) -> dict[str, Any]:
    """The one message POSTed to response_url(name)."""
    slack.wait_for(lambda _: slack.responses(name))
    (posted,) = slack.responses(name)
    return posted


def audit_rows(service: Hashfloor) -> list[tuple[str, str, str]]:
    return [(r["team_id"], r["user_id"], r["action"]) for r in audit.recent(service.storage.db)]


# --- signatures ------------------------------------------------------------------------------


def test_a_signed_read_answers_in_the_ack_without_calling_slack(app: App, slack: FakeSlack) -> None:
    resp = command(app, slack, "/breakeven", "20 0.06 2")
    assert resp.status == 200
    assert resp.headers["content-type"][0].startswith("application/json")
    body = json.loads(resp.body)
    assert body["text"] == (
        "20 J/TH at $0.06/kWh, pool fee 2%: breakeven BTC price $70,605, "
        "breakeven power price $0.0773/kWh"
    )
    assert body["response_type"] == "ephemeral"
    assert body["blocks"][1]["fields"][0]["text"] == "*Breakeven BTC price*\n$70,605"
    # reads never touch the network: no users.info, no response_url
    time.sleep(0.2)
    assert slack.calls == [] and slack.responses("r") == []


def test_slack_signing_example_matches(app: App) -> None:
    # our signer agrees with slack_sdk's verifier, so "signed as Slack signs" is not our own idea
    body = "token=x&command=%2Fbreakeven&text="
    headers = sign(body, timestamp=int(time.time()))
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(
        body, headers["x-slack-request-timestamp"], headers["x-slack-signature"]
    )
    assert headers["x-slack-signature"] == verifier.generate_signature(
        timestamp=headers["x-slack-request-timestamp"], body=body
    )


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no signature"),
        pytest.param({"x-slack-request-timestamp": "{now}"}, id="timestamp only"),
        pytest.param({"x-slack-signature": "v0=00"}, id="signature only"),
        pytest.param({"wrong_secret": True}, id="wrong secret"),
        pytest.param({"age": 301}, id="older than five minutes"),
        pytest.param({"age": 3600}, id="an hour old"),
        pytest.param({"age": -301}, id="five minutes in the future"),
        pytest.param({"tamper": True}, id="body changed after signing"),
    ],
)
def test_bad_signatures_are_refused_with_401_and_do_nothing(
    app: App, slack: FakeSlack, service: Hashfloor, headers: dict[str, Any]
) -> None:
    body = command_body(slack, "/costs", 'add "Mallory" cash=61000', user=LISTED)
    now = int(time.time())
    if "wrong_secret" in headers:
        sent = sign(body, secret="not-the-secret")
    elif "age" in headers:
        sent = sign(body, timestamp=now - headers["age"])
    elif "tamper" in headers:
        sent = sign(body)
        body = body.replace("Mallory", "Mallor2")
    else:
        sent = {k: v.format(now=now) for k, v in headers.items()}
    resp = dispatch(app, body, {"content-type": "application/x-www-form-urlencoded", **sent})
    assert resp.status == 401
    time.sleep(0.2)
    assert slack.calls == [] and slack.responses("r") == []
    assert audit_rows(service) == []
    assert len(costs.all_rows(service.storage.db, TEAM)) == 10


def test_a_timestamp_within_five_minutes_is_accepted(app: App, slack: FakeSlack) -> None:
    body = command_body(slack, "/hashprice", "")
    resp = dispatch(app, body, form_headers(body, timestamp=int(time.time()) - 240))
    assert resp.status == 200
    assert json.loads(resp.body)["text"].startswith("Hashprice $37.88/PH/day")


def test_url_verification_and_ssl_check(app: App) -> None:
    body = json.dumps(
        {
            "token": "x",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    resp = dispatch(app, body, {"content-type": "application/json", **sign(body)})
    assert resp.status == 200
    assert json.loads(resp.body)["challenge"].startswith("3eZbrw1a")
    resp = dispatch(app, body, {"content-type": "application/json"})
    assert resp.status == 401
    body = urlencode({"ssl_check": "1", "token": "x"})
    assert dispatch(app, body, form_headers(body)).status == 200


# --- reads and changes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "starts"),
    [
        ("/breakeven", "", "BTC $91,000: +22.0% vs CoinShares cash cost (2025-Q2)"),
        (
            "/breakeven",
            "17.5 J/TH 5c 2%",
            "17.5 J/TH at $0.05/kWh, pool fee 2%: breakeven BTC price $51,483",
        ),
        ("/hashprice", "", "Hashprice $37.88/PH/day"),
        ("/costs", "", "10 shipped benchmarks"),
        ("/hashfloor", "status", "Hashfloor status\nAlerts: this channel is not subscribed"),
        ("/hashfloor", "", "Hashfloor — BTC price"),
        ("/breakeven", "17.5 <!channel>", "I could not read `&lt;!channel&gt;`"),
    ],
)
def test_reads_answer_in_the_ack(
    app: App, slack: FakeSlack, name: str, text: str, starts: str
) -> None:
    resp = command(app, slack, name, text)
    assert resp.status == 200
    assert json.loads(resp.body)["text"].startswith(starts)
    assert slack.calls_to("users.info") == []


def test_share_answers_in_channel(app: App, slack: FakeSlack) -> None:
    body = json.loads(command(app, slack, "/breakeven", "share 20 0.06 2").body)
    assert body["response_type"] == "in_channel"


def test_a_change_acks_empty_then_answers_at_the_response_url(
    app: App, slack: FakeSlack, service: Hashfloor
) -> None:
    slack.users["U0BOSS"] = {"is_admin": True}
    resp = command(app, slack, "/costs", 'add "Acme <b>" cash=$61k', user="U0BOSS", reply_to="add")
    assert resp.status == 200 and resp.body == ""
    posted = reply_at(slack, "add")
    assert posted["text"] == "Added *Acme &lt;b&gt;*: `#11` cash cost $61,000"
    assert posted["response_type"] == "ephemeral"
    assert posted["blocks"][0]["text"]["text"].startswith(":white_check_mark: Added")
    (lookup,) = slack.calls_to("users.info")
    assert lookup.args["user"] == "U0BOSS" and lookup.token == TOKEN
    assert audit_rows(service) == [(TEAM, "U0BOSS", "costs.add")]
    detail = json.loads(audit.recent(service.storage.db)[0]["detail"])
    assert detail == {
        "id": 11,
        "name": "Acme <b>",
        "kind": "cash",
        "value_usd": 61000.0,
        "quarter": None,
    }
    # the new line shows in the next read, for this workspace
    body = json.loads(command(app, slack, "/breakeven", "").body)
    assert "vs Acme &lt;b&gt; cash cost" in body["text"]


def test_bad_text_in_a_change_is_answered_at_the_response_url(
    app: App, slack: FakeSlack, service: Hashfloor
) -> None:
    slack.users["U0BOSS"] = {"is_admin": True}
    resp = command(app, slack, "/costs", 'add "Acme" cash=<!here>', user="U0BOSS", reply_to="bad")
    assert resp.status == 200
    posted = reply_at(slack, "bad")
    assert "I could not read `&lt;!here&gt;`" in posted["text"]
    assert audit_rows(service) == []


# --- permissions -----------------------------------------------------------------------------

ADMIN_CHANGES = [
    ("/costs", 'add "Acme" cash=61000', "costs.add", "Added *Acme*"),
    ("/hashfloor", "fleet 17.5 0.05 2", "fleet.set", "Fleet main set: 17.5 J/TH"),
]


@pytest.mark.parametrize(
    ("user", "fields"),
    [
        ("U0ADMIN", {"is_admin": True}),
        ("U0OWNER", {"is_owner": True}),
        ("U0PRIMARY", {"is_owner": True, "is_primary_owner": True}),
        (LISTED, {}),  # a plain member listed in HASHFLOOR_ADMINS
    ],
)
@pytest.mark.parametrize(("name", "text", "action", "answer"), ADMIN_CHANGES)
def test_admins_owners_and_listed_users_may_change_workspace_settings(
    app: App,
    slack: FakeSlack,
    service: Hashfloor,
    user: str,
    fields: dict[str, Any],
    name: str,
    text: str,
    action: str,
    answer: str,
) -> None:
    slack.users[user] = fields
    command(app, slack, name, text, user=user, reply_to="ok")
    assert reply_at(slack, "ok")["text"].startswith(answer)
    assert audit_rows(service) == [(TEAM, user, action)]


REFUSALS = [
    ("U0MEMBER", {}, "Only workspace admins and owners (or users in HASHFLOOR_ADMINS)"),
    ("U0GUEST", {"is_restricted": True}, "Guests cannot change Hashfloor settings."),
    ("U0SINGLE", {"is_ultra_restricted": True, "is_restricted": True}, "Guests cannot change"),
    ("U0ULTRA", {"is_ultra_restricted": True}, "Guests cannot change"),
    ("U0GUESTADM", {"is_restricted": True, "is_admin": True}, "Guests cannot change"),
    ("U0EXT", {"is_stranger": True}, "People from other organisations cannot change"),
    ("U0EXTADM", {"is_stranger": True, "is_admin": True}, "People from other organisations"),
]


@pytest.mark.parametrize(("user", "fields", "why"), REFUSALS)
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("/costs", 'add "Acme" cash=61000'),
        ("/costs", "remove 10"),
        ("/hashfloor", "fleet 17.5 0.05 2"),
        ("/hashfloor", "fleet off"),
        ("/hashfloor", "currency EUR"),
        ("/hashfloor", "hpc 150"),
        ("/hashfloor", "hpc off"),
    ],
)
def test_others_may_not_change_workspace_settings(
    app: App,
    slack: FakeSlack,
    service: Hashfloor,
    user: str,
    fields: dict[str, Any],
    why: str,
    name: str,
    text: str,
) -> None:
    slack.users[user] = fields
    command(app, slack, name, text, user=user, reply_to="no")
    posted = reply_at(slack, "no")
    assert posted["text"].startswith(why)
    assert posted["blocks"][0]["text"]["text"].startswith(":lock:")
    assert audit_rows(service) == []
    assert len(costs.all_rows(service.storage.db, TEAM)) == 10
    assert workspaces.get_fleet(service.storage.db, TEAM) is None
    assert workspaces.get_currency(service.storage.db, TEAM) == "USD"
    assert workspaces.get_hpc_lease(service.storage.db, TEAM) is None


@pytest.mark.parametrize(("user", "fields", "why"), REFUSALS[1:])
@pytest.mark.parametrize(
    "text",
    [
        "mute 4h",
        "threads off",
        "subscribe adjustment 5",
        "subscribe hashprice below 30",
        "subscribe cash within 5%",
    ],
)
def test_guests_and_strangers_cannot_even_mute(
    app: App,
    slack: FakeSlack,
    service: Hashfloor,
    user: str,
    fields: dict[str, Any],
    why: str,
    text: str,
) -> None:
    """Nor change the channel's other settings, nor subscribe it to any kind of rule: nothing is
    saved and nothing is posted in the channel."""
    slack.users[user] = fields
    command(app, slack, "/hashfloor", text, user=user, reply_to="mute")
    assert reply_at(slack, "mute")["text"].startswith(why)
    db = service.storage.db
    assert workspaces.muted_until(db, TEAM, "C0MINING", NOW) is None
    assert workspaces.threads_on(db, TEAM, "C0MINING")
    assert alerts.channel_rules(db, TEAM, "C0MINING") == []
    assert slack.calls_to("chat.postMessage") == []
    assert audit_rows(service) == []


def test_members_may_mute_their_channel(app: App, slack: FakeSlack, service: Hashfloor) -> None:
    command(app, slack, "/hashfloor", "mute 4h", reply_to="mute")
    assert reply_at(slack, "mute")["text"].startswith("Muted until 2025-11-24 20:00 UTC")
    assert workspaces.muted_until(service.storage.db, TEAM, "C0MINING", NOW) == NOW + 4 * 3600
    assert audit_rows(service) == [(TEAM, "U0MEMBER", "channel.mute")]


@pytest.mark.parametrize("private", [False, True])
def test_subscribing_where_the_bot_cannot_post_saves_nothing_and_says_invite(
    app: App, slack: FakeSlack, service: Hashfloor, private: bool
) -> None:
    slack.channels["C0MINING"] = {"is_member": False, "is_private": private}
    resp = command(app, slack, "/hashfloor", "subscribe", reply_to="no")
    assert resp.status == 200 and resp.body == ""  # the post to the channel came after the ack
    reply = reply_at(slack, "no")
    assert "`/invite @Hashfloor`" in reply["text"] and "Nothing was saved" in reply["text"]
    assert reply["response_type"] == "ephemeral"
    (refused,) = slack.calls_to("chat.postMessage")
    assert refused.response["error"] == ("channel_not_found" if private else "not_in_channel")
    assert alerts.channel_rules(service.storage.db, TEAM, "C0MINING") == []
    assert audit_rows(service) == []


def test_a_subscription_is_confirmed_in_the_channel_for_everyone(
    app: App, slack: FakeSlack, service: Hashfloor
) -> None:
    slack.channels["C0MINING"] = {"is_member": False}
    command(app, slack, "/hashfloor", "subscribe", reply_to="before")
    reply_at(slack, "before")
    slack.channels["C0MINING"]["is_member"] = True  # /invite @Hashfloor
    command(app, slack, "/hashfloor", "subscribe", reply_to="after")
    reply = reply_at(slack, "after")
    assert reply["text"].startswith("Subscribed: the confirmation is posted in this channel")
    (posted,) = slack.messages("C0MINING")
    assert posted["text"].startswith("<@U0MEMBER> subscribed this channel. BTC $91,000 is")
    blocks = posted["blocks"]
    assert blocks[0]["text"]["text"].startswith(":bell: *<@U0MEMBER> subscribed this channel*")
    assert (
        "all-in cost (2025-Q2) ($137,800): you will be alerted when it recovers"
        in (blocks[1]["text"]["text"])
    )
    rules = alerts.channel_rules(service.storage.db, TEAM, "C0MINING")
    assert [(r["line_key"], r["state"]) for r in rules] == [("cash", "above"), ("allin", "below")]
    assert audit_rows(service) == [(TEAM, "U0MEMBER", "subscribe")]


def test_users_info_is_asked_once_per_user(app: App, slack: FakeSlack) -> None:
    slack.users["U0BOSS"] = {"is_admin": True}
    for i in range(3):
        command(app, slack, "/hashfloor", f"fleet {17 + i} 0.05", user="U0BOSS", reply_to=f"f{i}")
        reply_at(slack, f"f{i}")
    command(app, slack, "/hashfloor", "mute 1h", user="U0MEMBER", reply_to="m")
    reply_at(slack, "m")
    assert [c.args["user"] for c in slack.calls_to("users.info")] == ["U0BOSS", "U0MEMBER"]


def test_when_slack_cannot_say_who_someone_is_nothing_changes(
    app: App, slack: FakeSlack, service: Hashfloor
) -> None:
    slack.fail("users.info", times=None, error="user_not_found")
    command(app, slack, "/hashfloor", "mute 4h", user="U0NOBODY", reply_to="mute")
    assert "could not check who you are" in reply_at(slack, "mute")["text"]
    command(app, slack, "/costs", 'add "X" cash=61000', user="U0NOBODY", reply_to="add")
    assert "could not check who you are" in reply_at(slack, "add")["text"]
    assert audit_rows(service) == []
    # a user the operator listed in HASHFLOOR_ADMINS does not depend on Slack's answer
    command(app, slack, "/costs", 'add "X" cash=61000', user=LISTED, reply_to="listed")
    assert reply_at(slack, "listed")["text"].startswith("Added *X*")
    assert audit_rows(service) == [(TEAM, LISTED, "costs.add")]


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive"])
def test_a_refused_bot_token_is_named_not_try_again_later(
    app: App, slack: FakeSlack, service: Hashfloor, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Retrying cannot help here, so the user learns whom to ask instead of "try again in a minute".
    slack.fail("users.info", times=None, error=error)
    command(app, slack, "/hashfloor", "mute 4h", user="U0MEMBER", reply_to="mute")
    text = reply_at(slack, "mute")["text"]
    assert "Slack refused the bot's token — ask whoever installed Hashfloor" in text
    assert "try again" not in text
    assert audit_rows(service) == []
    assert f"Slack refused the bot token ({error})" in caplog.text


# --- Slack Connect: people of another organisation read, and change nothing ------------------

# A partner's member in a shared channel: Slack sets is_stranger only for users in *no* shared
# channel, so only their own team_id (or enterprise on Grid) tells them apart.
OUTSIDERS = [
    ("U0PARTNER", {}),
    ("U0PARTADM", {"is_admin": True}),  # their own organisation's admin
    ("U0PARTOWN", {"is_owner": True, "is_primary_owner": True}),
    ("U0GRIDADM", {"enterprise_id": "E0PARTNER", "is_admin": True}),
]
OUTSIDER_WHY = "People from other organisations cannot change Hashfloor here."


def subscribed(app: App, slack: FakeSlack) -> None:
    command(app, slack, "/hashfloor", "subscribe cash", reply_to="member-sub")
    assert reply_at(slack, "member-sub")["text"].startswith("Subscribed")


@pytest.mark.parametrize(("user", "fields"), OUTSIDERS)
@pytest.mark.parametrize(
    "text", ["mute 4h", "unmute", "subscribe allin", "unsubscribe cash", "digest off"]
)
def test_a_partner_in_a_shared_channel_changes_nothing_of_the_channel(
    app: App, slack: FakeSlack, service: Hashfloor, user: str, fields: dict[str, Any], text: str
) -> None:
    subscribed(app, slack)
    slack.external_user(user, **fields)
    command(app, slack, "/hashfloor", text, user=user, reply_to="outsider")
    posted = reply_at(slack, "outsider")
    assert posted["text"] == OUTSIDER_WHY
    db = service.storage.db
    assert [r["line_key"] for r in alerts.channel_rules(db, TEAM, "C0MINING")] == ["cash"]
    assert workspaces.muted_until(db, TEAM, "C0MINING", NOW) is None
    assert digests.get(db, TEAM, "C0MINING") is None
    assert [a for _, who, a in audit_rows(service) if who == user] == []


@pytest.mark.parametrize(("user", "fields"), OUTSIDERS)
@pytest.mark.parametrize(
    ("name", "text"),
    [("/costs", 'add "Acme" cash=61000'), ("/costs", "remove 10"), ("/hashfloor", "fleet 17 0.05")],
)
def test_a_partners_admin_cannot_change_workspace_settings(
    app: App,
    slack: FakeSlack,
    service: Hashfloor,
    user: str,
    fields: dict[str, Any],
    name: str,
    text: str,
) -> None:
    slack.external_user(user, **fields)
    command(app, slack, name, text, user=user, reply_to="outsider")
    assert reply_at(slack, "outsider")["text"] == OUTSIDER_WHY
    assert len(costs.all_rows(service.storage.db, TEAM)) == 10
    assert workspaces.get_fleet(service.storage.db, TEAM) is None
    assert audit_rows(service) == []


def test_a_partner_still_reads(app: App, slack: FakeSlack) -> None:
    slack.external_user("U0PARTNER", is_admin=True)
    for name, text in [("/breakeven", ""), ("/costs", ""), ("/hashfloor", "status")]:
        resp = command(app, slack, name, text, user="U0PARTNER")
        assert resp.status == 200 and json.loads(resp.body)["text"]
        assert OUTSIDER_WHY not in resp.body
    assert slack.calls_to("users.info") == []  # reads never ask who someone is


def test_a_member_of_another_workspace_of_the_same_grid_org_is_not_external(
    app: App, slack: FakeSlack, service: Hashfloor
) -> None:
    """On Enterprise Grid the organisation is the enterprise: a home workspace of the same org
    is not another organisation."""
    slack.external_user("U0GRIDMATE", "T0SISTER", enterprise_id="E0HASHFLR", is_admin=True)
    body = urlencode(
        command_fields("/hashfloor", "fleet 17 0.05", slack.response_url("grid"), "U0GRIDMATE")
        | {"enterprise_id": "E0HASHFLR"}
    )
    dispatch(app, body, form_headers(body))
    assert reply_at(slack, "grid")["text"].startswith("Fleet main set")
    # …and a partner on another Grid org is external whatever their team says.
    slack.external_user("U0OTHERORG", TEAM, enterprise_id="E0PARTNER", is_admin=True)
    body = urlencode(
        command_fields("/hashfloor", "fleet off", slack.response_url("other"), "U0OTHERORG")
        | {"enterprise_id": "E0HASHFLR"}
    )
    dispatch(app, body, form_headers(body))
    assert reply_at(slack, "other")["text"] == OUTSIDER_WHY


def user_change_body(user: str, event_id: str, **fields: Any) -> str:
    return json.dumps(
        {
            "token": "verification-token-unused",
            "team_id": TEAM,
            "api_app_id": "A0HASHAPP",
            "event": {
                "type": "user_change",
                "user": {"id": user, "team_id": TEAM, **fields},
                "event_ts": "1764000000.000200",
                "cache_ts": 1764000000,
            },
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1764000000,
            "authorizations": [{"team_id": TEAM, "user_id": "U0HASHBOT", "is_bot": True}],
        }
    )


def test_a_role_change_takes_effect_at_once(app: App, slack: FakeSlack, service: Hashfloor) -> None:
    slack.users["U0BOSS"] = {"is_admin": True}
    command(app, slack, "/hashfloor", "fleet 17 0.05", user="U0BOSS", reply_to="before")
    assert reply_at(slack, "before")["text"].startswith("Fleet main set")
    # Demoted, then made a guest: Slack sends user_change; the cached answer must not outlive it.
    slack.users["U0BOSS"] = {"is_restricted": True}
    body = user_change_body("U0BOSS", "Ev0DEMOTED", is_restricted=True)
    assert dispatch(app, body, event_headers(body)).status == 200
    command(app, slack, "/hashfloor", "fleet off", user="U0BOSS", reply_to="after")
    assert reply_at(slack, "after")["text"] == "Guests cannot change Hashfloor settings."
    assert workspaces.get_fleet(service.storage.db, TEAM) is not None
    assert [c.args["user"] for c in slack.calls_to("users.info")] == ["U0BOSS", "U0BOSS"]


# --- events: a retried delivery has no second side effect ------------------------------------


def event_body(event_id: str, user: str = "U0MEMBER") -> str:
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
            "event_time": 1764000000,
            "authorizations": [{"team_id": TEAM, "user_id": "U0HASHBOT", "is_bot": True}],
        }
    )


def record_what_passes(app: App) -> list[str]:
    """Event ids that get past the app's own middleware to the listeners (ours runs last)."""
    passed: list[str] = []

    @app.middleware
    def recorder(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
        if body.get("type") == "event_callback":
            passed.append(body["event_id"])
        return next()

    return passed


def event_headers(body: str, retry: str | None = None) -> dict[str, str]:
    headers = {"content-type": "application/json", **sign(body)}
    if retry is not None:
        headers |= {"x-slack-retry-num": retry, "x-slack-retry-reason": "http_timeout"}
    return headers


def test_a_retried_event_is_handled_once(app: App, service: Hashfloor) -> None:
    passed = record_what_passes(app)
    body = event_body("Ev0FIRST")
    assert dispatch(app, body, event_headers(body)).status == 200
    for retry in ("1", "2", "3"):
        resp = dispatch(app, body, event_headers(body, retry))
        assert resp.status == 200 and resp.body == ""
    other = event_body("Ev0SECOND")
    assert dispatch(app, other, event_headers(other)).status == 200
    assert passed == ["Ev0FIRST", "Ev0SECOND"]
    assert not seen_events.first_time(service.storage.db, "Ev0FIRST", NOW)


def test_a_retry_whose_first_delivery_never_arrived_is_handled(app: App) -> None:
    passed = record_what_passes(app)
    body = event_body("Ev0LOST")
    assert dispatch(app, body, event_headers(body, retry="1")).status == 200
    assert dispatch(app, body, event_headers(body, retry="2")).status == 200
    assert passed == ["Ev0LOST"]


def test_an_unsigned_event_is_refused_and_not_recorded(app: App, service: Hashfloor) -> None:
    body = event_body("Ev0FORGED")
    assert dispatch(app, body, {"content-type": "application/json"}).status == 401
    assert seen_events.first_time(service.storage.db, "Ev0FORGED", NOW)


# --- once per trigger: a replayed command or click changes nothing ----------------------------


def own_lines(service: Hashfloor) -> list[str]:
    return [r["name"] for r in costs.all_rows(service.storage.db, TEAM) if r["workspace"]]


@pytest.mark.parametrize("resign", [False, True], ids=["same signature", "signed again"])
def test_a_replayed_change_is_applied_once(
    app: App, slack: FakeSlack, service: Hashfloor, resign: bool
) -> None:
    """Issue 10.6: a captured signed `/costs add`, sent again inside the 5-minute window, added
    the row again. The copy is answered and changes nothing, whether its headers are the captured
    ones or freshly signed (the trigger_id is the same)."""
    body = command_body(slack, "/costs", 'add "Acme" cash=61000', user=LISTED, reply_to="add")
    headers = form_headers(body)
    assert dispatch(app, body, headers).status == 200
    assert reply_at(slack, "add")["text"].startswith("Added *Acme*")
    again = dispatch(app, body, form_headers(body) if resign else headers)
    assert again.status == 200
    answer = json.loads(again.body)
    assert answer["response_type"] == "ephemeral"
    assert (
        answer["text"]
        == "That command was already carried out once; this copy of it changed nothing."
    )
    time.sleep(0.2)  # a lazy listener, had one started, would have answered by now
    assert len(slack.responses("add")) == 1
    assert own_lines(service) == ["Acme"]
    assert audit_rows(service) == [(TEAM, LISTED, "costs.add")]


@pytest.mark.parametrize(
    ("name", "text", "action"),
    [
        ("/hashfloor", '"currency" EUR', "currency.set"),
        ("/hashfloor", "'threads' off", "channel.threads"),
        ("/costs", '"add" "Acme" cash=61000', "costs.add"),
    ],
)
def test_a_quoted_change_is_a_change_applied_once(
    app: App, slack: FakeSlack, service: Hashfloor, name: str, text: str, action: str
) -> None:
    """The commands split their text as a shell does (`"threads" off` runs as `threads off`), but
    the read/change test split on spaces: a quoted subcommand was answered as a read, in the ack,
    and a replay of it (same trigger_id) was applied again. Now it is a change, applied once."""
    body = command_body(slack, name, text, user=LISTED, reply_to="q")
    first = dispatch(app, body, form_headers(body))
    assert first.status == 200
    assert not first.body  # the empty ack of a change; the answer goes to the response_url
    assert "could not" not in reply_at(slack, "q")["text"]
    again = dispatch(app, body, form_headers(body))
    assert json.loads(again.body)["text"] == (
        "That command was already carried out once; this copy of it changed nothing."
    )
    time.sleep(0.2)  # a lazy listener, had one started, would have answered by now
    assert len(slack.responses("q")) == 1
    assert audit_rows(service) == [(TEAM, LISTED, action)]


def test_the_same_text_typed_twice_is_two_triggers(
    app: App, slack: FakeSlack, service: Hashfloor
) -> None:
    for reply_to in ("first", "second"):
        command(app, slack, "/costs", 'add "Acme" cash=61000', user=LISTED, reply_to=reply_to)
        assert reply_at(slack, reply_to)["text"].startswith("Added *Acme*")
    assert own_lines(service) == ["Acme", "Acme"]


def test_a_replayed_read_is_answered_again(app: App, slack: FakeSlack) -> None:
    body = command_body(slack, "/hashprice", "")
    first = dispatch(app, body, form_headers(body))
    second = dispatch(app, body, form_headers(body))
    assert json.loads(first.body)["text"] == json.loads(second.body)["text"]
    assert json.loads(second.body)["text"].startswith("Hashprice")


def click_body(slack: FakeSlack, action_ts: str, trigger: str, reply_to: str) -> str:
    """A block_actions payload for the Snooze 24h button of an alert, as Slack sends it."""
    payload = {
        "type": "block_actions",
        "user": {"id": "U0MEMBER", "username": "u0member", "team_id": TEAM},
        "api_app_id": "A0HASHAPP",
        "token": "verification-token",
        "container": {
            "type": "message",
            "message_ts": "1764000000.000100",
            "channel_id": "C0MINING",
        },
        "trigger_id": trigger,
        "team": {"id": TEAM, "domain": "hashfloor-test"},
        "channel": {"id": "C0MINING", "name": "mining"},
        "response_url": slack.response_url(reply_to),
        "actions": [
            {
                "action_id": SNOOZE_ACTION,
                "block_id": "alert",
                "text": {"type": "plain_text", "text": "Snooze 24h"},
                "value": "C0MINING",
                "type": "button",
                "action_ts": action_ts,
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def test_a_replayed_click_is_applied_once(app: App, slack: FakeSlack, service: Hashfloor) -> None:
    body = click_body(slack, "1764000001.000200", "111.222.aaa", "snooze")
    assert dispatch(app, body, form_headers(body)).status == 200
    assert reply_at(slack, "snooze")["text"].startswith("Muted until")
    for headers in (form_headers(body), form_headers(body, timestamp=int(time.time()) - 60)):
        assert dispatch(app, body, headers).status == 200
    time.sleep(0.2)
    assert len(slack.responses("snooze")) == 1
    assert audit_rows(service) == [(TEAM, "U0MEMBER", "channel.mute")]
    # A second press of the button is a new click (its own action_ts and trigger_id).
    other = click_body(slack, "1764000009.000300", "111.222.bbb", "again")
    assert dispatch(app, other, form_headers(other)).status == 200
    assert reply_at(slack, "again")["text"].startswith("Muted until")
    assert len(audit_rows(service)) == 2


# --- the WSGI app on loopback ----------------------------------------------------------------


@pytest.fixture
def served(app: App, service: Hashfloor) -> Iterator[int]:
    server = HttpServer("127.0.0.1", 0, threads=4)
    thread = threading.Thread(target=server.serve, args=(WsgiApp(app, service),), daemon=True)
    thread.start()
    yield server.port
    server.stop()
    thread.join(5)


def post(port: int, body: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/slack/events", body=body.encode(), headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_wsgi_commands_and_signatures(served: int, slack: FakeSlack) -> None:
    body = command_body(slack, "/breakeven", "20 0.06 2")
    status, data = post(served, body, form_headers(body))
    assert status == 200
    assert "breakeven BTC price $70,605" in json.loads(data)["text"]
    assert post(served, body, {"content-type": "application/x-www-form-urlencoded"})[0] == 401
    old = form_headers(body, timestamp=int(time.time()) - 360)
    assert post(served, body, old)[0] == 401
    wrong = form_headers(body, secret="nope")
    assert post(served, body, wrong)[0] == 401
    for stamp in ("soon", "1.7e9", ""):
        garbled = {**form_headers(body), "x-slack-request-timestamp": stamp}
        assert post(served, body, garbled) == (401, b"Unauthorized")


def test_wsgi_healthz(served: int, service: Hashfloor) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    conn.request("GET", "/healthz")
    resp = conn.getresponse()
    body = json.loads(resp.read())
    assert resp.status == 200
    assert body["ok"] is True and body["data_age_s"] == 42.0 and body["price_usd"] == 91_000.0
    # five minutes without fresh data: 503
    service.clock = lambda: NOW + 400
    conn.request("GET", "/healthz")
    resp = conn.getresponse()
    assert resp.status == 503 and json.loads(resp.read())["ok"] is False
    conn.close()
