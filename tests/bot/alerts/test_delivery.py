"""DeliveryWorker against FakeSlack: order, pace, 429/5xx/network retries, permanent errors, and the
buttons of the alert messages it posts (DESIGN §5, §3.3).

In process, on a temporary database. Most tests drive `send_due()` by hand with a clock they
control, so a Retry-After or a backoff is checked exactly, without sleeping; the pace test runs the
worker's own loop on the real clock and reads FakeSlack's arrival times.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

import commands
from bot.alerts.delivery import (
    BACKOFF_S,
    EDIT_MAX_WAIT_S,
    EDIT_TRIES,
    UNKNOWN_ERROR_TRIES,
    DeliveryWorker,
    classify_error,
)
from bot.alerts.engine import AlertEngine
from bot.alerts.messages import BREAKEVEN_ACTION, SNOOZE_ACTION
from bot.market.snapshot import Network, Quote, Snapshot
from bot.metrics import Metrics
from bot.service import Hashfloor
from bot.settings import Settings, load_settings
from bot.slack.app import build_app
from bot.slack.client import make_client
from commands.context import Ctx
from storage import alerts, snapshots, workspaces
from storage import db as storage_db
from storage.db import Storage
from tests.fakes.slack import FakeSlack

T0 = 1_764_000_000.0
TEAM = "T0HASHFLR"  # FakeSlack's own team
SECRET = "signing-secret-for-tests"
NET = Network(difficulty=152e12, tip_height=925_000, fees_per_block_btc=0.02, source="mempool")


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Rig:
    """A database with subscriptions, the engine to queue alerts, and a worker for FakeSlack."""

    def __init__(self, tmp_path: Path, slack: FakeSlack) -> None:
        self.slack = slack
        self.api_url = slack.url
        self.clock = Clock(T0)
        self.db_path = tmp_path / "delivery.db"
        self.storage = Storage(self.db_path)
        self.service = Hashfloor(
            Settings(hashfloor_db=self.db_path), storage=self.storage, clock=self.clock
        )
        self.service.migrate()
        self.engine = AlertEngine(self.storage)
        # team -> bot token; FakeSlack answers invalid_auth to a token that is not xox…
        self.tokens: dict[str, str] = {TEAM: "xoxb-hashfloor"}
        self.metrics = Metrics()
        self.worker = DeliveryWorker(
            self.storage, self.client_for, clock=self.clock, metrics=self.metrics
        )

    def client_for(self, team_id: str, enterprise_id: str | None = None) -> WebClient | None:
        token = self.tokens.get(team_id)
        if token is None:
            return None
        # Built per call: FakeSlack gets a new port when the network test restarts it.
        settings = load_settings(slack_api_url=self.api_url)
        return make_client(settings, token, retries=False)

    @property
    def db(self) -> Any:
        return self.storage.db

    def poll(self, price: float) -> None:
        self.clock.t += 60
        quotes = tuple(Quote(s, price, None, 10.0) for s in ("coinbase", "kraken"))
        snap = Snapshot(self.clock.t, quotes, price, True, ("coinbase", "kraken"), NET)
        snapshots.insert(self.db, snap)
        self.engine.evaluate(snap)

    def command(self, channel: str, text: str, team: str = TEAM) -> Any:
        ctx = Ctx(self.service, "U1", team, channel, self.clock.t)
        return commands.answer(ctx, "/hashfloor", text)

    def crossing(self, *channels: str, team: str = TEAM) -> list[dict[str, Any]]:
        """Subscribe the channels to cash at $91,000, then confirm a drop to $70,000."""
        self.poll(91_000)
        for channel in channels:
            assert self.command(channel, "subscribe cash", team).text.startswith("Subscribed")
        self.poll(70_000)
        self.poll(70_000)
        return self.outbox()

    def outbox(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM outbox ORDER BY id"))

    def pass_at(self, t: float) -> int:
        self.clock.t = t
        return self.worker.send_due()

    def posts(self) -> list[Any]:
        return self.slack.calls_to("chat.postMessage")


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def rig(tmp_path: Path, slack: FakeSlack) -> Iterator[Rig]:
    r = Rig(tmp_path, slack)
    yield r
    r.worker.stop()
    r.storage.close()


def queue(rig: Rig, channel: str, text: str, team: str = TEAM) -> int | None:
    return alerts.enqueue(rig.db, f"test:{channel}:{text}", team, channel, "alert", text, [], T0)


# --- order and pace -----------------------------------------------------------------------------


def test_rows_go_in_order_and_at_most_one_per_second_per_channel(rig: Rig) -> None:
    channels = ("C1", "C2", "C3")
    for n in range(1, 4):
        for channel in channels:
            queue(rig, channel, f"{channel} message {n}")
    rig.worker.clock = time.time  # the worker's own loop, on the real clock
    rig.worker.start()
    rig.slack.wait_for(lambda calls: len([c for c in calls if c.ok]) == 9, timeout=15)
    rig.worker.stop()
    # The worker paces the starts of its sends; an arrival can lag its start by the connection
    # set-up (more on a loaded machine). Without the pace the gaps would be milliseconds.
    tolerance = 0.25
    for channel in channels:
        calls = [c for c in rig.posts() if c.args["channel"] == channel]
        assert [c.args["text"] for c in calls] == [f"{channel} message {n}" for n in (1, 2, 3)]
        gaps = [b.at - a.at for a, b in zip(calls, calls[1:], strict=False)]
        assert all(gap >= 1.0 - tolerance for gap in gaps), gaps
    assert {r["status"] for r in rig.outbox()} == {"sent"}
    assert rig.worker.pending() == 0


def test_a_row_is_marked_sent_with_slacks_ts(rig: Rig) -> None:
    (row,) = rig.crossing("C1")
    assert rig.pass_at(rig.clock.t) == 1
    (call,) = rig.posts()
    sent = alerts.get(rig.db, row["id"])
    assert sent is not None and sent["status"] == "sent" and sent["ts"] == call.response["ts"]
    assert call.args["text"] == row["text"]
    assert call.args["blocks"] == json.loads(row["blocks"])
    rule = alerts.channel_rules(rig.db, TEAM, "C1")[0]
    assert rule["last_message_at"] == rig.clock.t


# --- temporary failures -------------------------------------------------------------------------


def test_three_429s_then_exactly_one_message(rig: Rig) -> None:
    (row,) = rig.crossing("C1")
    rig.slack.fail("chat.postMessage", times=3, status=429, retry_after=2)
    t = rig.clock.t
    for _ in range(3):
        assert rig.pass_at(t) == 0
        assert rig.posts()[-1].status == 429
        calls = len(rig.posts())
        assert rig.pass_at(t + 1.5) == 0  # Retry-After is 2 s: nothing before that
        assert len(rig.posts()) == calls
        t += 2
    assert rig.pass_at(t) == 1
    assert [c.status for c in rig.posts()] == [429, 429, 429, 200]
    assert len(rig.slack.messages("C1")) == 1
    assert alerts.get(rig.db, row["id"])["status"] == "sent"
    assert rig.pass_at(t + 60) == 0
    assert len(rig.slack.messages()) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_with_backoff(rig: Rig, status: int) -> None:
    (row,) = rig.crossing("C1")
    rig.slack.fail("chat.postMessage", times=2, status=status)
    t = rig.clock.t
    assert rig.pass_at(t) == 0
    pending = alerts.get(rig.db, row["id"])
    assert pending["status"] == "pending" and f"HTTP {status}" in pending["last_error"]
    assert pending["not_before"] == t + BACKOFF_S[0]
    t += BACKOFF_S[0]
    assert rig.pass_at(t) == 0
    assert alerts.get(rig.db, row["id"])["not_before"] == t + BACKOFF_S[1]
    assert rig.pass_at(t + BACKOFF_S[1] - 0.5) == 0
    assert len(rig.posts()) == 2
    assert rig.pass_at(t + BACKOFF_S[1]) == 1
    assert len(rig.slack.messages("C1")) == 1
    assert alerts.get(rig.db, row["id"])["status"] == "sent"


def test_a_network_error_is_retried_later_and_nothing_is_lost(rig: Rig) -> None:
    first, second = (queue(rig, "C1", text) for text in ("first", "second"))
    rig.slack.close()  # Slack unreachable: connection refused
    t = rig.clock.t
    assert rig.pass_at(t) == 0
    row = alerts.get(rig.db, first)
    assert row["status"] == "pending" and row["attempts"] == 1 and row["last_error"]
    assert rig.pass_at(t + 1) == 0  # still down: backs off further
    assert alerts.get(rig.db, first)["attempts"] == 2
    rig.slack.start()
    rig.api_url = rig.slack.url
    t = alerts.get(rig.db, first)["not_before"]
    assert rig.pass_at(t) == 1
    assert rig.pass_at(t + 1) == 1
    assert [m["text"] for m in rig.slack.messages("C1")] == ["first", "second"]
    assert {alerts.get(rig.db, i)["status"] for i in (first, second)} == {"sent"}


# --- answers that are not Slack's JSON, unknown codes, final codes ---------------------------------


@pytest.mark.parametrize(
    ("shape", "status"),
    [("html", 200), ("html", 502), ("html", 403), ("empty", 200), ("truncated", 200)],
)
def test_an_answer_that_is_not_slacks_json_is_retried_until_one_message(
    rig: Rig, shape: str, status: int
) -> None:
    (row,) = rig.crossing("C1")
    rig.slack.fail("chat.postMessage", times=3, shape=shape, status=status)
    t = rig.clock.t
    for n in range(3):
        assert rig.pass_at(t) == 0
        pending = alerts.get(rig.db, row["id"])
        assert pending["status"] == "pending", pending["last_error"]
        assert f"HTTP {status}, not a Slack answer" in pending["last_error"]
        assert pending["not_before"] == t + BACKOFF_S[n]
        t = pending["not_before"]
    assert rig.slack.messages() == []
    assert rig.pass_at(t) == 1
    (message,) = rig.slack.messages("C1")
    sent = alerts.get(rig.db, row["id"])
    assert sent["status"] == "sent" and sent["attempts"] == 4
    assert sent["ts"] == rig.posts()[-1].response["ts"]
    assert rig.pass_at(t + 600) == 0 and len(rig.slack.messages()) == 1


def test_a_json_body_that_is_not_an_object_is_retried() -> None:
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web import SlackResponse

    for data in (None, [], "ok", {"ok": False}, {"ok": False, "error": ["x"]}):
        resp = SlackResponse(
            client=None,
            http_verb="POST",
            api_url="",
            req_args={},
            data=data,
            headers={},
            status_code=200,
        )
        out = classify_error(SlackApiError("bad answer", resp), 0)
        assert out.kind == "retry" and out.retry_after == BACKOFF_S[0], data


def test_an_unknown_error_code_is_retried_a_bounded_number_of_times_then_shown(rig: Rig) -> None:
    (row,) = rig.crossing("C1")
    rig.slack.fail("chat.postMessage", error="brand_new_error", times=None)
    t = rig.clock.t
    for _ in range(UNKNOWN_ERROR_TRIES - 1):
        assert rig.pass_at(t) == 0
        pending = alerts.get(rig.db, row["id"])
        assert pending["status"] == "pending" and pending["last_error"] == "brand_new_error"
        t = pending["not_before"]
    assert rig.pass_at(t) == 0
    failed = alerts.get(rig.db, row["id"])
    assert failed["status"] == "failed" and "brand_new_error" in failed["last_error"]
    assert len(rig.posts()) == UNKNOWN_ERROR_TRIES
    # Not a pause (the channel may be fine), but never a silent drop: status says so.
    assert alerts.channel_rules(rig.db, TEAM, "C1")[0]["paused_reason"] is None
    shown = status_blocks(rig, "C1")
    assert "not delivered" in shown and "brand_new_error" in shown
    assert "not delivered" in rig.command("C1", "status").text


def test_an_unknown_code_then_a_proper_answer_gives_one_message(rig: Rig) -> None:
    (row,) = rig.crossing("C1")
    rig.slack.fail("chat.postMessage", error="brand_new_error", times=2)
    t = rig.clock.t
    assert rig.pass_at(t) == 0
    assert rig.pass_at(t + BACKOFF_S[0]) == 0
    assert rig.pass_at(t + BACKOFF_S[0] + BACKOFF_S[1]) == 1
    assert len(rig.slack.messages("C1")) == 1
    assert alerts.get(rig.db, row["id"])["status"] == "sent"
    assert "not delivered" not in status_blocks(rig, "C1")


@pytest.mark.parametrize("error", ["msg_too_long", "invalid_blocks"])
def test_a_code_final_for_one_message_ends_its_row_only(rig: Rig, error: str) -> None:
    rig.crossing("C1")
    rig.slack.fail("chat.postMessage", error=error, times=1)
    assert rig.pass_at(rig.clock.t) == 0
    assert [r["status"] for r in rig.outbox()] == ["failed"]
    assert len(rig.posts()) == 1
    assert alerts.channel_rules(rig.db, TEAM, "C1")[0]["paused_reason"] is None
    assert error in status_blocks(rig, "C1") and "not delivered" in status_blocks(rig, "C1")
    # The recovery of an alert nobody saw is not posted (DESIGN §5); the channel still gets the
    # next alert.
    rig.poll(91_000)
    rig.poll(91_000)
    assert rig.pass_at(rig.clock.t) == 0
    rig.poll(70_000)
    rig.poll(70_000)
    assert rig.pass_at(rig.clock.t + 5) == 1
    assert len(rig.slack.messages("C1")) == 1


def test_a_timeout_is_retried(rig: Rig) -> None:
    (row,) = rig.crossing("C1")
    client_for = rig.client_for

    def impatient(team: str, enterprise: str | None = None) -> WebClient | None:
        client = client_for(team, enterprise)
        if client is not None:
            client.timeout = 0.3
        return client

    rig.worker.client_for = impatient
    rig.slack.delay("chat.postMessage", 1.0)
    t = rig.clock.t
    assert rig.pass_at(t) == 0
    pending = alerts.get(rig.db, row["id"])
    assert pending["status"] == "pending" and "timed out" in pending["last_error"].lower()
    rig.slack.delay("chat.postMessage", 0)
    assert rig.pass_at(pending["not_before"]) == 1
    sent = alerts.get(rig.db, row["id"])
    assert sent["status"] == "sent" and sent["ts"] == rig.posts()[-1].response["ts"]
    # Slack had accepted the timed-out post: the one duplicate the design accepts over a loss.
    assert len(rig.slack.messages("C1")) == 2


def test_a_post_slack_accepted_is_not_sent_again_while_the_database_is_too_busy_to_mark_it(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under load another writer can hold the file past the busy timeout just as Slack accepts a
    post: the row cannot be marked sent yet, and must not be posted a second time."""
    monkeypatch.setattr(storage_db, "BUSY_TIMEOUT_MS", 100)  # the worker's threads' connections
    (row,) = rig.crossing("C1")
    blocker = sqlite3.connect(rig.db_path)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    t = rig.clock.t
    assert rig.pass_at(t) == 1
    assert alerts.get(rig.db, row["id"])["status"] == "pending"  # not marked: the file is busy
    assert rig.pass_at(t + 5) == 0
    assert rig.pass_at(t + 300) == 0
    blocker.rollback()
    blocker.close()
    assert rig.pass_at(t + 301) == 0  # marks it, sends nothing
    sent = alerts.get(rig.db, row["id"])
    (post,) = rig.slack.messages("C1")
    assert sent["status"] == "sent" and sent["ts"] == rig.posts()[-1].response["ts"]
    assert sent["sent_at"] == t  # when Slack took it, not when it could be written down
    assert alerts.channel_rules(rig.db, TEAM, "C1")[0]["last_message_at"] == t


def test_accepted_without_a_ts_is_sent_once_and_its_recovery_says_which_alert_it_ends(
    rig: Rig,
) -> None:
    (alert,) = rig.crossing("C1")
    rig.slack.fail("chat.postMessage", times=1, shape="no_ts")
    assert rig.pass_at(rig.clock.t) == 1
    sent = alerts.get(rig.db, alert["id"])
    assert sent["status"] == "sent" and sent["ts"] is None
    assert rig.pass_at(rig.clock.t + 600) == 0  # accepted: never sent again
    assert len(rig.slack.messages("C1")) == 1
    rig.poll(91_000)
    rig.poll(91_000)
    assert rig.pass_at(rig.clock.t) == 1
    first, recovery = rig.slack.messages("C1")
    assert "thread_ts" not in recovery
    assert "ends the alert posted" in recovery["text"]
    assert "ends the alert posted" in json.dumps(recovery["blocks"])
    assert recovery["text"].startswith(json.loads(json.dumps(rig.outbox()[1]["text"])))
    # Without the alert's ts there is nothing to edit: the edit ends without calling Slack.
    assert rig.pass_at(rig.clock.t + 1) == 0
    assert [(r["kind"], r["status"]) for r in rig.outbox()] == [
        ("alert", "sent"),
        ("recovery", "sent"),
        ("edit", "failed"),
    ]
    assert "did not return the alert's id" in rig.outbox()[2]["last_error"]
    assert rig.slack.calls_to("chat.update") == []


# --- permanent errors ---------------------------------------------------------------------------


def status_blocks(rig: Rig, channel: str) -> str:
    reply = rig.command(channel, "status")
    return json.dumps(reply.blocks)


@pytest.mark.parametrize("error", ["is_archived", "channel_not_found", "not_in_channel"])
def test_a_channel_slack_refuses_pauses_its_rules_and_says_so(
    rig: Rig, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    rig.crossing("C1", "C2")
    rig.slack.fail("chat.postMessage", error=error, channel="C1", times=None)
    with caplog.at_level(logging.ERROR, logger="hashfloor.delivery"):
        assert rig.pass_at(rig.clock.t) == 1  # C2's alert goes; C1's is refused
    c1, c2 = (alerts.channel_rules(rig.db, TEAM, c)[0] for c in ("C1", "C2"))
    assert c1["paused_reason"] == error and c2["paused_reason"] is None
    assert [r["status"] for r in rig.outbox()] == ["failed", "sent"]
    assert any(error in r.getMessage() and "C1" in r.getMessage() for r in caplog.records)
    assert "paused" in status_blocks(rig, "C1") and error in status_blocks(rig, "C1")
    assert "paused" not in status_blocks(rig, "C2")
    fallback = rig.command("C1", "status").text  # what a notification or screen reader gets
    assert "paused" in fallback and error in fallback
    # A paused rule is not evaluated: the recovery goes to C2 only, and Slack hears nothing more.
    rig.poll(91_000)
    rig.poll(91_000)
    assert rig.pass_at(rig.clock.t + 5) == 1
    assert sorted(c.args["channel"] for c in rig.posts()) == ["C1", "C2", "C2"]
    # Subscribing again (the bot was invited back) resumes the rule.
    rig.command("C1", "subscribe cash")
    assert alerts.channel_rules(rig.db, TEAM, "C1")[0]["paused_reason"] is None
    assert "paused" not in status_blocks(rig, "C1")


def test_a_recovery_whose_alert_never_arrived_is_not_posted(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    (alert,) = rig.crossing("C1")
    rig.slack.fail("chat.postMessage", error="invalid_blocks", channel="C1", times=1)
    rig.pass_at(rig.clock.t)  # a final refusal that does not pause: the alert is lost
    assert alerts.get(rig.db, alert["id"])["status"] == "failed"
    rig.poll(91_000)
    rig.poll(91_000)
    recovery, edit = rig.outbox()[-2:]
    assert recovery["kind"] == "recovery" and recovery["thread_of"] == alert["id"]
    assert edit["kind"] == "edit" and edit["thread_of"] == alert["id"]
    with caplog.at_level(logging.WARNING, logger="hashfloor.delivery"):
        assert rig.pass_at(rig.clock.t + 5) == 0
    assert rig.slack.messages("C1") == []
    row = alerts.get(rig.db, recovery["id"])
    assert (row["status"], row["last_error"]) == ("failed", "its alert never reached the channel")
    # Nor is the alert edited, with the recovery: no pass is spent on it, no chat.update made.
    assert alerts.get(rig.db, edit["id"])["status"] == "failed"
    assert rig.slack.calls_to("chat.update") == []
    assert any("never reached" in r.getMessage() for r in caplog.records)
    # The next episode is told in full: its alert, then its recovery in the alert's thread.
    rig.poll(70_000)
    rig.poll(70_000)
    rig.pass_at(rig.clock.t + 5)
    rig.poll(91_000)
    rig.poll(91_000)
    rig.pass_at(rig.clock.t + 5)
    alert_post, recovery_post = [c for c in rig.posts() if c.ok]
    assert "fell below" in alert_post.args["text"] and "recovered" in recovery_post.args["text"]
    assert recovery_post.args["thread_ts"] == alert_post.response["ts"]


def test_resubscribing_after_a_pause_starts_from_the_price_now(rig: Rig) -> None:
    """The alert was refused (not_in_channel) and the rule paused; the price recovered while the
    bot was away. Subscribing again takes the state from the price, silently: the channel's
    first message is not a recovery from an alert it never saw."""
    rig.crossing("C1")
    rig.slack.fail("chat.postMessage", error="not_in_channel", channel="C1", times=1)
    rig.pass_at(rig.clock.t)
    assert alerts.channel_rules(rig.db, TEAM, "C1")[0]["paused_reason"] == "not_in_channel"
    rig.poll(91_000)
    reply = rig.command("C1", "subscribe cash")
    assert "22.0% above" in reply.text and "if it falls below it" in reply.text
    (rule,) = alerts.channel_rules(rig.db, TEAM, "C1")
    assert (rule["state"], rule["paused_reason"], rule["alert_outbox_id"]) == ("above", None, None)
    for _ in range(3):
        rig.poll(91_000)
    rig.pass_at(rig.clock.t + 5)
    assert [r["kind"] for r in rig.outbox()] == ["alert"]
    assert rig.slack.messages("C1") == []


@pytest.mark.parametrize("token", ["not-a-slack-token", "revoked"])
def test_a_refused_token_pauses_the_whole_workspace(
    rig: Rig, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    rig.tokens["T2"] = "xoxb-team-two"
    rig.tokens[TEAM] = "xoxb-revoked" if token == "revoked" else token
    if token == "revoked":
        rig.slack.revoked.add("xoxb-revoked")
    error = "token_revoked" if token == "revoked" else "invalid_auth"
    rig.crossing("C1", "C2")
    rig.command("C3", "subscribe cash", team="T2")  # already below: nothing queued for C3 yet
    rig.poll(91_000)
    rig.poll(91_000)
    rig.poll(70_000)
    rig.poll(70_000)
    with caplog.at_level(logging.ERROR, logger="hashfloor.delivery"):
        for _ in range(4):
            rig.pass_at(rig.clock.t + 2)
    paused = {r["channel_id"]: r["paused_reason"] for r in rig.db.query("SELECT * FROM rules")}
    assert paused == {"C1": error, "C2": error, "C3": None}
    assert [m["channel"] for m in rig.slack.messages()] == ["C3", "C3"]
    # The team's queued rows are marked failed at once, not each tried with the dead token.
    assert rig.worker.pending() == 0
    refused = [c for c in rig.posts() if not c.ok]
    assert sorted(c.args["channel"] for c in refused) == ["C1", "C2"]
    failed = [r for r in rig.outbox() if r["team_id"] == TEAM]
    assert len(failed) > 2 and {(r["status"], r["last_error"]) for r in failed} == {
        ("failed", error)
    }
    assert any(error in r.getMessage() and TEAM in r.getMessage() for r in caplog.records)
    assert error in status_blocks(rig, "C2")


def test_a_workspace_without_a_token_pauses_instead_of_dropping(rig: Rig) -> None:
    (row,) = rig.crossing("C1")
    del rig.tokens[TEAM]  # uninstalled
    rig.pass_at(rig.clock.t)
    assert alerts.get(rig.db, row["id"])["status"] == "failed"
    assert alerts.channel_rules(rig.db, TEAM, "C1")[0]["paused_reason"].startswith("no token")
    assert rig.posts() == []


# --- the buttons on an alert --------------------------------------------------------------------


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
    }


def click(rig: Rig, app: Any, message: dict[str, Any], action_id: str, name: str) -> int:
    """POST /slack/events for a button of a posted message, as Slack sends a block_actions."""
    blocks = message["blocks"]
    actions = next(b for b in blocks if b["type"] == "actions")
    button = next(e for e in actions["elements"] if e["action_id"] == action_id)
    payload = {
        "type": "block_actions",
        "user": {"id": "U1", "username": "u1", "name": "u1", "team_id": TEAM},
        "api_app_id": "A0HASHAPP",
        "token": "verification-token",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": message["channel"],
            "is_ephemeral": False,
        },
        "trigger_id": "1.2.3",
        "team": {"id": TEAM, "domain": "hashfloor-test"},
        "channel": {"id": message["channel"], "name": "alerts"},
        "message": {"type": "message", "text": message["text"], "blocks": blocks},
        "response_url": rig.slack.response_url(name),
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": actions["block_id"],
                "text": button["text"],
                "value": button["value"],
                "type": "button",
                "action_ts": "1700000001.000200",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})
    response = app.dispatch(BoltRequest(body=body, headers=signed(body)))
    return response.status


def wait_response(slack: FakeSlack, name: str) -> dict[str, Any]:
    slack.wait_for(lambda calls: slack.responses(name), timeout=10)
    (reply,) = slack.responses(name)
    return reply


@pytest.fixture
def app(rig: Rig) -> Any:
    settings = load_settings(
        slack_bot_token="xoxb-hashfloor",
        slack_signing_secret=SECRET,
        slack_api_url=rig.slack.url,
        hashfloor_db=rig.db_path,
    )
    rig.service.settings = settings
    return build_app(rig.service)


def test_snooze_24h_mutes_the_channel_for_a_day(rig: Rig, app: Any) -> None:
    rig.crossing("C1")
    rig.pass_at(rig.clock.t)
    (message,) = rig.slack.messages("C1")
    assert click(rig, app, message, SNOOZE_ACTION, "snooze") == 200
    reply = wait_response(rig.slack, "snooze")
    assert reply["text"].startswith("Muted until")
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    until = workspaces.muted_until(rig.db, TEAM, "C1", rig.clock.t)
    assert until == rig.clock.t + 24 * 3600
    # Muted: the recovery is tracked but not posted.
    rig.poll(91_000)
    rig.poll(91_000)
    assert rig.outbox()[-1]["kind"] == "alert"
    assert alerts.channel_rules(rig.db, TEAM, "C1")[0]["state"] == "above"


def test_a_guest_cannot_snooze(rig: Rig, app: Any) -> None:
    rig.slack.users["U1"] = {"is_restricted": True}
    rig.crossing("C1")
    rig.pass_at(rig.clock.t)
    (message,) = rig.slack.messages("C1")
    assert click(rig, app, message, SNOOZE_ACTION, "guest") == 200
    assert "Guests cannot" in wait_response(rig.slack, "guest")["text"]
    assert workspaces.muted_until(rig.db, TEAM, "C1", rig.clock.t) is None


def test_breakeven_answers_with_the_margins(rig: Rig, app: Any) -> None:
    rig.crossing("C1")
    rig.pass_at(rig.clock.t)
    (message,) = rig.slack.messages("C1")
    assert click(rig, app, message, BREAKEVEN_ACTION, "breakeven") == 200
    reply = wait_response(rig.slack, "breakeven")
    shown = reply["text"] + json.dumps(reply["blocks"])
    assert "$70,000" in shown and "CoinShares cash cost" in shown and "below" in shown
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert workspaces.muted_until(rig.db, TEAM, "C1", rig.clock.t) is None


def test_a_forged_click_is_refused(rig: Rig, app: Any) -> None:
    rig.crossing("C1")
    rig.pass_at(rig.clock.t)
    (message,) = rig.slack.messages("C1")
    payload = urlencode({"payload": json.dumps({"type": "block_actions", "actions": []})})
    headers = signed(payload) | {"x-slack-signature": "v0=" + "0" * 64}
    assert app.dispatch(BoltRequest(body=payload, headers=headers)).status == 401
    assert rig.slack.responses("snooze") == []


def test_metrics_count_what_slack_accepted_and_refused(rig: Rig) -> None:
    """/metrics: messages by kind, Slack's answers by error, no channel or team id in labels."""
    rig.crossing("C1")
    rig.slack.fail("chat.postMessage", times=1, shape="html", status=200)
    rig.slack.fail("chat.postMessage", times=1, status=503, error="service_unavailable")
    t = rig.clock.t
    assert rig.pass_at(t) == 0
    assert rig.pass_at(t + 60) == 0
    assert rig.pass_at(t + 120) == 1
    text = rig.metrics.exposition().decode()
    assert 'hashfloor_messages_sent_total{kind="alert"} 1.0' in text
    assert 'hashfloor_slack_errors_total{error="bad_response"} 1.0' in text
    assert 'hashfloor_slack_errors_total{error="server_error"} 1.0' in text
    assert "C1" not in text and TEAM not in text


# --- a wall clock stepped back (DESIGN §10) -------------------------------------------------------


def test_a_clock_stepped_back_does_not_hold_queued_rows_or_the_pace(rig: Rig) -> None:
    first = queue(rig, "C1", "first")
    second = queue(rig, "C2", "second")
    rig.slack.fail("chat.postMessage", times=1, status=503, channel="C1")
    t = rig.clock.t
    assert rig.pass_at(t) == 1  # C2 sent; C1 waits out its backoff
    queue(rig, "C2", "third")
    # The clock goes back two hours: C1's backoff and C2's one-per-second pace, planned on the
    # old clock, would otherwise hold both channels for two hours.
    t -= 2 * 3600
    assert rig.pass_at(t) == 2
    assert [m["text"] for m in rig.slack.messages("C1")] == ["first"]
    assert [m["text"] for m in rig.slack.messages("C2")] == ["second", "third"]
    assert {alerts.get(rig.db, i)["status"] for i in (first, second)} == {"sent"}


# --- one message per episode: the recovery edits its alert (DESIGN §5.1) ---------------------------


def episode(rig: Rig, channel: str = "C1") -> tuple[Any, Any]:
    """An alert delivered, then the price back above the line: (the alert's post, the recovery's
    post), the recovery sent and its edit queued behind it."""
    rig.crossing(channel)
    assert rig.pass_at(rig.clock.t) == 1
    rig.poll(91_000)
    rig.poll(91_000)
    assert rig.pass_at(rig.clock.t + 1) == 1
    alert_post, recovery_post = [c for c in rig.posts() if c.ok]
    assert "recovered above" in recovery_post.args["text"]
    return alert_post, recovery_post


def kinds(rig: Rig) -> list[tuple[str, str]]:
    return [(r["kind"], r["status"]) for r in rig.outbox()]


def test_the_recovery_edits_its_alert_after_it_is_posted(rig: Rig, app: Any) -> None:
    alert_post, recovery_post = episode(rig)
    assert recovery_post.args["thread_ts"] == alert_post.response["ts"]
    assert rig.slack.calls_to("chat.update") == []  # the recovery went first, on its own
    assert kinds(rig) == [("alert", "sent"), ("recovery", "sent"), ("edit", "pending")]
    assert rig.pass_at(rig.clock.t + 2) == 1
    (update,) = rig.slack.calls_to("chat.update")
    assert update.ok and update.args["channel"] == "C1"
    assert update.args["ts"] == alert_post.response["ts"]
    shown = rig.slack.message("C1", alert_post.response["ts"])
    assert shown["text"].startswith("Recovered 2025-11-24 16:05 UTC after 2 min: BTC recovered")
    assert "BTC $91,000" in shown["text"]
    blocks = json.dumps(shown["blocks"])
    assert "fell below" in blocks and "Recovered 2025-11-24 16:05 UTC, after 2 min." in blocks
    (buttons,) = [b["elements"] for b in shown["blocks"] if b["type"] == "actions"]
    assert [b["action_id"] for b in buttons] == [BREAKEVEN_ACTION]
    assert kinds(rig) == [("alert", "sent"), ("recovery", "sent"), ("edit", "sent")]
    # The rule's last message is still the recovery; nothing is posted twice.
    rule = alerts.channel_rules(rig.db, TEAM, "C1")[0]
    assert rule["last_message"].startswith("BTC recovered above")
    assert rig.pass_at(rig.clock.t + 600) == 0
    assert len(rig.slack.messages("C1")) == 2 and len(rig.slack.calls_to("chat.update")) == 1
    assert rig.metrics.messages_sent.labels("edit")._value.get() == 1
    # Breakeven still answers from the edited alert.
    assert click(rig, app, {**shown, "channel": "C1"}, BREAKEVEN_ACTION, "be") == 200
    assert "$" in wait_response(rig.slack, "be")["text"]


@pytest.mark.parametrize(
    ("fault", "tries"),
    [
        ({"error": "message_not_found"}, 1),
        ({"error": "cant_update_message"}, 1),
        ({"error": "edit_window_closed"}, 1),
        ({"error": "is_archived"}, 1),
        ({"status": 500}, EDIT_TRIES),
        ({"status": 503, "shape": "html"}, EDIT_TRIES),
        ({"shape": "truncated"}, EDIT_TRIES),
        ({"shape": "empty"}, EDIT_TRIES),
        ({"status": 429, "retry_after": 600}, EDIT_TRIES),
        ({"error": "hashfloor_never_heard_of_it"}, EDIT_TRIES),
    ],
)
def test_a_failed_edit_never_loses_the_recovery_nor_holds_the_next_alert(
    rig: Rig, fault: dict[str, Any], tries: int
) -> None:
    rig.slack.fail("chat.update", times=None, **fault)
    episode(rig)
    t = rig.clock.t
    for _ in range(EDIT_TRIES + 2):
        t += EDIT_MAX_WAIT_S
        rig.pass_at(t)
    assert len(rig.slack.calls_to("chat.update")) == tries
    assert kinds(rig) == [("alert", "sent"), ("recovery", "sent"), ("edit", "failed")]
    edit = rig.outbox()[-1]
    assert edit["last_error"].startswith("not edited: ")
    # The recovery arrived once; the channel is not paused; status shows no undelivered message.
    assert len(rig.slack.messages("C1")) == 2
    assert alerts.channel_rules(rig.db, TEAM, "C1")[0]["paused_reason"] is None
    assert "not delivered" not in status_blocks(rig, "C1")
    # The next episode's alert goes out as usual.
    rig.poll(70_000)
    rig.poll(70_000)
    assert rig.pass_at(rig.clock.t + EDIT_MAX_WAIT_S) == 1
    assert "fell below" in rig.slack.messages("C1")[-1]["text"]


def test_an_edit_that_times_out_is_retried_then_given_up(rig: Rig) -> None:
    episode(rig)
    client_for = rig.client_for

    def impatient(team: str, enterprise: str | None = None) -> WebClient | None:
        client = client_for(team, enterprise)
        if client is not None:
            client.timeout = 0.3
        return client

    rig.worker.client_for = impatient
    rig.slack.delay("chat.update", 1.0)
    t = rig.clock.t
    for _ in range(EDIT_TRIES):
        t += EDIT_MAX_WAIT_S
        assert rig.pass_at(t) == 0
    edit = rig.outbox()[-1]
    assert edit["status"] == "failed" and "timed out" in edit["last_error"].lower()
    assert len(rig.slack.calls_to("chat.update")) == EDIT_TRIES
    assert len(rig.slack.messages("C1")) == 2


def test_an_edit_after_a_5xx_goes_through_once(rig: Rig) -> None:
    alert_post, _ = episode(rig)
    rig.slack.fail("chat.update", times=2, status=502)
    t = rig.clock.t
    while rig.pass_at(t) == 0 and t < rig.clock.t + 100:
        t += EDIT_MAX_WAIT_S
    assert [c.status for c in rig.slack.calls_to("chat.update")] == [502, 502, 200]
    assert kinds(rig)[-1] == ("edit", "sent")
    assert rig.slack.message("C1", alert_post.response["ts"])["text"].startswith("Recovered")


def test_a_dead_token_on_the_edit_pauses_the_workspace_as_for_any_message(rig: Rig) -> None:
    episode(rig)
    rig.slack.fail("chat.update", error="token_revoked", times=1)
    rig.pass_at(rig.clock.t + 2)
    assert kinds(rig)[-1] == ("edit", "failed")
    assert alerts.channel_rules(rig.db, TEAM, "C1")[0]["paused_reason"] == "token_revoked"


def test_a_restart_between_the_recovery_and_its_edit_edits_once(rig: Rig, tmp_path: Path) -> None:
    """The recovery was sent, then the process stopped: the edit, queued with the recovery in
    one transaction, is sent by the next process; the recovery is not posted again."""
    alert_post, _ = episode(rig)
    rig.worker.stop()
    rig.storage.close()
    storage = Storage(rig.db_path)
    worker = DeliveryWorker(storage, rig.client_for, clock=rig.clock)
    try:
        rig.clock.t += 5
        assert worker.send_due() == 1
        rig.clock.t += 600
        assert worker.send_due() == 0
    finally:
        worker.stop()
        storage.close()
    assert len(rig.slack.messages("C1")) == 2
    assert len(rig.slack.calls_to("chat.update")) == 1
    assert rig.slack.message("C1", alert_post.response["ts"])["text"].startswith("Recovered")


def test_threads_off_posts_the_recovery_top_level_and_still_edits_the_alert(rig: Rig) -> None:
    rig.poll(91_000)
    assert rig.command("C1", "subscribe cash").text.startswith("Subscribed")
    assert rig.command("C1", "threads off").text.startswith("Recoveries in this channel now go")
    rig.poll(70_000)
    rig.poll(70_000)
    assert rig.pass_at(rig.clock.t) == 1
    rig.poll(91_000)
    rig.poll(91_000)
    assert rig.pass_at(rig.clock.t + 1) == 1
    assert rig.pass_at(rig.clock.t + 2) == 1
    alert_post, recovery_post = rig.slack.messages("C1")
    assert "thread_ts" not in recovery_post and "recovered above" in recovery_post["text"]
    assert "ends the alert posted" not in recovery_post["text"]  # that note is for a lost ts
    (update,) = rig.slack.calls_to("chat.update")
    assert update.ok and update.args["ts"] == rig.posts()[0].response["ts"]
    # Another workspace's rules in the same channel id keep their threads (keyed by team too).
    assert workspaces.threads_on(rig.db, "T0OTHER", "C1")
