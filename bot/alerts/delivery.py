"""The delivery worker: sends outbox rows to Slack, in order, exactly as DESIGN §5 says.

- per channel, rows go in id order, at most one message per second;
- HTTP 429 waits out Retry-After; 5xx, network errors and answers that are not Slack's JSON back
  off and retry; an unknown error code is retried a bounded number of times;
- a row is marked sent only after Slack accepted it (a crash in between resends, never loses);
  a row Slack accepted is never sent again because the database was too busy to mark it;
- permanent errors pause the channel's (or the workspace's) rules and are logged; a code final
  for one message ends its row, shown in /hashfloor status;
- a recovery whose alert never reached the channel is not posted (see `_unheard`).
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.alerts import messages
from bot.metrics import Metrics
from storage import alerts, workspaces
from storage.db import Storage

log = logging.getLogger("hashfloor.delivery")

PER_CHANNEL_INTERVAL_S = 1.0
BACKOFF_S = (1, 2, 5, 15, 30, 60, 120, 300)
# The longest a row ever waits (a Retry-After is capped to it too); see alerts.due's horizon.
MAX_WAIT_S = float(BACKOFF_S[-1])
# An error code Hashfloor does not know is retried this many times (about 10 minutes of
# backoff), then the row is marked failed and /hashfloor status shows it.
UNKNOWN_ERROR_TRIES = 8

# Codes Slack documents for chat.postMessage that no retry can change for this message: the row
# ends (failed, shown in /hashfloor status). Codes that pause the channel or the workspace are
# alerts.PERMANENT_ERRORS and alerts.TEAM_ERRORS.
FINAL_ERRORS = frozenset(
    {
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "too_many_attachments",
        "invalid_attachments",
        "invalid_arguments",
        "invalid_arg_name",
        "invalid_array_arg",
        "invalid_charset",
        "invalid_form_data",
        "invalid_post_type",
        "missing_post_type",
        "invalid_json",
        "json_not_object",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "cannot_reply_to_message",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "missing_scope",
        "not_allowed_token_type",
        "no_permission",
        "ekm_access_denied",
    }
)
# Codes Slack documents as temporary: retried with backoff, without limit.
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "message_limit_exceeded",
        "service_unavailable",
        "fatal_error",
        "internal_error",
        "request_timeout",
        "team_added_to_org",
    }
)
_CODE = re.compile(r"[a-z][a-z0-9_]{1,80}")

UNHEARD = "its alert never reached the channel"

ClientFor = Callable[[str, str | None], WebClient | None]


@dataclass(frozen=True)
class Outcome:
    kind: str  # sent | retry | permanent | failed
    detail: str = ""
    retry_after: float = 0.0
    unknown: bool = False  # Slack answered an error code Hashfloor does not know
    code: str = ""  # what /metrics counts it as: a Slack code, or network | bad_response | …


def backoff(attempts: int) -> float:
    return float(BACKOFF_S[min(attempts, len(BACKOFF_S) - 1)])


def error_code(resp: Any) -> str | None:
    """The `error` of an answer that is Slack's JSON, or None for anything else.

    slack_sdk turns a body that is not JSON (a proxy's HTML page, an empty or a truncated body)
    into an `error` of its own ("Received a response in a non-JSON format: …"); that is not a
    code, and neither is a JSON body that is not an object.
    """
    data = getattr(resp, "data", resp)
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, str) and _CODE.fullmatch(error) else None


def _unreadable(resp: Any, status: int) -> str:
    """A short description of an answer that is not Slack's JSON, for logs and status."""
    headers = getattr(resp, "headers", None) or {}
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    kind = ctype.split(";")[0].strip() or "no content type"
    return f"HTTP {status}, not a Slack answer ({kind})"


def classify_error(exc: Exception, attempts: int, unknown_errors: int = 0) -> Outcome:
    """What a failed send means: wait, retry with backoff, pause, or give up on this row.

    DESIGN §5: only an explicit Slack error code known to be final ends a row; every other
    answer — HTML, an empty or truncated body, a 5xx, a timeout — is retried with backoff; an
    unknown code is retried UNKNOWN_ERROR_TRIES times (`unknown_errors`: how many so far).
    """
    if not isinstance(exc, SlackApiError):
        # Network errors, timeouts: the message may or may not have arrived, but losing an alert
        # is worse than a rare duplicate.
        return Outcome(
            "retry", f"{type(exc).__name__}: {exc}"[:200], backoff(attempts), code="network"
        )
    resp = exc.response
    status = getattr(resp, "status_code", None) or 200
    code = error_code(resp)
    if status == 429 or code in ("ratelimited", "rate_limited"):
        headers = getattr(resp, "headers", None) or {}
        try:
            wait = float(headers.get("Retry-After", headers.get("retry-after", 1)))
        except (TypeError, ValueError):
            wait = 1.0
        return Outcome(
            "retry",
            f"rate limited ({status})",
            min(max(wait, 1.0), MAX_WAIT_S),
            code="ratelimited",
        )
    if code in alerts.PERMANENT_ERRORS or code in alerts.TEAM_ERRORS:
        return Outcome("permanent", code, code=code)
    if code in FINAL_ERRORS:
        return Outcome("failed", code, code=code)
    if code is None:
        kind = "server_error" if status >= 500 else "bad_response"
        return Outcome("retry", _unreadable(resp, status), backoff(attempts), code=kind)
    if code in TRANSIENT_ERRORS or status >= 500:
        return Outcome("retry", f"{code} (HTTP {status})", backoff(attempts), code="server_error")
    if unknown_errors + 1 >= UNKNOWN_ERROR_TRIES:
        return Outcome(
            "failed",
            f"{code} (not a code Hashfloor knows; tried {unknown_errors + 1} times)",
            code=code,
        )
    return Outcome("retry", code, backoff(attempts), unknown=True, code=code)


# An edit (chat.update of an alert its recovery ended) is tried this many times in all, each wait
# at most EDIT_MAX_WAIT_S: it sits in its channel's queue, and a later alert must not wait long
# behind a cosmetic change.
EDIT_TRIES = 4
EDIT_MAX_WAIT_S = 15.0
# Codes of chat.update that no retry changes: the message is gone, not the bot's, or too old to
# edit; the channel gone or left. The alert keeps its first wording; nothing is paused for it
# (the next message to the channel finds out, and pauses if it must).
EDIT_FINAL_ERRORS = frozenset(
    {
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "is_inactive",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
    }
)


def classify_edit_error(exc: Exception, attempts: int) -> Outcome:
    """What a failed chat.update means. A dead token pauses the workspace as for any message;
    every other answer ends the edit at once (a code final for it) or after EDIT_TRIES tries."""
    out = classify_error(exc, attempts)
    if out.kind == "permanent" and out.detail in alerts.TEAM_ERRORS:
        return out
    code = error_code(exc.response) if isinstance(exc, SlackApiError) else None
    if out.kind != "retry" or code in EDIT_FINAL_ERRORS:
        return Outcome("failed", f"not edited: {out.detail}", code=out.code)
    if attempts + 1 >= EDIT_TRIES:
        return Outcome(
            "failed", f"not edited: {out.detail} (tried {attempts + 1} times)", code=out.code
        )
    return Outcome("retry", out.detail, min(out.retry_after, EDIT_MAX_WAIT_S), code=out.code)


class DeliveryWorker:
    def __init__(
        self,
        storage: Storage,
        client_for: ClientFor,
        clock: Callable[[], float] = time.time,
        threads: int = 8,
        metrics: Metrics | None = None,
    ) -> None:
        self.storage = storage
        self.metrics = metrics
        self.client_for = client_for
        self.clock = clock
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._last_sent: dict[str, float] = {}
        # Rows Slack accepted that could not be marked sent (the database was busy past its
        # timeout): outbox id -> (row, ts, sent at). They are not sent again; marked on later passes.
        self._accepted: dict[int, tuple[dict[str, Any], str | None, float]] = {}
        self._accepted_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="delivery")
        self._thread: threading.Thread | None = None

    # --- one pass -------------------------------------------------------------------------

    def send_due(self) -> int:
        """Send the head row of every channel that may send now; returns how many were sent."""
        now = self.clock()
        self._mark_accepted()
        with self._accepted_lock:
            accepted = set(self._accepted)
        rows = [
            r
            for r in alerts.due(self.storage.db, now, horizon=MAX_WAIT_S + 60)
            if r["id"] not in accepted and self._may_send(r["channel_id"], now)
        ]
        if not rows:
            return 0
        return sum(self._pool.map(self._send, rows))

    def _may_send(self, channel: str, now: float) -> bool:
        """One message per second per channel. A last send "in the future" means the wall clock
        went back: the pace is long over, not hours away."""
        elapsed = now - self._last_sent.get(channel, float("-inf"))
        return elapsed < 0 or elapsed >= PER_CHANNEL_INTERVAL_S

    def _send(self, row: dict[str, Any]) -> int:
        db = self.storage.db
        client = self.client_for(row["team_id"], row["enterprise_id"])
        if client is None:
            self._pause(row, "no token for this workspace (uninstalled?)")
            return 0
        if row["kind"] == "edit":
            return self._edit(row, client)
        thread_ts = None
        text, blocks = row["text"], json.loads(row["blocks"] or "[]")
        if row["thread_of"]:
            parent = alerts.get(db, row["thread_of"])
            if parent and parent["status"] == "pending":
                # The alert is still queued ahead of its recovery; ordering keeps this rare.
                alerts.retry_later(db, row["id"], self.clock() + 1, "waiting for the alert")
                return 0
            if parent and parent["status"] == "failed" and row["kind"] == "recovery":
                return self._unheard(row)
            thread_ts = parent["ts"] if parent and parent["status"] == "sent" else None
            if thread_ts and not workspaces.threads_on(db, row["team_id"], row["channel_id"]):
                # /hashfloor threads off: top-level, and the alert is edited to say it ended.
                thread_ts = None
            elif parent and parent["status"] == "sent" and not thread_ts:
                # Slack accepted the alert without telling its ts: the recovery goes top-level
                # and says which alert it ends.
                text, blocks = messages.unthreaded(text, blocks, parent["sent_at"])
        self._last_sent[row["channel_id"]] = self.clock()
        try:
            resp = client.chat_postMessage(
                channel=row["channel_id"],
                text=text,
                blocks=blocks or None,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            )
        except Exception as exc:
            out = classify_error(exc, row["attempts"] or 0, row.get("unknown_errors") or 0)
            return self._failed(row, out)
        ts = resp.get("ts") if isinstance(resp.data, dict) else None
        sent_at = self.clock()
        try:
            self._mark_sent(row, ts, sent_at)
        except sqlite3.Error as exc:
            # Slack has it: sending it again would post it twice (what the capacity run saw
            # when this raised). Kept in memory and marked once the database takes writes.
            with self._accepted_lock:
                self._accepted[row["id"]] = (row, ts, sent_at)
            log.warning("sent %s but could not mark it yet: %s", row["key"], exc)
        if self.metrics is not None:
            self.metrics.observe_sent(row["kind"])
        if not ts:
            # Accepted: sending again would post it twice. Marked sent without its ts; a
            # recovery of it is posted top-level with a note instead of in its thread.
            log.warning(
                "Slack accepted %s for %s without its ts: a reply cannot go in its thread",
                row["key"],
                row["channel_id"],
            )
        log.info("sent %s %s to %s", row["kind"], row["key"], row["channel_id"])
        return 1

    def _edit(self, row: dict[str, Any], client: WebClient) -> int:
        """chat.update of the alert a recovery ended (`thread_of`), with the text queued for it.
        It comes after the recovery in the channel's queue, and anything that goes wrong ends
        it soon: the alert keeps its first wording, and nothing else waits long behind it."""
        db = self.storage.db
        alert = alerts.get(db, row["thread_of"]) if row["thread_of"] else None
        if alert is not None and alert["status"] == "pending":
            alerts.postpone(db, row["id"], self.clock() + 1, "waiting for the alert")
            return 0
        if alert is None or alert["status"] != "sent" or not alert["ts"]:
            why = (
                "the alert is gone"
                if alert is None
                else UNHEARD
                if alert["status"] != "sent"
                else "Slack did not return the alert's id"
            )
            alerts.mark_failed(db, row["id"], f"not edited: {why}", self.clock())
            log.info("%s for %s not edited: %s", row["key"], row["channel_id"], why)
            return 0
        try:
            client.chat_update(
                channel=row["channel_id"],
                ts=alert["ts"],
                text=row["text"],
                blocks=json.loads(row["blocks"] or "[]") or None,
            )
        except Exception as exc:
            return self._failed(row, classify_edit_error(exc, row["attempts"] or 0))
        with self.storage.transaction():
            alerts.mark_sent(db, row, alert["ts"], self.clock())
        if self.metrics is not None:
            self.metrics.observe_sent(row["kind"])
        log.info("edited the alert %s in %s: recovered", alert["ts"], row["channel_id"])
        return 1

    def _mark_sent(self, row: dict[str, Any], ts: str | None, at: float) -> None:
        with self.storage.transaction():  # the row and its rule's "last message" together
            alerts.mark_sent(self.storage.db, row, ts, at)

    def _mark_accepted(self) -> None:
        """Mark the rows Slack accepted that an earlier pass could not mark; stops at the first
        that still cannot be (the database is still busy: the next pass tries again)."""
        with self._accepted_lock:
            waiting = list(self._accepted.values())
        for row, ts, at in waiting:
            try:
                self._mark_sent(row, ts, at)
            except sqlite3.Error as exc:
                log.warning("could not mark %s sent yet: %s", row["key"], exc)
                return
            with self._accepted_lock:
                self._accepted.pop(row["id"], None)

    def _unheard(self, row: dict[str, Any]) -> int:
        """A recovery from an alert that never reached the channel is not posted: the channel was
        last told the price stood above the line (the subscription's confirmation or the previous
        recovery), and that is true again, so "recovered" would answer an alert nobody saw. A
        "where it stands" message instead would repeat what the channel already believes."""
        with self.storage.transaction():
            alerts.mark_failed(self.storage.db, row["id"], UNHEARD, self.clock())
            # Nor is the alert edited: there is no alert in the channel to edit.
            alerts.fail_edits_of(self.storage.db, row["thread_of"], UNHEARD, self.clock())
        log.warning("%s for %s not posted: %s", row["key"], row["channel_id"], UNHEARD)
        return 0

    def _failed(self, row: dict[str, Any], out: Outcome) -> int:
        db = self.storage.db
        now = self.clock()
        if self.metrics is not None:
            self.metrics.observe_slack_error(out.code)
        if out.kind == "retry":
            log.warning(
                "delivery of %s to %s: %s; retrying in %.0fs",
                row["key"],
                row["channel_id"],
                out.detail,
                out.retry_after,
            )
            alerts.retry_later(db, row["id"], now + out.retry_after, out.detail, out.unknown)
        elif out.kind == "permanent":
            self._pause(row, out.detail)
        else:
            log.error("Slack refused %s for %s: %s", row["key"], row["channel_id"], out.detail)
            alerts.mark_failed(db, row["id"], out.detail, now)
        return 0

    def _pause(self, row: dict[str, Any], reason: str) -> None:
        db = self.storage.db
        now = self.clock()
        with self.storage.transaction():
            alerts.mark_failed(db, row["id"], reason, now)
            if reason in alerts.TEAM_ERRORS:
                n = alerts.pause_team(db, row["team_id"], reason, now)
                # Every queued row of the workspace would be refused the same way: one call each
                # to Slack with a dead token, for nothing.
                alerts.fail_team_pending(db, row["team_id"], reason, now)
                scope = f"workspace {row['team_id']}"
            else:
                n = alerts.pause_channel(db, row["team_id"], row["channel_id"], reason, now)
                alerts.fail_channel_pending(db, row["team_id"], row["channel_id"], reason, now)
                scope = f"channel {row['channel_id']}"
        log.error("Slack answered %s: paused %d subscription(s) of %s", reason, n, scope)

    # --- the loop -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="delivery", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.send_due()
            except Exception:
                log.exception("delivery pass failed")
                sent = 0
            if not sent:
                self.wake.wait(0.25)
                self.wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread:
            self._thread.join(timeout=15)
        self._pool.shutdown(wait=True)
        self._mark_accepted()  # one more try: after a restart they would be sent again

    def pending(self) -> int:
        return alerts.pending_count(self.storage.db)
