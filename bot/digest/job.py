"""The digest's minute job: send each channel's weekly digest once, when it is due (DESIGN §6).

Each run looks at every channel with a digest (bot.digest.channels) and:
- "send": posts the digest (blocks and a text fallback) with chat.postMessage, records the week at
  once, then uploads the chart with files_upload_v2 *in the digest's thread*, so the week's post
  stays one message in the channel with its chart under it. A refused upload (missing_scope,
  not_in_channel, a 429…) is logged and noted on the channel; the digest counts as sent.
- "skip_late": the digest is more than 24 hours late (the bot was down): logged, week recorded.
- "skip_before_start": the due time came before the schedule or subscription started: recorded.

The week is recorded only after Slack accepted the message, so a crash in between sends it once
more at the next run, and never loses it. A 429, a 5xx or a network error leaves the week unsent
for the next run (up to the 24-hour limit); a permanent error (the bot removed from the channel,
the workspace uninstalled) records the week with the reason, pauses the channel's alert rules as
the delivery worker does, and shows in `/hashfloor status` and the App Home.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.alerts.delivery import classify_error
from bot.digest import channels
from bot.digest.channels import ChannelDigest
from bot.digest.chart import render_chart
from bot.digest.compose import Composed, channel_rules, compose, load_snapshots
from bot.digest.render import digest_blocks
from bot.market.snapshot import Snapshot
from bot.service import Hashfloor
from storage import alerts, digests

log = logging.getLogger("hashfloor.digest")

ClientFor = Callable[[str, str | None], WebClient | None]


class DigestJob:
    def __init__(self, service: Hashfloor, client_for: ClientFor) -> None:
        self.service = service
        self.client_for = client_for

    def run(self, now: datetime | None = None) -> int:
        """One pass over every channel; returns how many digests were posted."""
        now = now or datetime.fromtimestamp(self.service.clock(), UTC)
        db = self.service.storage.db
        found = channels.all_channels(digests.all_rows(db), alerts.subscribed_channels(db))
        run = _Run(self.service, now)
        sent = 0
        for digest in found:
            try:
                sent += self._one(run, digest)
            except Exception:  # one channel's bug must not starve the others
                log.exception("digest for %s failed", digest.channel_id)
        return sent

    def _one(self, run: _Run, digest: ChannelDigest) -> int:
        step = channels.step(digest, run.now)
        if step.action == "wait":
            return 0
        week = step.decision.week
        assert week is not None
        db = self.service.storage.db
        at = run.now.timestamp()
        if step.action == "skip_before_start":
            log.info(
                "digest for %s, %s: due before its schedule started; not sent",
                digest.channel_id,
                week,
            )
            self._record(digest, week, at)
            return 0
        if step.action == "skip_late":
            late_h = step.decision.late.total_seconds() / 3600 if step.decision.late else 0
            log.warning(
                "digest for %s, %s: %.1f h late (more than 24 h; was the bot down?): skipped",
                digest.channel_id,
                week,
                late_h,
            )
            self._record(digest, week, at, error=f"{week} skipped: {late_h:.0f} h late")
            return 0

        client = self.client_for(digest.team_id, digest.enterprise_id)
        if client is None:
            reason = "no token for this workspace (uninstalled?)"
            log.error("digest for %s, %s: %s; skipped", digest.channel_id, week, reason)
            self._record(digest, week, at, error=reason)
            return 0
        composed = run.composed(digest.team_id)
        rules = channel_rules(
            self.service.storage, digest.team_id, digest.channel_id, composed.digest.now
        )
        text, blocks = digest_blocks(composed.digest, rules=rules)
        try:
            resp = client.chat_postMessage(
                channel=digest.channel_id,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except Exception as exc:
            return self._post_failed(digest, week, at, exc)
        ts = resp.get("ts")
        # Recorded before the upload: whatever happens to the chart, this week is not sent again.
        self._record(digest, week, at, ts=ts or "")
        log.info("digest for %s, %s sent (ts %s)", digest.channel_id, week, ts)
        chart_error = self._upload_chart(client, run, digest, composed, week, ts)
        if chart_error:
            with self.service.storage.transaction():
                digests.record_error(
                    db, digest.team_id, digest.channel_id, chart_error, at, digest.enterprise_id
                )
        return 1

    def _upload_chart(
        self,
        client: WebClient,
        run: _Run,
        digest: ChannelDigest,
        composed: Composed,
        week: str,
        ts: str | None,
    ) -> str | None:
        """Upload the chart in the digest's thread; the reason it did not go, or None."""
        try:
            png = run.chart(digest.team_id, composed)
        except Exception:
            log.exception(
                "digest for %s, %s: the chart could not be drawn", digest.channel_id, week
            )
            return "sent without its chart: the chart could not be drawn"
        try:
            client.files_upload_v2(
                channel=digest.channel_id,
                content=png,
                filename=f"hashfloor-week-{week}.png",
                title=f"BTC against the cost to mine, week {week}",
                alt_txt="Chart of the BTC price over the last 7 and 90 days against the cost lines",
                thread_ts=ts,
            )
        except Exception as exc:
            reason = _error_name(exc)
            log.warning(
                "digest for %s, %s went out without its chart: the upload was refused (%s)",
                digest.channel_id,
                week,
                reason,
            )
            return f"sent without its chart: Slack said {reason}"
        return None

    def _post_failed(self, digest: ChannelDigest, week: str, at: float, exc: Exception) -> int:
        db = self.service.storage.db
        outcome = classify_error(exc, 0)
        if outcome.kind == "retry":
            log.warning(
                "digest for %s, %s not sent: %s; trying again next minute",
                digest.channel_id,
                week,
                outcome.detail,
            )
            with self.service.storage.transaction():
                digests.record_error(
                    db,
                    digest.team_id,
                    digest.channel_id,
                    f"not sent yet: {outcome.detail}",
                    at,
                    digest.enterprise_id,
                )
            return 0
        reason = outcome.detail
        with self.service.storage.transaction():
            self._record(digest, week, at, error=f"{week} not sent: Slack said {reason}")
            if outcome.kind == "permanent":
                if reason in alerts.TEAM_ERRORS:
                    alerts.pause_team(db, digest.team_id, reason, at)
                else:
                    alerts.pause_channel(db, digest.team_id, digest.channel_id, reason, at)
        log.error("digest for %s, %s not sent: Slack said %s", digest.channel_id, week, reason)
        return 0

    def _record(
        self,
        digest: ChannelDigest,
        week: str,
        at: float,
        ts: str | None = None,
        error: str | None = None,
    ) -> None:
        with self.service.storage.transaction():
            digests.record_week(
                self.service.storage.db,
                digest.team_id,
                digest.channel_id,
                week,
                at,
                ts=ts,
                error=error,
                enterprise_id=digest.enterprise_id,
            )


class _Run:
    """What one run shares between channels: the snapshots, each workspace's digest and chart."""

    def __init__(self, service: Hashfloor, now: datetime) -> None:
        self.service = service
        self.now = now
        self._snaps: list[Snapshot] | None = None
        self._composed: dict[str, Composed] = {}
        self._charts: dict[str, bytes] = {}

    def snaps(self) -> list[Snapshot]:
        if self._snaps is None:  # loaded only when some channel is due
            self._snaps = load_snapshots(self.service.storage, self.now.timestamp())
        return self._snaps

    def composed(self, team: str) -> Composed:
        if team not in self._composed:
            self._composed[team] = compose(
                self.service.storage, team, self.now.timestamp(), self.snaps()
            )
        return self._composed[team]

    def chart(self, team: str, composed: Composed) -> bytes:
        if team not in self._charts:
            self._charts[team] = render_chart(
                self.snaps(), composed.chart_lines, self.now.timestamp()
            )
        return self._charts[team]


def _error_name(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        resp: Any = exc.response
        status = getattr(resp, "status_code", 200)
        error = resp.get("error") if hasattr(resp, "get") else None
        return str(error or f"HTTP {status}")
    return f"{type(exc).__name__}: {exc}"[:200]
