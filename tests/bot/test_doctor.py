"""`hashfloor doctor`: the judgements as tables, and the command as a process against the fakes."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from bot.doctor import MANIFEST_SCOPES, judge_clock, judge_mode, judge_scopes
from tests.bot.cli.test_check import hashfloor, no_traceback
from tests.fakes.market import FakeMarket
from tests.fakes.slack import FakeSlack

ALL = "commands,chat:write,files:write,users:read"


@pytest.mark.parametrize(
    ("granted", "ok", "says"),
    [
        (ALL, True, "chat:write, commands, files:write, users:read"),
        ("users:read, commands ,chat:write,files:write", True, "commands"),
        (ALL + ",channels:history", True, "also granted channels:history"),
        ("commands,chat:write", False, "lacks files:write, users:read"),
        ("", False, "lacks chat:write, commands, files:write, users:read"),
        (None, True, "not checked"),
    ],
)
def test_scopes_against_the_manifest(granted: str | None, ok: bool, says: str) -> None:
    got = judge_scopes(granted)
    assert (got.ok, says in got.detail) == (ok, True), got.detail


def test_manifest_scopes_are_the_manifests() -> None:
    import yaml

    manifest = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == MANIFEST_SCOPES


@pytest.mark.parametrize(
    ("mode", "bad"),
    [(0o100600, False), (0o100400, False), (0o100640, True), (0o100644, True), (0o100606, True)],
)
def test_file_modes(mode: int, bad: bool) -> None:
    got = judge_mode(Path("/x/h.db"), mode)
    assert (got is not None) == bad
    if bad:
        assert "chmod 600 /x/h.db" in got


@pytest.mark.parametrize(
    ("offsets", "ok", "says"),
    [
        ({"coinbase": 0.0, "Slack": 2.0}, True, "within"),
        ({"coinbase": 7200.0, "kraken": 7201.0, "Slack": 7199.0}, False, "ahead of"),
        ({"coinbase": -400.0, "kraken": -400.0}, False, "behind"),
        # One server with a wrong clock does not outvote the others.
        ({"coinbase": 0.0, "kraken": 1.0, "bitstamp": 9000.0}, True, "within"),
        ({}, False, "no server"),
    ],
)
def test_clock_against_server_dates(offsets: dict[str, float], ok: bool, says: str) -> None:
    now = 1_800_000_000.0
    got = judge_clock(now, {k: now - off for k, off in offsets.items()})
    assert got.ok is ok and says in got.detail, got.detail


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def fakes() -> tuple[FakeSlack, FakeMarket]:
    with FakeSlack() as slack, FakeMarket() as market:
        yield slack, market


def migrated_db(tmp_path: Path) -> Path:
    path = tmp_path / "doctor.db"
    got = hashfloor(tmp_path, "db", "migrate", env={"HASHFLOOR_DB": str(path)})
    assert got.returncode == 0, got.stderr
    for f in tmp_path.glob("doctor.db*"):
        f.chmod(0o600)
    return path


def doctor(tmp_path: Path, slack: FakeSlack, market: FakeMarket, **env: str):
    base = {
        **market.env(),
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": "xoxb-doctor",
        "SLACK_SIGNING_SECRET": "s" * 32,
        "HASHFLOOR_DB": str(tmp_path / "doctor.db"),
    }
    got = hashfloor(tmp_path, "doctor", env={**base, **env})
    no_traceback(got)
    return got


def test_all_checks_pass(tmp_path: Path, fakes: tuple[FakeSlack, FakeMarket]) -> None:
    slack, market = fakes
    migrated_db(tmp_path)
    got = doctor(tmp_path, slack, market)
    assert got.returncode == 0, got.stdout
    out = got.stdout
    assert "ok   bot token: valid for Hashfloor Test (T0HASHFLR)" in out
    assert "ok   scopes:" in out
    assert "ok   source coinbase: $91,000.00 in" in out
    assert "ok   clock: within" in out
    assert "FAIL" not in out and "checks passed" in out
    assert [c.method for c in slack.calls] == ["auth.test"]


def test_each_failure_is_one_line_and_exit_1(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeMarket]
) -> None:
    slack, market = fakes
    path = migrated_db(tmp_path)
    slack.auth["xoxb-doctor"] = {"ok": False, "error": "invalid_auth"}
    market.override("kraken", status=503, body="<html>busy</html>")
    path.chmod(0o644)
    got = doctor(tmp_path, slack, market, SLACK_SIGNING_SECRET="")
    assert got.returncode == 1
    fails = [line for line in got.stdout.splitlines() if line.startswith("FAIL")]
    assert any("Slack refused SLACK_BOT_TOKEN: invalid_auth" in f for f in fails)
    assert any("SLACK_SIGNING_SECRET is not set" in f for f in fails)
    assert any("source kraken" in f for f in fails)
    assert any(f"chmod 600 {path}" in f for f in fails)
    assert "checks failed" in got.stdout


def test_an_unedited_env_example_token_is_named_not_sent(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeMarket]
) -> None:
    slack, market = fakes
    migrated_db(tmp_path)
    got = doctor(tmp_path, slack, market, SLACK_BOT_TOKEN="xoxb-...")
    assert got.returncode == 1
    fails = [line for line in got.stdout.splitlines() if line.startswith("FAIL")]
    assert any("SLACK_BOT_TOKEN is still a placeholder" in f for f in fails)
    assert slack.calls_to("auth.test") == []


def test_missing_scope_and_a_wrong_clock(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeMarket]
) -> None:
    slack, market = fakes
    migrated_db(tmp_path)
    slack.scopes = "commands,chat:write"
    market.date_offset_s = -3600.0  # every market server says it is an hour earlier
    got = doctor(tmp_path, slack, market)
    assert got.returncode == 1
    assert "FAIL scopes: the token lacks files:write, users:read" in got.stdout
    assert re.search(r"FAIL clock: this machine's clock is 3[56]\d\d s ahead of", got.stdout)


def test_a_database_that_cannot_be_written(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeMarket]
) -> None:
    slack, market = fakes
    path = migrated_db(tmp_path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock for the whole check
    try:
        got = doctor(tmp_path, slack, market)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert got.returncode == 1
    assert "FAIL database:" in got.stdout and "not writable: database is locked" in got.stdout


def test_no_database_yet(tmp_path: Path, fakes: tuple[FakeSlack, FakeMarket]) -> None:
    slack, market = fakes
    got = doctor(tmp_path, slack, market)
    assert got.returncode == 1
    assert "does not exist: run `hashfloor db migrate`" in got.stdout
    assert not (tmp_path / "doctor.db").exists()  # the doctor looks; it does not create
