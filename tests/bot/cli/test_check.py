"""The command line as a process: `check` against the fake market, `costs …` and `db …`."""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from bot.cli import app
from tests.fakes.market import FakeMarket

REPO = Path(__file__).resolve().parents[3]
SOURCES = ("coinbase", "kraken", "bitstamp", "coingecko", "mempool", "blockchain_info")


def hashfloor(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`python -m bot …` in `cwd` with a clean environment plus `env`."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("HASHFLOOR_", "SLACK_")) and k.upper() != "PORT"
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**base, "PYTHONPATH": str(REPO), "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def no_traceback(got: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in got.stdout
    assert "Traceback" not in got.stderr


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: connections are refused at once."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.fixture
def env(db_path: Path) -> dict[str, str]:
    return {"HASHFLOOR_DB": str(db_path)}


# --- check --------------------------------------------------------------------------------


def test_check_healthy(tmp_path: Path, db_path: Path) -> None:
    with FakeMarket(price=91_000, difficulty=152e12, fees_btc=0.02) as market:
        got = hashfloor(tmp_path, "check", env={**market.env(), "HASHFLOOR_DB": str(db_path)})
    no_traceback(got)
    assert got.returncode == 0, got.stderr
    out = got.stdout
    assert "$37.88/PH/day" in out
    assert "$91,000.00" in out
    assert "fresh" in out and "not fresh" not in out
    assert "152.00 trillion" in out
    assert "925,000" in out
    assert "CoinShares cash cost (2025-Q2)" in out and "+22.0%" in out
    assert "CoinShares all-in cost (2025-Q2)" in out and "-34.0%" in out
    assert out.count("used") == 5
    # The poll was stored: the bot answers from it later.
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT price_usd, fresh FROM market_snapshots").fetchall() == [
        (91_000.0, 1)
    ]
    conn.close()


def test_check_one_liar_is_discarded_and_still_fresh(tmp_path: Path, env: dict) -> None:
    with FakeMarket() as market:
        market.set_price(1, "kraken")
        got = hashfloor(tmp_path, "check", env={**market.env(), **env})
    no_traceback(got)
    assert got.returncode == 0, got.stderr
    (kraken,) = [line for line in got.stdout.splitlines() if "kraken" in line and "$1.00" in line]
    assert "discarded" in kraken
    assert "$91,000.00  fresh" in got.stdout
    assert "coinbase, bitstamp, coingecko, mempool" in got.stdout


def test_check_two_sources_failing_is_still_fresh(tmp_path: Path, env: dict) -> None:
    with FakeMarket() as market:
        market.override("coinbase", status=429, body="")
        market.override("coingecko", status=200, body="<html>Just a moment...</html>")
        got = hashfloor(tmp_path, "check", env={**market.env(), **env})
    no_traceback(got)
    assert got.returncode == 0
    assert "rate limited (HTTP 429)" in got.stdout
    assert "HTML instead of JSON" in got.stdout


def test_check_without_agreement_exits_1(tmp_path: Path, env: dict) -> None:
    with FakeMarket() as market:
        for source in ("kraken", "bitstamp", "coingecko", "mempool"):
            market.override(source, status=500, body="")
        got = hashfloor(tmp_path, "check", env={**market.env(), **env})
    no_traceback(got)
    assert got.returncode == 1
    assert "not fresh" in got.stdout


def test_check_all_sources_down(tmp_path: Path, env: dict, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    urls = {f"HASHFLOOR_{s.upper()}_URL": url for s in SOURCES}
    got = hashfloor(tmp_path, "check", env={**urls, **env})
    no_traceback(got)
    assert got.returncode == 1
    assert "market sources unreachable" in got.stdout
    for source in SOURCES[:5]:
        assert f"{source}: unreachable" in got.stdout
    assert "blockchain.info: unreachable" in got.stdout


# --- costs and db, in-process (same app object as the console script) ---------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, db_path: Path) -> Iterator[Callable[..., Result]]:
    for name in list(os.environ):
        if name.upper().startswith(("HASHFLOOR_", "SLACK_")) or name.upper() == "PORT":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HASHFLOOR_DB", str(db_path))
    monkeypatch.setenv("COLUMNS", "200")  # rich tables on one line per row
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        result = runner.invoke(app, list(args), env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a crash, not an exit status: fail with its traceback
        return result

    yield invoke
    # Each command sets up logging on the root logger; give pytest its own back.
    root.handlers[:], level = saved
    root.setLevel(level)


def test_costs_list_shows_the_shipped_rows(cli: Callable[..., Result]) -> None:
    got = cli("costs", "list")
    assert got.exit_code == 0, got.output
    for value in ("$47,200", "$96,100", "$137,018", "$74,600", "$137,800"):
        assert value in got.stdout
    assert "CoinShares Bitcoin Mining Report (J. Butterfill)" in got.stdout
    assert got.stdout.count("shipped") == 9


def test_costs_add_list_remove(cli: Callable[..., Result]) -> None:
    got = cli(
        "costs", "add", "Acme Mining", "--kind", "allin", "--value", "120000",
        "--quarter", "2025-Q3", "--source", "10-Q", "--workspace", "T1",
    )  # fmt: skip
    assert got.exit_code == 0, got.output
    added = re.search(r"added #(\d+): Acme Mining all-in cost \$120,000", got.stdout)
    assert added, got.stdout
    row_id = added.group(1)

    listed = cli("costs", "list", "--workspace", "T1").stdout
    (row,) = [line for line in listed.splitlines() if "Acme Mining" in line]
    assert "2025-Q3" in row and "$120,000" in row and "10-Q" in row and "T1" in row
    assert "Acme Mining" not in cli("costs", "list").stdout  # not among the shipped rows
    assert "Acme Mining" not in cli("costs", "list", "-w", "T2").stdout

    shipped = cli("costs", "remove", "1")
    assert shipped.exit_code == 1
    assert "shipped rows cannot be removed" in shipped.stdout

    removed = cli("costs", "remove", row_id)
    assert removed.exit_code == 0
    assert f"removed #{row_id}" in removed.stdout
    assert cli("costs", "remove", row_id).exit_code == 1
    assert "Acme Mining" not in cli("costs", "list", "--workspace", "T1").stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (("--kind", "opex", "--value", "1000"), "kind must be one of cash, allin"),
        (("--value", "0"), "Invalid value for '--value'"),
        (("--value", "lots"), "Invalid value for '--value'"),
        ((), "Missing option '--value'"),
    ],
)
def test_costs_add_refuses_bad_input(
    cli: Callable[..., Result], args: tuple[str, ...], words: str
) -> None:
    got = cli("costs", "add", "Acme", *args)
    assert got.exit_code == 2
    assert words in got.output
    assert "Acme" not in cli("costs", "export").stdout


MY_ROWS = [
    ("Beta Hosting", "cash", 70_500.5, "", ""),
    ("Acme Mining", "cash", 65_000.0, "2025-Q3", "10-Q p.12"),
    ("Acme Mining", "allin", 118_000.0, "2025-Q3", "10-Q p.12"),
]


def workspace_rows(csv_text: str, workspace: str) -> list[tuple]:
    return [
        (r["name"], r["kind"], float(r["value_usd"]), r["quarter"], r["source"])
        for r in csv.DictReader(io.StringIO(csv_text))
        if r["workspace"] == workspace
    ]


def test_costs_export_import_round_trip(cli: Callable[..., Result], tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        "name,kind,value_usd,quarter,source\n"
        'Acme Mining,cash,"65,000",2025-Q3,10-Q p.12\n'
        "Acme Mining,all-in,$118000,2025-Q3,10-Q p.12\n"
        "Beta Hosting,cash,70500.5,,\n"
    )
    got = cli("costs", "import", str(src), "--workspace", "T1")
    assert got.exit_code == 0, got.output
    assert "imported 3 rows" in got.stdout

    # Export to stdout and to a file: the same CSV.
    exported = cli("costs", "export", "--workspace", "T1").stdout
    out = tmp_path / "out.csv"
    to_file = cli("costs", "export", str(out), "--workspace", "T1")
    assert "wrote 12 rows" in to_file.stdout
    assert out.read_text() == exported.replace("\r\n", "\n")

    rows = list(csv.DictReader(io.StringIO(exported)))
    assert list(rows[0]) == ["id", "workspace", "name", "quarter", "kind", "value_usd", "source"]
    assert len([r for r in rows if r["workspace"] == ""]) == 9  # the shipped rows
    # Shipped rows first, then the workspace's by quarter (none first), cash before all-in.
    assert workspace_rows(exported, "T1") == MY_ROWS

    # The workspace's rows, exported, import into another database as the same lines.
    own = tmp_path / "own.csv"
    with own.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["workspace"] == "T1")
    other = {"HASHFLOOR_DB": str(tmp_path / "other.db")}
    assert cli("costs", "import", str(own), "-w", "T2", env=other).exit_code == 0
    assert workspace_rows(cli("costs", "export", "-w", "T2", env=other).stdout, "T2") == MY_ROWS

    # The whole export, imported back, adds nothing: shipped and own rows are already on file.
    again = cli("costs", "import", str(out), "--workspace", "T1")
    assert again.exit_code == 0, again.output
    assert "imported 0 rows" in again.stdout and "12 already on file, skipped" in again.stdout
    assert cli("costs", "export", "--workspace", "T1").stdout == exported
    # Into a fresh workspace: only the other workspace's own rows are new there.
    moved = cli("costs", "import", str(out), "--workspace", "T3")
    assert "imported 3 rows" in moved.stdout and "9 already on file" in moved.stdout
    assert workspace_rows(cli("costs", "export", "-w", "T3").stdout, "T3") == MY_ROWS


def test_costs_import_with_bad_rows_writes_nothing(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    src = tmp_path / "bad.csv"
    src.write_text(
        "name,kind,value_usd\nAcme,cash,65000\n,cash,1\nAcme,opex,5\nAcme,cash,-3\nAcme,cash,abc\n"
    )
    got = cli("costs", "import", str(src), "-w", "T1")
    assert got.exit_code == 1
    for words in (
        "line 3: name is empty",
        "line 4: kind 'opex' is not cash or allin",
        "line 5: value_usd must be positive",
        "line 6:",
        "nothing imported",
    ):
        assert words in got.stdout
    assert "line 2" not in got.stdout
    assert workspace_rows(cli("costs", "export", "-w", "T1").stdout, "T1") == []


def test_db_migrate_twice(cli: Callable[..., Result], db_path: Path) -> None:
    first = cli("db", "migrate")
    assert first.exit_code == 0, first.output
    assert "applied hashfloor.costs:m001_cost_benchmarks" in first.stdout
    assert "applied hashfloor.snapshots:m001_market_snapshots" in first.stdout
    assert "schema up to date" in first.stdout

    second = cli("db", "migrate")
    assert second.exit_code == 0
    assert "applied " not in second.stdout
    assert "schema up to date (0 applied)" in second.stdout
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM cost_benchmarks").fetchone() == (9,)
    conn.close()


def test_db_backup_round_trip(cli: Callable[..., Result], tmp_path: Path) -> None:
    assert cli("costs", "add", "Acme", "--value", "65000", "-w", "T1").exit_code == 0
    target = tmp_path / "backup.db"
    got = cli("db", "backup", str(target))
    assert got.exit_code == 0, got.output
    assert "backed up" in got.stdout
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("SELECT count(*) FROM cost_benchmarks").fetchone() == (10,)
    conn.close()
    # The copy is a working database for the bot.
    listed = cli("costs", "list", "-w", "T1", env={"HASHFLOOR_DB": str(target)})
    assert "Acme" in listed.stdout


def test_db_backup_into_a_missing_folder(cli: Callable[..., Result], tmp_path: Path) -> None:
    got = cli("db", "backup", str(tmp_path / "nope" / "b.db"))
    assert got.exit_code == 2
    assert "does not exist" in got.stdout


def test_costs_and_db_through_the_console_script(tmp_path: Path, env: dict) -> None:
    """One round trip as a process, as an operator runs it."""
    added = hashfloor(tmp_path, "costs", "add", "Acme", "--value", "65000", "-w", "T1", env=env)
    assert added.returncode == 0, added.stderr
    target = tmp_path / "copy.db"
    assert hashfloor(tmp_path, "db", "backup", str(target), env=env).returncode == 0
    exported = hashfloor(tmp_path, "costs", "export", "-w", "T1", env={"HASHFLOOR_DB": str(target)})
    no_traceback(exported)
    assert workspace_rows(exported.stdout, "T1") == [("Acme", "cash", 65_000.0, "", "")]
