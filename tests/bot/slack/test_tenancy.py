"""Two workspaces that installed Hashfloor through OAuth share a Slack Connect channel (the same
channel id in both): each has its own rules, mute, digest and alerts there, and neither can read or
change the other's (DESIGN §9 Tenancy). Everything goes through the real Bolt app with signed
requests, and the alerts through the engine and the delivery worker onto FakeSlack."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from slack_bolt import App, BoltRequest

from bot.alerts.delivery import DeliveryWorker
from bot.alerts.engine import AlertEngine
from bot.background import client_source
from bot.service import Hashfloor
from bot.settings import load_settings
from bot.slack.app import build_app
from storage import alerts, digests, snapshots, workspaces
from tests.fakes.slack import FakeSlack
from tests.fakes.slash_commands import command_fields
from tests.fakes.snapshots import design_snapshot

SECRET = "tenancy-signing-secret"
KEY = "tenancy-secret-key-of-at-least-32-characters"
A, B = "T0AAAAAAA", "T0BBBBBBB"
UA, UB = "U0ALICE", "U0BOB"  # members of A and of B
SHARED = "C0SHARED"
NOW = 1_764_000_000.0


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(team_id=A) as fake:
        fake.users[UA] = {"team_id": A}
        fake.users[UB] = {"team_id": B}
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def service(tmp_path: Path, slack: FakeSlack, clock: Clock) -> Iterator[Hashfloor]:
    settings = load_settings(
        slack_client_id="1111.2222",
        slack_client_secret="client-secret-for-tests",
        slack_signing_secret=SECRET,
        hashfloor_secret_key=KEY,
        slack_api_url=slack.url,
        hashfloor_db=tmp_path / "tenancy.db",
    )
    svc = Hashfloor(settings, clock=clock)
    svc.migrate()
    snapshots.insert(svc.storage.db, design_snapshot(NOW - 42))
    yield svc
    svc.close()


def install(app: App, slack: FakeSlack, team: str, code: str) -> None:
    """GET /slack/install, then Slack's redirect back with a code for `team`."""
    slack.team_id = team  # whom oauth.v2.access answers for
    started = app.oauth_flow.handle_installation(BoltRequest(body="", query="", headers={}))
    state = parse_qs(urlsplit(started.headers["location"][0]).query)["state"][0]
    cookie = started.headers["set-cookie"][0].split(";")[0]
    done = app.oauth_flow.handle_callback(
        BoltRequest(
            body="", query=urlencode({"code": code, "state": state}), headers={"cookie": cookie}
        )
    )
    assert done.status == 200, done.body


@pytest.fixture
def app(service: Hashfloor, slack: FakeSlack) -> App:
    app = build_app(service)
    install(app, slack, A, "a1")
    install(app, slack, B, "b1")
    return app


def signed(body: str, content_type: str) -> BoltRequest:
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "content-type": content_type,
        "x-slack-request-timestamp": ts,
        "x-slack-signature": sig,
    }
    return BoltRequest(body=body, headers=headers)


def hashfloor(app: App, slack: FakeSlack, team: str, user: str, text: str) -> str:
    """`/hashfloor <text>` in the shared channel; the reply's text (from the ack or the
    response_url)."""
    name = f"{team}-{time.monotonic_ns()}"
    fields = command_fields("/hashfloor", text, slack.response_url(name), user, SHARED, team)
    resp = app.dispatch(signed(urlencode(fields), "application/x-www-form-urlencoded"))
    assert resp.status == 200
    if resp.body:
        return json.loads(resp.body)["text"]
    (posted,) = slack.wait_for(lambda _: slack.responses(name))
    return posted["text"]


def poll(service: Hashfloor, engine: AlertEngine, clock: Clock, price: float) -> None:
    clock.t += 60
    snap = design_snapshot(clock.t, price)
    snapshots.insert(service.storage.db, snap)
    engine.evaluate(snap)


def home_of(app: App, slack: FakeSlack, team: str, user: str, event_id: str) -> str:
    body = json.dumps(
        {
            "token": "unused",
            "team_id": team,
            "api_app_id": "A0HASHAPP",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": "D0HOME",
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            },
            "authorizations": [{"team_id": team, "user_id": "U0HASHBOT", "is_bot": True}],
        }
    )
    before = len(slack.calls_to("views.publish"))
    assert app.dispatch(signed(body, "application/json")).status == 200
    calls = slack.wait_for(
        lambda calls: [c for c in calls if c.method == "views.publish"][before:] or None
    )
    view = calls[0].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    return "\n".join(json.dumps(b) for b in view["blocks"])


def test_two_workspaces_in_one_channel_keep_apart(
    app: App, slack: FakeSlack, service: Hashfloor, clock: Clock
) -> None:
    db = service.storage.db
    assert hashfloor(app, slack, A, UA, "subscribe cash").startswith("Subscribed")
    assert "Friday 17:00" in hashfloor(app, slack, A, UA, "digest fri 17:00")

    # B reads its own status in the channel: nothing of A's.
    status = hashfloor(app, slack, B, UB, "status")
    assert "this channel is not subscribed" in status
    assert "Friday" not in status and "CoinShares" not in status

    # B mutes, turns the digest off and unsubscribes: its own state only.
    assert hashfloor(app, slack, B, UB, "mute 30d").startswith("Muted until")
    assert "digest off" in hashfloor(app, slack, B, UB, "digest off").lower()
    hashfloor(app, slack, B, UB, "unsubscribe cash")
    assert [r["line_key"] for r in alerts.channel_rules(db, A, SHARED)] == ["cash"]
    assert workspaces.muted_until(db, A, SHARED, clock.t) is None
    a_digest = digests.get(db, A, SHARED)
    assert a_digest is not None and a_digest.enabled and a_digest.schedule.weekday == 4
    assert workspaces.muted_until(db, B, SHARED, clock.t) == NOW + 30 * 86_400
    b_digest = digests.get(db, B, SHARED)
    assert b_digest is not None and not b_digest.enabled
    assert "Friday" in hashfloor(app, slack, A, UA, "status")  # A still sees its own

    # B subscribes too, while muted. A drop below the cash line alerts A only, with A's token.
    assert hashfloor(app, slack, B, UB, "subscribe cash").startswith("Subscribed")
    confirmations = slack.calls_to("chat.postMessage")  # each subscribe says so in the channel
    assert [c.token for c in confirmations] == ["xoxb-T0AAAAAAA-a1", "xoxb-T0BBBBBBB-b1"]
    engine = AlertEngine(service.storage)
    worker = DeliveryWorker(service.storage, client_source(service), clock=clock)
    slack.reset()  # the subscriptions' confirmations were posted in the channel; count from here
    try:
        for _ in range(2):
            poll(service, engine, clock, 70_000)
        assert worker.send_due() == 1
        (alert,) = slack.calls_to("chat.postMessage")
        assert alert.token == "xoxb-T0AAAAAAA-a1" and alert.args["channel"] == SHARED

        # B unmutes: its catch-up goes to the channel with B's token; A is not told twice.
        assert hashfloor(app, slack, B, UB, "unmute") == "Unmuted."
        poll(service, engine, clock, 70_000)
        clock.t += 60
        assert worker.send_due() == 1
    finally:
        worker.stop()
    first, second = slack.calls_to("chat.postMessage")
    assert second.token == "xoxb-T0BBBBBBB-b1" and second.args["channel"] == SHARED
    assert {r["team_id"] for r in db.query("SELECT team_id FROM outbox")} == {A, B}

    # Each App Home shows its own workspace: B's has B's rule and no digest set for Friday.
    home_b = home_of(app, slack, B, UB, "Ev0HOMEB")
    assert f"<#{SHARED}>" in home_b and "Friday" not in home_b
    home_a = home_of(app, slack, A, UA, "Ev0HOMEA")
    assert "every Friday 17:00 UTC" in home_a


def test_the_new_settings_and_rule_kinds_keep_apart_in_a_shared_channel(
    app: App, slack: FakeSlack, service: Hashfloor
) -> None:
    """`threads`, `currency`, and the hashprice, early-warning and retarget rules of one
    workspace in a Slack Connect channel: the other workspace's commands change none of them."""
    db = service.storage.db
    slack.users[UA] = {"team_id": A, "is_admin": True}
    slack.users[UB] = {"team_id": B, "is_admin": True}
    for text in (
        "subscribe adjustment 5",
        "subscribe hashprice below 30",
        "subscribe cash within 5%",
    ):
        assert hashfloor(app, slack, A, UA, text).startswith("Subscribed"), text
    assert hashfloor(app, slack, A, UA, "currency EUR").startswith("Currency set to EUR")
    a_rules = [r["line_key"] for r in alerts.channel_rules(db, A, SHARED)]

    assert "Recoveries: in the alert's thread" in hashfloor(app, slack, B, UB, "status")
    assert hashfloor(app, slack, B, UB, "threads off").startswith("Recoveries in this channel now")
    assert hashfloor(app, slack, B, UB, "currency GBP").startswith("Currency set to GBP")
    assert hashfloor(app, slack, B, UB, "subscribe adjustment 10").startswith("Subscribed")
    assert hashfloor(app, slack, B, UB, "unsubscribe all").startswith("Unsubscribed from")
    assert "no alerts to remove" in hashfloor(app, slack, B, UB, "unsubscribe within")

    assert [r["line_key"] for r in alerts.channel_rules(db, A, SHARED)] == a_rules
    assert workspaces.threads_on(db, A, SHARED) and not workspaces.threads_on(db, B, SHARED)
    assert workspaces.get_currency(db, A) == "EUR" and workspaces.get_currency(db, B) == "GBP"
    assert alerts.channel_rules(db, B, SHARED) == []


@pytest.mark.parametrize(
    "text",
    [
        "threads off",
        "currency EUR",
        "subscribe adjustment 5",
        "subscribe hashprice below 30",
        "subscribe cash within 5%",
        "unsubscribe all",
    ],
)
def test_a_partner_in_the_shared_channel_cannot_change_the_new_settings(
    app: App, slack: FakeSlack, service: Hashfloor, text: str
) -> None:
    """Someone from another organisation, an admin at home, running the command against A's
    install in the shared channel: refused, whatever it is, and nothing changes."""
    db = service.storage.db
    slack.users[UA] = {"team_id": A, "is_admin": True}
    assert hashfloor(app, slack, A, UA, "subscribe cash").startswith("Subscribed")
    slack.external_user("U0PARTNER", is_admin=True)
    answer = hashfloor(app, slack, A, "U0PARTNER", text)
    assert answer == "People from other organisations cannot change Hashfloor here."
    assert [r["line_key"] for r in alerts.channel_rules(db, A, SHARED)] == ["cash"]
    assert workspaces.threads_on(db, A, SHARED) and workspaces.get_currency(db, A) == "USD"
