"""Random command texts: always an answer, never an exception, never a 5xx.

2,000 texts through commands.answer in-process (every command, every kind of user), then 200 through
the real HTTP server of `hashfloor run`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import commands
from bot.service import Hashfloor
from bot.settings import Settings
from bot.slack.blocks import Reply
from commands.context import Ctx, Roles
from storage import snapshots
from tests.e2e.test_http_e2e import TEAM, Bot, kill, listening_market, start_bot
from tests.fakes.slack import FakeSlack
from tests.fakes.snapshots import design_snapshot

NOW = 1_764_000_000.0
APOLOGY = "Something went wrong on our side"
# Slack turns these into mentions and links; no reply may carry them from user text.
SPECIAL = ("<!", "<@", "<#", "<http", "<mailto")
OWN_DATE = re.compile(r"<!date\^\d+\^\{ago\} \(\{date_short_pretty\} \{time\}\)\|[^<>|]+>")

NUMBERS = st.one_of(
    st.integers(-(10**6), 10**15).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
    st.sampled_from(
        [
            "74600", "74,600", "$74.6k", "1.2m", "2%", "0.05", "5c", "5¢", "17.5", "17.5 J/TH",
            "17.5J/TH", "0.05/kWh", "$0.05/kWh", "350 PH/s", "1e309", "9" * 400, "-0", ".5", "0",
            "٣٤", "１７", "NaN", "inf", "1_000", "0x10", "1,2,3", "$-5", "100c", "2%%",
            "€0.045", "0.045 EUR", "£0.04", "¥7", "45 €/MWh", "45 EUR/MWh", "C$0.05", "€-0",
        ]
    ),
)  # fmt: skip
WORDS = st.sampled_from(
    [
        "share", "SHARE", "add", "remove", "rm", "delete", "list", "help", "status", "fleet", "off",
        "mute", "unmute", "subscribe", "unsubscribe", "digest", "preview", "hashrate", "cash",
        "allin", "all", "below", "mon", "sun", "09:00", "25:61", "Europe/Berlin", "Mars/Phobos",
        "cash=61000", "allin=$98k", "cash=", "=", "period=2025-Q3", "quarter=Q9", "color=red",
        "source=https://x.io/?a=1&b=2", '"Acme Mining"', '"', "'", "“", "”", "\\", "<!channel>",
        "<!here>", "<@U0ADMIN>", "<#C0MINING|mining>", "<https://evil.example|click>", "&amp;",
        "&", "#12", "12", "30m", "4h", "99d", "1w", "J/TH", "%", "c", "kWh", "PH/s", "\n", "\t",
        "*bold*", "`code`", "~strike~", "_it_", ":smile:", "[red]x[/red]", "adjustment", "±5%",
        "currency", "EUR", "usd", "XYZ", "€", "¥", "/MWh",
    ]
)  # fmt: skip
TOKEN = st.one_of(NUMBERS, WORDS, st.text(max_size=12))
TEXTS = st.one_of(
    st.lists(TOKEN, max_size=8).map(" ".join),
    st.text(max_size=300),
    st.just(""),
)
ROLES = st.sampled_from(
    [Roles(is_admin=True), Roles(), Roles(is_guest=True), Roles(is_external=True)]
)


def check_message(message: dict[str, Any]) -> None:
    """Within Slack's limits, and no mention or link made of user text."""
    assert 0 < len(message["text"]) <= 3000
    assert 0 < len(message["blocks"]) <= 50
    for block in message["blocks"]:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
        for f in block.get("fields", []):
            assert len(f["text"]) <= 2000
    dumped = json.dumps(message, ensure_ascii=False)
    # The bot's own date tokens (a shared answer dates its data for each reader) are not user text.
    dumped = OWN_DATE.sub("", dumped)
    assert not any(s in dumped for s in SPECIAL), dumped


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hashfloor]:
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    svc = Hashfloor(Settings(hashfloor_db=db), clock=lambda: NOW)
    svc.migrate()
    snapshots.insert(svc.storage.db, design_snapshot(NOW - 42))
    yield svc
    svc.close()


@settings(
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(command=st.sampled_from(sorted(commands.COMMANDS)), text=TEXTS, roles=ROLES)
def test_every_text_gets_an_answer(
    service: Hashfloor, command: str, text: str, roles: Roles
) -> None:
    ctx = Ctx(service, "U0FUZZ", TEAM, "C0FUZZ", NOW, roles=lambda: roles)
    reply = commands.answer(ctx, command, text)
    assert isinstance(reply, Reply) and reply.text.strip()
    assert APOLOGY not in reply.text, f"{command} {text!r} raised inside its handler"
    check_message(reply.to_slack())


# --- the same through the real server ---------------------------------------------------------


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(team_id=TEAM) as fake:
        fake.users["U0FUZZADM"] = {"is_admin": True}
        fake.users["U0FUZZGST"] = {"is_restricted": True}
        yield fake


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, slack: FakeSlack) -> Iterator[Bot]:
    with listening_market() as market:
        running = start_bot(Path(tmp_path_factory.mktemp("fuzz-http")), market, slack)
        try:
            yield running
        finally:
            kill(running)


@pytest.mark.e2e
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    command=st.sampled_from(sorted(commands.COMMANDS)),
    text=TEXTS,
    user=st.sampled_from(["U0FUZZADM", "U0FUZZGST", "U0FUZZMBR"]),
)
def test_the_server_never_answers_5xx(bot: Bot, command: str, text: str, user: str) -> None:
    answer = bot.command(command, text, reply_to="fuzz", user=user)
    assert answer.status == 200, (command, text, answer.status, answer.body[:300])
    if answer.body:
        message = json.loads(answer.body)
        assert APOLOGY not in message["text"], (command, text)
        check_message(message)
    else:
        assert commands.is_change(command, text)


def test_changes_from_the_fuzz_were_answered(bot: Bot, slack: FakeSlack) -> None:
    # runs after the fuzz: every change it sent got an answer at its response_url, none an apology
    deadline = time.monotonic() + 10
    answered = slack.responses("fuzz")
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = slack.responses("fuzz")
        if len(now) == len(answered):
            break
        answered = now
    for message in answered:
        assert APOLOGY not in message["text"]
        check_message(message)
    assert "Traceback" not in bot.stderr()
