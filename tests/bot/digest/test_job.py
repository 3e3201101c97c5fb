"""The digest's minute job against FakeSlack, on a database of synthetic snapshots.

NOW is Monday 23 Nov 2026 09:00 UTC, the default due time of ISO week 2026-W48.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.alerts.rules import RuleState
from bot.digest.job import DigestJob
from bot.digest.schedule import DigestSchedule
from bot.service import Hashfloor
from bot.settings import Settings
from bot.slack.client import make_client
from storage import alerts, digests
from tests.fakes import history
from tests.fakes.slack import FakeSlack

TOKEN = "xoxb-digest-job"
TEAM = "T0HASHFLR"
CHANNEL = "C0MINING"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WEEK = "2026-W48"
MINUTE = timedelta(minutes=1)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def snaps() -> list:
    return history.history(NOW.timestamp())


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(team_id=TEAM) as fake:
        yield fake


@pytest.fixture
def service(tmp_path: Path, slack: FakeSlack, snaps: list) -> Iterator[Hashfloor]:
    settings = Settings(
        hashfloor_db=tmp_path / "digest.db", slack_bot_token=TOKEN, slack_api_url=slack.url
    )
    svc = Hashfloor(settings, clock=lambda: NOW.timestamp())
    svc.migrate()
    history.store(svc.storage, snaps)
    yield svc
    svc.close()


def subscribe(svc: Hashfloor, channel: str = CHANNEL, at: datetime = NOW - timedelta(days=30)):
    alerts.add_rule(
        svc.storage.db,
        TEAM,
        channel,
        "cash",
        RuleState(),
        79_995.0,
        "v1",
        "U0MEMBER",
        at.timestamp(),
    )


def job(svc: Hashfloor) -> DigestJob:
    """A fresh job, as after a restart: it keeps nothing between instances but the database."""
    return DigestJob(svc, lambda team, enterprise: make_client(svc.settings, TOKEN, retries=False))


def row(svc: Hashfloor, channel: str = CHANNEL) -> digests.DigestRow | None:
    return digests.get(svc.storage.db, TEAM, channel)


UPLOAD_METHODS = ("files.getUploadURLExternal", "files.completeUploadExternal")


def sequence(slack: FakeSlack) -> list[str]:
    return [c.method for c in slack.calls if c.method in ("chat.postMessage", *UPLOAD_METHODS)]


# --- once a week ------------------------------------------------------------------------------


def test_sends_once_with_the_chart_in_its_thread(service: Hashfloor, slack: FakeSlack) -> None:
    subscribe(service)
    assert job(service).run(NOW + MINUTE) == 1

    (message,) = slack.messages(CHANNEL)
    assert message["text"].startswith("Hashfloor weekly digest: BTC $")
    blocks = (
        json.loads(message["blocks"]) if isinstance(message["blocks"], str) else message["blocks"]
    )
    assert blocks[0]["text"]["text"] == "Weekly digest: BTC against the cost to mine"
    # On 2026-11-23 the cash line is 2025-Q4's (published 2026-03-25), and it is old by then.
    assert "CoinShares cash cost (2025-Q4)" in json.dumps(blocks)
    assert (
        "old: 2025-Q4 ended 327 days ago, next report overdue since about 30 Jun 2026"
        in json.dumps(blocks)
    )

    # files_upload_v2: URL, upload, complete — once each, in that order, after the message
    assert sequence(slack) == ["chat.postMessage", *UPLOAD_METHODS]
    (get_url,) = slack.calls_to("files.getUploadURLExternal")
    assert get_url.args["filename"] == f"hashfloor-week-{WEEK}.png"
    (png,) = slack.uploads.values()
    assert png.startswith(PNG) and int(get_url.args["length"]) == len(png)
    (complete,) = slack.calls_to("files.completeUploadExternal")
    posted_ts = slack.calls_to("chat.postMessage")[0].response["ts"]
    assert complete.args["channel_id"] == CHANNEL
    assert complete.args["thread_ts"] == posted_ts  # the chart sits under its digest
    assert complete.ok

    r = row(service)
    assert r is not None
    assert (r.last_sent_week, r.last_ts, r.last_error) == (WEEK, posted_ts, None)
    assert not r.explicit and r.schedule == DigestSchedule()  # the default, remembered


def test_not_twice_across_runs_nor_after_a_restart(service: Hashfloor, slack: FakeSlack) -> None:
    subscribe(service)
    first = job(service)
    assert first.run(NOW + MINUTE) == 1
    assert first.run(NOW + 2 * MINUTE) == 0
    assert job(service).run(NOW + 3 * MINUTE) == 0  # a new instance: the week is in SQLite
    assert job(service).run(NOW + timedelta(days=6, hours=23)) == 0
    assert len(slack.messages(CHANNEL)) == 1
    assert len(slack.calls_to("files.getUploadURLExternal")) == 1

    # the next week goes out at its own time, once
    assert job(service).run(NOW + timedelta(days=7) + MINUTE) == 1
    assert job(service).run(NOW + timedelta(days=7) + 2 * MINUTE) == 0
    assert len(slack.messages(CHANNEL)) == 2
    assert row(service).last_sent_week == "2026-W49"


def test_nothing_before_the_due_time(service: Hashfloor, slack: FakeSlack) -> None:
    subscribe(service)
    assert job(service).run(NOW - MINUTE) == 0
    assert slack.calls == []
    assert job(service).run(NOW) == 1  # due at 09:00:00 exactly


@pytest.mark.parametrize("late", [timedelta(hours=1), timedelta(hours=23, minutes=59)])
def test_late_within_24_hours_sends_once(
    service: Hashfloor, slack: FakeSlack, late: timedelta
) -> None:
    subscribe(service)
    assert job(service).run(NOW + late) == 1
    assert job(service).run(NOW + late + MINUTE) == 0
    assert len(slack.messages(CHANNEL)) == 1
    assert row(service).last_sent_week == WEEK


def test_more_than_24_hours_late_is_skipped_and_logged(
    service: Hashfloor, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    subscribe(service)
    with caplog.at_level(logging.WARNING, logger="hashfloor.digest"):
        assert job(service).run(NOW + timedelta(hours=25)) == 0
    assert slack.calls == []
    assert "2026-W48: 25.0 h late" in caplog.text and "skipped" in caplog.text
    r = row(service)
    assert r.last_sent_week == WEEK and r.last_sent_at is None
    assert r.last_error == "2026-W48 skipped: 25 h late"
    assert job(service).run(NOW + timedelta(hours=26)) == 0  # skipped once, not every minute
    assert "25.0 h" in caplog.text and caplog.text.count("skipped") == 1
    assert job(service).run(NOW + timedelta(days=7)) == 1  # the next week is not affected


# --- Slack says no --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, error",
    [
        ("files.getUploadURLExternal", "missing_scope"),
        ("files.completeUploadExternal", "not_in_channel"),
    ],
)
def test_a_refused_upload_still_sends_the_digest_and_says_why(
    service: Hashfloor,
    slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    method: str,
    error: str,
) -> None:
    subscribe(service)
    slack.fail(method, error=error)
    with caplog.at_level(logging.WARNING, logger="hashfloor.digest"):
        assert job(service).run(NOW + MINUTE) == 1
    assert len(slack.messages(CHANNEL)) == 1
    assert f"without its chart: the upload was refused ({error})" in caplog.text
    r = row(service)
    assert r.last_sent_week == WEEK
    assert r.last_error == f"sent without its chart: Slack said {error}"
    # sent is sent: the next minute neither posts nor uploads again
    calls = len(slack.calls)
    assert job(service).run(NOW + 2 * MINUTE) == 0
    assert len(slack.calls) == calls


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limit_or_server_error_waits_for_the_next_minute(
    service: Hashfloor, slack: FakeSlack, status: int
) -> None:
    subscribe(service)
    slack.fail("chat.postMessage", status=status)
    assert job(service).run(NOW + MINUTE) == 0
    assert slack.messages(CHANNEL) == []
    r = row(service)
    assert r.last_sent_week is None and r.last_error.startswith("not sent yet:")
    assert job(service).run(NOW + 2 * MINUTE) == 1
    assert len(slack.messages(CHANNEL)) == 1
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    assert row(service).last_error is None


def test_a_permanent_error_records_the_week_and_pauses_the_channel(
    service: Hashfloor, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    subscribe(service)
    slack.fail("chat.postMessage", error="not_in_channel")
    with caplog.at_level(logging.ERROR, logger="hashfloor.digest"):
        assert job(service).run(NOW + MINUTE) == 0
    assert "not sent: Slack said not_in_channel" in caplog.text
    assert row(service).last_error == "2026-W48 not sent: Slack said not_in_channel"
    (rule,) = alerts.channel_rules(service.storage.db, TEAM, CHANNEL)
    assert rule["paused_reason"] == "not_in_channel"
    calls = len(slack.calls)
    assert job(service).run(NOW + 2 * MINUTE) == 0  # no retry every minute
    assert len(slack.calls) == calls


def test_a_crash_after_posting_resends_at_most_once(
    service: Hashfloor, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe(service)
    real = digests.record_week
    crashes = []

    def crash_once(*args, **kwargs):
        if not crashes:
            crashes.append(1)
            raise RuntimeError("killed between the post and the write")
        return real(*args, **kwargs)

    monkeypatch.setattr(digests, "record_week", crash_once)
    assert job(service).run(NOW + MINUTE) == 0  # posted, then died before recording
    assert len(slack.messages(CHANNEL)) == 1
    assert job(service).run(NOW + 2 * MINUTE) == 1  # never lost: sent again, once
    assert job(service).run(NOW + 3 * MINUTE) == 0
    assert len(slack.messages(CHANNEL)) == 2


def test_no_token_for_the_workspace_skips_and_says_so(service: Hashfloor, slack: FakeSlack) -> None:
    subscribe(service)
    assert DigestJob(service, lambda team, enterprise: None).run(NOW + MINUTE) == 0
    assert slack.calls == []
    assert "no token" in row(service).last_error


# --- which channels ---------------------------------------------------------------------------


def test_which_channels_get_a_digest(service: Hashfloor, slack: FakeSlack) -> None:
    db = service.storage.db
    set_at = (NOW - timedelta(days=20)).timestamp()
    subscribe(service, "C0DEFAULT")  # subscribed, no setting: Monday 09:00 UTC
    subscribe(service, "C0OFF")
    digests.set_schedule(db, TEAM, "C0OFF", None, "U0MEMBER", set_at)  # explicit off wins
    digests.set_schedule(db, TEAM, "C0ONLY", DigestSchedule(0, "09:00", "UTC"), "U0MEMBER", set_at)
    subscribe(service, "C0PAUSED")
    alerts.pause_channel(
        db, TEAM, "C0PAUSED", "channel_not_found", set_at
    )  # not subscribed any more
    subscribe(service, "C0TUESDAY")
    digests.set_schedule(db, TEAM, "C0TUESDAY", DigestSchedule(1, "09:00"), "U0MEMBER", set_at)

    assert job(service).run(NOW + MINUTE) == 2
    assert sorted(m["channel"] for m in slack.messages()) == ["C0DEFAULT", "C0ONLY"]
    assert len(slack.uploads) == 2

    assert job(service).run(NOW + timedelta(days=1, minutes=1)) == 1
    assert slack.messages()[-1]["channel"] == "C0TUESDAY"


def test_a_zone_moves_the_due_time(service: Hashfloor, slack: FakeSlack) -> None:
    # 10:00 in Berlin is 09:00 UTC in November (CET, UTC+1)
    schedule = DigestSchedule(0, "10:00", "Europe/Berlin")
    set_at = (NOW - timedelta(days=20)).timestamp()
    digests.set_schedule(service.storage.db, TEAM, CHANNEL, schedule, "U0MEMBER", set_at)
    assert job(service).run(NOW - MINUTE) == 0
    assert job(service).run(NOW + MINUTE) == 1


def test_subscribing_after_the_due_time_waits_for_the_next_week(
    service: Hashfloor, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    subscribe(service, at=NOW + timedelta(minutes=30))
    with caplog.at_level(logging.INFO, logger="hashfloor.digest"):
        assert job(service).run(NOW + timedelta(minutes=31)) == 0
    assert slack.calls == []
    assert "due before its schedule started" in caplog.text
    assert row(service).last_sent_week == WEEK
    assert job(service).run(NOW + timedelta(days=7)) == 1


def test_a_new_schedule_applies_from_when_it_is_set(service: Hashfloor, slack: FakeSlack) -> None:
    # set on Monday at 09:30 for Mondays 09:00: this week's time has passed, next week's counts
    digests.set_schedule(
        service.storage.db,
        TEAM,
        CHANNEL,
        DigestSchedule(0, "09:00"),
        "U0MEMBER",
        (NOW + timedelta(minutes=30)).timestamp(),
    )
    assert job(service).run(NOW + timedelta(minutes=31)) == 0
    assert slack.calls == []
    assert job(service).run(NOW + timedelta(days=7, minutes=1)) == 1


def test_one_broken_channel_does_not_stop_the_others(
    service: Hashfloor, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe(service, "C0FIRST")
    subscribe(service, "C0SECOND")
    slack.fail("chat.postMessage", error="invalid_blocks", channel="C0FIRST")
    assert job(service).run(NOW + MINUTE) == 1
    assert [m["channel"] for m in slack.messages()] == ["C0SECOND"]
    assert row(service, "C0FIRST").last_error == "2026-W48 not sent: Slack said invalid_blocks"


def test_the_digest_lists_the_channels_rules_of_every_kind(
    service: Hashfloor, slack: FakeSlack
) -> None:
    """Each channel's own rules, named as written, in their state and with their last message;
    another channel's rules stay out of it."""
    db = service.storage.db
    subscribe(service)
    at = (NOW - timedelta(days=30)).timestamp()
    below = RuleState("below", at, last_announced="below")
    alerts.add_rule(db, TEAM, CHANNEL, "hashprice:usd:45", below, 45.0, "45", "U0MEMBER", at)
    alerts.add_rule(
        db, TEAM, CHANNEL, "within:5:cash", RuleState("above", at), 78_330.0, "v", "U0MEMBER", at
    )
    alerts.add_rule(db, TEAM, "C0OTHER", "hashprice:sats:50", RuleState(), 50.0, "50", "U0", at)
    hp_rule = alerts.channel_rules(db, TEAM, CHANNEL)[1]
    alerts.enqueue(db, "k", TEAM, CHANNEL, "alert", "Hashprice fell below $45/PH/day", [], at)
    (out,) = db.query("SELECT * FROM outbox")
    alerts.mark_sent(db, {**out, "rule_id": hp_rule["id"]}, "1.1", at + 60)
    assert job(service).run(NOW + MINUTE) == 2
    (message,) = slack.messages(CHANNEL)
    blocks = (
        json.loads(message["blocks"]) if isinstance(message["blocks"], str) else message["blocks"]
    )
    (section,) = [
        b for b in blocks if "Alerts in this channel" in b.get("text", {}).get("text", "")
    ]
    assert section["text"]["text"].splitlines() == [
        "*Alerts in this channel*",
        # On 2026-11-23 the cash line is 2025-Q4's, past 270 days: marked on each rule on it.
        "• CoinShares cash cost (2025-Q4): *waiting for data* :hourglass: _old: 2025-Q4 ended "
        "327 days ago, next report overdue since about 30 Jun 2026_",
        "• hashprice below $45/PH/day: *hashprice below* · last message 2026-10-24 09:01 UTC: "
        "“Hashprice fell below $45/PH/day”",
        "• within 5% of CoinShares cash cost (2025-Q4): *more than 5% above* :hourglass: _old: "
        "2025-Q4 ended 327 days ago, next report overdue since about 30 Jun 2026_",
    ]
    (other,) = slack.messages("C0OTHER")
    assert "within 5%" not in json.dumps(other) and "$45/PH/day" not in json.dumps(other)
    assert "hashprice below 50 sats/TH/day" in json.dumps(other)
