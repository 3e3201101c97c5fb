"""Settings of DESIGN §3.2: defaults, the .env file, and bad values named in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import PRICE_SOURCES, Settings, SettingsError, load_settings

REPO = Path(__file__).resolve().parents[2]


def _ours(name: str) -> bool:
    return name.upper().startswith(("HASHFLOOR_", "SLACK_")) or name.upper() == "PORT"


@pytest.fixture(autouse=True)
def _no_settings_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the developer's shell exports, these tests start from nothing."""
    for name in list(os.environ):
        if _ours(name):
            monkeypatch.delenv(name)


def test_defaults(tmp_path: Path) -> None:
    assert Path.cwd() == tmp_path  # conftest runs every test in an empty folder
    s = load_settings()
    assert isinstance(s, Settings)
    assert s.hashfloor_db == Path("hashfloor.db")
    assert s.port == 3000
    assert s.hashfloor_poll_seconds == 60
    assert s.price_sources == list(PRICE_SOURCES)
    assert s.price_sources == ["coinbase", "kraken", "bitstamp", "coingecko", "mempool"]
    assert {src: s.base_url(src) for src in (*PRICE_SOURCES, "blockchain_info")} == {
        "coinbase": "https://api.coinbase.com",
        "kraken": "https://api.kraken.com",
        "bitstamp": "https://www.bitstamp.net",
        "coingecko": "https://api.coingecko.com",
        "mempool": "https://mempool.space",
        "blockchain_info": "https://api.blockchain.info",
    }
    assert s.api_url == "https://slack.com/api/"
    assert s.hashfloor_log_format == "text"
    assert s.admins == set()
    assert s.hashfloor_http_timeout == 5.0
    assert s.slack_bot_token is None and s.slack_signing_secret is None
    assert s.slack_app_token is None and s.hashfloor_secret_key is None
    assert not s.multi_workspace


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# a comment\n"
        "SLACK_BOT_TOKEN=xoxb-from-dotenv\n"
        "SLACK_SIGNING_SECRET=shh\n"
        "HASHFLOOR_POLL_SECONDS=120\n"
        "HASHFLOOR_PRICE_SOURCES= Kraken, bitstamp ,\n"
        "HASHFLOOR_MEMPOOL_URL=http://mempool.local:8999/\n"
        "SLACK_API_URL=http://127.0.0.1:9/api\n"
        'HASHFLOOR_ADMINS="U1, U2"\n'
        "HASHFLOOR_LOG_FORMAT=json\n"
        "HASHFLOOR_DB=data.db\n"
        "SOMETHING_ELSE=ignored\n"
    )
    s = load_settings()
    assert s.slack_bot_token == "xoxb-from-dotenv"
    assert s.slack_signing_secret == "shh"
    assert s.hashfloor_poll_seconds == 120
    assert s.price_sources == ["kraken", "bitstamp"]
    assert s.base_url("mempool") == "http://mempool.local:8999"  # no trailing slash
    assert s.api_url == "http://127.0.0.1:9/api/"  # always one
    assert s.admins == {"U1", "U2"}
    assert s.hashfloor_log_format == "json"
    assert s.hashfloor_db == Path("data.db")


def test_environment_wins_over_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("HASHFLOOR_POLL_SECONDS=120\nPORT=4000\n")
    monkeypatch.setenv("HASHFLOOR_POLL_SECONDS", "30")
    s = load_settings()
    assert (s.hashfloor_poll_seconds, s.port) == (30, 4000)


def test_overrides_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HASHFLOOR_POLL_SECONDS", "30")
    assert load_settings(hashfloor_poll_seconds=90).hashfloor_poll_seconds == 90


def test_multi_workspace_needs_both_client_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", "1.2")
    assert not load_settings().multi_workspace
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "s")
    assert load_settings().multi_workspace


BAD = [
    ("HASHFLOOR_POLL_SECONDS", "5", "at least 15"),
    ("HASHFLOOR_POLL_SECONDS", "often", "valid integer"),
    ("HASHFLOOR_COINBASE_URL", "not a url", "valid URL"),
    ("HASHFLOOR_MEMPOOL_URL", "mempool.space", "valid URL"),
    ("HASHFLOOR_KRAKEN_URL", "ftp://api.kraken.com", "scheme should be 'http' or 'https'"),
    ("SLACK_API_URL", "http://", "valid URL"),
    ("HASHFLOOR_DB", "no/such/folder/hashfloor.db", "does not exist"),
    ("HASHFLOOR_PRICE_SOURCES", "coinbase,binance", "unknown source 'binance'"),
    ("HASHFLOOR_PRICE_SOURCES", " , ", "name at least one source"),
    ("HASHFLOOR_LOG_FORMAT", "xml", "'text' or 'json'"),
    ("PORT", "70000", "less than or equal to 65535"),
    ("HASHFLOOR_HTTP_TIMEOUT", "0", "greater than 0"),
]


def check_message(exc: SettingsError, name: str, value: str, words: str) -> None:
    msg = str(exc)
    assert "\n" not in msg
    assert msg.startswith(f"{name}: ")
    assert words in msg
    assert f"(got {value!r})" in msg or f"(got {value})" in msg  # says what it got


@pytest.mark.parametrize("name, value, words", BAD, ids=[f"{n}={v}" for n, v, _ in BAD])
def test_bad_value_in_environment(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, words: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    check_message(info.value, name, value, words)


@pytest.mark.parametrize("name, value, words", BAD, ids=[f"{n}={v}" for n, v, _ in BAD])
def test_bad_value_in_env_file(tmp_path: Path, name: str, value: str, words: str) -> None:
    (tmp_path / ".env").write_text(f"{name}={value}\n")
    with pytest.raises(SettingsError) as info:
        load_settings()
    check_message(info.value, name, value.strip(), words)


def test_bad_override_names_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"^HASHFLOOR_POLL_SECONDS: .*15"):
        load_settings(hashfloor_poll_seconds=5)


def test_fast_polls_only_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HASHFLOOR_POLL_SECONDS", "5")
    monkeypatch.setenv("HASHFLOOR_ALLOW_FAST_POLL", "1")
    assert load_settings().hashfloor_poll_seconds == 5


def test_db_folder_is_resolved_from_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    assert load_settings(hashfloor_db="data/x.db").hashfloor_db == Path("data/x.db")
    with pytest.raises(SettingsError, match="^HASHFLOOR_DB: folder"):
        load_settings(hashfloor_db=tmp_path / "nope" / "x.db")


# --- the command line ---------------------------------------------------------------------


def run_cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not _ours(k)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**base, "PYTHONPATH": str(REPO), "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("HASHFLOOR_POLL_SECONDS", "5", "at least 15"),
        ("HASHFLOOR_COINBASE_URL", "not a url", "valid URL"),
        ("HASHFLOOR_DB", "/no/such/folder/hashfloor.db", "does not exist"),
        ("HASHFLOOR_PRICE_SOURCES", "coinbase,binance", "unknown source 'binance'"),
    ],
)
def test_check_with_a_bad_setting_exits_2_with_one_line(
    tmp_path: Path, name: str, value: str, words: str
) -> None:
    got = run_cli(tmp_path, "check", **{name: value})
    assert got.returncode == 2
    assert got.stdout == ""
    lines = got.stderr.strip().splitlines()
    assert len(lines) == 1, got.stderr
    assert name in lines[0] and words in lines[0]
    assert "Traceback" not in got.stderr


def test_a_bad_env_file_stops_every_command(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HASHFLOOR_POLL_SECONDS=5\n")
    for args in (("check",), ("costs", "list"), ("db", "migrate")):
        got = run_cli(tmp_path, *args)
        assert got.returncode == 2, args
        (line,) = got.stderr.strip().splitlines()
        assert line.startswith("hashfloor: bad setting HASHFLOOR_POLL_SECONDS: ")
        assert "at least 15" in line
        assert "Traceback" not in got.stdout + got.stderr
    assert not (tmp_path / "hashfloor.db").exists()  # nothing was created


@pytest.mark.parametrize("key", ["Q", "x" * 31, "correct horse battery staple"])
def test_a_short_secret_key_is_refused_without_showing_it(key: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(hashfloor_secret_key=key)
    message = str(raised.value)
    assert message.startswith("HASHFLOOR_SECRET_KEY: must be at least 32 characters")
    assert f"(it has {len(key)})" in message
    assert "secrets.token_urlsafe(32)" in message
    assert key not in message


@pytest.mark.parametrize("key", ["x" * 32, "a long passphrase of many words, well past 32"])
def test_a_secret_key_of_32_characters_or_more_is_accepted(key: str) -> None:
    assert load_settings(hashfloor_secret_key=key).hashfloor_secret_key == key
