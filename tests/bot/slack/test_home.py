"""The App Home tab: the pure dashboard builder, and the listener through Bolt onto FakeSlack."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltRequest

from bot.alerts.rules import RuleState
from bot.digest.schedule import DigestSchedule
from bot.lines import CostLine
from bot.market.snapshot import Snapshot
from bot.market.view import build_view
from bot.service import Hashfloor
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.home import DigestEntry, Subscription, home_view
from storage import alerts, digests, snapshots, workspaces
from storage.workspaces import Fleet
from tests.fakes.slack import HOME_BLOCKS_MAX, FakeSlack
from tests.fakes.slash_commands import command_fields
from tests.fakes.snapshots import design_snapshot

NOW = 1_764_000_000.0  # Mon 24 Nov 2025 16:00 UTC
SECRET = "home-signing-secret"
TOKEN = "xoxb-home"
TEAM = "T0HASHFLR"
CASH = CostLine("cash", "CoinShares cash cost (2025-Q2)", 74_600.0)
ALLIN = CostLine("allin", "CoinShares all-in cost (2025-Q2)", 137_800.0)
OWN = CostLine("cost:3", "Acme <b> & co", 120_000.0)


def snapshot(taken_at: float = NOW - 42, price: float = 91_000.0) -> Snapshot:
    return design_snapshot(taken_at, price, ("coinbase", "kraken"), adjustment_at=NOW + 7 * 86_400)


def texts(view: dict[str, Any]) -> str:
    return "\n".join(
        (b.get("text") or {}).get("text", "")
        + "".join(f["text"] for f in b.get("fields", []))
        + "".join(e.get("text", "") for e in b.get("elements", []))
        for b in view["blocks"]
    )


def assert_within_limits(view: dict[str, Any]) -> None:
    assert view["type"] == "home"
    assert 0 < len(view["blocks"]) <= HOME_BLOCKS_MAX
    for b in view["blocks"]:
        assert len((b.get("text") or {}).get("text", "")) <= (
            150 if b["type"] == "header" else 3000
        )
        assert len(b.get("fields", [])) <= 10
        assert all(len(f["text"]) <= 2000 for f in b.get("fields", []))
    json.dumps(view)


# --- the builder ------------------------------------------------------------------------------

SUBS = [
    Subscription("C0MINING", CASH.label, CASH.value_usd, "above", NOW - 86_400),
    Subscription("C0MINING", ALLIN.label, ALLIN.value_usd, "below", NOW - 3 * 86_400),
    Subscription("C0GONE", OWN.label, OWN.value_usd, "below", None, "not_in_channel", NOW - 600),
    Subscription("C0OLD", "cost:99", None, "unknown", None),
]
ENTRIES = [
    DigestEntry(
        "C0MINING",
        "Monday 09:00 Europe/Berlin",
        False,
        "Mon 1 Dec 2025 09:00 CET",
    ),
    DigestEntry(
        "C0GONE",
        "Monday 09:00 UTC",
        True,
        "going out now (due Mon 24 Nov 2025 09:00 UTC)",
        "2025-W48 not sent: Slack said not_in_channel",
    ),
    DigestEntry("C0QUIET", None, False, None),
]


def test_the_dashboard() -> None:
    view = build_view(snapshot(), snapshot(), [CASH, ALLIN, OWN], NOW)
    fleets = {
        "main": Fleet(17.5, 0.05, 0.02),
        "<texas>": Fleet(30.0, 0.07, 0.02, 200.0, "<Texas>"),
    }
    out = home_view(view, fleets, SUBS, ENTRIES)
    assert_within_limits(out)
    body = texts(out)
    assert out["blocks"][0]["text"]["text"] == "Hashfloor: BTC against the cost to mine"
    assert "*BTC $91,000* · fetched 42s ago (median of coinbase, kraken)" in body
    # every line with its margin, the fleet's breakeven, user text escaped
    assert "*CoinShares cash cost (2025-Q2)* $74,600: price is 22.0% above" in body
    assert "*CoinShares all-in cost (2025-Q2)* $137,800: price is 34.0% below" in body
    assert "*Acme &lt;b&gt; &amp; co* $120,000: price is 24.2% below" in body
    # every fleet, first, its name escaped; with a hashrate, its day in money
    assert (
        ":large_green_circle: *Fleet main* (17.5 J/TH at $0.05/kWh, pool fee 2%) breaks even at "
        "$51,483 — price is 76.8% above" in body
    )
    assert (
        ":red_circle: *Fleet &lt;Texas&gt;* (30 J/TH at $0.07/kWh, pool fee 2%, 200 PH/s) breaks "
        "even at $123,559 — price is 26.4% below; earns $7,424 a day, power costs $10,080: "
        "margin -$2,656 a day" in body
    )
    assert body.index("Fleet main") < body.index("Fleet &lt;Texas") < body.index("CoinShares")
    assert "<b>" not in body
    # the network
    assert "*Hashprice*\n$37.88/PH/day" in body
    assert "*Difficulty*\n152.00 trillion" in body
    assert "*Next difficulty adjustment*\n+1.25% (estimate) around <!date^1764604800^" in body
    assert ", in 1,000 blocks" in body
    assert "*Next halving*\nin 125,000 blocks (about 868 days)" in body
    # subscriptions, grouped by channel, with state and pause reason
    assert (
        "*<#C0MINING>*\n• CoinShares cash cost (2025-Q2) $74,600: *price above* since <!date^1763913600^"
        in body
    )
    assert "\n• CoinShares all-in cost (2025-Q2) $137,800: *price below* since" in body
    assert body.index("<#C0GONE>") < body.index("<#C0MINING>") < body.index("<#C0OLD>")
    assert ":warning: paused <!date^1763999400^" in body
    assert "Slack said `not_in_channel`. Invite the bot or subscribe again." in body
    assert "• cost:99 (line removed): *waiting for data*" in body
    # digest schedules with their next time in the channel's zone
    assert "• <#C0MINING>: every Monday 09:00 Europe/Berlin · next Mon 1 Dec 2025 09:00 CET" in body
    assert (
        "• <#C0GONE>: every Monday 09:00 UTC (default) · next going out now (due Mon 24 Nov 2025 09:00 UTC)"
        in body
    )
    assert ":warning: 2025-W48 not sent: Slack said not_in_channel" in body
    assert "• <#C0QUIET>: off" in body


def test_the_dashboard_in_the_workspace_currency() -> None:
    prices = {"USD": 91_000.0, "EUR": 83_720.0}
    snap = design_snapshot(NOW - 42, 91_000.0, ("coinbase", "kraken"), btc_prices=prices)
    view = build_view(snap, snap, [CASH], NOW)
    fleets = {"main": Fleet(17.5, 0.05, 0.02, 200.0)}
    body = texts(home_view(view, fleets, [], [], money="EUR"))
    assert "*BTC €83,720 ($91,000)* · fetched 42s ago" in body
    assert "EUR at 0.92 EUR/USD, 42s old (mempool.space)" in body
    assert "breaks even at €47,364 ($51,483)" in body
    # the fleet's day in money, in the workspace's currency first
    assert (
        "earns €6,830 ($7,424) a day, power costs €3,864 ($4,200): margin +€2,966 ($3,224) a day"
        in body
    )
    assert "*Hashprice*\n€34.85 ($37.88)/PH/day" in body
    # Cost lines stay in US$, as published.
    assert "*CoinShares cash cost (2025-Q2)* $74,600" in body
    # No fresh rate: US$ only, and it says why.
    old = build_view(snapshot(), snapshot(), [CASH], NOW, rates_snap=snap)
    late = home_view(old, {}, [], [], money="EUR")
    assert "*BTC €83,720" in texts(late)  # 42 s old: still fresh
    stale = build_view(snapshot(), snapshot(), [CASH], NOW + 600, rates_snap=snap)
    body = texts(home_view(stale, {}, [], [], money="EUR"))
    assert "€" not in body.replace("EUR/USD", "")
    assert "No fresh EUR/USD rate (stale, 0.92 EUR/USD, 11 min old): amounts in US$ only" in body


def test_stale_and_missing_data() -> None:
    stale = build_view(snapshot(NOW - 3600), snapshot(NOW - 3600), [CASH], NOW)
    body = texts(home_view(stale, {}, [], []))
    assert ":warning: stale, fetched 60 min ago" in body
    assert "No channel is subscribed yet" in body and "No channel gets the weekly digest" in body

    empty = home_view(build_view(None, None, [CASH], NOW), {}, [], [])
    assert_within_limits(empty)
    assert "No market data yet" in texts(empty)


def test_a_fleet_without_network_data() -> None:
    view = build_view(snapshot(), None, [CASH], NOW)
    body = texts(home_view(view, {"main": Fleet(17.5, 0.05, 0.0)}, [], []))
    assert "breakeven unknown until network data arrives" in body


@pytest.mark.parametrize("channels, per_channel", [(600, 4), (3, 900), (120, 1)])
def test_many_subscriptions_stay_within_100_blocks(channels: int, per_channel: int) -> None:
    subs = [
        Subscription(f"C{c:06d}", f"line {k} " + "x" * 200, 80_000.0 + k, "above", NOW)
        for c in range(channels)
        for k in range(per_channel)
    ]
    entries = [
        DigestEntry(f"C{c:06d}", "Monday 09:00 UTC", True, "Mon 1 Dec 2025 09:00 UTC")
        for c in range(channels)
    ]
    lines = [CostLine(f"cost:{i}", f"own line {i}", 70_000.0 + i) for i in range(300)]
    fleets = {f"site{i}": Fleet(17.5, 0.05, 0.02, 100.0, f"site{i}" + "x" * 20) for i in range(50)}
    out = home_view(build_view(snapshot(), snapshot(), lines, NOW), fleets, subs, entries)
    assert_within_limits(out)
    body = texts(out)
    assert "C000000" in body and "own line 299" in body
    assert "Fleet site49" in body  # 50 fleets fit too


# --- the listener -----------------------------------------------------------------------------


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(team_id=TEAM) as fake:
        yield fake


@pytest.fixture
def service(tmp_path: Path, slack: FakeSlack) -> Iterator[Hashfloor]:
    settings = Settings(
        hashfloor_db=tmp_path / "home.db",
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.url,
    )
    svc = Hashfloor(settings, clock=lambda: NOW)
    svc.migrate()
    db = svc.storage.db
    snapshots.insert(db, snapshot())
    alerts.add_rule(
        db, TEAM, "C0MINING", "cash", RuleState("above", NOW - 60), 74_600.0, "v", "U1", NOW - 60
    )
    alerts.add_rule(db, "T0OTHER", "C0ELSEWHERE", "cash", RuleState(), 74_600.0, "v", "U9", NOW)
    digests.set_schedule(
        db, TEAM, "C0MINING", DigestSchedule(2, "08:00", "Asia/Tokyo"), "U1", NOW - 60
    )
    workspaces.set_fleet(db, TEAM, Fleet(20.0, 0.06, 0.02), "U1", NOW - 60)
    # A private channel the reader is not in: someone else subscribed it and set its digest.
    alerts.add_rule(db, TEAM, "C0SECRET", "allin", RuleState(), 137_800.0, "v", "U2", NOW - 60)
    digests.set_schedule(db, TEAM, "C0SECRET", DigestSchedule(4, "17:00", "UTC"), "U2", NOW - 60)
    # The reader used Hashfloor in #mining, so they are known to be in it.
    workspaces.saw_member(db, TEAM, "C0MINING", "U0READER", NOW - 30)
    yield svc
    svc.close()


def home_opened(app, tab: str, event_id: str, user: str = "U0READER") -> int:
    body = json.dumps(
        {
            "token": "unused",
            "team_id": TEAM,
            "api_app_id": "A0HASHAPP",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": "D0HOME",
                "tab": tab,
                "event_ts": f"{time.time():.6f}",
            },
            "authorizations": [{"team_id": TEAM, "user_id": "U0HASHBOT", "is_bot": True}],
        }
    )
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "content-type": "application/json",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": sig,
    }
    return app.dispatch(BoltRequest(body=body, headers=headers)).status


def test_opening_the_home_tab_publishes_the_dashboard(service: Hashfloor, slack: FakeSlack) -> None:
    app = build_app(service)
    assert home_opened(app, "home", "Ev0HOME1") == 200
    (call,) = slack.wait_for(lambda calls: [c for c in calls if c.method == "views.publish"])
    assert call.ok and call.token == TOKEN
    assert call.args["user_id"] == "U0READER"
    view = (
        json.loads(call.args["view"]) if isinstance(call.args["view"], str) else call.args["view"]
    )
    assert_within_limits(view)
    body = texts(view)
    assert "*BTC $91,000*" in body
    assert "*Fleet main* (20 J/TH at $0.06/kWh, pool fee 2%) breaks even at $70,605" in body
    assert "*<#C0MINING>*\n• CoinShares cash cost (2025-Q2) $74,600: *price above*" in body
    assert "C0ELSEWHERE" not in body  # another workspace's channels stay out
    assert (
        "• <#C0MINING>: every Wednesday 08:00 Asia/Tokyo · next Wed 26 Nov 2025 08:00 JST" in body
    )
    # A channel the reader is not known to be in (it may be private) is counted, never named.
    assert "C0SECRET" not in body and "all-in" not in body.split("Alerts in this workspace")[1]
    assert ":lock: 1 other channel of this workspace has alerts or a digest." in body


def published(slack: FakeSlack, n: int) -> dict[str, Any]:
    calls = slack.wait_for(
        lambda calls: [c for c in calls if c.method == "views.publish"][n - 1 : n] or None
    )
    view = calls[0].args["view"]
    return json.loads(view) if isinstance(view, str) else view


def command_in(app, channel: str, user: str, text: str = "status") -> None:
    body = urlencode(
        command_fields("/hashfloor", text, "http://127.0.0.1:9/r", user, channel, TEAM)
    )
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": sig,
    }
    assert app.dispatch(BoltRequest(body=body, headers=headers)).status == 200


def test_a_channel_is_named_to_whoever_used_hashfloor_in_it(
    service: Hashfloor, slack: FakeSlack
) -> None:
    app = build_app(service)
    assert home_opened(app, "home", "Ev0HOME3", user="U0NEWBIE") == 200
    before = texts(published(slack, 1))
    assert "C0MINING" not in before and "C0SECRET" not in before
    assert "None of the channels where you have used Hashfloor has alerts." in before
    assert ":lock: 2 other channels of this workspace have alerts or a digest." in before

    # Reading the status in the private channel shows they are in it (Slack runs a command only
    # where its user may post); from then on their App Home names it.
    command_in(app, "C0SECRET", "U0NEWBIE")
    deadline = time.monotonic() + 5  # written by the listener's own thread, off the request
    while "C0SECRET" not in workspaces.channels_of_member(service.storage.db, TEAM, "U0NEWBIE"):
        assert time.monotonic() < deadline, "the command was not recorded"
        time.sleep(0.01)
    assert home_opened(app, "home", "Ev0HOME4", user="U0NEWBIE") == 200
    after = texts(published(slack, 2))
    assert "*<#C0SECRET>*\n• CoinShares all-in cost (2025-Q2) $137,800" in after
    assert "• <#C0SECRET>: every Friday 17:00 UTC" in after
    assert "C0MINING" not in after
    assert ":lock: 1 other channel of this workspace has alerts or a digest." in after


def test_the_messages_tab_publishes_nothing(service: Hashfloor, slack: FakeSlack) -> None:
    app = build_app(service)
    assert home_opened(app, "messages", "Ev0MSGS1") == 200
    assert home_opened(app, "home", "Ev0HOME2") == 200  # a later event, to know both were handled
    slack.wait_for(lambda calls: [c for c in calls if c.method == "views.publish"])
    time.sleep(0.2)
    assert len(slack.calls_to("views.publish")) == 1


def test_the_home_tab_shows_hashprice_rules_and_early_warnings(service: Hashfloor) -> None:
    """Each kind with its name as written, its value, its state in its own words, and the last
    message the channel got from it."""
    from bot.slack.listeners.home import dashboard

    db = service.storage.db
    below = RuleState("below", NOW - 600, last_announced="below")
    alerts.add_rule(db, TEAM, "C0MINING", "hashprice:usd:40", below, 40.0, "40", "U1", NOW - 60)
    alerts.add_rule(
        db,
        TEAM,
        "C0MINING",
        "within:5:cash",
        RuleState("above", NOW - 60),
        78_330.0,
        "v",
        "U1",
        NOW,
    )
    alerts.add_rule(db, TEAM, "C0MINING", "hashprice:sats:30", RuleState(), 30.0, "30", "U1", NOW)
    rule_id = alerts.channel_rules(db, TEAM, "C0MINING")[1]["id"]
    alerts.enqueue(db, "k1", TEAM, "C0MINING", "alert", "Hashprice fell <below> $40", [], NOW)
    (row,) = db.query("SELECT * FROM outbox")
    alerts.mark_sent(db, {**row, "rule_id": rule_id}, "1.1", NOW - 300)
    body = texts(dashboard(service, TEAM, NOW, "U0READER"))
    assert "\n• hashprice below $40/PH/day: *hashprice below* since <!date^1763999400^" in body
    assert "\n   last message 2025-11-24 15:55 UTC: “Hashprice fell &lt;below&gt; $40”" in body
    assert (
        "\n• within 5% of CoinShares cash cost (2025-Q2) ($74,600, warns below $78,330): "
        "*more than 5% above* since" in body
    )
    assert "\n• hashprice below 30 sats/TH/day: *waiting for data*" in body
    assert "within:" not in body and "hashprice:" not in body


def test_the_home_tab_in_the_workspace_currency(service: Hashfloor, slack: FakeSlack) -> None:
    db = service.storage.db
    prices = {"USD": 91_000.0, "EUR": 83_720.0}
    snapshots.insert(
        db, design_snapshot(NOW - 30, 91_000.0, ("coinbase", "kraken"), btc_prices=prices)
    )
    workspaces.set_currency(db, TEAM, "EUR", "U1", NOW - 60)
    app = build_app(service)
    assert home_opened(app, "home", "Ev0HOMEEUR") == 200
    body = texts(published(slack, 1))
    assert "*BTC €83,720 ($91,000)*" in body
    assert "breaks even at €64,957 ($70,605)" in body
    assert "EUR at 0.92 EUR/USD, 30s old (mempool.space)" in body
    assert "CoinShares cash cost (2025-Q2) $74,600" in body  # cost lines stay in US$


# --- DESIGN §4: old lines; §4.1: HPC beside mining's $/MWh ---------------------------------------


def test_the_fleet_row_shows_mining_per_mwh_and_the_hpc_lease() -> None:
    # DESIGN §4.1 vectors: 17.5 J/TH, 2% at D = 152 T, fees 0.02, BTC $91,000 → $88.38/MWh;
    # a lease at $150/kW-month → $205.48/MWh.
    view = build_view(snapshot(), snapshot(), [CASH], NOW)
    fleet = Fleet(17.5, 0.05, 0.02)
    body = texts(home_view(view, {"main": fleet}, [], [], hpc_lease=150.0))
    assert (
        "price is 76.8% above\n   :zap: mining earns $88.38/MWh (above that power price it loses "
        "money) · HPC lease at $150/kW-month: $205.48/MWh, 2.3× what mining earns"
    ) in body
    alone = texts(home_view(view, {"main": fleet}, [], []))
    assert ":zap: mining earns $88.38/MWh" in alone and "HPC" not in alone
    # Without network data there is no mining figure: the lease stands alone, no verdict.
    bare = build_view(snapshot(), None, [CASH], NOW)
    body = texts(home_view(bare, {"main": fleet}, [], [], hpc_lease=150.0))
    assert ":zap: HPC lease at $150/kW-month: $205.48/MWh\n" in body + "\n"
    assert "mining earns" not in body


def test_old_lines_are_marked_on_the_home_tab() -> None:
    # On 2025-11-24 a 2024-Q4 line is 328 days past its quarter; 2025-Q2's is 147.
    old = CostLine("cash", "CoinShares cash cost (2024-Q4)", 82_162.0, "src", "2024-Q4")
    current = CostLine("allin", "CoinShares all-in cost (2025-Q2)", 137_800.0, "src", "2025-Q2")
    note = "old: 2024-Q4 ended 328 days ago, next report overdue since about 30 Jun 2025"
    subs = [Subscription("C0MINING", old.label, old.value_usd, "above", NOW - 60, old=note)]
    body = texts(home_view(build_view(snapshot(), snapshot(), [old, current], NOW), {}, subs, []))
    assert f"$82,162: price is 10.8% above :hourglass: _{note}_" in body
    assert f"*price above* since <!date^{int(NOW - 60)}^" in body
    assert body.count(":hourglass: _old") == 2  # the line and the rule on it; not 2025-Q2


def test_the_dashboard_marks_old_lines_and_shows_the_lease_as_of_its_time(
    service: Hashfloor,
) -> None:
    from bot.slack.listeners.home import dashboard

    workspaces.set_hpc_lease(service.storage.db, TEAM, 150.0, "U1", NOW)
    now = NOW  # 2025-11-24: the cash line is 2025-Q2's, not old
    body = texts(dashboard(service, TEAM, now, "U0READER"))
    assert "CoinShares cash cost (2025-Q2)" in body and ":hourglass:" not in body
    assert "HPC lease at $150/kW-month: $205.48/MWh" in body
    # A year on, the cash line is 2025-Q4's (published 2026-03-25), old by then, and so marked
    # on the line and on the channel's rule.
    later = 1_796_000_000.0  # 2026-11-30
    body = texts(dashboard(service, TEAM, later, "U0READER"))
    note = "old: 2025-Q4 ended 334 days ago, next report overdue since about 30 Jun 2026"
    assert "*CoinShares cash cost (2025-Q4)* $79,995" in body
    assert body.count(note) == 2
