"""/metrics: the process's numbers in Prometheus text (DESIGN §10).

Counters and histograms are updated where things happen (a poll, a delivery, a slash command);
gauges that describe the database (price age, outbox, rules) are read when Prometheus scrapes, so
they are right in a standby process too. No workspace, channel or user id is ever a label: labels
come from small fixed sets, and anything else is counted as `other`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from bot.market.snapshot import Snapshot

log = logging.getLogger("hashfloor.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST
COMMANDS = ("/breakeven", "/hashprice", "/costs", "/hashfloor")
MESSAGE_KINDS = ("alert", "recovery", "unmute", "digest", "retarget", "headsup", "edit")
RULE_KINDS = ("cash", "allin", "cost", "fleet", "below", "hashprice", "within", "adjustment")
# Slack error codes worth their own label; any other code is `other` (the set must stay small).
SLACK_ERRORS = (
    "ratelimited",
    "server_error",
    "bad_response",
    "network",
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "msg_too_long",
    "invalid_blocks",
)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def bounded(value: str | None, allowed: tuple[str, ...]) -> str:
    """A label value from a fixed set: ids and free text must never become a time series."""
    return value if value in allowed else "other"


class Metrics:
    """One registry per process (tests build as many as they like)."""

    def __init__(self, sources: tuple[str, ...] = ()) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.sources = tuple(sources)
        r = self.registry
        self.polls = Counter(
            "hashfloor_polls",
            "Market polls, by whether the aggregate was fresh",
            ["result"],
            registry=r,
        )
        self.source_requests = Counter(
            "hashfloor_source_requests",
            "Requests to each market source, by result",
            ["source", "result"],
            registry=r,
        )
        self.source_latency = Histogram(
            "hashfloor_source_request_seconds",
            "Time each market source took to answer a poll",
            ["source"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.messages_sent = Counter(
            "hashfloor_messages_sent", "Messages Slack accepted, by kind", ["kind"], registry=r
        )
        self.slack_errors = Counter(
            "hashfloor_slack_errors",
            "Slack answers that were not an acceptance, by error",
            ["error"],
            registry=r,
        )
        self.slash_commands = Counter(
            "hashfloor_slash_commands", "Slash commands answered", ["command"], registry=r
        )
        self.slash_latency = Histogram(
            "hashfloor_slash_command_seconds",
            "Time from a slash command's arrival to its answer (the ack)",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        for name in COMMANDS:  # series exist from the start, so rate() has a baseline
            self.slash_commands.labels(name)
        for kind in MESSAGE_KINDS:
            self.messages_sent.labels(kind)
        for result in ("fresh", "stale"):
            self.polls.labels(result)

    def observe_poll(self, snap: Snapshot) -> None:
        self.polls.labels("fresh" if snap.fresh else "stale").inc()
        for q in snap.quotes:
            source = bounded(q.source, self.sources)
            self.source_requests.labels(source, "ok" if q.error is None else "error").inc()
            self.source_latency.labels(source).observe(max(q.latency_ms, 0.0) / 1000.0)

    def observe_sent(self, kind: str | None) -> None:
        self.messages_sent.labels(bounded(kind, MESSAGE_KINDS)).inc()

    def observe_slack_error(self, error: str | None) -> None:
        self.slack_errors.labels(bounded(error, SLACK_ERRORS)).inc()

    def observe_command(self, command: str | None, seconds: float) -> None:
        name = bounded(command, COMMANDS)
        self.slash_commands.labels(name).inc()
        self.slash_latency.labels(name).observe(max(seconds, 0.0))

    def add_state(self, state: StateCollector) -> None:
        self.registry.register(state)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class StateCollector(Collector):
    """Gauges read from the database at scrape time; a failed read drops them, never the scrape."""

    def __init__(
        self,
        read: Callable[[], dict[str, Any]],
        holds_scheduler: Callable[[], bool],
    ) -> None:
        self.read = read
        self.holds_scheduler = holds_scheduler

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())  # values come from the database: nothing to check at registration

    def collect(self) -> Iterator[GaugeMetricFamily]:
        holder = GaugeMetricFamily(
            "hashfloor_scheduler_holder",
            "1 when this process holds the scheduler (polls, alerts, delivery), 0 on standby",
        )
        holder.add_metric([], 1.0 if self.holds_scheduler() else 0.0)
        yield holder
        up = GaugeMetricFamily(
            "hashfloor_database_up", "1 when the database answered this scrape's reads"
        )
        try:
            state = self.read()
        except Exception as exc:  # the scrape still says what it can
            log.warning("metrics: database read failed: %s", type(exc).__name__)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        age = state.get("price_age_s")
        if age is not None:
            g = GaugeMetricFamily(
                "hashfloor_price_age_seconds",
                "Seconds since the last fresh aggregate price (negative clock steps count as stale)",
            )
            g.add_metric([], float(age))
            yield g
        g = GaugeMetricFamily("hashfloor_outbox_pending", "Messages waiting to be sent")
        g.add_metric([], float(state.get("outbox_pending", 0)))
        yield g
        g = GaugeMetricFamily("hashfloor_outbox_failed", "Messages Slack refused for good")
        g.add_metric([], float(state.get("outbox_failed", 0)))
        yield g
        rules = GaugeMetricFamily(
            "hashfloor_rules", "Alert rules, by kind and whether paused", labels=["kind", "paused"]
        )
        counts: dict[tuple[str, str], int] = {}
        for key, paused, n in state.get("rules", ()):
            label = (bounded(str(key).split(":", 1)[0], RULE_KINDS), "1" if paused else "0")
            counts[label] = counts.get(label, 0) + int(n)
        for labels, n in sorted(counts.items()):
            rules.add_metric(list(labels), float(n))
        yield rules


def database_state(db: Any, now: float) -> dict[str, Any]:
    """What the state gauges show, in three small queries (a scrape must stay cheap)."""
    from storage import snapshots
    from storage.db import select

    good = snapshots.latest_fresh(db)
    age = None
    if good is not None:
        # A clock stepped back makes the age negative: report it as stale, not as brand new.
        age = now - good.taken_at
        if age < 0:
            age = float("inf")
    outbox = {
        r["status"]: r["n"]
        for r in select(db, "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
    }
    rules = [
        (r["kind"], r["paused"], r["n"])
        for r in select(
            db,
            "SELECT CASE WHEN instr(line_key, ':') > 0"
            " THEN substr(line_key, 1, instr(line_key, ':') - 1) ELSE line_key END AS kind,"
            " paused_reason IS NOT NULL AS paused, COUNT(*) AS n FROM rules GROUP BY 1, 2",
        )
    ]
    return {
        "price_age_s": age,
        "outbox_pending": outbox.get("pending", 0),
        "outbox_failed": outbox.get("failed", 0),
        "rules": rules,
    }
