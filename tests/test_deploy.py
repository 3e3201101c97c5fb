"""The systemd units in docs/deploy/ are valid units that run a `hashfloor` that exists."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parent.parent / "docs" / "deploy"
INSTALLED = "/opt/hashfloor/.venv/bin/hashfloor"
UNITS = ["hashfloor.service", "hashfloor-backup.service", "hashfloor-backup.timer"]


def _units_here(tmp_path: Path) -> list[Path]:
    """The units with the documented install path replaced by this environment's `hashfloor`,
    so `verify` checks that the command line points at a real executable."""
    script = Path(sys.executable).parent / "hashfloor"
    assert script.exists(), "the project is not installed in this environment"
    out = []
    for name in UNITS:
        text = (DEPLOY / name).read_text().replace(INSTALLED, str(script))
        (tmp_path / name).write_text(text)
        out.append(tmp_path / name)
    return out


def _directives(name: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_service_runs_the_bot_unprivileged_with_a_private_state_directory() -> None:
    unit = _directives("hashfloor.service")
    assert unit["ExecStart"] == [f"{INSTALLED} run"]
    assert unit["User"] == ["hashfloor"]
    assert unit["StateDirectory"] == ["hashfloor"]
    assert unit["Environment"][0] == "HASHFLOOR_DB=/var/lib/hashfloor/hashfloor.db"
    assert unit["UMask"] == ["0077"]
    assert unit["Restart"] == ["on-failure"]
    # `hashfloor run` exits 2 for configuration errors: no restart loop on them.
    assert unit["RestartPreventExitStatus"] == ["2"]
    assert unit["NoNewPrivileges"] == ["yes"] and unit["ProtectSystem"] == ["strict"]


def test_backup_writes_into_the_state_directory_with_the_cli() -> None:
    unit = _directives("hashfloor-backup.service")
    assert f"exec {INSTALLED} db backup" in unit["ExecStart"][0]
    assert "/var/lib/hashfloor/backups/" in unit["ExecStart"][0]
    assert "OnCalendar" in _directives("hashfloor-backup.timer")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    units = _units_here(tmp_path)
    done = subprocess.run(
        ["systemd-analyze", "verify", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    ours = [line for line in done.stderr.splitlines() if any(u.name in line for u in units)]
    assert ours == [], "\n".join(ours)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_verify_would_catch_a_command_that_does_not_exist(tmp_path: Path) -> None:
    (tmp_path / "hashfloor.service").write_text((DEPLOY / "hashfloor.service").read_text())
    done = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "hashfloor.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if Path(INSTALLED).exists():
        pytest.skip(f"{INSTALLED} exists on this machine")
    assert done.returncode != 0 and "not executable" in done.stderr
