"""/hashfloor digest <day> <HH:MM> [zone] | off | preview, and the digest line of /hashfloor status.

NOW is Wednesday 25 Nov 2026 12:00 UTC; the default digest is next due Monday 30 Nov 09:00 UTC.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import commands
from bot.alerts.rules import RuleState
from bot.digest.schedule import DigestSchedule
from bot.service import Hashfloor
from bot.settings import Settings
from commands.context import Ctx, Roles
from storage import alerts, audit, digests
from tests.fakes import history

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp()
TEAM = "T1"
CHANNEL = "C1"
MEMBER = Roles()


@pytest.fixture(scope="module")
def snaps() -> list:
    return history.history(NOW, days=10)


@pytest.fixture
def svc(tmp_path: Path, snaps: list) -> Iterator[Hashfloor]:
    service = Hashfloor(Settings(hashfloor_db=tmp_path / "digest.db"), clock=lambda: NOW)
    service.migrate()
    history.store(service.storage, snaps)
    yield service
    service.close()


def ask(
    svc: Hashfloor,
    text: str,
    roles: Roles = MEMBER,
    channel: str | None = CHANNEL,
    now: float = NOW,
) -> dict[str, Any]:
    ctx = Ctx(svc, "U1", TEAM, channel, now, roles=lambda: roles, channel_name="mining")
    out = commands.answer(ctx, "/hashfloor", text).to_slack()
    assert out["response_type"] == "ephemeral"
    assert 0 < len(out["text"]) <= 3000 and 0 < len(out["blocks"]) <= 50
    for block in out["blocks"]:
        assert len((block.get("text") or {}).get("text", "")) <= 3000
        assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
    return out


def subscribe(svc: Hashfloor, channel: str = CHANNEL) -> None:
    alerts.add_rule(
        svc.storage.db, TEAM, channel, "cash", RuleState(), 79_995.0, "v1", "U1", NOW - 86_400
    )


def digest_line(svc: Hashfloor, **kw: Any) -> str:
    """The digest's section of /hashfloor status."""
    status = ask(svc, "status", **kw)
    (text,) = [
        b["text"]["text"]
        for b in status["blocks"]
        if "Weekly digest" in b.get("text", {}).get("text", "")
    ]
    return text


def actions(svc: Hashfloor) -> list[tuple[str, dict]]:
    return [(r["action"], json.loads(r["detail"])) for r in audit.recent(svc.storage.db)]


# --- the default and status -------------------------------------------------------------------


def test_a_subscribed_channel_gets_the_default(svc: Hashfloor) -> None:
    subscribe(svc)
    assert digest_line(svc) == (
        "*Weekly digest:* every Monday 09:00 UTC (the default for subscribed channels)"
        " · next: Mon 30 Nov 2026 09:00 UTC"
    )


def test_a_channel_without_subscription_or_schedule_has_none(svc: Hashfloor) -> None:
    assert digest_line(svc).startswith("*Weekly digest:* off — subscribe this channel")
    assert ask(svc, "status", channel=None)["blocks"]  # a DM: no channel sections, no crash


def test_status_shows_the_last_digest_and_what_went_wrong(svc: Hashfloor) -> None:
    subscribe(svc)
    db = svc.storage.db
    digests.record_week(db, TEAM, CHANNEL, "2026-W48", NOW - 2 * 86_400, ts="1.000100")
    digests.record_error(
        db, TEAM, CHANNEL, "sent without its chart: Slack said <missing_scope>", NOW
    )
    assert digest_line(svc) == (
        "*Weekly digest:* every Monday 09:00 UTC (the default for subscribed channels)"
        " · next: Mon 30 Nov 2026 09:00 UTC\n"
        "   last sent 2026-11-23 12:00 UTC\n"
        "   :warning: sent without its chart: Slack said &lt;missing_scope&gt;"
    )


# --- setting the schedule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "schedule", "words"),
    [
        (
            "digest fri 17:30 America/New_York",
            DigestSchedule(4, "17:30", "America/New_York"),
            "every Friday 17:30 America/New_York · next: Fri 27 Nov 2026 17:30 EST",
        ),
        (
            "digest MONDAY 9:00 europe/berlin",
            DigestSchedule(0, "09:00", "Europe/Berlin"),
            "every Monday 09:00 Europe/Berlin · next: Mon 30 Nov 2026 09:00 CET",
        ),
        (
            "digest wed 13:00",  # later today
            DigestSchedule(2, "13:00", "UTC"),
            "every Wednesday 13:00 UTC · next: Wed 25 Nov 2026 13:00 UTC",
        ),
        (
            "digest wed 11:00",  # passed today an hour ago: from next week
            DigestSchedule(2, "11:00", "UTC"),
            "every Wednesday 11:00 UTC · next: Wed 2 Dec 2026 11:00 UTC",
        ),
    ],
)
def test_set_a_schedule(svc: Hashfloor, text: str, schedule: DigestSchedule, words: str) -> None:
    out = ask(svc, text)
    assert out["text"] == f"Weekly digest: {words}"
    assert out["blocks"][0]["text"]["text"] == f":calendar: *Weekly digest:* {words}"
    row = digests.get(svc.storage.db, TEAM, CHANNEL)
    assert row is not None
    assert (row.schedule, row.enabled, row.explicit) == (schedule, True, True)
    assert (row.team_id, row.updated_by, row.updated_at) == (TEAM, "U1", NOW)
    detail = {"channel": CHANNEL, "weekday": schedule.weekday, "hhmm": schedule.hhmm}
    assert actions(svc) == [("digest.set", detail | {"tz": schedule.tz})]
    assert digest_line(svc) == f"*Weekly digest:* {words}"


def test_off_wins_over_a_subscription_and_a_schedule_turns_it_back_on(svc: Hashfloor) -> None:
    subscribe(svc)
    off = ask(svc, "digest off")
    assert off["text"] == "Weekly digest off for this channel. Alerts are not affected."
    row = digests.get(svc.storage.db, TEAM, CHANNEL)
    assert (row.enabled, row.explicit, row.schedule) == (False, True, DigestSchedule())
    assert digest_line(svc).startswith("*Weekly digest:* off (")
    assert alerts.channel_rules(svc.storage.db, TEAM, CHANNEL)  # alerts untouched

    ask(svc, "digest tue 08:00")
    assert (
        digest_line(svc)
        == "*Weekly digest:* every Tuesday 08:00 UTC · next: Tue 1 Dec 2026 08:00 UTC"
    )
    assert [a for a, _ in actions(svc)] == ["digest.set", "digest.off"]


def test_changing_the_time_keeps_what_was_sent(svc: Hashfloor) -> None:
    subscribe(svc)
    db = svc.storage.db
    digests.record_week(db, TEAM, CHANNEL, "2026-W48", NOW - 3600, ts="1.0")
    ask(svc, "digest fri 09:00")
    row = digests.get(db, TEAM, CHANNEL)
    assert row.last_sent_week == "2026-W48"  # this week's went out: the next is next week's
    assert digest_line(svc).startswith(
        "*Weekly digest:* every Friday 09:00 UTC · next: Fri 4 Dec 2026 09:00 UTC"
    )


# --- refused ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("digest funday 09:00", '"funday" is not a day of the week'),
        ("digest mon", "A time is missing after the day"),
        ("digest mon 25:00", '"25:00" is not a time of day'),
        ("digest mon 9am", '"9am" is not a time of day'),
        ("digest mon 09:00 Mars/Olympus", '"Mars/Olympus" is not an IANA time zone'),
        ("digest mon 09:00 <!channel>", '"&lt;!channel&gt;" is not an IANA time zone'),
        ("digest <@U0BOSS> 09:00", '"&lt;@U0BOSS&gt;" is not a day of the week'),
        ("digest mon 09:00 UTC & more", 'Unexpected "&amp; more" after the time zone'),
    ],
)
def test_bad_schedules_get_a_clear_escaped_reply(svc: Hashfloor, text: str, says: str) -> None:
    out = ask(svc, text)
    body = json.dumps(out)
    assert says in out["blocks"][0]["text"]["text"]
    assert "Use: digest &lt;mon..sun&gt; &lt;HH:MM&gt; [&lt;IANA zone&gt;]" in body
    assert "<!channel>" not in body and "<@U0BOSS>" not in body
    assert digests.get(svc.storage.db, TEAM, CHANNEL) is None and actions(svc) == []


@pytest.mark.parametrize(
    ("roles", "says"),
    [
        (Roles(is_guest=True), "Guests cannot change Hashfloor settings."),
        (Roles(is_external=True), "People from other organisations cannot change Hashfloor here."),
    ],
)
@pytest.mark.parametrize("text", ["digest mon 10:00", "digest off"])
def test_guests_and_strangers_cannot_change_it(
    svc: Hashfloor, roles: Roles, says: str, text: str
) -> None:
    out = ask(svc, text, roles=roles)
    assert out["text"] == says
    assert digests.get(svc.storage.db, TEAM, CHANNEL) is None and actions(svc) == []


@pytest.mark.parametrize("text", ["digest mon 10:00", "digest off"])
def test_a_change_needs_a_channel(svc: Hashfloor, text: str) -> None:
    out = ask(svc, text, channel=None)
    assert out["text"].startswith("Run it in the channel that should get the digest.")
    assert digests.all_rows(svc.storage.db) == []


@pytest.mark.parametrize("text", ["digest off now", "digest preview please"])
def test_off_and_preview_take_nothing_after_them(svc: Hashfloor, text: str) -> None:
    out = ask(svc, text)
    assert "takes nothing after it" in out["text"]
    assert digests.all_rows(svc.storage.db) == []


def test_digest_alone_shows_the_schedule(svc: Hashfloor) -> None:
    subscribe(svc)
    out = ask(svc, "digest")
    assert out["text"].startswith("Weekly digest: every Monday 09:00 UTC")
    assert actions(svc) == []


# --- preview ----------------------------------------------------------------------------------


def test_preview_answers_the_asker_with_the_digest(svc: Hashfloor) -> None:
    subscribe(svc)
    out = ask(svc, "digest preview", roles=Roles(is_guest=True))  # reading needs no rights
    assert out["text"].startswith("Preview: Hashfloor weekly digest for #mining: BTC $")
    blocks = out["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "Weekly digest: BTC against the cost to mine",
            "emoji": True,
        },
    }
    body = json.dumps(blocks)
    assert "CoinShares cash cost (2025-Q4)" in body and "h below it this week" in body
    assert "*Hashprice*" in body and "*Next halving*" in body
    note = blocks[-1]["elements"][0]["text"]
    assert note.startswith("Preview, for you only. The weekly post also carries a chart")
    assert "Weekly digest: every Monday 09:00 UTC" in note
    assert not any(b["type"] == "image" for b in blocks)  # no chart upload in a preview
    assert actions(svc) == [] and digests.all_rows(svc.storage.db) == []


def test_preview_without_market_data_says_so(tmp_path: Path) -> None:
    service = Hashfloor(Settings(hashfloor_db=tmp_path / "empty.db"), clock=lambda: NOW)
    service.migrate()
    try:
        out = ask(service, "digest preview")
        assert "no fresh price data this week" in out["text"]
    finally:
        service.close()


def test_preview_uses_the_same_week_as_the_job(svc: Hashfloor) -> None:
    later = NOW + timedelta(days=30).total_seconds()  # a month on, no polls since
    out = ask(svc, "digest preview", now=later)
    assert "no fresh price data this week" in out["text"]
