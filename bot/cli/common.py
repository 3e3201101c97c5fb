"""What every command needs: settings that fail in one line, and a migrated service."""

from __future__ import annotations

import logging

import typer
from rich.console import Console

from bot import logs
from bot.service import Hashfloor
from bot.settings import Settings, SettingsError, load_settings

err = Console(stderr=True)


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        err.print(f"[red]hashfloor: bad setting[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def service(level: int = logging.WARNING, migrate: bool = True) -> Hashfloor:
    settings = settings_or_exit()
    logs.setup(settings.hashfloor_log_format, level)
    svc = Hashfloor(settings)
    if migrate:
        svc.migrate()
    return svc
