"""`hashfloor digest preview [--channel C] [--out chart.png]` as a process, on synthetic history."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.alerts.rules import RuleState
from bot.digest.schedule import DigestSchedule
from bot.service import Hashfloor
from bot.settings import Settings
from storage import alerts, costs, digests
from tests.fakes import history

REPO = Path(__file__).resolve().parents[3]
TEAM = "T0HASHFLR"


def hashfloor(cwd: Path, db: Path, *args: str) -> subprocess.CompletedProcess:
    base = {
        k: v for k, v in os.environ.items() if not k.upper().startswith(("HASHFLOOR_", "SLACK_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**base, "PYTHONPATH": str(REPO), "COLUMNS": "200", "HASHFLOOR_DB": str(db)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "preview.db"
    svc = Hashfloor(Settings(hashfloor_db=path))
    svc.migrate()
    now = time.time()
    history.store(svc.storage, history.history(now))
    sdb = svc.storage.db
    costs.add(sdb, TEAM, "Acme Mining", "cash", 81_000.0, "2025-Q3", None, "U1", now)
    alerts.add_rule(sdb, TEAM, "C0MINING", "cash", RuleState(), 74_600.0, "v", "U1", now - 86_400)
    digests.set_schedule(
        sdb, TEAM, "C0BERLIN", DigestSchedule(4, "17:00", "Europe/Berlin"), "U1", now - 86_400
    )
    svc.close()
    return path


def test_preview_of_a_channel_prints_the_digest_and_writes_the_chart(
    tmp_path: Path, db: Path
) -> None:
    out = tmp_path / "chart.png"
    got = hashfloor(tmp_path, db, "digest", "preview", "--channel", "C0MINING", "--out", str(out))
    assert got.returncode == 0, got.stderr
    text = got.stdout
    assert text.startswith("Weekly digest: BTC against the cost to mine\nWeek to ")
    for expected in (
        "BTC now      $",
        "High, low    $",
        "CoinShares cash cost (2025-Q4)",  # on the real clock: published 2026-03-25
        "(old: 2025-Q4 ended",  # and its quarter ended more than 270 days ago
        "Acme Mining cash cost (2025-Q3)",  # the channel's workspace's own line
        "h below it this week",
        "Hashprice    $",
        "Next adj.    +1.60% (estimate)",
        f"chart written to {out}",
        "C0MINING: every Monday 09:00 UTC; next ",
    ):
        assert expected in text, text
    assert png_size(out) == (1200, 750)
    assert "Traceback" not in got.stderr


def test_preview_of_an_explicit_schedule(tmp_path: Path, db: Path) -> None:
    got = hashfloor(tmp_path, db, "digest", "preview", "-c", "C0BERLIN", "-o", "b.png")
    assert got.returncode == 0, got.stderr
    assert "C0BERLIN: every Friday 17:00 Europe/Berlin; next Fri " in got.stdout
    assert "Acme Mining" in got.stdout
    assert png_size(tmp_path / "b.png") == (1200, 750)


def test_preview_without_a_channel_uses_the_shipped_lines(tmp_path: Path, db: Path) -> None:
    got = hashfloor(tmp_path, db, "digest", "preview")
    assert got.returncode == 0, got.stderr
    assert "CoinShares all-in cost (2025-Q2)" in got.stdout
    assert "Acme Mining" not in got.stdout
    assert png_size(tmp_path / "hashfloor-digest.png") == (1200, 750)


def test_an_unknown_channel_says_so(tmp_path: Path, db: Path) -> None:
    got = hashfloor(tmp_path, db, "digest", "preview", "--channel", "C0NOBODY")
    assert got.returncode == 0, got.stderr
    assert "C0NOBODY has no digest or subscription on file" in got.stdout
    assert "Weekly digest: BTC against the cost to mine" in got.stdout


def test_a_missing_folder_is_refused(tmp_path: Path, db: Path) -> None:
    got = hashfloor(tmp_path, db, "digest", "preview", "--out", "no/such/dir/chart.png")
    assert got.returncode == 2
    assert "folder no/such/dir does not exist" in got.stdout
    assert not (tmp_path / "no").exists()


def test_a_channel_shared_by_two_workspaces_needs_one_named(tmp_path: Path, db: Path) -> None:
    svc = Hashfloor(Settings(hashfloor_db=db))
    digests.set_schedule(
        svc.storage.db, "T0PARTNER", "C0MINING", DigestSchedule(2, "08:00", "UTC"), "U9", 1.0
    )
    svc.close()
    got = hashfloor(tmp_path, db, "digest", "preview", "-c", "C0MINING", "-o", "x.png")
    assert got.returncode == 2
    assert "C0MINING is shared by workspaces T0HASHFLR, T0PARTNER" in got.stdout
    mine = hashfloor(tmp_path, db, "digest", "preview", "-c", "C0MINING", "-w", TEAM, "-o", "m.png")
    assert mine.returncode == 0, mine.stderr
    assert "Acme Mining" in mine.stdout and "every Monday 09:00 UTC" in mine.stdout
    theirs = hashfloor(
        tmp_path, db, "digest", "preview", "-c", "C0MINING", "-w", "T0PARTNER", "-o", "t.png"
    )
    assert theirs.returncode == 0, theirs.stderr
    assert "Acme Mining" not in theirs.stdout and "every Wednesday 08:00 UTC" in theirs.stdout
