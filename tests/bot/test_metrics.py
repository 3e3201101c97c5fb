"""/metrics content: parsed with prometheus_client's own parser, against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bot.market.snapshot import Quote, Snapshot
from bot.metrics import Metrics, StateCollector, database_state
from storage import snapshots
from storage.db import Storage
from storage.migrations import migrate


def parse(metrics: Metrics) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def snap(at: float, fresh: bool = True) -> Snapshot:
    quotes = (
        Quote("coinbase", 91000.0, None, 120.0),
        Quote("kraken", None, "HTTP 503", 40.0),
        Quote("someone-else", 91010.0, None, 80.0),
    )
    return Snapshot(at, quotes, 91000.0 if fresh else None, fresh, ("coinbase",))


def test_polls_and_sources_are_counted_with_bounded_labels() -> None:
    m = Metrics(sources=("coinbase", "kraken"))
    m.observe_poll(snap(1000.0))
    m.observe_poll(snap(1060.0, fresh=False))
    got = parse(m)
    assert got["hashfloor_polls_total"][(("result", "fresh"),)] == 1
    assert got["hashfloor_polls_total"][(("result", "stale"),)] == 1
    req = got["hashfloor_source_requests_total"]
    assert req[(("result", "ok"), ("source", "coinbase"))] == 2
    assert req[(("result", "error"), ("source", "kraken"))] == 2
    # A source name that is not configured is not allowed to mint a series of its own.
    assert req[(("result", "ok"), ("source", "other"))] == 2
    hist = got["hashfloor_source_request_seconds_sum"]
    assert abs(hist[(("source", "coinbase"),)] - 0.24) < 1e-9


def test_commands_messages_and_errors_never_take_an_id_as_label() -> None:
    m = Metrics()
    m.observe_command("/breakeven", 0.004)
    m.observe_command("/T024BE7LD-secret", 0.1)
    m.observe_sent("alert")
    m.observe_sent("C0123")
    m.observe_slack_error("not_in_channel")
    m.observe_slack_error("U0999 did something")
    got = parse(m)
    assert got["hashfloor_slash_commands_total"][(("command", "/breakeven"),)] == 1
    assert got["hashfloor_slash_commands_total"][(("command", "other"),)] == 1
    assert got["hashfloor_slash_commands_total"][(("command", "/costs"),)] == 0
    assert got["hashfloor_messages_sent_total"][(("kind", "other"),)] == 1
    assert got["hashfloor_slack_errors_total"][(("error", "not_in_channel"),)] == 1
    assert got["hashfloor_slack_errors_total"][(("error", "other"),)] == 1
    text = m.exposition().decode()
    assert "T024BE7LD" not in text and "C0123" not in text and "U0999" not in text


def test_state_gauges_read_the_database_at_scrape_time(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "m.db")
    migrate(storage.db)
    snapshots.insert(storage.db, snap(1000.0))
    # Raw rows: the gauges read the table, whatever code wrote it.
    for channel, key, paused in [
        ("C1", "cash", None),
        ("C1", "below:80000", None),
        ("C2", "below:70000", "not_in_channel"),
    ]:
        storage.db["rules"].insert(
            {"team_id": "T1", "channel_id": channel, "line_key": key, "paused_reason": paused}
        )
    now = [1030.0]
    holds = [True]
    m = Metrics()
    m.add_state(StateCollector(lambda: database_state(storage.db, now[0]), lambda: holds[0]))
    got = parse(m)
    assert got["hashfloor_price_age_seconds"][()] == 30.0
    assert got["hashfloor_scheduler_holder"][()] == 1.0
    assert got["hashfloor_database_up"][()] == 1.0
    assert got["hashfloor_outbox_pending"][()] == 0.0
    rules = got["hashfloor_rules"]
    assert rules[(("kind", "cash"), ("paused", "0"))] == 1
    assert rules[(("kind", "below"), ("paused", "0"))] == 1
    assert rules[(("kind", "below"), ("paused", "1"))] == 1
    # Later scrapes see later state: a stepped-back clock reads as stale (+Inf), not as new.
    now[0] = 900.0
    holds[0] = False
    got = parse(m)
    assert got["hashfloor_price_age_seconds"][()] == float("inf")
    assert got["hashfloor_scheduler_holder"][()] == 0.0
    storage.close()


def test_a_failed_database_read_keeps_the_scrape_alive() -> None:
    def broken() -> dict:
        raise OSError("disk gone")

    m = Metrics()
    m.add_state(StateCollector(broken, lambda: False))
    got = parse(m)
    assert got["hashfloor_database_up"][()] == 0.0
    assert "hashfloor_polls_total" in got


def test_the_rules_gauge_counts_hashprice_rules_and_early_warnings_by_kind(
    tmp_path: Path,
) -> None:
    """The keys the subscribe command writes (bot.alerts.targets) fall in the fixed label set:
    an early warning counts as `within` whatever line it watches, a named fleet's too."""
    from bot.alerts.targets import hashprice_key, within_key

    storage = Storage(tmp_path / "m.db")
    migrate(storage.db)
    keys = [
        hashprice_key(30, "usd"),
        hashprice_key(40, "sats"),
        within_key(5, "cash"),
        within_key(2.5, "below:80000"),
        within_key(5, "fleet:texas"),
        within_key(5, hashprice_key(30, "usd")),
    ]
    for i, key in enumerate(keys):
        storage.db["rules"].insert({"team_id": "T1", "channel_id": f"C{i}", "line_key": key})
    m = Metrics()
    m.add_state(StateCollector(lambda: database_state(storage.db, 1000.0), lambda: True))
    rules = parse(m)["hashfloor_rules"]
    assert rules == {
        (("kind", "hashprice"), ("paused", "0")): 2,
        (("kind", "within"), ("paused", "0")): 4,
    }
    storage.close()
