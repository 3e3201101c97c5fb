"""Every reply and view the handlers produce, checked the way real Slack reads them.

A script of commands (help, usage, error and normal paths of every command and subcommand) goes
through the real Bolt app as signed requests; so do both alert buttons and the App Home. Each
answer (in the ack or at the response_url) and each published view must have no `<` or `>` that
does not open a real Slack entity (Slack would read `<usd>` as a link and drop it), and must pass
slack_sdk's Block Kit models. Alert messages, built by the engine from the same lines, are checked
too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltRequest

import commands
from bot.alerts import messages, targets
from bot.alerts import retarget_messages as retarget_msgs
from bot.alerts.messages import BREAKEVEN_ACTION, SNOOZE_ACTION
from bot.alerts.retarget import HeadsUp, Retarget
from bot.alerts.targets import Target
from bot.lines import CostLine
from bot.market.snapshot import Network, Snapshot
from bot.service import Hashfloor
from bot.settings import Settings
from bot.slack.app import build_app
from commands import hashfloor
from storage import snapshots
from storage.workspaces import Fleet
from tests.fakes.signing import slack_headers
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_text import problems, stray_brackets
from tests.fakes.slash_commands import command_fields
from tests.fakes.snapshots import design_snapshot

SECRET = "0c4e1d2f3a5b6c7d8e9f0a1b2c3d4e5f"
TEAM = "T0HASHFLR"
BOSS = "U0BOSS"  # in HASHFLOOR_ADMINS: every change is applied, so its answer is checked too
NOW = 1_764_000_000.0
WEIRD = "Acme <b> & <!channel> <@U0ADMIN> <https://evil.example|x>"

# In order: a line and a fleet first, so later answers (status, subscribe, preview) show them.
SCRIPT: list[tuple[str, str]] = [
    ("/costs", f'add "{WEIRD}" cash=61000 allin=98k period=2025-Q3 source=https://acme.example/q3'),
    ("/hashfloor", "subscribe fleet"),  # before there is a fleet
    ("/hashfloor", "fleet 17.5 0.05 2 hashrate 350"),
    ("/breakeven", ""),
    ("/breakeven", "17.5 0.05 2"),
    ("/breakeven", "S21 0.05 2"),
    ("/breakeven", "S19 0.05"),
    ("/breakeven", "S12 0.05"),
    ("/hashfloor", "machines"),
    ("/hashfloor", "hpc"),
    ("/hashfloor", "hpc 150"),
    ("/hashfloor", "hpc <x>"),
    ("/hashfloor", "hpc 150 <y>"),
    ("/hashfloor", "currency"),
    ("/hashfloor", "currency EUR"),
    ("/breakeven", "S21 €0.045 2"),
    ("/breakeven", "17.5 45 €/MWh"),
    ("/breakeven", "17.5 0.05 2"),
    ("/breakeven", ""),
    ("/breakeven", "17.5 0.05 CAD"),
    ("/breakeven", "17.5 0 EUR"),
    ("/breakeven", "17.5 0.05 <XYZ>"),
    ("/hashfloor", "currency <XYZ>"),
    ("/hashfloor", "currency USD"),
    ("/hashfloor", "machines hydro"),
    ("/hashfloor", "machines <zzz>"),
    ("/hashfloor", "fleet S21XP 0.045"),
    ("/breakeven", "share"),
    ("/breakeven", "share 17.5 0.05"),
    ("/breakeven", "17.5"),
    ("/breakeven", "17.5 0.05 2 extra"),
    ("/breakeven", "x y"),
    ("/breakeven", "0.5 0.05"),
    ("/breakeven", "17.5 1.5"),
    ("/breakeven", "17.5 0.05 100"),
    ("/breakeven", "17.5 <!channel>"),
    ("/hashprice", ""),
    ("/hashprice", "share"),
    ("/hashprice", "nonsense <x>"),
    ("/costs", ""),
    ("/costs", "list"),
    ("/costs", "add"),
    ("/costs", 'add "Acme"'),
    ("/costs", 'add "Acme" cash=1'),
    ("/costs", 'add "Acme" cash=$10,000,000,000'),
    ("/costs", 'add "Acme" cash=61000 color=red'),
    ("/costs", "add Acme Corp cash=61000"),
    ("/costs", 'add "Acme" cash=61000 period=banana'),
    ("/costs", 'add "Acme" cash=61000 source=javascript:alert(1)'),
    ("/costs", 'add "unclosed'),
    ("/costs", "remove"),
    ("/costs", "remove x"),
    ("/costs", "remove 99999999999999999999"),
    ("/costs", "remove 999"),
    ("/costs", "frobnicate"),
    ("/hashfloor", ""),
    ("/hashfloor", "help"),
    ("/hashfloor", "nope <x>"),
    ("/hashfloor", "status"),
    ("/hashfloor", "fleet"),
    ("/hashfloor", "fleet 17.5"),
    ("/hashfloor", "fleet 17.5 0.05 hashrate"),
    ("/hashfloor", "fleet S21 0.05 2"),
    ("/hashfloor", "fleet <S99> 0.05"),
    # Named fleets: a second site, a name to escape, the ambiguous and the refused names.
    ("/hashfloor", "fleet texas S21 0.045 2 hashrate 200"),
    ("/hashfloor", "fleet <b&>site 17.5 0.05"),
    ("/hashfloor", "fleet list"),
    ("/hashfloor", "fleet s21 S21 0.05"),
    ("/hashfloor", "fleet off:x 17.5 0.05"),
    ("/hashfloor", "fleet list 17.5 0.05"),
    ("/hashfloor", "fleet aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 17.5 0.05"),
    ("/hashfloor", "fleet utah off"),
    ("/hashfloor", "fleet zeus9000 0.05"),
    ("/breakeven", ""),
    ("/hashfloor", "subscribe fleet texas"),
    ("/hashfloor", "subscribe fleet:<b&>site"),
    ("/hashfloor", "subscribe fleet utah"),
    ("/hashfloor", "status"),
    ("/hashfloor", "unsubscribe fleet texas"),
    ("/hashfloor", "subscribe fleet:texas"),
    ("/hashfloor", "fleet texas off"),
    ("/hashfloor", "status"),
    ("/hashfloor", "machines s21"),
    ("/hashfloor", "machines <nothing-like-it>"),
    ("/breakeven", "S99 0.05 2"),
    ("/hashfloor", "subscribe"),
    ("/hashfloor", "subscribe all"),
    ("/hashfloor", "subscribe fleet"),
    ("/hashfloor", "subscribe adjustment"),
    ("/hashfloor", "subscribe adjustment 5"),
    ("/hashfloor", "subscribe adjustment <0>"),
    ("/hashfloor", "subscribe 10"),
    ("/hashfloor", "subscribe 999"),
    ("/hashfloor", "subscribe 99999999999999999999"),
    ("/hashfloor", "subscribe below"),
    ("/hashfloor", "subscribe hashprice below 30"),
    ("/hashfloor", "subscribe hashprice below 40 sats"),
    ("/hashfloor", "subscribe hashprice below <b>"),
    ("/hashfloor", "subscribe hashprice above 30"),
    ("/hashfloor", "subscribe cash within 5%"),
    ("/hashfloor", "subscribe 10 within 2.5%"),
    ("/hashfloor", "subscribe fleet within 5%"),
    ("/hashfloor", "subscribe cash within 60%"),
    ("/hashfloor", "subscribe within 5%"),
    ("/hashfloor", "subscribe below 80000"),
    ("/hashfloor", "subscribe below $1"),
    ("/hashfloor", "subscribe nonsense"),
    ("/hashfloor", "status"),
    ("/hashfloor", "unsubscribe nonsense"),
    ("/hashfloor", "unsubscribe cash"),
    ("/hashfloor", "unsubscribe hashprice below 30"),
    ("/hashfloor", "unsubscribe within"),
    ("/hashfloor", "unsubscribe adjustment"),
    ("/hashfloor", "unsubscribe"),
    ("/hashfloor", "mute"),
    ("/hashfloor", "mute forever"),
    ("/hashfloor", "mute 90d"),
    ("/hashfloor", "mute 4h"),
    ("/hashfloor", "status"),
    ("/hashfloor", "unmute now"),
    ("/hashfloor", "unmute"),
    ("/hashfloor", "threads"),
    ("/hashfloor", "threads <maybe>"),
    ("/hashfloor", "threads off now"),
    ("/hashfloor", "threads off"),
    ("/hashfloor", "status"),
    ("/hashfloor", "threads on"),
    # Hostile input to this session's commands (README Security): quoted, huge, tiny, hidden.
    ("/hashfloor", '"threads" off'),
    ("/hashfloor", "threads " + "<o>" * 700),
    ("/hashfloor", "currency a`b<!channel>\u202e"),
    ("/hashfloor", "currency " + "€" * 2000),
    ("/hashfloor", "subscribe hashprice below 1e308"),
    ("/hashfloor", "subscribe hashprice below " + "9" * 2000),
    ("/hashfloor", "subscribe cash within 1e-300%"),
    ("/hashfloor", "subscribe cash within <nan>%"),
    ("/hashfloor", "subscribe adjustment 1e400"),
    ("/hashfloor", "digest"),
    ("/hashfloor", "digest mon"),
    ("/hashfloor", "digest funday 09:00"),
    ("/hashfloor", "digest mon 25:00"),
    ("/hashfloor", "digest mon 09:00 Mars/Olympus"),
    ("/hashfloor", "digest mon 09:00 Europe/Berlin"),
    ("/hashfloor", "digest preview"),
    ("/hashfloor", "digest preview x"),
    ("/hashfloor", "digest off now"),
    ("/hashfloor", "digest off"),
    ("/hashfloor", "digest"),
    ("/hashfloor", "status"),
    ("/hashfloor", "fleet off"),
    ("/costs", "remove 10"),
]


def test_the_script_reaches_every_command_and_subcommand() -> None:
    """A new command or subcommand must join the script, or this fails."""
    assert set(commands.COMMANDS) <= {name for name, _ in SCRIPT}
    subs = {text.split()[0] for name, text in SCRIPT if name == "/hashfloor" and text}
    assert set(hashfloor.SUBCOMMANDS) <= subs


@pytest.mark.parametrize(
    ("text", "stray"),
    [
        ('`/costs add "<name>" cash=<usd>`', 4),
        ("mute <30m|4h|1d…>", 2),
        ("digest <day> <HH:MM>", 4),
        ("a <javascript:alert(1)|link>", 2),
        ("a < b > c", 2),
        ("`cash=&amp;lt;usd&amp;gt;`", 0),  # no stray bracket, but see test below
        ("`cash=&lt;usd&gt;` &amp;", 0),
        ("<@U0ADMIN> <#C0MINING> <#C0MINING|mining> <!here> <!channel> <!subteam^S0OPS>", 0),
        ("<!date^1764000000^{date_short_pretty} {time}|2025-11-24 16:00 UTC>", 0),
        ("<https://x.io> <https://x.io|x> <mailto:a@b.io|mail>", 0),
    ],
)
def test_the_checker_knows_slack_entities(text: str, stray: int) -> None:
    assert len(stray_brackets(text)) == stray


def test_the_checker_finds_text_escaped_twice() -> None:
    (found,) = problems({"text": "try `/costs add &amp;lt;name&amp;gt;`", "blocks": []}, "x")
    assert "escaped twice" in found


# --- the app, its Slack and its database -------------------------------------------------------


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(team_id=TEAM) as fake:
        yield fake


@pytest.fixture
def service(tmp_path: Path, slack: FakeSlack) -> Iterator[Hashfloor]:
    settings = Settings(
        hashfloor_db=tmp_path / "every_reply.db",
        slack_bot_token="xoxb-1111-2222-every",
        slack_signing_secret=SECRET,
        slack_api_url=slack.url,
        hashfloor_admins=BOSS,
    )
    svc = Hashfloor(settings, clock=lambda: NOW)
    svc.migrate()
    snapshots.insert(
        svc.storage.db,
        design_snapshot(NOW - 42, btc_prices={"USD": 91_000.0, "EUR": 83_720.0}),
    )
    yield svc
    svc.close()


@pytest.fixture
def app(service: Hashfloor) -> App:
    return build_app(service)


def signed(body: str, content_type: str) -> BoltRequest:
    headers = {k.lower(): v for k, v in slack_headers(body, SECRET).items()}
    return BoltRequest(body=body, headers={"content-type": content_type, **headers})


FORM = "application/x-www-form-urlencoded"


def answer(app: App, slack: FakeSlack, name: str, text: str, i: int) -> dict[str, Any]:
    """The reply to one command: in the ack (reads) or at the response_url (changes)."""
    reply_to = f"step-{i}"
    body = urlencode(command_fields(name, text, slack.response_url(reply_to), BOSS, team=TEAM))
    resp = app.dispatch(signed(body, FORM))
    assert resp.status == 200, (name, text, resp.body)
    if resp.body:
        return json.loads(resp.body)
    slack.wait_for(lambda _: slack.responses(reply_to), timeout=10)
    (posted,) = slack.responses(reply_to)
    return posted


def click(app: App, slack: FakeSlack, action_id: str, i: int) -> dict[str, Any]:
    reply_to = f"click-{i}"
    payload = {
        "type": "block_actions",
        "user": {"id": BOSS, "username": "boss", "team_id": TEAM},
        "api_app_id": "A0HASHAPP",
        "token": "verification-token",
        "container": {
            "type": "message",
            "message_ts": "1764000000.000100",
            "channel_id": "C0MINING",
        },
        "trigger_id": f"{i}.222.every",
        "team": {"id": TEAM, "domain": "hashfloor-test"},
        "channel": {"id": "C0MINING", "name": "mining"},
        "response_url": slack.response_url(reply_to),
        "actions": [
            {
                "action_id": action_id,
                "block_id": "alert-1",
                "text": {"type": "plain_text", "text": "button"},
                "value": "1",
                "type": "button",
                "action_ts": f"1764000001.{i:06d}",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})
    assert app.dispatch(signed(body, FORM)).status == 200
    slack.wait_for(lambda _: slack.responses(reply_to), timeout=10)
    (posted,) = slack.responses(reply_to)
    return posted


def home_view(app: App, slack: FakeSlack) -> dict[str, Any]:
    body = json.dumps(
        {
            "token": "unused",
            "team_id": TEAM,
            "api_app_id": "A0HASHAPP",
            "event": {"type": "app_home_opened", "user": BOSS, "channel": "D0HOME", "tab": "home"},
            "type": "event_callback",
            "event_id": "Ev0EVERYHOME",
            "event_time": int(NOW),
            "authorizations": [{"team_id": TEAM, "user_id": "U0HASHBOT", "is_bot": True}],
        }
    )
    assert app.dispatch(signed(body, "application/json")).status == 200
    (call,) = slack.wait_for(lambda _: slack.calls_to("views.publish"), timeout=10)
    view = call.args["view"]
    return json.loads(view) if isinstance(view, str) else view


def test_every_reply_and_view_reads_in_slack_as_written(app: App, slack: FakeSlack) -> None:
    found: list[str] = []
    checked = 0
    for i, (name, text) in enumerate(SCRIPT):
        payload = answer(app, slack, name, text, i)
        assert payload.get("text"), (name, text)
        found += problems(payload, f"{name} {text}")
        checked += 1
        if (name, text) == ("/hashfloor", "subscribe below 80000"):
            # The Home tab while the channel has subscriptions, a fleet and an odd line name.
            found += problems(home_view(app, slack), "App Home")
            checked += 1
    for i, action in enumerate((SNOOZE_ACTION, BREAKEVEN_ACTION)):
        found += problems(click(app, slack, action, i), f"button {action}")
        checked += 1
    weird = CostLine(
        "cost:10", f"{WEIRD} cash cost", 61_000.0, "https://acme.example/q3", "2025-Q3"
    )
    net = Network(difficulty=152e12, tip_height=925_000, fees_per_block_btc=0.02, source="<m>")
    snap = Snapshot(NOW, (), 60_000.0, True, ("coinbase", "kraken"), net)
    kinds = [Target(weird, "1")]
    kinds += [
        targets.resolve(key, {"cost:10": weird}, None, net)
        for key in ("within:5:cost:10", "hashprice:usd:30", "hashprice:sats:40")
    ]
    kinds.append(targets.resolve("within:5:hashprice:usd:30", {}, None, net))
    for target in kinds:
        assert target is not None
        for event in ("crossed_below", "recovered_above", "now_below", "now_above"):
            text, blocks = messages.for_rule(event, target, snap, 1)
            found += problems({"text": text, "blocks": blocks}, f"alert {event} {target.line.key}")
            checked += 1
    market = retarget_msgs.Market(91_000.0, net)
    fleets = [Fleet(17.5, 0.05, 0.02)]
    for text, blocks in (
        retarget_msgs.retarget(Retarget(459, 148e12, 152e12, NOW), market, fleets),
        retarget_msgs.heads_up(HeadsUp(459, -6.2, 100, NOW + 60_000, 152e12), market, fleets, NOW),
    ):
        found += problems({"text": text, "blocks": blocks}, "retarget message")
        checked += 1
    # The alert as its recovery edits it (chat.update), for each kind of rule.
    for target in kinds:
        assert target is not None
        alert = messages.for_rule("crossed_below", target, snap, 1)
        recovery = messages.for_rule("recovered_above", target, snap, 1)
        text, blocks = messages.episode_closed(*alert, NOW - 7_400, *recovery, NOW, 1)
        found += problems({"text": text, "blocks": blocks}, f"alert edited {target.line.key}")
        checked += 1
    assert checked == len(SCRIPT) + 1 + 2 + 5 * len(kinds) + 2
    assert found == []
