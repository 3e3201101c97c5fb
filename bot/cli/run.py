"""`hashfloor run` and `hashfloor console`."""

from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console

from bot import logs
from bot.cli.common import err, settings_or_exit


def register(app: typer.Typer) -> None:
    @app.command()
    def run() -> None:
        """Run the bot: the Slack listener (HTTP or Socket Mode) and the scheduler, in one process."""
        from bot.run import SETUP_HELP, Runner, missing_credentials, mode

        settings = settings_or_exit()
        missing = missing_credentials(settings)
        if missing:
            err.print(
                f"hashfloor run ({mode(settings)} mode) needs {', '.join(missing)}, "
                "which are not set.\n" + SETUP_HELP,
                highlight=False,
            )
            raise typer.Exit(2)
        from bot.slack.token_check import check_bot_token, placeholder_problem

        problem = placeholder_problem(settings)
        if problem:
            err.print(f"hashfloor run: {problem}", highlight=False, soft_wrap=True)
            raise typer.Exit(2)
        token_check = None
        if mode(settings) != "oauth":
            # DESIGN §10: a refused token stops the bot now; Slack unreachable only warns.
            token_check = check_bot_token(settings)
            if token_check.fatal:
                err.print(f"hashfloor run: {token_check.line}", highlight=False, soft_wrap=True)
                raise typer.Exit(2)
        # Credentials first: checking them leaves nothing behind, the database probe a file.
        from storage.db import unwritable

        problem = unwritable(settings.hashfloor_db)  # a read-only file or file system: one line
        if problem:
            err.print(f"hashfloor run: {problem}", highlight=False, soft_wrap=True)
            raise typer.Exit(2)
        if mode(settings) == "oauth":
            from bot.service import Hashfloor
            from bot.slack.oauth import installation_store, require_secret_key

            try:
                require_secret_key(settings)
                svc = Hashfloor(settings)
                svc.migrate()
                # A wrong key must stop the bot now, not fail every request later.
                check = installation_store(settings, svc.storage).verify_key()
                svc.close()
            except Exception as exc:
                err.print(f"hashfloor: {exc}", highlight=False, soft_wrap=True)
                raise typer.Exit(2) from None
            if check.problem:  # some tokens only: the others' workspaces are served
                err.print(f"hashfloor: {check.problem}", highlight=False, soft_wrap=True)
        logs.setup(settings.hashfloor_log_format, logging.INFO)
        notes = []
        if token_check is not None:
            notes.append((logging.WARNING if token_check.warn else logging.INFO, token_check.line))
        from bot.server import ServeError

        try:
            Runner(settings, notes).run()
        except ServeError as exc:
            err.print(f"hashfloor: {exc}", highlight=False)
            raise typer.Exit(2) from None

    @app.command()
    def console(
        user: str = typer.Option("console", help="Slack user id to act as"),
        channel: str = typer.Option("console", help="channel id to act in"),
        no_poll: bool = typer.Option(
            False, "--no-poll", help="answer from the data on file even when it is stale"
        ),
    ) -> None:
        """The slash commands at a terminal prompt, answered by the same handlers as in Slack.

        Polls the price sources once at start when the data on file is stale (no bot may be
        running to do it). Settings made here belong to the workspace `local`."""
        from bot.cli.common import service
        from bot.console import poll_if_stale, repl

        svc = service()
        if not no_poll:
            poll_if_stale(svc, err)
        repl(svc, user, channel, Console(), sys.stdin)
