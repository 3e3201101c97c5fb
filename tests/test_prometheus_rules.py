"""docs/prometheus: the example alerting rules are valid and fire on the series they should,
and every metric they use is one the bot exports."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.market.snapshot import Quote, Snapshot
from bot.metrics import Metrics, StateCollector

RULES = Path(__file__).resolve().parent.parent / "docs" / "prometheus"
needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool not installed (Debian package `prometheus`; .ci/run installs it)",
)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", *args], capture_output=True, text=True, timeout=120, cwd=RULES
    )


@needs_promtool
def test_promtool_check_rules_accepts_the_file() -> None:
    done = promtool("check", "rules", "hashfloor-alerts.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 7 rules found" in done.stdout


@needs_promtool
def test_promtool_unit_tests_of_the_rules_pass() -> None:
    done = promtool("test", "rules", "hashfloor-alerts.test.yml")
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_promtool_unit_tests_would_catch_a_wrong_threshold(tmp_path: Path) -> None:
    text = (RULES / "hashfloor-alerts.yml").read_text()
    (tmp_path / "hashfloor-alerts.yml").write_text(text.replace("> 300", "> 3000"))
    (tmp_path / "t.yml").write_text((RULES / "hashfloor-alerts.test.yml").read_text())
    done = subprocess.run(
        ["promtool", "test", "rules", "t.yml"], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode != 0 and "HashfloorPriceStale" in done.stdout + done.stderr


def test_every_metric_in_the_rules_is_exported() -> None:
    m = Metrics()
    m.add_state(
        StateCollector(
            lambda: {"price_age_s": 1.0, "outbox_pending": 0, "rules": [("cash", 0, 1)]},
            lambda: True,
        )
    )
    m.observe_slack_error("not_in_channel")
    m.observe_poll(Snapshot(0.0, (Quote("coinbase", 1.0, None, 1.0),), 1.0, True))
    exported = set(re.findall(r"^(hashfloor_\w+?)(?:\{| )", m.exposition().decode(), re.M))
    used = set(re.findall(r"\b(hashfloor_[a-z_]+)", (RULES / "hashfloor-alerts.yml").read_text()))
    assert used and used <= exported, used - exported
