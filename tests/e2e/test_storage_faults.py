"""Storage faults at start (DESIGN §10 "start-up checks"), with real processes.

- a database on a read-only file system: one line naming the file and the reason, exit 2;
- several `hashfloor run` started at once on a fresh database: every one migrates or finds the
  work done, none crashes.

The read-only file system is real: a read-only bind mount in a private mount namespace
(`unshare -m`, which needs CAP_SYS_ADMIN — tests run as root; the test says so if it cannot).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from storage.db import Storage
from storage.migrations import MIGRATION_SETS, migrate

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def bot_env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HASHFLOOR_"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-e2e",
        SLACK_SIGNING_SECRET="e2e-secret",
        HASHFLOOR_DB=str(db),
        SLACK_API_URL="http://127.0.0.1:9/api/",  # never the internet
        PYTHONPATH=str(REPO),
    )
    return env


def read_only_mounts() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount --bind / /mnt && mount -o remount,bind,ro /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.parametrize("fresh", [True, False], ids=["no-file-yet", "migrated-file"])
def test_a_read_only_file_system_stops_the_start_with_one_line(tmp_path: Path, fresh: bool) -> None:
    if not read_only_mounts():
        pytest.skip("no read-only bind mount here (unshare -m needs CAP_SYS_ADMIN)")
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "hashfloor.db"
    if not fresh:
        storage = Storage(db)
        migrate(storage.db)
        storage.close()
    script = (
        f'mount --bind "{folder}" "{folder}" && mount -o remount,bind,ro "{folder}" && '
        f'exec "{sys.executable}" -m bot run'
    )
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        env=bot_env(db),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1, lines  # one line, no traceback
    assert lines[0].startswith(f"hashfloor run: the database {db} cannot be written (")
    assert lines[0].endswith("its folder is on a read-only file system)")


MIGRATE_AT_START = (
    "import sys\n"
    "from bot.service import Hashfloor\n"
    "from bot.settings import load_settings\n"
    "svc = Hashfloor(load_settings())\n"
    "print(len(svc.migrate()))\n"
)


def test_processes_started_at_once_on_a_fresh_database_take_turns(tmp_path: Path) -> None:
    """The migration step of `hashfloor run` (Runner.run), in 3 processes at once, 5 times."""
    every = sum(len(m._migrations) for m in MIGRATION_SETS)
    for trial in range(5):
        db = tmp_path / f"trial{trial}.db"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", MIGRATE_AT_START],
                env=bot_env(db),
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        outcomes = [(p.wait(timeout=60), *p.communicate()) for p in procs]
        assert [code for code, _, _ in outcomes] == [0, 0, 0], outcomes
        applied = sorted(int(out) for _, out, _ in outcomes)
        assert applied == [0, 0, every]  # one process migrated, the others found nothing to do
