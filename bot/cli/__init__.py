"""The `hashfloor` command line (DESIGN §3.1); `python -m bot` is the same."""

from __future__ import annotations

import typer

from bot.cli import backtest, check, costs, db, digest, doctor, machines, run

app = typer.Typer(
    name="hashfloor",
    help="Slack alerts, answers and weekly digests for the economics of Bitcoin mining.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

run.register(app)
check.register(app)
doctor.register(app)
backtest.register(app)
app.add_typer(costs.app, name="costs")
app.add_typer(db.app, name="db")
app.add_typer(digest.app, name="digest")
machines.register(app)


def main() -> None:
    app()
