"""SQLite storage: connection pragmas, migrations, costs, snapshots, crash safety and backup."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.lines import CostLine
from bot.market.snapshot import Network, Quote, Snapshot
from storage import costs, snapshots
from storage.db import BUSY_TIMEOUT_MS, Storage, database_files, readable_by_others
from storage.migrations import MIGRATION_SETS, migrate, pending

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def storage(db_path: Path) -> Iterator[Storage]:
    st = Storage(db_path)
    migrate(st.db)
    yield st
    st.close()


def schema(db_path: Path) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
    finally:
        conn.close()


# --- connections ------------------------------------------------------------------------


def test_wal_and_busy_timeout(db_path: Path) -> None:
    st = Storage(db_path)
    assert st.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert st.db.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS
    assert BUSY_TIMEOUT_MS >= 1000
    assert st.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert st.ping()
    st.close()
    # WAL is a property of the file: a plain connection sees it too.
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_one_connection_per_thread(db_path: Path) -> None:
    st = Storage(db_path)
    mine = st.db
    assert st.db is mine  # the same thread gets the same connection
    seen: dict[str, object] = {}

    def worker(name: str) -> None:
        seen[name] = st.db
        assert st.db is seen[name]
        st.db.execute("SELECT 1").fetchone()

    threads = [threading.Thread(target=worker, args=(f"t{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conns = [mine, *seen.values()]
    assert len({id(c) for c in conns}) == 4
    assert len({id(c.conn) for c in conns}) == 4
    st.close()


def test_transaction_commits_and_rolls_back(storage: Storage) -> None:
    with storage.transaction() as db:
        costs.add(db, "T1", "Kept", "cash", 80_000)
    with pytest.raises(RuntimeError), storage.transaction() as db:
        costs.add(db, "T1", "Rolled back", "cash", 81_000)
        raise RuntimeError("boom")
    names = [r["name"] for r in costs.all_rows(storage.db, "T1") if r["workspace"] == "T1"]
    assert names == ["Kept"]


def test_nested_transaction_is_part_of_the_outer(storage: Storage) -> None:
    with pytest.raises(RuntimeError), storage.transaction():
        with storage.transaction() as db:
            costs.add(db, "T1", "Inner", "cash", 80_000)
        raise RuntimeError("outer fails after the inner block")
    assert [r for r in costs.all_rows(storage.db, "T1") if r["workspace"] == "T1"] == []


def test_ping_fails_on_a_closed_connection(db_path: Path) -> None:
    st = Storage(db_path)
    st.db.close()
    assert not st.ping()


# --- migrations ---------------------------------------------------------------------------


def test_migrations_apply_and_are_idempotent(db_path: Path) -> None:
    st = Storage(db_path)
    first = migrate(st.db)
    assert "hashfloor.costs:m001_cost_benchmarks" in first
    assert "hashfloor.snapshots:m001_market_snapshots" in first
    assert pending(st.db) == []
    assert {"cost_benchmarks", "market_snapshots"} <= set(st.db.table_names())
    after_first = schema(db_path)
    rows_first = list(st.db.query("SELECT * FROM cost_benchmarks ORDER BY id"))

    assert migrate(st.db) == []  # nothing left to apply
    assert schema(db_path) == after_first
    assert list(st.db.query("SELECT * FROM cost_benchmarks ORDER BY id")) == rows_first
    st.close()

    # A fresh process (a new Storage) sees the same: nothing pending, seeds not duplicated.
    st2 = Storage(db_path)
    assert migrate(st2.db) == []
    assert st2.db["cost_benchmarks"].count == 10
    st2.close()


def test_every_migration_set_is_recorded(storage: Storage) -> None:
    for m in MIGRATION_SETS:
        assert m.pending(storage.db) == []


def test_ten_shipped_rows(storage: Storage) -> None:
    rows = costs.all_rows(storage.db)
    got = {(r["quarter"], r["kind"]): r["value_usd"] for r in rows}
    assert got == {
        ("2024-Q1", "cash"): 47_200,
        ("2024-Q2", "cash"): 49_500,
        ("2024-Q2", "allin"): 96_100,
        ("2024-Q3", "cash"): 55_950,
        ("2024-Q3", "allin"): 106_000,
        ("2024-Q4", "cash"): 82_162,
        ("2024-Q4", "allin"): 137_018,
        ("2025-Q2", "cash"): 74_600,
        ("2025-Q2", "allin"): 137_800,
        ("2025-Q4", "cash"): 79_995,
    }
    assert all(r["workspace"] is None and r["name"] == "CoinShares" for r in rows)
    assert all(r["source"] and r["seed_key"] for r in rows)  # each row keeps its source
    assert {r["source"] for r in rows if r["quarter"] == "2025-Q2"} == {
        "CoinShares Bitcoin Mining Report (J. Butterfill)"
    }
    q4 = [r for r in rows if r["quarter"] == "2025-Q4"]
    assert [(r["source"], r["published"]) for r in q4] == [
        (
            "CoinShares Bitcoin Mining Report Q1 2026 (published 2026-03-25), as reported in"
            " the press",
            "2026-03-25",
        )
    ]
    # The publisher's caveat stays with the 2024-Q4 cash row (and only there).
    notes = {(r["quarter"], r["kind"]): r["note"] for r in rows if r["note"]}
    assert notes == {
        ("2024-Q4", "cash"): "skewed by one miner's tax expense (Hut 8); $75,767 excluding it"
    }


def test_seeding_brings_an_older_database_up_to_this_release(storage: Storage) -> None:
    """A database seeded by an earlier release has the old source text and no note: the next
    start corrects them (the value a workspace watches is the shipped one) without adding rows."""
    db = storage.db
    db.execute(
        "UPDATE cost_benchmarks SET source = 'old text', note = NULL, published = NULL"
        " WHERE seed_key IN ('coinshares:2024-Q4:cash', 'coinshares:2025-Q4:cash')"
    )
    assert costs.seed(db, now=3.0) == 0
    rows = {r["seed_key"]: r for r in costs.all_rows(db)}
    assert rows["coinshares:2024-Q4:cash"]["note"].endswith("$75,767 excluding it")
    assert rows["coinshares:2025-Q4:cash"]["published"] == "2026-03-25"
    assert "old text" not in {r["source"] for r in rows.values()}
    assert rows["coinshares:2024-Q4:cash"]["updated_at"] == 3.0
    assert rows["coinshares:2024-Q1:cash"]["updated_at"] != 3.0  # untouched: already current


def test_seeding_restores_a_missing_shipped_row(storage: Storage) -> None:
    storage.db.execute("DELETE FROM cost_benchmarks WHERE seed_key = 'coinshares:2024-Q1:cash'")
    assert costs.seed(storage.db, now=1.0) == 1
    assert costs.seed(storage.db, now=2.0) == 0
    assert storage.db["cost_benchmarks"].count == 10


# --- costs --------------------------------------------------------------------------------


BEFORE_Q4_REPORT = 1_764_000_000.0  # 2025-11-24: the 2025-Q4 report (2026-03-25) did not exist
AFTER_Q4_REPORT = 1_780_000_000.0  # 2026-05-28


def test_current_lines_are_the_latest_quarter_per_kind(storage: Storage) -> None:
    """Each kind takes the latest quarter that has a value of that kind: cash is 2025-Q4,
    all-in stays 2025-Q2 (no all-in was published for 2025-Q4)."""
    src = "CoinShares Bitcoin Mining Report (J. Butterfill)"
    q4 = "CoinShares Bitcoin Mining Report Q1 2026 (published 2026-03-25), as reported in the press"
    assert costs.current_lines(storage.db, None, AFTER_Q4_REPORT) == [
        CostLine("cash", "CoinShares cash cost (2025-Q4)", 79_995, q4, "2025-Q4", "2026-03-25"),
        CostLine("allin", "CoinShares all-in cost (2025-Q2)", 137_800, src, "2025-Q2"),
    ]


def test_a_line_counts_from_its_publication_day(storage: Storage) -> None:
    """Asked as of a day before the 2025-Q4 report came out, the cash line is 2025-Q2's."""
    day = 1_774_396_800.0  # 2026-03-25 00:00 UTC
    cash = {
        now: costs.current_lines(storage.db, None, now)[0]
        for now in (BEFORE_Q4_REPORT, day - 1, day, AFTER_Q4_REPORT)
    }
    assert [(line.period, line.value_usd) for line in cash.values()] == [
        ("2025-Q2", 74_600),
        ("2025-Q2", 74_600),
        ("2025-Q4", 79_995),
        ("2025-Q4", 79_995),
    ]
    ids = costs.current_shipped_ids(storage.db, day - 1)
    assert {costs.get(storage.db, i)["quarter"] for i in ids} == {"2025-Q2"}


def test_add_list_and_remove_a_workspace_line(storage: Storage) -> None:
    db = storage.db
    row_id = costs.add(db, "T1", "Acme Mining", "cash", 65_000, "2025-Q3", "10-Q", "U1", now=5.0)
    other = costs.add(db, "T2", "Other Co", "allin", 99_000)

    lines = costs.current_lines(db, "T1", BEFORE_Q4_REPORT)
    assert [line.value_usd for line in lines] == [74_600, 137_800, 65_000]
    assert lines[2] == CostLine(
        f"cost:{row_id}", "Acme Mining cash cost (2025-Q3)", 65_000, "10-Q", "2025-Q3"
    )
    # A workspace sees its own rows and the shipped ones, never another workspace's.
    assert other not in {r["id"] for r in costs.all_rows(db, "T1")}
    assert len(costs.all_rows(db, "T1")) == 11
    assert len(costs.all_rows(db)) == 10
    assert costs.get(db, row_id)["created_by"] == "U1"

    assert not costs.remove(db, "T2", row_id)  # not T2's
    assert costs.remove(db, "T1", row_id)
    assert not costs.remove(db, "T1", row_id)  # already gone
    assert costs.get(db, row_id) is None
    assert [line.key for line in costs.current_lines(db, "T1", AFTER_Q4_REPORT)] == [
        "cash",
        "allin",
    ]


def test_a_row_without_workspace_added_by_an_older_cli_is_not_a_benchmark(
    storage: Storage,
) -> None:
    """Issue 12.8: `costs add Z --value 50000 --quarter banana` (no -w) became the CoinShares cash
    line of every workspace, as 'banana' sorts after every real quarter."""
    db = storage.db
    before = costs.current_lines(db, "T1", AFTER_Q4_REPORT)
    for quarter in ("banana", "2030-Q1"):
        db.execute(
            "INSERT INTO cost_benchmarks (workspace, name, quarter, kind, value_usd)"
            " VALUES (NULL, 'Z', ?, 'cash', 50000)",
            [quarter],
        )
    assert costs.current_lines(db, "T1", AFTER_Q4_REPORT) == before
    assert before[0].label == "CoinShares cash cost (2025-Q4)"


def test_names_stored_before_labels_were_cleaned_are_cleaned_once(storage: Storage) -> None:
    db = storage.db
    db.execute(
        "INSERT INTO cost_benchmarks (workspace, name, kind, value_usd) VALUES"
        " ('T1', ?, 'cash', 65000), ('T1', ?, 'cash', 66000)",
        ["Acme\n*BTC below*\u202e", "\u200b"],
    )
    costs.m002_clean_labels(db)
    names = [r["name"] for r in costs.all_rows(db, "T1") if r["workspace"]]
    assert names[0] == "Acme ＊BTC below＊"
    assert names[1].startswith("line ")  # nothing visible was left: named by its id
    assert [r["name"] for r in costs.all_rows(db)] == [
        "CoinShares"
    ] * 10  # shipped rows as they were


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), 0.0])
def test_add_refuses_values_that_are_not_finite_and_positive(
    storage: Storage, value: float
) -> None:
    with pytest.raises(ValueError, match="positive and finite"):
        costs.add(storage.db, "T1", "Acme", "cash", value)
    assert storage.db["cost_benchmarks"].count == 10


def test_shipped_rows_cannot_be_removed(storage: Storage) -> None:
    shipped = costs.all_rows(storage.db)[0]["id"]
    assert not costs.remove(storage.db, None, shipped)
    assert not costs.remove(storage.db, "T1", shipped)
    assert storage.db["cost_benchmarks"].count == 10
    # A CLI operator (workspace None) may remove any added row.
    own = costs.add(storage.db, "T1", "Acme", "allin", 120_000)
    assert costs.remove(storage.db, None, own)


@pytest.mark.parametrize(
    "kind, value, words",
    [("opex", 50_000, "kind must be"), ("cash", 0, "positive"), ("cash", -1, "positive")],
)
def test_add_refuses_bad_rows(storage: Storage, kind: str, value: float, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        costs.add(storage.db, "T1", "Acme", kind, value)
    assert storage.db["cost_benchmarks"].count == 10


# --- snapshots ----------------------------------------------------------------------------

NETWORK = Network(
    difficulty=152e12,
    hashrate_hs=1.088e21,
    tip_height=925_000,
    fees_per_block_btc=0.02,
    next_adjustment_percent=1.25,
    next_adjustment_at=1_764_000_000.0,
    next_adjustment_blocks=1_000,
    previous_adjustment_percent=-0.5,
    previous_adjustment_at=1_762_790_400.0,
    source="mempool",
    error=None,
)


def snap(
    taken_at: float, price: float | None = 91_000.0, fresh: bool = True, network: Network = NETWORK
) -> Snapshot:
    quotes = (
        Quote("coinbase", price, None, 81.5),
        Quote("kraken", None, "timed out", 5000.0),
        Quote("bitstamp", price, None, 120.25),
    )
    used = ("coinbase", "bitstamp") if fresh else ()
    return Snapshot(taken_at, quotes, price, fresh, used, network)


@pytest.mark.parametrize(
    "original",
    [
        snap(1_750_000_000.5),
        snap(1_750_000_000.0, price=None, fresh=False, network=Network(error="mempool: HTTP 500")),
        Snapshot(1.0, (), None, False),
        snap(
            2.0,
            network=Network(
                difficulty=1e14, tip_height=5, fees_per_block_btc=0.0, source="blockchain.info"
            ),
        ),
    ],
)
def test_snapshot_round_trip(storage: Storage, original: Snapshot) -> None:
    row_id = snapshots.insert(storage.db, original)
    row = storage.db["market_snapshots"].get(row_id)
    assert snapshots.from_row(row) == original
    assert snapshots.latest(storage.db) == original


def test_latest_fresh_and_latest_network(storage: Storage) -> None:
    db = storage.db
    assert snapshots.latest(db) is None
    assert snapshots.latest_fresh(db) is None
    assert snapshots.latest_network(db) is None

    good = snap(100.0)
    stale = snap(200.0, price=90_000.0, fresh=False)
    no_fees = snap(300.0, network=Network(difficulty=152e12, tip_height=925_001, error="fees"))
    for s in (good, stale, no_fees):
        snapshots.insert(db, s)

    assert snapshots.latest(db) == no_fees
    assert snapshots.latest_fresh(db) == no_fees
    assert snapshots.latest_network(db) == stale  # 300 lacks fees
    snapshots.insert(db, snap(400.0, price=None, fresh=False, network=Network(error="down")))
    assert snapshots.latest_fresh(db) == no_fees
    assert snapshots.latest_network(db) == stale


def test_between_and_prune(storage: Storage) -> None:
    for t in (10.0, 20.0, 30.0, 40.0):
        snapshots.insert(storage.db, snap(t))
    assert [s.taken_at for s in snapshots.between(storage.db, 20.0, 30.0)] == [20.0, 30.0]
    assert snapshots.prune(storage.db, before=30.0) == 2
    assert [s.taken_at for s in snapshots.between(storage.db, 0, 100)] == [30.0, 40.0]


# --- crash safety and backup --------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from bot.market.snapshot import Quote, Snapshot
    from storage import costs, snapshots
    from storage.db import Storage

    st = Storage(sys.argv[1])
    with st.transaction() as db:
        for i in range(50):
            costs.add(db, "T1", f"committed-{i}", "cash", 70_000 + i)
            snapshots.insert(db, Snapshot(float(i), (Quote("kraken", 1.0, None, 1.0),), 1.0, False))
    with st.transaction() as db:
        i = 0
        while True:
            costs.add(db, "T1", f"uncommitted-{i}", "cash", 60_000 + i)
            snapshots.insert(db, Snapshot(1e6 + i, (), None, False))
            i += 1
            if i == 2000:
                print("in the middle of a transaction", flush=True)
    """
)


def test_a_process_killed_mid_write_leaves_a_consistent_database(db_path: Path) -> None:
    st = Storage(db_path)
    migrate(st.db)
    st.close()

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        assert line.strip() == "in the middle of a transaction", proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()

    st = Storage(db_path)
    db = st.db
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    names = [r["name"] for r in db.query("SELECT name FROM cost_benchmarks WHERE workspace='T1'")]
    assert sorted(names) == sorted(f"committed-{i}" for i in range(50))
    assert db["market_snapshots"].count == 50
    assert db["cost_benchmarks"].count == 10 + 50
    # The killed writer left no lock behind: a new write goes through at once.
    with st.transaction() as wdb:
        costs.add(wdb, "T1", "after the crash", "cash", 1.0)
    assert migrate(db) == []
    st.close()


def test_online_backup_is_a_readable_copy(storage: Storage, tmp_path: Path) -> None:
    costs.add(storage.db, "T1", "Acme", "cash", 65_000)
    snapshots.insert(storage.db, snap(100.0))

    # Another connection holds an open write transaction: the backup still runs and copies
    # only what was committed.
    other = Storage(storage.path)
    with other.transaction() as odb:
        costs.add(odb, "T1", "not yet committed", "cash", 1.0)
        target = storage.backup(tmp_path / "copy.db")
    other.close()

    assert target == tmp_path / "copy.db"
    conn = sqlite3.connect(target)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names = [r[0] for r in conn.execute("SELECT name FROM cost_benchmarks ORDER BY id")]
        assert names == ["CoinShares"] * 10 + ["Acme"]
        assert conn.execute("SELECT count(*) FROM market_snapshots").fetchone()[0] == 1
    finally:
        conn.close()
    # The copy is a full database: it opens with Storage, has nothing pending, reads back.
    copy = Storage(target)
    assert migrate(copy.db) == []
    assert snapshots.latest(copy.db) == snap(100.0)
    copy.close()


# --- at rest: owner-only files ---------------------------------------------------------------


def test_a_new_database_and_its_wal_and_shm_are_owner_only(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # the usual umask, which gives SQLite's own default 0644
    try:
        st = Storage(tmp_path / "new.db")
        migrate(st.db)  # writes: the -wal and -shm files exist now
        files = database_files(st.path)
        assert all(p.exists() for p in files)
        assert {p.name: p.stat().st_mode & 0o777 for p in files} == {
            "new.db": 0o600,
            "new.db-wal": 0o600,
            "new.db-shm": 0o600,
        }
        assert readable_by_others(files) == []
        st.close()
    finally:
        os.umask(old_umask)


def test_files_other_users_can_read_are_found(tmp_path: Path) -> None:
    shared = tmp_path / "old.db"
    sqlite3.connect(shared).execute("CREATE TABLE t (x)").connection.close()
    shared.chmod(0o644)
    private = tmp_path / "private.db"
    Storage(private).db.execute("SELECT 1")

    assert readable_by_others([shared, private, tmp_path / "missing.db"]) == [(shared, 0o644)]
    # An existing file keeps its mode: the operator decides, the bot warns at start.
    Storage(shared).db.execute("SELECT 1")
    assert shared.stat().st_mode & 0o777 == 0o644


def test_close_waits_for_a_transaction_on_another_thread(tmp_path: Path) -> None:
    """Closing a connection under a statement another thread runs crashes the process (a
    segfault seen in CI): close() lets the transaction finish first."""
    storage = Storage(tmp_path / "close.db")
    storage.db.execute("CREATE TABLE t (x)")
    inside, finished = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with storage.transaction() as db:
                inside.set()
                for i in range(200):
                    db.execute("INSERT INTO t VALUES (?)", [i])
                    finished.wait(0.001)
        except BaseException as exc:  # pragma: no cover - the failure this test looks for
            errors.append(exc)
        finished.set()

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(5)
    storage.close()  # must wait for the writer's commit
    assert finished.is_set() and errors == []
    thread.join(5)
    check = sqlite3.connect(tmp_path / "close.db")
    assert check.execute("SELECT count(*) FROM t").fetchone()[0] == 200
    check.close()


def test_btc_prices_round_trip_and_latest_rates(storage: Storage) -> None:
    db = storage.db
    assert snapshots.latest_rates(db) is None
    with_rates = Snapshot(
        100.0, (), 91_000.0, True, ("mempool",), btc_prices={"USD": 91_000.0, "EUR": 83_720.0}
    )
    without = snap(200.0)
    for s in (with_rates, without):
        snapshots.insert(db, s)
    assert snapshots.latest(db) == without and without.btc_prices == {}
    # The rate comes from the newest poll that quoted it, however many polls came since.
    assert snapshots.latest_rates(db) == with_rates
    assert snapshots.latest_rates(db).btc_prices == {"USD": 91_000.0, "EUR": 83_720.0}


def test_a_database_from_before_currencies_gains_the_column(db_path: Path) -> None:
    st = Storage(db_path)
    migrate(st.db)
    # As a database that ran every migration but m004 left it: a row without btc_prices.
    st.db.execute("DROP INDEX idx_market_snapshots_btc_prices")
    st.db.execute("ALTER TABLE market_snapshots DROP COLUMN btc_prices")
    st.db.execute(
        "DELETE FROM _sqlite_migrations WHERE migration_set = 'hashfloor.snapshots' AND name = 'm004_btc_prices'"
    )
    snapshots_before = list(st.db["market_snapshots"].columns_dict)
    assert "btc_prices" not in snapshots_before
    st.db["market_snapshots"].insert({"taken_at": 5.0, "price_usd": 90_000.0, "fresh": 1})
    assert "hashfloor.snapshots:m004_btc_prices" in migrate(st.db)
    old = snapshots.latest(st.db)
    assert old is not None and old.btc_prices == {} and old.price_usd == 90_000.0
    assert snapshots.latest_rates(st.db) is None
    st.close()


def test_a_fleet_keeps_its_power_currency(storage: Storage) -> None:
    from storage import workspaces

    db = storage.db
    workspaces.set_fleet(
        db, "T1", workspaces.Fleet(17.5, 0.045, 0.02, power_currency="EUR"), "U1", 1.0
    )
    got = workspaces.get_fleet(db, "T1")
    assert got is not None and (got.power_usd_per_kwh, got.power_currency) == (0.045, "EUR")
    assert workspaces.fleets_by_team(db, ["T1"])["T1"]["main"].power_currency == "EUR"
    # A fleet set before currencies (no power_currency) is in US$.
    db.execute("UPDATE fleets SET power_currency = NULL")
    got = workspaces.get_fleet(db, "T1")
    assert got is not None and got.power_currency == "USD"
    workspaces.set_fleet(db, "T1", workspaces.Fleet(17.5, 0.05, 0.02), "U1", 2.0)
    assert workspaces.get_fleet(db, "T1").power_currency == "USD"
