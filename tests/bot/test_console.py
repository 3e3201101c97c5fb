"""`hashfloor console` as a process: commands on stdin, the answers Slack would show on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage import audit
from storage.db import Storage
from tests.fakes import snapshots as fake_snapshots
from tests.fakes.snapshots import design_snapshot


def seed(db_path: Path) -> None:
    fake_snapshots.seed(db_path, design_snapshot(time.time() - 42, sources=("coinbase", "kraken")))


def console(db_path: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HASHFLOOR_"))}
    env |= {"HASHFLOOR_DB": str(db_path), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=db_path.parent,
        timeout=60,
    )


@pytest.fixture
def seeded(db_path: Path) -> Path:
    seed(db_path)
    return db_path


def test_console_answers_like_slack_as_text(seeded: Path) -> None:
    out = console(seeded, "/breakeven 20 0.06 2\n\nhashprice\n/breakeven\nquit\n/costs\n")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # not a terminal: no banner, no prompt
    assert not any("Hashfloor console" in line for line in lines)
    assert lines[0] == "Fleet breakeven — 20 J/TH at $0.06/kWh, pool fee 2%"
    assert "  Breakeven BTC price: $70,605" in lines
    assert "  Breakeven power price: $0.0773/kWh" in lines
    assert "  Hashprice: $37.88/PH/day" in lines  # `hashprice` without the slash
    assert "BTC $91,000 against the cost of mining one bitcoin" in lines
    assert any(line.startswith("  Median of coinbase, kraken · fetched 4") for line in lines)
    # Slack's emoji shortcodes are left as they are, all of them alike
    assert any(":large_green_circle:" in line for line in lines)
    assert not any(c in out.stdout for c in "🔴🟢⚠")
    # nothing after `quit` is answered
    assert "CoinShares — listed miners' weighted average, US$ per BTC" not in lines


def test_console_changes_as_the_operator_and_audits(seeded: Path) -> None:
    commands = (
        '/costs add "Acme <b> & [red]co[/red]" cash=$61k\n'
        "/costs\n"
        "/hashfloor fleet 17.5 5c 2%\n"
        "/breakeven\n"
    )
    out = console(seeded, commands, "--user", "U0OPERATOR")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    # the terminal shows what the user typed, unescaped, and rich markup is not interpreted
    assert "Added Acme <b> & [red]co[/red]: `#10` cash cost $61,000" in text
    assert "`#10` Acme <b> & [red]co[/red]  cash cost $61,000" in text
    assert "Fleet set: 17.5 J/TH at $0.05/kWh, pool fee 2%. It breaks even at $51,483" in text
    assert "Acme <b> & [red]co[/red] cash cost $61,000 — price is 49.2% above" in text
    assert "Your fleet (17.5 J/TH at $0.05/kWh) breaks even at $51,483" in text
    storage = Storage(seeded)
    rows = audit.recent(storage.db)
    storage.close()
    assert [(r["user_id"], r["action"]) for r in rows] == [
        ("U0OPERATOR", "fleet.set"),
        ("U0OPERATOR", "costs.add"),
    ]
    assert json.loads(rows[1]["detail"])["name"] == "Acme <b> & [red]co[/red]"


def test_console_bad_input_is_answered_not_raised(seeded: Path) -> None:
    out = console(seeded, '/breakeven 17.5 <!channel>\n/nope\n/costs add "unclosed\n')
    assert out.returncode == 0, out.stderr
    assert "I could not read `<!channel>`" in out.stdout
    assert "Hashfloor does not know `/nope`." in out.stdout
    assert "a quote is not closed" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_console_without_market_data_says_so(db_path: Path) -> None:
    out = console(db_path, "/breakeven\n")  # a new database: migrated, no snapshot yet
    assert out.returncode == 0, out.stderr
    assert "No market data yet" in out.stdout
    assert "Run `hashfloor check` first" not in out.stdout  # the banner is for terminals only


def test_console_ends_at_end_of_input(seeded: Path) -> None:
    out = console(seeded, "")
    assert out.returncode == 0 and out.stdout == ""
