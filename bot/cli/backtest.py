"""`hashfloor backtest`: replay price and difficulty history through the alert rules (DESIGN §6)."""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot import fmt
from bot.alerts import targets
from bot.backtest import csv_input, history, report, series
from bot.backtest import lines as bl
from bot.backtest.replay import BacktestResult, replay
from bot.cli.common import service
from bot.machines import looks_like_model, match
from commands import parsing
from storage import costs, workspaces
from storage import history as history_store
from storage import machines as machine_store

TABLE_WORDS = {"crossed_below": "▼ below", "recovered_above": "▲ recovered"}
# Before the first quarter of the shipped benchmarks there is nothing to compare with.
DEFAULT_FROM = "2024-01-01"


class PollChoice(StrEnum):
    daily = "daily"
    hourly = "hourly"


class _Fail(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _day(text: str, option: str) -> float:
    try:
        return csv_input.parse_time(text)
    except ValueError as exc:
        raise _Fail(f"{option}: {exc}", 2) from None


def _fleet(db: Any, values: tuple[str, str, str]) -> workspaces.Fleet:
    """`--fleet S21 0.05 2` or `--fleet 17.5 0.05 2`: a model of the catalogue or a J/TH."""
    efficiency, power, fee = values
    try:
        if looks_like_model(efficiency):
            found = match(efficiency, machine_store.all_machines(db))
            if found.machine is None:
                some = found.candidates and ", ".join(m.model for m in found.candidates[:8])
                near = ", ".join(found.nearest)
                raise _Fail(
                    f"--fleet: {efficiency!r} is "
                    + (f"several models ({some}): type more of the name" if some else "no model")
                    + (f"; did you mean {near}?" if near else "")
                    + " (hashfloor machines list shows the catalogue, or give J/TH like 17.5)",
                    2,
                )
            eff = found.machine.efficiency_j_th
        else:
            eff = parsing.efficiency_j_per_th(efficiency)
        return workspaces.Fleet(eff, parsing.power_usd_per_kwh(power), parsing.pool_fee(fee))
    except parsing.ParseError as exc:
        raise _Fail(f"--fleet: {exc.plain().replace('`', '')}", 2) from None


def _specs(
    db: Any,
    keys: list[str],
    fleet: workspaces.Fleet | None,
    fees_btc: float,
    workspace: str | None,
) -> list[bl.LineSpec]:
    rows = costs.all_rows(db, workspace)
    return [_spec(db, key, rows, fleet, fees_btc, workspace) for key in keys]


def _spec(
    db: Any,
    key: str,
    rows: list[dict[str, Any]],
    fleet: workspaces.Fleet | None,
    fees_btc: float,
    workspace: str | None,
) -> bl.LineSpec:
    if (within := targets.split_within(key)) is not None:
        pct, inner = within
        return bl.within_line(pct, _spec(db, inner, rows, fleet, fees_btc, workspace))
    if key.startswith("hashprice:"):
        try:
            return bl.hashprice_line(key, fees_btc)
        except bl.RuleError as exc:
            raise _Fail(str(exc), 2) from None
    if key in bl.BENCHMARK_KINDS:
        spec = bl.benchmark_line(key, rows)
        if not spec.steps:
            raise _Fail(f"no {costs.KIND_LABEL[key]} benchmark on file (hashfloor costs list)", 2)
    elif key.startswith("below:"):
        usd = float(key.removeprefix("below:"))
        spec = bl.fixed_line(key, f"alert level {fmt.usd(usd)}", usd)
    elif key.startswith("cost:"):
        # At the terminal any row on file may be replayed, whichever workspace owns it.
        row = costs.get(db, int(key.removeprefix("cost:")))
        if row is None:
            raise _Fail(f"no cost line #{key.removeprefix('cost:')} (hashfloor costs list)", 2)
        line = costs.line_from_row(row)
        spec = bl.fixed_line(key, line.label, line.value_usd)  # the label names its quarter
    elif key.startswith("fleet:"):  # one of the workspace's fleets
        name = key.removeprefix("fleet:")
        stored = workspaces.get_fleet(db, workspace, name) if workspace else None
        if stored is None:
            where = f"workspace {workspace}" if workspace else "--workspace <team id>"
            raise _Fail(f"{key}: no fleet {name!r} in {where} (/hashfloor fleet list)", 2)
        try:
            spec = bl.fleet_line(stored, fees_btc, key)
        except bl.RuleError as exc:
            raise _Fail(str(exc), 2) from None
    else:  # fleet: the one given with --fleet, or the workspace's fleet `main`
        chosen = fleet or (workspaces.get_fleet(db, workspace) if workspace else None)
        if chosen is None:
            raise _Fail(
                "the fleet rule needs a fleet: --fleet <model|J/TH> <$/kWh> <pool fee %>", 2
            )
        try:
            spec = bl.fleet_line(chosen, fees_btc)
        except bl.RuleError as exc:
            raise _Fail(str(exc), 2) from None
    return spec


def _default_keys(fleet_given: bool, db: Any, workspace: str | None) -> list[str]:
    """cash and all-in, the fleet given or every fleet of the workspace, its own lines."""
    keys = ["cash", "allin"]
    if fleet_given:
        keys.append("fleet")
    elif workspace:
        keys += [f.line_key for f in workspaces.get_fleets(db, workspace).values()]
    if workspace:
        keys += [f"cost:{r['id']}" for r in costs.all_rows(db, workspace) if r["workspace"]]
    return keys


def _download(svc: Any, err: Console, quiet: bool) -> dict[str, Any]:
    settings = svc.settings
    base_url = settings.base_url("mempool")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=quiet,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(task: str, done: float, total: float | None) -> None:
            if task not in tasks:
                tasks[task] = bar.add_task(f"downloading {task}", total=total)
            bar.update(tasks[task], completed=done, total=total)

        try:
            got = history.refresh(
                svc.storage,
                base_url,
                time.time(),
                timeout_s=settings.hashfloor_http_timeout,
                progress=progress,
            )
        except history.HistoryError as exc:
            n_prices, n_adj = history_store.counts(svc.storage.db)
            n_fees = history_store.fee_days(svc.storage.db)
            kept = (
                f"the cache keeps {n_prices:,} prices, {n_adj:,} adjustments and {n_fees:,} "
                "days of fees: replay them with --cached"
                if n_prices
                else "nothing is cached yet"
            )
            raise _Fail(f"could not download {exc}; {kept}", 1) from None
    return {
        "kind": "mempool",
        "url": base_url,
        "cached": False,
        "requests": got.price_requests + got.adjustment_requests,
        "prices_added": got.prices_added,
        "adjustments_added": got.adjustments_added,
        "fee_days_stored": got.fee_days_stored,
    }


def _render(
    out: Console,
    result: BacktestResult,
    specs: list[bl.LineSpec],
    source: dict[str, Any],
) -> None:
    src = (
        f"CSV {source['file']}"
        if source["kind"] == "csv"
        else f"mempool {source['url']}"
        + (
            " (cache only)"
            if source["cached"]
            else f" ({source['prices_added']:,} new prices, "
            f"{source['adjustments_added']:,} new adjustments, "
            f"{source['fee_days_stored']:,} days of fees stored)"
        )
    )
    out.print(
        f"[bold]Backtest[/bold] {report.date(result.start)} → {report.date(result.end)} · "
        f"{len(result.points):,} {result.poll} polls · {src}"
    )
    for note in report.assumptions(specs, result.points):
        out.print(f"[dim]assumed: {note}[/dim]")

    start = Table(title="Rules", title_justify="left")
    for col in ("rule", "line", "watched from", "started", "alerts", "ended"):
        start.add_column(col)
    for r in result.lines:
        start.add_row(
            report.short_name(r.key, r.label),
            r.label,
            report.date(r.first_time) or "never (no line in force)",
            r.start_state or "—",
            str(len(r.alerts)),
            r.final_state,
        )
    out.print(start)

    if result.alerts:
        table = Table(title="Alerts that would have fired", title_justify="left")
        for col, justify in (
            ("date", "left"),
            ("line", "left"),
            ("alert", "left"),
            ("price", "right"),
            ("line value", "right"),
            ("margin", "right"),
        ):
            table.add_column(col, justify=justify)  # type: ignore[arg-type]
        for a in result.alerts:
            colour = "red" if a.event == "crossed_below" else "green"
            when = report.date(a.time) if result.poll == "daily" else report.stamp(a.time)
            metric: Any = a.metric
            # A hashprice rule: the hashprice then, with the BTC price behind it.
            shown = (
                fmt.usd(a.price_usd)
                if a.metric == "price"
                else f"{targets.show(metric, a.value)} (BTC {fmt.usd(a.price_usd)})"
            )
            table.add_row(
                when,
                report.short_name(a.line_key, a.line_label, a.period)
                + (" [yellow]old then[/]" if report.line_was_old(a) else ""),
                f"[{colour}]{TABLE_WORDS[a.event]}[/]",
                shown,
                targets.show(metric, a.line_usd),
                f"[{colour}]{fmt.pct(a.margin)}[/]",
            )
        out.print(table)
    else:
        out.print("No alert would have fired.")

    below = Table(title="Days below each line", title_justify="left")
    for col, justify in (
        ("line", "left"),
        ("year", "left"),
        ("days seen", "right"),
        ("days below", "right"),
        ("longest run below", "left"),
    ):
        below.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in result.lines:
        for n, y in enumerate(r.years):
            below.add_row(
                report.short_name(r.key, r.label) if n == 0 else "",
                str(y.year),
                _days(y.days_observed),
                _days(y.days_below),
                _run(y.longest_run),
            )
        if len(r.years) > 1:
            below.add_row(
                "", "all", _days(r.days_observed), _days(r.days_below), _run(r.longest_run)
            )
        if not r.years:
            below.add_row(report.short_name(r.key, r.label), "—", "0", "0", "—")
    out.print(below)
    silent = sum(len(r.silent_changes) for r in result.lines)
    if silent:
        out.print(
            f"[dim]{silent} state change(s) posted nothing because the line moved "
            "(a new quarter's benchmark, a difficulty adjustment): see --json[/dim]"
        )


def _days(days: float) -> str:
    return f"{days:,.0f}" if days == int(days) else f"{days:,.2f}"


def _run(run: Any) -> str:
    if run is None:
        return "—"
    return f"{_days(run.days)} days, {report.date(run.start)} → {report.date(run.end)}"


def register(app: typer.Typer) -> None:
    @app.command(
        epilog=(
            "Fleet line: each day's average fees per block come from mempool's fee history "
            "(cached with the prices); a day it does not reach, and a --csv history, assume "
            f"--fees-btc BTC (default {bl.DEFAULT_FEES_BTC:g}); the subsidy follows the block "
            "height estimated from the difficulty adjustments and the halvings."
        )
    )
    def backtest(
        from_: Annotated[
            str | None,
            typer.Option(
                "--from",
                help=f"First day (ISO date). Default: {DEFAULT_FROM} for mempool, the CSV's first.",
            ),
        ] = None,
        to: Annotated[
            str | None, typer.Option("--to", help="Last day, included (ISO date).")
        ] = None,
        rules_: Annotated[
            str | None,
            typer.Option(
                "--rules",
                help="Lines to watch: cash, allin, fleet, fleet:<name>, below:<usd>, cost:<id>, "
                "hashprice:<usd per PH/day> or hashprice:<n>sats, within:<pct>:<rule>, "
                "comma-separated. Default: cash,allin (+ fleet with --fleet, + the workspace's "
                "fleets and own lines).",
            ),
        ] = None,
        poll: Annotated[
            PollChoice,
            typer.Option("--poll", help="daily: one price per UTC day; hourly: one per hour."),
        ] = PollChoice.daily,
        csv_file: Annotated[
            Path | None,
            typer.Option(
                "--csv",
                help="Offline: your own history, header date,price_usd[,difficulty].",
                exists=True,
                dir_okay=False,
                readable=True,
            ),
        ] = None,
        fleet: Annotated[
            tuple[str, str, str] | None,
            typer.Option(
                "--fleet",
                metavar="MODEL|J/TH $/kWh FEE%",
                help="A fleet's breakeven line, e.g. --fleet S21 0.05 2 or --fleet 17.5 0.05 2 "
                "(2% pool fee).",
            ),
        ] = None,
        fees_btc: Annotated[
            float,
            typer.Option(
                "--fees-btc",
                min=0,
                help="Fees per block (BTC) for a day without fee history (and with --csv).",
            ),
        ] = bl.DEFAULT_FEES_BTC,
        workspace: Annotated[
            str | None,
            typer.Option(
                "--workspace", "-w", help="Slack team ID: its own cost lines and its fleet."
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
        chart: Annotated[
            Path | None, typer.Option("--chart", help="Write a PNG chart of the period here.")
        ] = None,
        cached: Annotated[
            bool, typer.Option("--cached", help="Replay the cached mempool history; no download.")
        ] = False,
    ) -> None:
        """Replay price and difficulty history through the alert rules: what would have fired."""
        # Made here, not at import, so that COLUMNS and the streams are those of this run.
        out = Console(highlight=False)
        err = Console(stderr=True, highlight=False)
        svc = service()
        try:
            _backtest(
                svc, out, err, from_, to, rules_, poll.value, csv_file, fleet, fees_btc,
                workspace, as_json, chart, cached,
            )  # fmt: skip
        except _Fail as exc:
            err.print(f"[red]hashfloor backtest:[/red] {exc}", soft_wrap=True)
            raise typer.Exit(exc.code) from None
        finally:
            svc.close()


def _backtest(
    svc: Any,
    out: Console,
    err: Console,
    from_: str | None,
    to: str | None,
    rules_text: str | None,
    poll: series.Poll,
    csv_file: Path | None,
    fleet_arg: tuple[str, str, str] | None,
    fees_btc: float,
    workspace: str | None,
    as_json: bool,
    chart: Path | None,
    cached: bool,
) -> None:
    db = svc.storage.db
    start = _day(from_, "--from") if from_ else None
    # --to names a day and includes all of it
    end = (_day(to, "--to") // 86_400 + 1) * 86_400 if to else None
    if start is not None and end is not None and end <= start:
        raise _Fail("--to is before --from", 2)
    fleet = _fleet(db, fleet_arg) if fleet_arg else None
    try:
        keys = (
            bl.parse_rules(rules_text) if rules_text else _default_keys(bool(fleet), db, workspace)
        )
    except bl.RuleError as exc:
        raise _Fail(f"--rules: {exc}", 2) from None
    specs = _specs(db, keys, fleet, fees_btc, workspace)

    problems: tuple[csv_input.Problem, ...] = ()
    if csv_file is not None:
        try:
            parsed = csv_input.parse_csv(csv_file.read_text(encoding="utf-8"))
        except (csv_input.CsvError, UnicodeDecodeError) as exc:
            raise _Fail(f"{csv_file}: {exc}", 2) from None
        problems = parsed.problems
        for p in problems:
            err.print(f"[yellow]{csv_file}:{p.line}:[/yellow] {p.reason}; row skipped")
        if not parsed.rows:
            raise _Fail(f"{csv_file}: no row could be used ({len(problems)} skipped, see above)", 2)
        points = series.carry_difficulty(series.to_points(parsed.rows, poll))
        source: dict[str, Any] = {"kind": "csv", "file": str(csv_file)}
    else:
        if cached:
            source = {"kind": "mempool", "url": svc.settings.base_url("mempool"), "cached": True}
        else:
            source = _download(svc, err, quiet=as_json and not sys.stderr.isatty())
        rows = [(t, p, None) for t, p in history_store.prices(db)]
        if not rows:
            raise _Fail("no price history cached: run without --cached to download it", 1)
        points = series.to_points(rows, poll)
        start = _day(DEFAULT_FROM, "--from") if start is None else start

    adjustments = [series.Adjustment(t, h, d) for t, h, d in history_store.adjustments(db)]
    points = series.with_adjustments(series.between(points, start, end), adjustments)
    if csv_file is None:
        points = series.with_fees(points, history_store.fees(db))
    if not points:
        raise _Fail("no prices in the period asked for", 1)
    if any(s.fleet or s.metric != "price" for s in specs) and all(
        p.difficulty is None for p in points
    ):
        raise _Fail(
            "the fleet line and hashprice rules need the difficulty: add a difficulty column to "
            "the CSV, or download the history from mempool once (without --csv)",
            2,
        )

    result = replay(points, specs, poll, series.HeightModel(adjustments))
    if chart is not None:
        from bot.backtest.chart import render_chart

        try:
            render_chart(result, chart)
        except OSError as exc:
            raise _Fail(f"--chart {chart}: {exc.strerror or exc}", 1) from None
    if as_json:
        data = report.to_json(result, specs, source, problems)
        if chart is not None:
            data["chart"] = str(chart)
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    _render(out, result, specs, source)
    if problems:
        out.print(f"[yellow]{len(problems)} CSV row(s) skipped (see above)[/yellow]")
    if chart is not None:
        out.print(f"chart written to {chart}")
