"""The app factory's start-up: what an operator sees in the log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot import logs
from bot.service import Hashfloor
from bot.settings import Settings
from bot.slack.app import build_app


def test_no_warning_that_the_bot_token_goes_unused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Bolt reads SLACK_BOT_TOKEN from the environment on its own, as `hashfloor run` sets it.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    settings = Settings(
        hashfloor_db=tmp_path / "app.db", slack_bot_token="xoxb-from-env", slack_signing_secret="s"
    )
    service = Hashfloor(settings)
    try:
        with caplog.at_level(logging.DEBUG):
            build_app(service)
            logging.getLogger("hashfloor.slack").warning("another warning still shows")
    finally:
        service.close()
    messages = [r.getMessage() for r in caplog.records if r.name == "hashfloor.slack"]
    assert messages == ["another warning still shows"]


def test_waitress_queue_depth_is_not_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    for name in ("httpx", "httpcore", "apscheduler", "slack_bolt", "slack_sdk", "waitress"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.getLogger(name).level)
    queue = logging.getLogger("waitress.queue")
    monkeypatch.setattr(queue, "level", queue.level)
    logs.setup()
    assert not queue.isEnabledFor(logging.WARNING)
    assert queue.isEnabledFor(logging.ERROR)
    assert logging.getLogger("waitress").isEnabledFor(logging.WARNING)
