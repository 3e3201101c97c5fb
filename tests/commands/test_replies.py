"""Every command through commands.answer, on a temporary database seeded with one market snapshot.

The market is DESIGN §4's test conditions: D = 152e12, 0.02 BTC fees per block, BTC $91,000.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

import commands
from bot import economics as econ
from bot.market.snapshot import Quote, Snapshot
from bot.service import Hashfloor
from bot.settings import Settings
from bot.slack.blocks import Reply, as_text
from commands.context import Ctx, Roles
from storage import alerts, audit, costs, snapshots, workspaces
from tests.fakes import snapshots as snapshots_fake

NOW = 1_764_000_000.0  # 2025-11-24 16:00:00 UTC
TAKEN = NOW - 42
SOURCES = ("coinbase", "kraken", "bitstamp")
ADMIN = Roles(is_admin=True)
MEMBER = Roles()
NOTE = (
    "Median of coinbase, kraken, bitstamp · fetched 42s ago (2025-11-24 15:59 UTC) · "
    "network from mempool.space 42s ago"
)


def design_snapshot(taken_at: float = TAKEN, price: float = 91_000.0) -> Snapshot:
    return snapshots_fake.design_snapshot(
        taken_at, price, SOURCES, adjustment_at=NOW + 7 * 86_400, latency_ms=12.0
    )


def make_service(tmp_path: Path, snapshot: Snapshot | None) -> Hashfloor:
    svc = Hashfloor(Settings(hashfloor_db=tmp_path / "replies.db"), clock=lambda: NOW)
    svc.migrate()
    if snapshot is not None:
        snapshots.insert(svc.storage.db, snapshot)
    return svc


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Hashfloor]:
    service = make_service(tmp_path, design_snapshot())
    yield service
    service.close()


def ask(
    svc: Hashfloor,
    command: str,
    text: str,
    roles: Roles = ADMIN,
    user: str = "U1",
    team: str | None = "T1",
    channel: str | None = "C1",
) -> dict[str, Any]:
    ctx = Ctx(svc, user, team, channel, NOW, roles=lambda: roles)
    reply = commands.answer(ctx, command, text)
    assert isinstance(reply, Reply) and reply.text
    out = reply.to_slack()
    assert_within_limits(out)
    return out


def assert_within_limits(message: dict[str, Any]) -> None:
    """Slack's limits (DESIGN §3.3) and the fields every reply has."""
    assert 0 < len(message["text"]) <= 3000
    assert message["response_type"] in ("ephemeral", "in_channel")
    blocks = message["blocks"]
    assert 0 < len(blocks) <= 50
    for block in blocks:
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        elif block["type"] == "context":
            assert all(len(e["text"]) <= 2000 for e in block["elements"])
        elif block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
    json.dumps(message)  # a reply is plain JSON


def all_text(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False)


def section_texts(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if "text" in b]


# --- /breakeven -----------------------------------------------------------------------------


def test_breakeven_against_every_line(svc: Hashfloor) -> None:
    assert ask(svc, "/breakeven", "") == {
        "text": "BTC $91,000: +22.0% vs CoinShares cash cost (2025-Q2); "
        "-34.0% vs CoinShares all-in cost (2025-Q2)",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*BTC $91,000* against the cost of mining one bitcoin",
                },
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": ":large_green_circle: *CoinShares cash cost (2025-Q2)* $74,600 — "
                    "price is 22.0% above\n"
                    ":red_circle: *CoinShares all-in cost (2025-Q2)* $137,800 — "
                    "price is 34.0% below",
                },
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": NOTE}]},
        ],
        "response_type": "ephemeral",
    }


def test_breakeven_of_design_fleet_is_70605(svc: Hashfloor) -> None:
    out = ask(svc, "/breakeven", "20 0.06 2")
    assert out["text"] == (
        "20 J/TH at $0.06/kWh, pool fee 2%: breakeven BTC price $70,605, "
        "breakeven power price $0.0773/kWh"
    )
    assert out["response_type"] == "ephemeral"
    assert section_texts(out)[0] == "*Fleet breakeven* — 20 J/TH at $0.06/kWh, pool fee 2%"
    assert [f["text"] for f in out["blocks"][1]["fields"]] == [
        "*Breakeven BTC price*\n$70,605",
        "*Breakeven power price*\n$0.0773/kWh",
        "*Hashcost*\n$28.80/PH/day",
        "*Hashprice (after pool fee)*\n$37.12/PH/day",
        "*Daily margin*\n$8.32 per PH/s",
        "*BTC now*\n$91,000 (profitable)",
    ]
    assert section_texts(out)[1] == (
        ":zap: *Curtailment price $77.33/MWh* ($0.0773/kWh): each MWh these machines burn "
        "earns $77.33, each MW of load $1,856 a day. When power costs more than $77.33/MWh, "
        "they lose money on power alone: curtail."
    )
    assert out["blocks"][3]["elements"][0]["text"] == NOTE


@pytest.mark.parametrize(
    ("text", "price", "power"),
    [
        # DESIGN §4 vectors, typed the ways people type them
        ("17.5 0.05 2", "$51,483", "$0.0884"),
        ("17.5 J/TH 5c 2%", "$51,483", "$0.0884"),
        ("17.5J/TH $0.05/kWh 2 %", "$51,483", "$0.0884"),
        ("17.5 W/TH 5 ¢ 2", "$51,483", "$0.0884"),
        ("17.5 0.05 kWh 2", "$51,483", "$0.0884"),
        ("30 0.07 2", "$123,559", "$0.0516"),
        ("30 7c 2%", "$123,559", "$0.0516"),
        ("20 6¢/kWh 2", "$70,605", "$0.0773"),
    ],
)
def test_breakeven_vectors_in_forgiving_forms(
    svc: Hashfloor, text: str, price: str, power: str
) -> None:
    out = ask(svc, "/breakeven", text)
    assert f"breakeven BTC price {price}, breakeven power price {power}/kWh" in out["text"]


def test_breakeven_losing_fleet_says_so(svc: Hashfloor) -> None:
    out = ask(svc, "/breakeven", "30 0.07 2")
    assert "*BTC now*\n$91,000 (losing money)" in all_text(out).replace("\\n", "\n")


def test_breakeven_without_pool_fee_assumes_none(svc: Hashfloor) -> None:
    out = ask(svc, "/breakeven", "20 0.06")
    assert out["text"].startswith("20 J/TH at $0.06/kWh, pool fee 0%: breakeven BTC price $69,193")


@pytest.mark.parametrize("text", ["share", "SHARE", "share 20 0.06 2"])
def test_breakeven_share_posts_in_channel(svc: Hashfloor, text: str) -> None:
    assert ask(svc, "/breakeven", text)["response_type"] == "in_channel"


@pytest.mark.parametrize(
    ("command", "text"),
    [("/breakeven", "share"), ("/breakeven", "share 17.5 0.05"), ("/hashprice", "share")],
)
def test_a_shared_answer_dates_its_data_for_whoever_reads_it_later(
    svc: Hashfloor, command: str, text: str
) -> None:
    out = ask(svc, command, text)
    note = out["blocks"][-1]["elements"][0]["text"]
    stamp = int(TAKEN)
    assert note.startswith(
        f"Median of coinbase, kraken, bitstamp · fetched <!date^{stamp}^{{ago}} "
        "({date_short_pretty} {time})|2025-11-24 15:59 UTC>"
    )
    assert "42s ago" not in all_text(out)
    assert (
        as_text(out["blocks"])
        .splitlines()[-1]
        .startswith("  Median of coinbase, kraken, bitstamp · fetched 2025-11-24 15:59 UTC")
    )


def test_breakeven_shows_the_workspace_fleet_and_own_lines(svc: Hashfloor) -> None:
    ask(svc, "/costs", 'add "Acme" cash=61000')
    ask(svc, "/hashfloor", "fleet 17.5 0.05 2")
    out = ask(svc, "/breakeven", "")
    assert out["text"].endswith("; +49.2% vs Acme cash cost")
    lines = section_texts(out)[1].split("\n")
    assert lines[0] == (  # the workspace's own fleet first
        ":large_green_circle: *Fleet main* (17.5 J/TH at $0.05/kWh, pool fee 2%) breaks even at "
        "$51,483 — price is 76.8% above"
    )
    assert lines[3] == ":large_green_circle: *Acme cash cost* $61,000 — price is 49.2% above"
    # another workspace sees neither
    other = ask(svc, "/breakeven", "", team="T2")
    assert "Acme" not in all_text(other) and "Fleet main" not in all_text(other)


def test_without_a_team_id_own_lines_still_show(svc: Hashfloor) -> None:
    # the console (and any request without a team id) keeps its lines under one local key
    ask(svc, "/costs", 'add "Acme" cash=61000', team=None)
    assert ask(svc, "/breakeven", "", team=None)["text"].endswith("; +49.2% vs Acme cash cost")
    assert "Acme" not in ask(svc, "/breakeven", "", team="T1")["text"]


def test_breakeven_with_no_data_yet(tmp_path: Path) -> None:
    svc = make_service(tmp_path, None)
    for text in ("", "20 0.06 2"):
        out = ask(svc, "/breakeven", text)
        assert out["text"].startswith("No market data yet")
        assert out["response_type"] == "ephemeral"
    assert ask(svc, "/hashprice", "")["text"].startswith("No market data yet")


def test_breakeven_on_stale_data_says_how_old(tmp_path: Path) -> None:
    svc = make_service(tmp_path, design_snapshot(taken_at=NOW - 600))
    out = ask(svc, "/breakeven", "20 0.06 2")
    assert "$70,605" in out["text"]
    note = out["blocks"][-1]["elements"][0]["text"]
    assert note.startswith(":warning: Stale data — Median of coinbase, kraken, bitstamp")
    assert "fetched 10 min ago (2025-11-24 15:50 UTC)" in note


def test_breakeven_answers_from_the_last_fresh_poll(svc: Hashfloor) -> None:
    # a later poll where the sources disagreed is not fresh: its price is not used
    lying = Snapshot(NOW - 5, (Quote("coinbase", 1.0, None, 3.0),), 1.0, False, ("coinbase",))
    snapshots.insert(svc.storage.db, lying)
    assert ask(svc, "/breakeven", "")["text"].startswith("BTC $91,000:")


# --- /hashprice -----------------------------------------------------------------------------


def test_hashprice(svc: Hashfloor) -> None:
    out = ask(svc, "/hashprice", "")
    assert out["text"] == (
        "Hashprice $37.88/PH/day; difficulty 152.00 trillion; "
        "next adjustment +1.25% est., Mon 01 Dec 2025 (in 1,000 blocks)"
    )
    assert [f["text"] for f in out["blocks"][1]["fields"]] == [
        "*Hashprice*\n$37.88/PH/day",
        "*Hashvalue*\n41.6 sats/TH/day",
        "*Difficulty*\n152.00 trillion",
        "*Hashrate*\n1.1 ZH/s",
        "*Fees share of reward*\n0.6% (0.020 BTC/block, 144-block avg)",
        "*Next difficulty adjustment*\n+1.25% est., Mon 01 Dec 2025 (in 1,000 blocks)",
        "*Next halving*\nin 125,000 blocks (tip 925,000)",
        "*BTC*\n$91,000",
    ]
    assert ask(svc, "/hashprice", "share")["response_type"] == "in_channel"


def test_a_next_adjustment_date_in_the_past_is_flagged(tmp_path: Path) -> None:
    old = snapshots_fake.design_snapshot(
        TAKEN, 91_000.0, SOURCES, adjustment_at=NOW - 2 * 3600, latency_ms=12.0
    )
    svc = make_service(tmp_path, old)
    try:
        out = ask(svc, "/hashprice", "")
    finally:
        svc.close()
    assert "this date has passed: the estimate is out of date" in out["text"]
    assert "this date has passed" in all_text(out).split("Next difficulty adjustment")[1]


def test_a_next_adjustment_date_ahead_is_not_flagged(svc: Hashfloor) -> None:
    assert "passed" not in all_text(ask(svc, "/hashprice", ""))


# --- /costs ---------------------------------------------------------------------------------


def test_costs_lists_the_shipped_benchmarks(svc: Hashfloor) -> None:
    out = ask(svc, "/costs", "")
    assert out["text"] == "10 shipped benchmarks, 0 of this workspace's own"
    shipped = section_texts(out)[1].split("\n")
    assert shipped[0] == (
        '`#1` 2024-Q1 cash cost *$47,200* — CoinShares Q3 2024 Mining Report "Mining at the '
        'Edge" (J. Butterfill, M. Shannon; published 2024-Q3), as reported in the press'
    )
    # 2024-Q4's cash figure keeps CoinShares' own caveat with it.
    assert shipped[5].startswith(
        "`#6` 2024-Q4 cash cost *$82,162* (skewed by one miner's tax expense (Hut 8); $75,767 "
        "excluding it) — CoinShares Q4 2024"
    )
    # On 2025-11-24 the 2025-Q4 report (published 2026-03-25) did not exist yet: the current
    # lines are 2025-Q2's, not old (147 days).
    assert shipped[-3:] == [
        "`#8` 2025-Q2 cash cost *$74,600* (current) — "
        "CoinShares Bitcoin Mining Report (J. Butterfill)",
        "`#9` 2025-Q2 all-in cost *$137,800* (current) — "
        "CoinShares Bitcoin Mining Report (J. Butterfill)",
        "`#10` 2025-Q4 cash cost *$79,995* — CoinShares Bitcoin Mining Report Q1 2026 "
        "(published 2026-03-25), as reported in the press",
    ]
    assert section_texts(out)[2] == "*This workspace's own lines*\nnone yet"
    assert ask(svc, "/costs", "list") == out


def test_costs_a_year_on_marks_the_current_lines_old(tmp_path: Path) -> None:
    later = 1_796_000_000.0  # 2026-11-30
    service = make_service(tmp_path, design_snapshot())
    try:
        ctx = Ctx(service, "U1", "T1", "C1", later, roles=lambda: ADMIN)
        shipped = section_texts(commands.answer(ctx, "/costs", "").to_slack())[1].split("\n")
    finally:
        service.close()
    assert shipped[-3:] == [
        "`#8` 2025-Q2 cash cost *$74,600* — CoinShares Bitcoin Mining Report (J. Butterfill)",
        "`#9` 2025-Q2 all-in cost *$137,800* (current) — "
        "CoinShares Bitcoin Mining Report (J. Butterfill) :hourglass: _old: 2025-Q2 ended 518 "
        "days ago, next report overdue since about 31 Dec 2025_",
        "`#10` 2025-Q4 cash cost *$79,995* (current) — CoinShares Bitcoin Mining Report Q1 2026 "
        "(published 2026-03-25), as reported in the press :hourglass: _old: 2025-Q4 ended 334 "
        "days ago, next report overdue since about 30 Jun 2026_",
    ]


def test_breakeven_marks_an_old_line(tmp_path: Path) -> None:
    later = 1_796_000_000.0  # 2026-11-30: both current lines are past 270 days
    service = make_service(tmp_path, design_snapshot(later - 42))
    try:
        ctx = Ctx(service, "U1", "T1", "C1", later, roles=lambda: ADMIN)
        out = commands.answer(ctx, "/breakeven", "").to_slack()
    finally:
        service.close()
    assert out["text"] == (
        "BTC $91,000: +13.8% vs CoinShares cash cost (2025-Q4) (old); "
        "-34.0% vs CoinShares all-in cost (2025-Q2) (old)"
    )
    assert section_texts(out)[1] == (
        ":large_green_circle: *CoinShares cash cost (2025-Q4)* $79,995 — price is 13.8% above "
        ":hourglass: _old: 2025-Q4 ended 334 days ago, next report overdue since about "
        "30 Jun 2026_\n"
        ":red_circle: *CoinShares all-in cost (2025-Q2)* $137,800 — price is 34.0% below "
        ":hourglass: _old: 2025-Q2 ended 518 days ago, next report overdue since about "
        "31 Dec 2025_"
    )


def test_costs_add_then_list_then_remove(svc: Hashfloor) -> None:
    out = ask(
        svc, "/costs", 'add "Acme Mining" cash=$61k allin=98,000 period=q3-2025 source=https://x.io'
    )
    assert out["text"] == (
        "Added *Acme Mining*: `#11` cash cost $61,000, `#12` all-in cost $98,000"
    )
    assert out["blocks"][1]["elements"][0]["text"] == (
        "Subscribe a channel to it with `/hashfloor subscribe &lt;id&gt;`."
    )
    listed = ask(svc, "/costs", "")
    assert listed["text"] == "10 shipped benchmarks, 2 of this workspace's own"
    assert section_texts(listed)[2] == (
        "*This workspace's own lines*\n"
        "`#11` *Acme Mining* 2025-Q3 cash cost *$61,000* — https://x.io\n"
        "`#12` *Acme Mining* 2025-Q3 all-in cost *$98,000* — https://x.io"
    )
    gone = ask(svc, "/costs", "remove #11")
    assert gone["text"] == "Removed #11 (Acme Mining cash cost)"
    assert ask(svc, "/costs", "")["text"] == "10 shipped benchmarks, 1 of this workspace's own"
    actions = [(r["action"], json.loads(r["detail"])["id"]) for r in audit.recent(svc.storage.db)]
    assert actions == [("costs.remove", 11), ("costs.add", 12), ("costs.add", 11)]


@pytest.mark.parametrize("text", ["remove 1", "remove 9", "remove 999", "rm 8"])
def test_costs_remove_leaves_shipped_and_unknown_lines(svc: Hashfloor, text: str) -> None:
    out = ask(svc, "/costs", text)
    assert "of this workspace's own (shipped benchmarks stay)" in out["text"]
    assert len(costs.all_rows(svc.storage.db, "T1")) == 10


def test_costs_remove_cannot_reach_another_workspace(svc: Hashfloor) -> None:
    ask(svc, "/costs", 'add "Theirs" cash=60000', team="T2")
    out = ask(svc, "/costs", "remove 11", team="T1")
    assert out["text"].startswith("There is no line #11")
    assert costs.get(svc.storage.db, 11) is not None


# --- /hashfloor -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "help", "HELP"])
def test_hashfloor_help(svc: Hashfloor, text: str) -> None:
    out = ask(svc, "/hashfloor", text)
    (body,) = section_texts(out)
    assert body.startswith("*Hashfloor* — BTC price against the cost of mining it.")
    assert "`/costs remove &lt;id&gt;`" in body
    assert "<" not in body and "*" not in out["text"] and "`" not in out["text"]


def test_hashfloor_status_fleet_mute(svc: Hashfloor) -> None:
    status = ask(svc, "/hashfloor", "status")
    # The plain-text fallback carries every section of the blocks, still escaped for Slack.
    assert status["text"].splitlines() == [
        "Hashfloor status",
        "Alerts: this channel is not subscribed. `/hashfloor subscribe "
        "[cash|allin|all|&lt;cost id&gt;|fleet [&lt;name&gt;]|below &lt;usd&gt;]` (default: "
        "cash and allin), `subscribe hashprice below &lt;usd per PH/day&gt;|&lt;n&gt; sats`, "
        "`subscribe &lt;line&gt; within &lt;pct&gt;`",
        "Weekly digest: off — subscribe this channel to alerts (Mondays 09:00 UTC) or set a time "
        "with `/hashfloor digest mon 09:00 Europe/Berlin`.",
        "Muted: no",
        "Recoveries: in the alert's thread",
        "Fleets: none set",
        "Last poll: 42s ago",
        "Last good price: $91,000 42s ago",
    ]
    fleet = ask(svc, "/hashfloor", "fleet 17.5 J/TH 5c 2% hashrate 350 PH/s")
    assert fleet["text"] == (
        "Fleet main set: 17.5 J/TH at $0.05/kWh, pool fee 2%, 350 PH/s. It breaks even at "
        "$51,483 today; BTC at $91,000 is 76.8% above. At 350 PH/s it earns $12,992 a day, "
        "power costs $7,350: margin +$5,642 a day."
    )
    assert ask(svc, "/hashfloor", "fleet")["text"] == (
        "1 fleet: main (17.5 J/TH at $0.05/kWh, pool fee 2%, 350 PH/s)"
    )
    muted = ask(svc, "/hashfloor", "mute 4h")
    assert muted["text"].startswith("Muted until 2025-11-24 20:00 UTC.")
    status = ask(svc, "/hashfloor", "status")
    assert "Muted: until 2025-11-24 20:00 UTC" in status["text"]
    assert "Fleets: main (17.5 J/TH at $0.05/kWh, pool fee 2%, 350 PH/s)" in status["text"]
    assert ask(svc, "/hashfloor", "unmute")["text"] == "Unmuted."
    assert ask(svc, "/hashfloor", "unmute")["text"] == "This channel was not muted."
    off = ask(svc, "/hashfloor", "fleet off")
    assert off["text"].startswith("Fleet main removed")
    assert workspaces.get_fleet(svc.storage.db, "T1") is None
    actions = [r["action"] for r in audit.recent(svc.storage.db)]
    assert actions == ["fleet.off", "channel.unmute", "channel.unmute", "channel.mute", "fleet.set"]


def test_unsubscribe_all_clears_every_kind_and_rules_are_named_as_written(
    svc: Hashfloor,
) -> None:
    acme = ask(svc, "/costs", 'add "Acme" cash=80500')["text"]
    acme_id = acme.split("`#")[1].split("`")[0]
    ask(svc, "/hashfloor", "fleet 17.5 0.05 2")
    for what in ("", "fleet", "below $80k", acme_id):
        assert ask(svc, "/hashfloor", f"subscribe {what}")["text"].startswith("Subscribed")
    status = all_text(ask(svc, "/hashfloor", "status"))
    for name in ("below $80,000", "Acme cash cost ($80,500)", "fleet main ($51,483)"):
        assert name in status
    out = ask(svc, "/hashfloor", "unsubscribe")  # the default set, as subscribe adds it
    assert out["text"] == (
        "Unsubscribed from CoinShares cash cost (2025-Q2) and CoinShares all-in cost (2025-Q2). "
        "Still subscribed here: fleet main, below $80,000 "
        "and Acme cash cost (`/hashfloor unsubscribe all` removes every rule)."
    )
    ask(svc, "/costs", f"remove {acme_id}")  # its rule stays until unsubscribed, named still
    out = ask(svc, "/hashfloor", "unsubscribe all")
    assert out["text"] == (
        "Unsubscribed from fleet main, below $80,000 and "
        f"cost line #{acme_id} (removed). This channel gets no alerts now."
    )
    for reply in (status, all_text(out)):
        assert "below:" not in reply and "cost:" not in reply
    assert alerts.channel_rules(svc.storage.db, "T1", "C1") == []
    assert ask(svc, "/hashfloor", "unsubscribe all")["text"] == (
        "This channel has no alerts to remove."
    )


def test_unsubscribe_below_removes_every_price_level(svc: Hashfloor) -> None:
    for level in ("80000", "85000", "90000"):
        ask(svc, "/hashfloor", f"subscribe below {level}")
    ask(svc, "/hashfloor", "subscribe cash")
    out = ask(svc, "/hashfloor", "unsubscribe below")
    assert out["text"].startswith(
        "Unsubscribed from below $80,000, below $85,000 and below $90,000. "
        "Still subscribed here: CoinShares cash cost (2025-Q2)"
    )


def test_mute_needs_a_channel(svc: Hashfloor) -> None:
    out = ask(svc, "/hashfloor", "mute 4h", channel=None)
    assert out["text"].startswith("Run it in the channel to mute.")  # nothing was misread
    assert "could not read" not in out["text"]


@pytest.mark.parametrize(
    ("command", "text", "says"),
    [
        ("/hashfloor", "subscribe fleet", "No fleet is set: `/hashfloor fleet"),
        ("/hashfloor", "subscribe 999", "There is no cost line #999 here: see `/costs`."),
        ("/hashfloor", "mute", "Say for how long, e.g."),
        ("/hashfloor", "fleet 17.5", "Give the efficiency (or a model) and the power price"),
    ],
)
def test_what_cannot_be_done_is_not_called_a_misreading(
    svc: Hashfloor, command: str, text: str, says: str
) -> None:
    out = ask(svc, command, text)
    assert out["text"].startswith(says) and "could not read" not in out["text"]


@pytest.mark.parametrize(
    ("command", "text", "quoted"),
    [
        ("/breakeven", "17.5 0.05 2 extra", "`extra`"),
        ("/breakeven", "17.5", "`17.5`"),
        ("/hashprice", "share now", "`now`"),
        ("/hashfloor", "mute 4h please", "`please`"),
        ("/hashfloor", "fleet 17.5 0.05 2 3", "`3`"),
        ("/hashfloor", "subscribe below 80000 90000", "`90000`"),
        ("/hashfloor", "digest off now", "`now`"),
    ],
)
def test_errors_quote_the_bad_word_not_the_whole_text(
    svc: Hashfloor, command: str, text: str, quoted: str
) -> None:
    out = ask(svc, command, text)
    assert out["text"].startswith(f"I could not read {quoted}:"), out["text"]


# --- errors: the bad part quoted and escaped, the right form shown ---------------------------


@pytest.mark.parametrize(
    ("command", "text", "quoted"),
    [
        ("/breakeven", "17.5 <!channel>", "`&lt;!channel&gt;`"),
        ("/breakeven", "<@U0ADMIN> 0.05", "`&lt;@U0ADMIN&gt;`"),
        ("/breakeven", "17.5 0.05 2 & more", "`&amp;`"),
        ("/breakeven", "17.5 0.05 <b>", "`&lt;b&gt;`"),
        ("/breakeven", "0.5 0.05", "`0.5`"),
        ("/breakeven", "17.5 1.5", "`1.5`"),
        ("/breakeven", "17.5 0.05 100", "`100`"),
        ("/breakeven", 'share "17.5', '`share "17.5`'),
        ("/hashprice", "<https://evil.example|click>", "`&lt;https://evil.example|click&gt;`"),
        ("/costs", "<!here>", "`&lt;!here&gt;`"),
        ("/costs", 'add "Acme" cash=<!channel>', "`&lt;!channel&gt;`"),
        ("/costs", 'add "Acme" cash=0', "`0`"),
        ("/costs", 'add "Acme" cash=1 color=<b>', "`color=`"),
        ("/costs", 'add "Acme" allin=50000 period=2025-Q9', "`2025-Q9`"),
        ("/costs", "add Acme Corp cash=1", "`Acme Corp cash=1`"),
        ("/costs", 'add "Acme"', "`Acme`"),
        ("/costs", "remove <x>", "`&lt;x&gt;`"),
        ("/costs", "remove", "`(nothing)`"),
        ("/costs", "remove 99999999999999999999", "`99999999999999999999`"),
        ("/costs", 'add "Acme" cash=$1', "`$1`"),
        ("/costs", 'add "Acme" cash=$10,000,000,000', "`$10,000,000,000`"),
        ("/costs", 'add "Acme" cash=61000 source=javascript:alert(1)', "`javascript:alert(1)`"),
        ("/costs", 'add "Acme" cash=61000 source=file:///etc/passwd', "`file:///etc/passwd`"),
        ("/costs", 'add "\u200b\u202e" cash=61000', "`(nothing)`"),
        ("/hashfloor", "subscribe 99999999999999999999", "`99999999999999999999`"),
        ("/hashfloor", "subscribe below $1", "`$1`"),
        ("/hashfloor", "<!everyone>", "`&lt;!everyone&gt;`"),
        ("/hashfloor", "fleet 17.5 <0.05>", "`&lt;0.05&gt;`"),
        ("/hashfloor", "fleet 17.5 0.05 hashrate", "`hashrate`"),
        ("/hashfloor", "mute forever&ever", "`forever&amp;ever`"),
        ("/hashfloor", "mute 90d", "`90d`"),
        ("/hashfloor", "unmute <now>", "`&lt;now&gt;`"),
    ],
)
def test_errors_quote_the_bad_part_escaped(
    svc: Hashfloor, command: str, text: str, quoted: str
) -> None:
    out = ask(svc, command, text)
    assert out["response_type"] == "ephemeral"
    first = section_texts(out)[0]
    assert first.startswith(":warning: I could not read ")
    assert quoted in first
    assert out["blocks"][-1]["elements"][0]["text"].startswith("Usage: ")
    # nothing the user typed reaches Slack unescaped, in the blocks or in the fallback text
    for raw in ("<!", "<@", "<b>", "<x>", "<https", "<now>", "<0.05>"):
        assert raw not in all_text(out)
    assert audit.recent(svc.storage.db) == []


def test_unknown_command_is_answered_escaped(svc: Hashfloor) -> None:
    out = ask(svc, "/nope<b>", "")
    assert "Hashfloor does not know `/nope&lt;b&gt;`." in out["text"]


@pytest.mark.parametrize(
    ("roles", "why"),
    [
        (MEMBER, "Only workspace admins and owners"),
        (Roles(is_guest=True), "Guests cannot change"),
        (Roles(is_guest=True, is_admin=True), "Guests cannot change"),
        (Roles(is_external=True, is_admin=True), "People from other organisations"),
    ],
)
def test_refused_changes_say_why_and_change_nothing(svc: Hashfloor, roles: Roles, why: str) -> None:
    for command, text in (
        ("/costs", 'add "Acme" cash=61000'),
        ("/costs", "remove 11"),
        ("/hashfloor", "fleet 17.5 0.05"),
        ("/hashfloor", "fleet off"),
    ):
        out = ask(svc, command, text, roles=roles)
        assert out["text"].startswith(why)
        assert section_texts(out)[0].startswith(":lock: ")
    assert len(costs.all_rows(svc.storage.db, "T1")) == 10
    assert workspaces.get_fleet(svc.storage.db, "T1") is None
    assert audit.recent(svc.storage.db) == []


def test_members_may_mute_but_guests_may_not(svc: Hashfloor) -> None:
    assert ask(svc, "/hashfloor", "mute 1h", roles=MEMBER)["text"].startswith("Muted until")
    out = ask(svc, "/hashfloor", "unmute", roles=Roles(is_guest=True))
    assert out["text"].startswith("Guests cannot change")
    assert workspaces.muted_until(svc.storage.db, "T1", "C1", NOW) == NOW + 3600


def test_reads_never_look_up_roles(svc: Hashfloor) -> None:
    def no_lookup() -> Roles:
        raise AssertionError("a read looked the user up")

    for command, text in (
        ("/breakeven", ""),
        ("/breakeven", "20 0.06 2"),
        ("/hashprice", ""),
        ("/costs", ""),
        ("/hashfloor", "status"),
        ("/hashfloor", "fleet"),
        ("/hashfloor", "help"),
    ):
        ctx = Ctx(svc, "U1", "T1", "C1", NOW, roles=no_lookup)
        assert "went wrong" not in commands.answer(ctx, command, text).text


def test_a_bug_gets_a_short_apology_not_a_trace(
    svc: Hashfloor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise KeyError("secret internals")

    monkeypatch.setattr(commands.hashprice, "hashprice_reply", broken)
    out = ask(svc, "/hashprice", "")
    assert out["text"] == "Something went wrong on our side answering that; it has been logged."
    assert "secret" not in all_text(out) and "Traceback" not in all_text(out)


def test_a_domain_error_is_explained(svc: Hashfloor, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_reward(**kwargs: object) -> None:
        raise econ.EconomicsDomainError("mining earns nothing, so there is no breakeven")

    monkeypatch.setattr(econ, "fleet_economics", no_reward)
    out = ask(svc, "/breakeven", "20 0.06 2")
    assert out["text"].startswith("Those numbers do not work: mining earns nothing")


# --- long inputs stay within Slack's limits --------------------------------------------------


def test_long_inputs_stay_within_limits(svc: Hashfloor) -> None:
    huge = "<!channel> " * 2000
    for command in commands.COMMANDS:
        out = ask(svc, command, huge)
        assert "&lt;!channel&gt;" in out["text"] and "<!channel>" not in all_text(out)
    out = ask(svc, "/costs", 'add "' + "N" * 81 + '" cash=61000')
    assert "a name of at most 80 characters" in out["text"]
    out = ask(svc, "/costs", 'add "Acme" cash=61000 source=' + "s" * 301)
    assert "a source of at most 300 characters" in out["text"]


def test_many_own_lines_stay_within_limits(svc: Hashfloor) -> None:
    name = "<&>" * 26  # 78 characters, 3.5 times as long once escaped
    source = "https://example.com/" + "x" * 270
    for i in range(60):
        ask(
            svc,
            "/costs",
            f'add "{name}{i:02d}" cash={60_000 + i} allin={90_000 + i} source={source}',
        )
    assert len(costs.all_rows(svc.storage.db, "T1")) == 10 + 120
    listed = ask(svc, "/costs", "")
    assert listed["text"] == "10 shipped benchmarks, 120 of this workspace's own"
    be = ask(svc, "/breakeven", "")
    for out in (be, listed):
        assert "<&>" not in all_text(out)
        valid_blocks(out)
    # Every line is shown, spread over sections, none cut: 2 CoinShares lines and 120 own ones.
    rows = [row for text in section_texts(be)[1:] for row in text.split("\n")]
    assert len(rows) == 122 and all(row.endswith(("above", "below")) for row in rows)
    listed_rows = "\n".join(section_texts(listed))
    assert all(f"{name_escaped}{i:02d}" in listed_rows for i in range(60))


name_escaped = "&lt;&amp;&gt;" * 26


def valid_blocks(message: dict[str, Any]) -> None:
    """Slack's own block models accept every block (slack_sdk checks the limits it knows)."""
    for block in message["blocks"]:
        Block.parse(block).validate_json()


def peers(svc: Hashfloor, n: int) -> None:
    """`n` peer companies on file, each with a cash and an all-in line and a long source."""
    for i in range(n):
        costs.add(
            svc.storage.db,
            "T1",
            f"Peer Mining Company Number {i:03d} & Partners",
            "cash",
            60_000 + i,
            "2025-Q3",
            "https://example.com/reports/" + "q" * 60,
            "U1",
            NOW,
        )
        costs.add(
            svc.storage.db,
            "T1",
            f"Peer Mining Company Number {i:03d} & Partners",
            "allin",
            90_000 + i,
            "2025-Q3",
            None,
            "U1",
            NOW,
        )


def test_with_16_peer_companies_the_fleet_line_comes_first_and_nothing_is_cut(
    svc: Hashfloor,
) -> None:
    peers(svc, 16)
    ask(svc, "/hashfloor", "fleet 17.5 0.05 2")
    out = ask(svc, "/breakeven", "")
    valid_blocks(out)
    texts = section_texts(out)
    assert texts[1].startswith(":large_green_circle: *Fleet main* (17.5 J/TH at $0.05/kWh")
    rows = [row for text in texts[1:] for row in text.split("\n")]
    assert len(rows) == 1 + 2 + 32  # the fleet, CoinShares cash and all-in, 16 × 2 peers
    assert sum(len(t) for t in texts[1:]) > 3000  # more than one section could hold
    assert "…" not in all_text(out)
    assert out["text"].startswith("BTC $91,000: +")  # the fallback names the fleet first too
    assert "vs fleet main" in out["text"].split(";")[0]


def test_more_lines_than_50_blocks_hold_end_with_a_count(svc: Hashfloor) -> None:
    peers(svc, 700)
    out = ask(svc, "/breakeven", "")
    valid_blocks(out)
    assert len(out["blocks"]) == 50
    *_, more, note = out["blocks"]
    assert note["elements"][0]["text"].startswith("Median of")
    shown = sum(len(t.split("\n")) for t in section_texts(out)[1:])
    left = int(more["elements"][0]["text"].removeprefix("…and ").split(" ")[0])
    assert more["elements"][0]["text"] == f"…and {left} more: see `/costs`"
    assert shown + left == 2 + 1400
    listed = ask(svc, "/costs", "")
    valid_blocks(listed)
    assert len(listed["blocks"]) == 50
    counted = [b for b in listed["blocks"] if b["type"] == "context"][0]
    assert counted["elements"][0]["text"].startswith("…and ")


# --- which commands change something (they answer through response_url) ----------------------


@pytest.mark.parametrize(
    ("command", "text", "change"),
    [
        ("/breakeven", "", False),
        ("/breakeven", "share 17.5 0.05", False),
        ("/hashprice", "", False),
        ("/costs", "", False),
        ("/costs", "list", False),
        ("/costs", "add x cash=1", True),
        ("/costs", "ADD x cash=1", True),
        ("/costs", "remove 3", True),
        ("/costs", "rm 3", True),
        ("/hashfloor", "", False),
        ("/hashfloor", "help", False),
        ("/hashfloor", "status", False),
        ("/hashfloor", "fleet", False),
        ("/hashfloor", "fleet list", False),
        ("/hashfloor", "fleet LIST", False),
        ("/hashfloor", "fleet texas S21 0.05", True),
        ("/hashfloor", "fleet texas off", True),
        ("/hashfloor", "fleet 17.5 0.05", True),
        ("/hashfloor", "fleet off", True),
        ("/hashfloor", "mute 4h", True),
        ("/hashfloor", "unmute", True),
        ("/hashfloor", "bogus", False),
        ("/nope", "add", False),
    ],
)
def test_is_change(command: str, text: str, change: bool) -> None:
    assert commands.is_change(command, text) is change


def test_costs_add_cleans_the_name_it_shows(svc: Hashfloor) -> None:
    """A name cannot fake a second alert line, flip text around it or open bold/code spans."""
    out = ask(svc, "/costs", 'add "Acme\n:rotating_light: *BTC below*\u202e\u200b" cash=61000')
    assert out["text"] == "Added *Acme :rotating＿light: ＊BTC below＊*: `#11` cash cost $61,000"
    (row,) = [r for r in costs.all_rows(svc.storage.db, "T1") if r["workspace"] == "T1"]
    assert row["name"] == "Acme :rotating＿light: ＊BTC below＊"


def test_a_price_level_over_a_million_keeps_every_digit(svc: Hashfloor) -> None:
    """`:g` kept six figures: `below 1234567` was stored as 1.23457e+06, another level."""
    ask(svc, "/hashfloor", "subscribe below 1234567")
    (rule,) = alerts.channel_rules(svc.storage.db, "T1", "C1")
    assert rule["line_key"] == "below:1234567"
    assert "$1,234,567" in all_text(ask(svc, "/hashfloor", "status"))


def test_status_and_the_subscribe_confirmation_mark_old_lines(tmp_path: Path) -> None:
    """A year on (2026-11-30), the cash line is 2025-Q4's and the all-in 2025-Q2's: both old."""
    later = 1_796_000_000.0
    service = make_service(tmp_path, design_snapshot(later - 42))
    try:

        def at(when: float, text: str) -> dict[str, Any]:
            ctx = Ctx(service, "U1", "T1", "C1", when, roles=lambda: ADMIN)
            return commands.answer(ctx, "/hashfloor", text).to_slack()

        subscribed = at(later, "subscribe")
        status = at(later, "status")
        # 2025-11-24: nothing old yet (2025-Q2 is 147 days past, 2025-Q4 not published).
        before = at(NOW, "status")
    finally:
        service.close()
    q4 = "old: 2025-Q4 ended 334 days ago, next report overdue since about 30 Jun 2026"
    q2 = "old: 2025-Q2 ended 518 days ago, next report overdue since about 31 Dec 2025"
    confirmation = "\n".join(section_texts(subscribed))
    assert "CoinShares cash cost (2025-Q4) ($79,995): you will be alerted" in confirmation
    assert confirmation.count(q4) == 1 and confirmation.count(q2) == 1
    alerts_part = section_texts(status)[1]
    assert "• CoinShares cash cost (2025-Q4) ($79,995): *price above*" in alerts_part
    assert f":hourglass: _{q4}_" in alerts_part and f":hourglass: _{q2}_" in alerts_part
    assert ":hourglass:" not in "\n".join(section_texts(before))
