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
    # On the real clock (after 2026-03-25) the cash line is 2025-Q4's; all-in stays 2025-Q2
    # (none was published for 2025-Q4). Both quarters ended more than 270 days before any day
    # this test runs on now: each is marked old.
    assert "CoinShares cash cost (2025-Q4)" in out and "+13.8%" in out
    assert "CoinShares all-in cost (2025-Q2)" in out and "-34.0%" in out
    assert "old: 2025-Q4 ended" in out and "old: 2025-Q2 ended" in out
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
    for value in ("$47,200", "$96,100", "$137,018", "$74,600", "$137,800", "$79,995"):
        assert value in got.stdout
    assert "CoinShares Bitcoin Mining Report (J. Butterfill)" in got.stdout
    assert "$75,767 excluding it" in got.stdout  # 2024-Q4's note stays with its row
    assert got.stdout.count("current") == 2
    assert got.stdout.count("shipped") == 10


def test_costs_add_list_remove(cli: Callable[..., Result]) -> None:
    got = cli(
        "costs", "add", "Acme Mining", "--kind", "allin", "--value", "120000",
        "--quarter", "2025-Q3", "--source", "https://acme.example/10q", "--workspace", "T1",
    )  # fmt: skip
    assert got.exit_code == 0, got.output
    added = re.search(r"added #(\d+): Acme Mining all-in cost \$120,000", got.stdout)
    assert added, got.stdout
    row_id = added.group(1)

    listed = cli("costs", "list", "--workspace", "T1").stdout
    (row,) = [line for line in listed.splitlines() if "Acme Mining" in line]
    assert "2025-Q3" in row and "$120,000" in row and "acme.example/10q" in row and "T1" in row
    # without --workspace: every workspace's rows, each with its workspace (an operator's view)
    (row,) = [line for line in cli("costs", "list").stdout.splitlines() if "Acme Mining" in line]
    assert "T1" in row
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
        (("--kind", "opex", "--value", "65000"), "I could not read `opex`: a kind: `cash` or"),
        (("--value", "0"), "the amount must be more than zero"),
        (("--value", "lots"), "I could not read `lots`: a dollar amount such as"),
        (("--value", "inf"), "I could not read `inf`: a dollar amount"),
        (("--value", "nan"), "I could not read `nan`: a dollar amount"),
        (("--value", "1e400"), "I could not read `1e400`: a dollar amount"),
        (("--value", "$1"), "a cost per BTC between $1,000 and $10,000,000"),
        (("--value", "$10,000,000,000"), "a cost per BTC between $1,000 and $10,000,000"),
        (("--value", "65000", "--quarter", "banana"), "`banana`: a quarter such as `2025-Q3`"),
        (("--value", "65000", "--quarter", "1999-Q1"), "a quarter between 2009 and 2100"),
        (("--value", "65000", "--source", "javascript:alert(1)"), "a web address: `https://…`"),
        (("--value", "65000", "--source", "file:///etc/passwd"), "a web address: `https://…`"),
        (("--value", "65000"), None),  # no --workspace: refused, whatever else is right
        ((), "Missing option '--value'"),
    ],
)
def test_costs_add_refuses_bad_input(
    cli: Callable[..., Result], args: tuple[str, ...], words: str | None
) -> None:
    workspace = ("-w", "T1") if words else ()
    got = cli("costs", "add", "Acme", *args, *workspace)
    assert got.exit_code == 2
    assert (words or "give the workspace the line belongs to: --workspace") in got.output
    assert "Traceback" not in got.output
    for team in ("T1", None):
        assert "Acme" not in cli("costs", "export", *(("-w", team) if team else ())).stdout


def test_costs_add_without_a_workspace_leaves_the_benchmarks_alone(
    cli: Callable[..., Result],
) -> None:
    """Issue 12.8: `costs add Z --value 50000 --quarter banana` once replaced CoinShares' cash line
    in every workspace. Now the quarter is refused, and so is any add without --workspace."""
    before = cli("costs", "list").stdout
    for args in (("--quarter", "banana"), ("--quarter", "2030-Q1")):
        got = cli("costs", "add", "Z", "--value", "50000", *args)
        assert got.exit_code == 2 and "added" not in got.stdout
    assert cli("costs", "list").stdout == before


@pytest.mark.parametrize(
    "args, shown",
    [
        (("--value", "98k"), "Acme cash cost $98,000"),
        (("--value", "$98,000"), "Acme cash cost $98,000"),
        (("--value", "98000", "--kind", "all-in"), "Acme all-in cost $98,000"),
        (("--value", "98000", "--kind", "allin"), "Acme all-in cost $98,000"),
    ],
)
def test_costs_add_reads_what_slack_reads(
    cli: Callable[..., Result], args: tuple[str, ...], shown: str
) -> None:
    got = cli("costs", "add", "Acme", *args, "-w", "T1")
    assert got.exit_code == 0, got.output
    assert shown in got.stdout


def test_costs_add_cleans_the_name(cli: Callable[..., Result]) -> None:
    name = "Acme\n:rotating_light: *BTC* below\u202e\u200b ~x~ `y` _z_"
    got = cli("costs", "add", name, "--value", "65000", "-w", "T1")
    assert got.exit_code == 0, got.output
    (row,) = workspace_rows(cli("costs", "export", "-w", "T1").stdout, "T1")
    # One line, no bidi or zero-width characters, no mrkdwn markers (nor a shortcode's `_`).
    assert row[0] == "Acme :rotating＿light: ＊BTC＊ below ～x～ ｀y｀ ＿z＿"


def test_costs_remove_refuses_ids_no_line_can_have(cli: Callable[..., Result]) -> None:
    for bad in ("99999999999999999999", "0", "abc"):
        got = cli("costs", "remove", bad)
        assert got.exit_code == 2, got.output
        assert "I could not read" in got.stdout and "Traceback" not in got.output


TENQ = "https://acme.example/10-q#page=12"
MY_ROWS = [
    ("Beta Hosting", "cash", 70_500.5, "", ""),
    ("Acme Mining", "cash", 65_000.0, "2025-Q3", TENQ),
    ("Acme Mining", "allin", 118_000.0, "2025-Q3", TENQ),
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
        f'Acme Mining,cash,"65,000",2025-Q3,{TENQ}\n'
        f"Acme Mining,all-in,$118000,2025-Q3,{TENQ}\n"
        "Beta Hosting,cash,70500.5,,\n"
    )
    got = cli("costs", "import", str(src), "--workspace", "T1")
    assert got.exit_code == 0, got.output
    assert "imported 3 rows" in got.stdout

    # Export to stdout and to a file: the same CSV.
    exported = cli("costs", "export", "--workspace", "T1").stdout
    out = tmp_path / "out.csv"
    to_file = cli("costs", "export", str(out), "--workspace", "T1")
    assert "wrote 13 rows" in to_file.stdout
    assert out.read_text() == exported.replace("\r\n", "\n")

    rows = list(csv.DictReader(io.StringIO(exported)))
    assert list(rows[0]) == ["id", "workspace", "name", "quarter", "kind", "value_usd", "source"]
    assert len([r for r in rows if r["workspace"] == ""]) == 10  # the shipped rows
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
    assert "imported 0 rows" in again.stdout and "13 already on file, skipped" in again.stdout
    assert cli("costs", "export", "--workspace", "T1").stdout == exported
    # Into a fresh workspace: only the other workspace's own rows are new there.
    moved = cli("costs", "import", str(out), "--workspace", "T3")
    assert "imported 3 rows" in moved.stdout and "10 already on file" in moved.stdout
    assert workspace_rows(cli("costs", "export", "-w", "T3").stdout, "T3") == MY_ROWS


def test_costs_import_with_bad_rows_writes_nothing(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    src = tmp_path / "bad.csv"
    src.write_text(
        "name,kind,value_usd,quarter,source\n"
        "Acme,cash,65000,,\n"
        ",cash,65000,,\n"
        "Acme,opex,65000,,\n"
        "Acme,cash,-3,,\n"
        "Acme,cash,abc,,\n"
        "Acme,cash,inf,,\n"
        "Acme,cash,1e400,,\n"
        "Acme,cash,$1,,\n"
        'Acme,cash,"$10,000,000,000",,\n'
        "Acme,cash,65000,banana,\n"
        "Acme,cash,65000,,javascript:alert(1)\n"
        "Acme,cash,90k,,\n"
    )
    got = cli("costs", "import", str(src), "-w", "T1")
    assert got.exit_code == 1
    for words in (
        "line 3, name: I could not read `(nothing)`: a name with at least one visible character",
        "line 4, kind: I could not read `opex`: a kind: `cash` or `allin`",
        "line 5, value_usd: I could not read `-3`: the amount must be more than zero",
        "line 6, value_usd: I could not read `abc`: a dollar amount such as",
        "line 7, value_usd: I could not read `inf`",
        "line 8, value_usd: I could not read `1e400`",
        "line 9, value_usd: I could not read `$1`: a cost per BTC between $1,000 and $10,000,000",
        "line 10, value_usd: I could not read `$10,000,000,000`: a cost per BTC between",
        "line 11, quarter: I could not read `banana`: a quarter such as `2025-Q3`",
        "line 12, source: I could not read `javascript:alert(1)`: a source that is a web address",
        "nothing imported",
    ):
        assert words in got.stdout
    # `90k` reads as in Slack; line 2 is good too.
    assert "line 2" not in got.stdout and "line 13" not in got.stdout
    assert "could not convert" not in got.stdout
    assert workspace_rows(cli("costs", "export", "-w", "T1").stdout, "T1") == []


def test_costs_import_needs_a_workspace(cli: Callable[..., Result], tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("name,kind,value_usd,quarter\nZ,cash,50000,2030-Q1\n")
    before = cli("costs", "list").stdout
    got = cli("costs", "import", str(src))
    assert got.exit_code == 2
    assert "give the workspace the line belongs to" in got.stdout
    assert cli("costs", "list").stdout == before


def test_costs_export_defuses_formulas_and_import_restores_them(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    """A name planted as `=HYPERLINK(…)` is text in a spreadsheet, and the same name after a round
    trip through export and import."""
    names = ['=HYPERLINK("https://evil.example","x")', "+1", "-2 sites", "@SUM(A1)", "'quoted"]
    for name in names:
        assert cli("costs", "add", "--value", "65000", "-w", "T1", "--", name).exit_code == 0
    exported = cli("costs", "export", "-w", "T1").stdout
    cells = [r["name"] for r in csv.DictReader(io.StringIO(exported)) if r["workspace"] == "T1"]
    assert cells == ["'" + n if n[0] in "=+-@" else n for n in names]
    for row in csv.reader(io.StringIO(exported)):
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row)
    out = tmp_path / "out.csv"
    out.write_text(exported)
    assert cli("costs", "import", str(out), "-w", "T2").exit_code == 0
    listed = cli("costs", "list", "-w", "T2").stdout
    assert all(name in listed for name in names)
    again = cli("costs", "export", "-w", "T2").stdout
    assert [
        r["name"] for r in csv.DictReader(io.StringIO(again)) if r["workspace"] == "T2"
    ] == cells


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
    assert conn.execute("SELECT count(*) FROM cost_benchmarks").fetchone() == (10,)
    conn.close()


def test_db_backup_round_trip(cli: Callable[..., Result], tmp_path: Path) -> None:
    assert cli("costs", "add", "Acme", "--value", "65000", "-w", "T1").exit_code == 0
    target = tmp_path / "backup.db"
    got = cli("db", "backup", str(target))
    assert got.exit_code == 0, got.output
    assert "backed up" in got.stdout
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("SELECT count(*) FROM cost_benchmarks").fetchone() == (11,)
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


# --- the key of the stored tokens -------------------------------------------------------------

OLD_KEY = "the key the tokens were saved with, 32+"
NEW_KEY = "the key they are sealed with from now on"


def seal_tokens(db_path: Path, key: str, teams: tuple[str, ...]) -> None:
    from slack_sdk.oauth.installation_store import Installation

    from storage.db import Storage
    from storage.installations import EncryptedInstallationStore
    from storage.migrations import migrate

    storage = Storage(db_path)
    migrate(storage.db)
    for team in teams:
        EncryptedInstallationStore(storage, key).save(
            Installation(
                app_id="A1",
                team_id=team,
                user_id="U1",
                bot_token=f"xoxb-{team}-bot",
                bot_id="B1",
                bot_user_id="UBOT",
                bot_refresh_token=f"xoxe-1-{team}",
                installed_at=1.0,
            )
        )
    storage.close()


def opens(db_path: Path, key: str) -> tuple[int, int]:
    """(tokens stored, tokens `key` opens)."""
    from storage.db import Storage
    from storage.installations import EncryptedInstallationStore

    storage = Storage(db_path)
    try:
        check = EncryptedInstallationStore(storage, key).check_key()
    finally:
        storage.close()
    return check.tokens, check.tokens - check.failed


def test_db_rekey_reseals_every_token(cli: Callable[..., Result], db_path: Path) -> None:
    seal_tokens(db_path, OLD_KEY, ("T1", "T2", "T3"))

    got = cli(
        "db",
        "rekey",
        env={"HASHFLOOR_SECRET_KEY": OLD_KEY, "HASHFLOOR_NEW_SECRET_KEY": NEW_KEY},
    )

    assert got.exit_code == 0, got.output
    assert "re-encrypted 6 stored tokens" in got.stdout
    assert "Set HASHFLOOR_SECRET_KEY to it" in got.stdout
    assert opens(db_path, NEW_KEY) == (6, 6)
    assert opens(db_path, OLD_KEY) == (6, 0)
    assert NEW_KEY not in got.output and OLD_KEY not in got.output


def test_db_rekey_takes_the_new_key_as_an_option(cli: Callable[..., Result], db_path: Path):
    seal_tokens(db_path, OLD_KEY, ("T1",))
    got = cli("db", "rekey", "--new-key", NEW_KEY, env={"HASHFLOOR_SECRET_KEY": OLD_KEY})
    assert got.exit_code == 0, got.output
    assert opens(db_path, NEW_KEY) == (2, 2)


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"HASHFLOOR_NEW_SECRET_KEY": NEW_KEY}, "HASHFLOOR_SECRET_KEY (the current key) is not"),
        (
            {"HASHFLOOR_SECRET_KEY": OLD_KEY, "HASHFLOOR_NEW_SECRET_KEY": "short"},
            "the new key: must be at least 32 characters (it has 5)",
        ),
        (
            {"HASHFLOOR_SECRET_KEY": "x" * 40, "HASHFLOOR_NEW_SECRET_KEY": NEW_KEY},
            "none of the 4 stored tokens decrypts",
        ),
    ],
)
def test_db_rekey_refuses_and_changes_nothing(
    cli: Callable[..., Result], db_path: Path, env: dict[str, str], words: str
) -> None:
    seal_tokens(db_path, OLD_KEY, ("T1", "T2"))

    got = cli("db", "rekey", env=env)

    assert got.exit_code == 2
    assert words in " ".join(got.output.split())
    assert opens(db_path, OLD_KEY) == (4, 4)


def test_db_backup_is_readable_by_its_owner_only(cli: Callable[..., Result], tmp_path: Path):
    target = tmp_path / "private-backup.db"
    assert cli("db", "backup", str(target)).exit_code == 0
    assert target.stat().st_mode & 0o777 == 0o600
