"""A backtest result for machines (`--json`) and the words shared with the terminal view.

Pure: the result and a description of where the data came from in, plain data out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot import benchmarks, fmt
from bot.alerts import targets
from bot.backtest.csv_input import Problem
from bot.backtest.lines import LineSpec
from bot.backtest.replay import Alert, BacktestResult, Run
from bot.backtest.series import Point

EVENT_WORDS = {"crossed_below": "crossed below", "recovered_above": "recovered above"}


def date(unix_s: float | None) -> str | None:
    if unix_s is None:
        return None
    return datetime.fromtimestamp(unix_s, UTC).strftime("%Y-%m-%d")


def stamp(unix_s: float | None) -> str | None:
    """ISO 8601 in UTC, to the minute: 2024-08-05T00:00Z."""
    if unix_s is None:
        return None
    return datetime.fromtimestamp(unix_s, UTC).strftime("%Y-%m-%dT%H:%MZ")


def line_was_old(a: Alert) -> bool:
    """Whether the line an alert crossed was past 270 days on the alert's day (DESIGN §4): the
    report for a later quarter was overdue, as a reader of that alert would have been told."""
    age = benchmarks.line_age(a.period, a.time)
    return age is not None and age.old


def short_name(key: str, label: str, period: str | None = None) -> str:
    """A line in few words, for narrow tables: `cash (2024-Q3)`, `below $80,000`, `fleet`,
    `fleet texas`."""
    name = {"cash": "cash", "allin": "all-in", "fleet": "fleet"}.get(key)
    if name is None and key.startswith("fleet:"):
        name = f"fleet {key.removeprefix('fleet:')}"
    if name is None and key.startswith("below:"):
        name = f"below {fmt.usd(float(key.removeprefix('below:')))}"
    if name is None and key.startswith("hashprice:"):
        name = targets.rule_name(key, None)  # `hashprice below $30/PH/day`
    if name is None and (within := targets.split_within(key)) is not None:
        inner = short_name(within[1], label)
        inner = inner.removeprefix("below ").replace("hashprice below ", "hashprice ")
        name = f"within {within[0]:g}% of {inner}"
    name = name or label
    return f"{name} ({period})" if period else name


def fees_note(points: Sequence[Point], assumed_btc: float) -> str:
    """Where the fees per block of the replay came from: mempool's daily history, the assumed
    constant, or both (days the history does not reach)."""
    known = [p.fees_btc for p in points if p.fees_btc is not None]
    if not known:
        return (
            f"fees of {assumed_btc:g} BTC per block assumed for every day (no fee history; "
            "set --fees-btc)"
        )
    note = (
        f"fees per block from mempool's daily averages ({min(known):.3f}–{max(known):.3f} BTC, "
        f"mean {sum(known) / len(known):.3f})"
    )
    missing = len(points) - len(known)
    if missing:
        note += f"; {missing} poll(s) before the fee history assume {assumed_btc:g} BTC"
    return note


def assumptions(lines: Sequence[LineSpec], points: Sequence[Point] = ()) -> list[str]:
    """What the replay had to assume, said with every result that depends on it."""
    out = []
    for spec in lines:
        if spec.fleet is not None or spec.metric != "price":
            what = "hashprice" if spec.metric != "price" else "breakeven"
            out.append(
                f"{spec.label}: {what} from each day's difficulty and "
                f"{fees_note(points, spec.fees_per_block_btc)}; the subsidy comes from the block "
                "height estimated from the difficulty adjustments and the halvings"
            )
    if any(s.key in ("cash", "allin") for s in lines):
        out.append(
            "benchmarks: each day is checked against the benchmark of its quarter, or of the "
            "latest earlier quarter that has one; before the first, the rule waits"
        )
    return out


def _run(run: Run | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {"days": run.days, "start": stamp(run.start), "end": stamp(run.end)}


def _values(values: Sequence[float | None]) -> dict[str, float] | None:
    """The line's US$ value over the replay: a fleet breakeven near $0 (a difficulty in the wrong
    unit) or a benchmark that never changed shows here, not only in the alerts it caused."""
    known = [v for v in values if v is not None]
    if not known:
        return None
    return {
        "first": round(known[0], 2),
        "last": round(known[-1], 2),
        "min": round(min(known), 2),
        "max": round(max(known), 2),
    }


def _alert(a: Alert) -> dict[str, Any]:
    return {
        "date": date(a.time),
        "time": stamp(a.time),
        "line": a.line_key,
        "label": a.line_label,
        "period": a.period,
        "period_old_then": line_was_old(a),
        "event": a.event,
        "price_usd": a.price_usd,
        "metric": a.metric,
        "value": a.value,  # the metric then: the price, or the hashprice in the line's unit
        "line_usd": a.line_usd,
        "margin": round(a.margin, 6),
    }


def to_json(
    result: BacktestResult,
    lines: Sequence[LineSpec],
    source: dict[str, Any],
    problems: Sequence[Problem] = (),
) -> dict[str, Any]:
    return {
        "source": source,
        "from": stamp(result.start),
        "to": stamp(result.end),
        "poll": result.poll,
        "points": len(result.points),
        "assumptions": assumptions(lines, result.points),
        "skipped_rows": [{"line": p.line, "reason": p.reason} for p in problems],
        "alerts": [_alert(a) for a in result.alerts],
        "lines": [
            {
                "key": r.key,
                "label": r.label,
                "metric": r.metric,
                "value_usd": _values(r.values),
                "first_seen": stamp(r.first_time),
                "start_state": r.start_state,
                "final_state": r.final_state,
                "alerts": len(r.alerts),
                "days_observed": r.days_observed,
                "days_below": r.days_below,
                "longest_run_below": _run(r.longest_run),
                "years": [
                    {
                        "year": y.year,
                        "days_observed": y.days_observed,
                        "days_below": y.days_below,
                        "longest_run_below": _run(y.longest_run),
                    }
                    for y in r.years
                ],
                "silent_changes": [
                    {
                        "time": stamp(c.time),
                        "state": c.state,
                        "line_usd": c.line_usd,
                        "price_usd": c.price_usd,
                    }
                    for c in r.silent_changes
                ],
            }
            for r in result.lines
        ],
    }
