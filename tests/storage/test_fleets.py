"""Named fleets (DESIGN §4.1): several per workspace, keyed by name without case; a database of the
previous schema (one unnamed fleet per workspace, rules on `fleet`) is carried over: its fleet
becomes `main`, its rules `fleet:main`, and nothing fires from the migration."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.alerts.engine import AlertEngine
from bot.market.snapshot import Network, Quote, Snapshot
from storage import alerts, snapshots, workspaces
from storage.db import Storage
from storage.migrations import MIGRATION_SETS, migrate, pending
from storage.workspaces import Fleet

NAMING = ("m007_named_fleets", "m005_fleet_rules_named")
T0 = 1_764_000_000.0
NET = Network(difficulty=152e12, tip_height=925_000, fees_per_block_btc=0.02, source="mempool")
# 20 J/TH at $0.06/kWh, 2%: breaks even at $70,605 at NET (DESIGN §4 vectors)
VERSION = f"{152e12:.0f}:20.0:0.06:0.02"


def old_schema(path: Path) -> Storage:
    st = Storage(path)
    for m in MIGRATION_SETS:
        m.apply(st.db, stop_before=NAMING)
    return st


@pytest.fixture
def storage(db_path: Path) -> Iterator[Storage]:
    st = Storage(db_path)
    migrate(st.db)
    yield st
    st.close()


def snap(at: float, price: float) -> Snapshot:
    quotes = tuple(Quote(s, price, None, 10.0) for s in ("coinbase", "kraken"))
    return Snapshot(at, quotes, price, True, ("coinbase", "kraken"), NET)


def test_the_previous_schema_holds_one_fleet_per_workspace(db_path: Path) -> None:
    st = old_schema(db_path)
    st.db["fleets"].insert({"team_id": "TA", "efficiency_j_per_th": 20.0})
    with pytest.raises(sqlite3.IntegrityError):
        st.db["fleets"].insert({"team_id": "TA", "efficiency_j_per_th": 17.5})
    st.close()


def test_migration_makes_the_fleet_main_and_its_rules_fleet_main(db_path: Path) -> None:
    st = old_schema(db_path)
    db = st.db
    db["fleets"].insert(
        {
            "team_id": "TA",
            "efficiency_j_per_th": 20.0,
            "power_usd_per_kwh": 0.06,
            "pool_fee": 0.02,
            "hashrate_ph": 350.0,
            "updated_by": "UA",
            "updated_at": T0,
        }
    )
    # A channel below the fleet line with an open alert, as the old engine left it.
    db["outbox"].insert({"key": "rule:1@x:t1", "team_id": "TA", "channel_id": "C1",
                         "kind": "alert", "text": "BTC fell below your fleet's breakeven",
                         "status": "sent", "created_at": T0})  # fmt: skip
    outbox_id = db.execute("SELECT max(id) FROM outbox").fetchone()[0]
    db["rules"].insert(
        {
            "team_id": "TA",
            "channel_id": "C1",
            "line_key": "fleet",
            "state": "below",
            "since": T0,
            "created_by": "UA",
            "created_at": T0,
            "last_line_usd": 70_605.0,
            "last_line_version": VERSION,
            "transitions": 1,
            "alert_outbox_id": outbox_id,
        }
    )
    db["rules"].insert({"team_id": "TA", "channel_id": "C1", "line_key": "cash", "state": "below",
                        "created_at": T0})  # fmt: skip
    snapshots.insert(db, snap(T0, 69_000.0))
    st.close()

    st = Storage(db_path)
    db = st.db
    applied = migrate(db)
    assert {
        "hashfloor.workspaces:m007_named_fleets",
        "hashfloor.alerts:m005_fleet_rules_named",
    } <= set(applied)
    assert pending(db) == []
    assert workspaces.get_fleets(db, "TA") == {"main": Fleet(20.0, 0.06, 0.02, 350.0, "main")}
    assert workspaces.get_fleet(db, "TA") == Fleet(20.0, 0.06, 0.02, 350.0, "main")
    rules = {r["line_key"]: r for r in alerts.channel_rules(db, "TA", "C1")}
    assert set(rules) == {"fleet:main", "cash"}
    kept = rules["fleet:main"]
    assert (kept["state"], kept["since"], kept["transitions"]) == ("below", T0, 1)
    assert (kept["alert_outbox_id"], kept["last_line_version"]) == (outbox_id, VERSION)

    # Polls after the migration, still below the line: nothing fires, the state stays.
    engine = AlertEngine(st)
    for i in range(1, 4):
        snapshots.insert(db, snap(T0 + 60 * i, 69_000.0))
        engine.evaluate(snap(T0 + 60 * i, 69_000.0))
    assert [r["key"] for r in db.query("SELECT key FROM outbox")] == ["rule:1@x:t1"]
    assert alerts.channel_rules(db, "TA", "C1")[0]["state"] == "below"
    # The recovery still goes in the thread of the alert from before the migration.
    for i in range(4, 6):
        engine.evaluate(snap(T0 + 60 * i, 75_000.0))
    ((thread_of, text),) = db.execute(
        "SELECT thread_of, text FROM outbox WHERE id > ? AND kind = 'recovery'", [outbox_id]
    ).fetchall()
    assert thread_of == outbox_id
    assert "the breakeven of fleet main (20 J/TH at $0.06/kWh)" in text
    # Now named: a second fleet beside `main`.
    workspaces.set_fleet(db, "TA", Fleet(17.5, 0.05, 0.0, None, "Texas"), "UA", T0)
    assert list(workspaces.get_fleets(db, "TA")) == ["main", "texas"]
    st.close()


def test_fleets_are_named_without_case_and_each_workspace_has_its_own(
    storage: Storage,
) -> None:
    db = storage.db
    workspaces.set_fleet(db, "TA", Fleet(17.5, 0.05, 0.02, None, "Texas"), "U1", T0)
    workspaces.set_fleet(db, "TA", Fleet(20.0, 0.06, 0.0), "U1", T0)
    workspaces.set_fleet(db, "TA", Fleet(13.5, 0.04, 0.0, 100.0, "alberta"), "U1", T0)
    workspaces.set_fleet(db, "TB", Fleet(30.0, 0.07, 0.0, None, "texas"), "U2", T0)
    # `main` first, then by name; the name as last typed, the key without case.
    assert [(k, f.name) for k, f in workspaces.get_fleets(db, "TA").items()] == [
        ("main", "main"),
        ("alberta", "alberta"),
        ("texas", "Texas"),
    ]
    workspaces.set_fleet(db, "TA", Fleet(16.0, 0.045, 0.0, None, "TEXAS"), "U1", T0)
    texas = workspaces.get_fleet(db, "TA", "texas")
    assert texas == Fleet(16.0, 0.045, 0.0, None, "TEXAS")
    assert texas.line_key == "fleet:texas"
    assert len(workspaces.get_fleets(db, "TA")) == 3
    assert workspaces.get_fleet(db, "TB", "Texas") == Fleet(30.0, 0.07, 0.0, None, "texas")
    assert workspaces.remove_fleet(db, "TA", "Texas")
    assert not workspaces.remove_fleet(db, "TA", "texas")
    assert list(workspaces.get_fleets(db, "TA")) == ["main", "alberta"]
    assert list(workspaces.get_fleets(db, "TB")) == ["texas"]
