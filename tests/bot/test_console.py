"""`hashfloor console` as a process: commands on stdin, the answers Slack would show on stdout."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.slack.blocks import as_text, section
from storage import audit
from storage.db import Storage
from tests.fakes import snapshots as fake_snapshots
from tests.fakes.market import PRICE_SOURCES, FakeMarket
from tests.fakes.snapshots import design_snapshot


def seed(db_path: Path) -> None:
    fake_snapshots.seed(db_path, design_snapshot(time.time() - 42, sources=("coinbase", "kraken")))


def console_env(db_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HASHFLOOR_"))}
    return env | {"HASHFLOOR_DB": str(db_path), "COLUMNS": "200"} | extra


def console(
    db_path: Path, stdin: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = console_env(db_path, **(env or {}))
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
    # seeded 42 s before the start: a loaded machine may take seconds more to answer
    assert any(line.startswith("  Median of coinbase, kraken · fetched ") for line in lines)
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
    assert "Added Acme <b> & [red]co[/red]: `#11` cash cost $61,000" in text
    assert "`#11` Acme <b> & [red]co[/red]  cash cost $61,000" in text
    assert "Fleet main set: 17.5 J/TH at $0.05/kWh, pool fee 2%. It breaks even at $51,483" in text
    assert "Acme <b> & [red]co[/red] cash cost $61,000 — price is 49.2% above" in text
    assert "Fleet main (17.5 J/TH at $0.05/kWh, pool fee 2%) breaks even at $51,483" in text
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
    out = console(db_path, "/breakeven\n", "--no-poll")  # a new database: no snapshot yet
    assert out.returncode == 0, out.stderr
    assert "No market data yet" in out.stdout
    assert "Run `hashfloor check` first" not in out.stdout  # the banner is for terminals only


def test_console_ends_at_end_of_input(seeded: Path) -> None:
    out = console(seeded, "")
    assert out.returncode == 0 and out.stdout == ""


# --- a poll at start when the data is stale -----------------------------------------------------


def test_console_polls_at_start_when_the_data_is_stale(db_path: Path, market: FakeMarket) -> None:
    fake_snapshots.seed(db_path, design_snapshot(time.time() - 3600))  # an hour old: $91,000
    market.set_price(95_000)
    out = console(db_path, "/hashprice\n", env=market.env())
    assert out.returncode == 0, out.stderr
    assert (
        "the market data on file is from 60 min ago: polling the price sources once" in out.stderr
    )
    assert "polled: BTC $95,000.00, median of coinbase, kraken, bitstamp, coingecko, mempool" in (
        out.stderr
    )
    assert "Hashprice: $39.54/PH/day" in out.stdout  # at $95,000, the price just polled
    assert market.hits["coinbase"] == 1


def test_console_no_poll_answers_from_the_data_on_file(db_path: Path, market: FakeMarket) -> None:
    fake_snapshots.seed(db_path, design_snapshot(time.time() - 3600))
    market.set_price(95_000)
    out = console(db_path, "/hashprice\n", "--no-poll", env=market.env())
    assert out.returncode == 0, out.stderr
    assert "Hashprice: $37.88/PH/day" in out.stdout  # at $91,000, the price on file
    assert "The price sources have not answered since" in out.stdout
    assert sum(market.hits.values()) == 0


def test_console_does_not_poll_fresh_data(seeded: Path, market: FakeMarket) -> None:
    out = console(seeded, "/hashprice\n", env=market.env())
    assert out.returncode == 0, out.stderr
    assert "polling" not in out.stderr
    assert sum(market.hits.values()) == 0


def test_console_says_when_the_start_poll_fails(db_path: Path, market: FakeMarket) -> None:
    for source in PRICE_SOURCES:
        market.override(source, status=503, body="down")
    out = console(db_path, "/breakeven\n", env=market.env())
    assert out.returncode == 0, out.stderr
    assert "no market data yet: polling" in out.stderr
    assert "the poll found no fresh price" in out.stderr and "coinbase: HTTP 503" in out.stderr
    assert "HTTPS_PROXY" in out.stderr


# --- what a terminal shows of Slack's mrkdwn ------------------------------------------------------


@pytest.mark.parametrize(
    "mrkdwn, shown",
    [
        ("*X* and *Y*", "X and Y"),  # one-character names keep apart
        ("*X*, *Y*: `#10`", "X, Y: `#10`"),
        ("a *X*/*Y* b", "a X/Y b"),
        ("*ab* and *c*", "ab and c"),
        ("_x_ *y* ~z~", "x y z"),
        ("cost_a *b* 1_000", "cost_a b 1_000"),  # underscores inside words are not markers
        ("5 * 3 * 2", "5 * 3 * 2"),
        ("*Acme &lt;b&gt; &amp; co*", "Acme <b> & co"),
        (
            "Week to <!date^1796040000^{date_short_pretty}|Mon 30 Nov 2026>",
            "Week to Mon 30 Nov 2026",
        ),
        ("at <!date^1796040000^{time}>", "at 2026-11-30 12:00 UTC"),
        ("<@U0BOSS> in <#C0MINING|mining> <!here>", "@U0BOSS in #mining @here"),
        ("<https://example.com/q|CoinShares>", "CoinShares (https://example.com/q)"),
    ],
)
def test_mrkdwn_as_a_terminal_shows_it(mrkdwn: str, shown: str) -> None:
    assert as_text([section(mrkdwn)]) == shown


def test_the_digest_preview_shows_dates_not_slack_tokens(seeded: Path) -> None:
    out = console(seeded, "/hashfloor digest preview\n")
    assert out.returncode == 0, out.stderr
    assert "!date^" not in out.stdout and "{date_short_pretty}" not in out.stdout
    week = time.strftime("%a %d %b %Y", time.gmtime())
    assert f"Week to {week}" in out.stdout


# --- where the console's settings live --------------------------------------------------------------


def test_costs_list_shows_the_lines_added_at_the_console(seeded: Path) -> None:
    out = console(seeded, '/costs add "Q" cash=61000\n')
    assert "Added Q" in out.stdout, out.stdout + out.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "bot", "costs", "list"],
        capture_output=True,
        text=True,
        env=console_env(seeded),
        cwd=seeded.parent,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if " Q " in line]
    assert "$61,000" in row and "local" in row


# --- line editing at a terminal ---------------------------------------------------------------------


def read_until(fd: int, marker: bytes, deadline_s: float = 30) -> bytes:
    """What the console wrote to its terminal up to `marker` (the test fails if it never comes)."""
    got = b""
    end = time.monotonic() + deadline_s
    while marker not in got:
        left = end - time.monotonic()
        assert left > 0, f"no {marker!r} from the console; it wrote {got!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the console closed its terminal
                chunk = b""
            assert chunk, f"the console ended before {marker!r}; it wrote {got!r}"
            got += chunk
    return got


def at_a_terminal(db_path: Path, home: Path, keys: list[bytes]) -> list[bytes]:
    """Run the console on a pseudo-terminal; type each of `keys` at a prompt; what came back."""
    master, slave = pty.openpty()
    env = console_env(db_path, HOME=str(home), TERM="xterm")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "console", "--no-poll"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=db_path.parent,
        start_new_session=True,
    )
    os.close(slave)
    try:
        answers = [read_until(master, b"hashfloor> ")]
        for key in keys:
            os.write(master, key)
            answers.append(read_until(master, b"hashfloor> "))
        os.write(master, b"quit\r")
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return answers


def test_at_a_terminal_the_up_arrow_recalls_lines_across_sessions(
    seeded: Path, tmp_path: Path
) -> None:
    up = b"\x1b[A"
    intro, hashprice, again = at_a_terminal(seeded, tmp_path, [b"/hashprice\r", up + b"\r"])
    assert b"workspace `local`" in intro and str(seeded).encode() in intro
    assert b"Hashprice: $37.88/PH/day" in hashprice
    assert b"Hashprice: $37.88/PH/day" in again  # the Up arrow brought `/hashprice` back
    assert b"does not know" not in again and b"^[[A" not in again
    assert "/hashprice" in (tmp_path / ".hashfloor_history").read_text()
    # a new session starts with the last one's lines
    _, recalled = at_a_terminal(seeded, tmp_path, [up + b"\r"])
    assert b"Hashprice: $37.88/PH/day" in recalled


def test_console_converts_a_euro_price_with_the_rate_it_polled(
    db_path: Path, market: FakeMarket
) -> None:
    # The data on file is an hour old and has no prices in other currencies: the console polls,
    # and mempool's /api/v1/prices (the fake's: €83,720 at $91,000) gives the rate.
    fake_snapshots.seed(db_path, design_snapshot(time.time() - 3600))
    out = console(
        db_path, "/breakeven 17.5 €0.05 2\n/breakeven 17.5 0.05 CAD 2\n", env=market.env()
    )
    assert out.returncode == 0, out.stderr
    assert "  Breakeven BTC price: €51,483 ($55,960)" in out.stdout.splitlines()
    assert re.search(r"at 0\.92 EUR/USD, \d+s old", out.stdout)
    assert "1.38 CAD/USD" in out.stdout  # the fake quotes CAD too


def test_console_refuses_a_euro_price_without_a_rate(db_path: Path, market: FakeMarket) -> None:
    fake_snapshots.seed(db_path, design_snapshot(time.time() - 3600))
    market.set_fiat("EUR", None)  # mempool's answer lacks EUR
    out = console(db_path, "/breakeven 17.5 €0.05 2\n", env=market.env())
    assert out.returncode == 0, out.stderr
    assert "No EUR/USD rate" in out.stdout and "$55,960" not in out.stdout
