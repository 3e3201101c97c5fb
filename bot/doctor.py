"""`hashfloor doctor`: every start-up check of DESIGN §10, one line each.

Each check returns a `Check`; none raises. The judgements (scopes against the manifest, a file
mode, a clock skew) are plain functions of their inputs, so they are tested as tables; the shell
around them asks Slack, SQLite and the market sources.
"""

from __future__ import annotations

import email.utils
import sqlite3
import stat
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.market import parsers
from bot.market.snapshot import Snapshot
from bot.scheduler_lock import SchedulerLock
from bot.settings import Settings
from storage.db import SHARED_BITS, database_files

# The bot scopes manifest.yml asks for (tests/test_manifest.py keeps the two equal).
MANIFEST_SCOPES = frozenset({"commands", "chat:write", "files:write", "users:read"})
MAX_CLOCK_SKEW_S = 30.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


# --- judgements (pure) ------------------------------------------------------------------------


def judge_scopes(granted: str | None) -> Check:
    """Slack lists a token's scopes in the `x-oauth-scopes` header of every Web API answer."""
    if granted is None:
        return Check("scopes", True, "Slack did not list the token's scopes; not checked")
    have = {s.strip() for s in granted.split(",") if s.strip()}
    missing = sorted(MANIFEST_SCOPES - have)
    extra = sorted(have - MANIFEST_SCOPES)
    if missing:
        return Check(
            "scopes",
            False,
            f"the token lacks {', '.join(missing)}: reinstall the app from manifest.yml",
        )
    note = f"; also granted {', '.join(extra)}, which Hashfloor does not use" if extra else ""
    return Check("scopes", True, f"{', '.join(sorted(MANIFEST_SCOPES))}{note}")


def judge_mode(path: Path, mode: int) -> str | None:
    """What is wrong with a database file's permissions, or None."""
    loose = stat.S_IMODE(mode) & SHARED_BITS
    if not loose:
        return None
    return f"{path.name} is readable by others ({stat.S_IMODE(mode):04o}): chmod 600 {path}"


def judge_clock(now: float, server_dates: dict[str, float]) -> Check:
    """Compare this machine's clock with the `Date` headers the servers sent."""
    if not server_dates:
        return Check("clock", False, "no server answered with a Date header; cannot compare")
    skew = statistics.median(now - d for d in server_dates.values())
    names = ", ".join(sorted(server_dates))
    if abs(skew) > MAX_CLOCK_SKEW_S:
        way = "ahead of" if skew > 0 else "behind"
        return Check(
            "clock",
            False,
            f"this machine's clock is {abs(skew):.0f} s {way} {names}: fix NTP "
            "(data ages, staleness and digests depend on it)",
        )
    return Check("clock", True, f"within {abs(skew):.0f} s of {names}")


def judge_sources(snap: Snapshot) -> list[Check]:
    checks = []
    for q in snap.quotes:
        if q.error:
            checks.append(Check(f"source {q.source}", False, q.error))
        else:
            checks.append(
                Check(f"source {q.source}", True, f"${q.price_usd:,.2f} in {q.latency_ms:.0f} ms")
            )
    net = snap.network
    if net.error:
        checks.append(Check("network data", False, net.error))
    else:
        checks.append(Check("network data", True, f"from {net.source}"))
    if snap.fresh:
        checks.append(Check("price", True, f"fresh: {len(snap.used_sources)} sources agree"))
    else:
        checks.append(Check("price", False, "not fresh: fewer than 2 sources agree"))
    return checks


# --- the shell ----------------------------------------------------------------------------


def check_token(settings: Settings, mode: str) -> tuple[list[Check], float | None]:
    """auth.test with the bot token, and its scopes; also returns Slack's Date, if any."""
    from slack_sdk.errors import SlackApiError

    from bot.slack.client import make_client
    from bot.slack.token_check import placeholder_problem

    # The same words as `hashfloor run`: an unedited .env.example is named, not sent to Slack.
    if problem := placeholder_problem(settings):
        return [Check("credentials", False, problem)], None
    if mode == "oauth":
        return [Check("bot token", True, "per workspace, from the OAuth installations")], None
    token = settings.slack_bot_token
    if not token:
        return [Check("bot token", False, "SLACK_BOT_TOKEN is not set")], None
    client = make_client(settings, token, retries=False)
    try:
        resp = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        if error:
            return [Check("bot token", False, f"Slack refused SLACK_BOT_TOKEN: {error}")], None
        return [Check("bot token", False, "Slack answered with something that is not JSON")], None
    except Exception as exc:
        return [Check("bot token", False, f"Slack unreachable at {settings.api_url}: {exc}")], None
    headers = {k.lower(): v for k, v in (resp.headers or {}).items()}
    granted = headers.get("x-oauth-scopes")
    if isinstance(granted, list):
        granted = ",".join(granted)
    date = _http_date(headers.get("date"))
    who = f"{resp.get('team')} ({resp.get('team_id')}) as @{resp.get('user')}"
    return [Check("bot token", True, f"valid for {who}"), judge_scopes(granted)], date


def check_secrets(settings: Settings, mode: str) -> list[Check]:
    checks = []
    if mode == "socket":
        token = settings.slack_app_token or ""
        ok = token.startswith("xapp-")
        checks.append(
            Check("app token", ok, "set" if ok else "SLACK_APP_TOKEN must start with xapp-")
        )
        checks.append(Check("signing secret", True, "not needed in Socket Mode"))
        return checks
    secret = settings.slack_signing_secret or ""
    if not secret:
        checks.append(
            Check("signing secret", False, "SLACK_SIGNING_SECRET is not set: no request verifies")
        )
    else:
        checks.append(Check("signing secret", True, "set"))
    return checks


def check_database(path: Path) -> list[Check]:
    from storage.migrations import pending

    path = path.expanduser().resolve()
    checks: list[Check] = []
    if not path.exists():
        return [Check("database", False, f"{path} does not exist: run `hashfloor db migrate`")]
    try:
        import sqlite_utils

        conn = sqlite3.connect(path, timeout=2, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("CREATE TABLE _hashfloor_doctor_probe (x)")
            conn.execute("DROP TABLE _hashfloor_doctor_probe")
            conn.execute("COMMIT")
            todo = pending(sqlite_utils.Database(conn))
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return [Check("database", False, f"{path} is not writable: {exc}")]
    if todo:
        checks.append(
            Check("database", False, f"{len(todo)} migrations pending: run `hashfloor db migrate`")
        )
    else:
        checks.append(Check("database", True, f"{path} writable, schema up to date"))
    problems = [p for f in _db_files(path) if (p := judge_mode(f, f.stat().st_mode)) is not None]
    if problems:
        checks.append(Check("database files", False, "; ".join(problems)))
    else:
        checks.append(Check("database files", True, "readable by their owner only"))
    return checks


def _db_files(path: Path) -> Iterable[Path]:
    # The same files `hashfloor run` warns about at start (bot.run.shared_files_warning).
    for f in (*database_files(path), SchedulerLock(path).path):
        if f.exists():
            yield f


def server_dates(settings: Settings) -> dict[str, float]:
    """The `Date` header of each market source's price endpoint (headers only; no body read)."""
    out: dict[str, float] = {}
    timeout = httpx.Timeout(settings.hashfloor_http_timeout)
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        for source in settings.price_sources:
            url = settings.base_url(source) + parsers.PRICE_PATHS[source]
            try:
                with client.stream("GET", url) as resp:
                    date = _http_date(resp.headers.get("date"))
            except httpx.HTTPError:
                continue
            if date is not None:
                out[source] = date
    return out


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def run_checks(settings: Settings, mode: str, snap: Snapshot) -> list[Check]:
    checks = check_secrets(settings, mode)
    token_checks, slack_date = check_token(settings, mode)
    checks = token_checks + checks
    checks += check_database(Path(settings.hashfloor_db))
    checks += judge_sources(snap)
    dates = server_dates(settings)
    if slack_date is not None:
        dates["Slack"] = slack_date
    checks.append(judge_clock(time.time(), dates))
    return checks
