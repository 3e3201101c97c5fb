"""The lines a backtest watches, as they stood on each day.

- `cash`, `allin`: the shipped benchmarks, quarter by quarter. On a day, the line in force is the
  benchmark of the quarter that contains it or, when that quarter has no value, of the latest
  earlier quarter that has one ("the benchmark of each quarter as it was", DESIGN §6). A row with
  a known publication day (2025-Q4: 2026-03-25) counts only from that day. Before the
  first quarter with a value there is no line, and the rule stays unknown. all-in has no 2024-Q1.
- `cost:<id>`: a cost row on file (a workspace's own line), held at its value for the whole period.
- `below:<usd>`: a fixed price.
- `hashprice:usd:<level>`, `hashprice:sats:<level>`: a hashprice threshold, fixed; what moves is
  the metric, each day's hashprice (`metric_values`) from its difficulty, subsidy, fees and price.
- `within:<pct>:<key>`: an early warning, the line of `key` × (1 + pct/100), its metric too.
- `fleet`: a fleet's breakeven, from each day's difficulty, the subsidy then and the day's average
  fees per block (mempool's fee history, `Point.fees_btc`); a day without fee history (a CSV, or
  before the first day mempool has) takes the assumed average `fees_per_block_btc`.

Pure: rows and numbers in, specs out; `values` gives a line's value at each point.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot import benchmarks
from bot import economics as econ
from bot.alerts import targets
from bot.alerts.targets import Metric
from bot.backtest.series import HeightModel, Point
from bot.lines import clean_label, named_keys
from commands import parsing, subscribe
from storage.workspaces import Fleet, fleet_key

T = TypeVar("T")

# The 2024–25 average of fees per block was about 0.02–0.05 BTC; a day without fee history takes
# this unless told otherwise (--fees-btc). It is stated with every result that used it.
DEFAULT_FEES_BTC = 0.02
BENCHMARK_KINDS = ("cash", "allin")
KIND_LABEL = {"cash": "CoinShares cash cost", "allin": "CoinShares all-in cost"}
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


class RuleError(ValueError):
    """A rule name that cannot be watched; the message says why and what works."""


@dataclass(frozen=True)
class Step:
    """A value in force from `starts` (unix s) until the next step."""

    starts: float
    value_usd: float
    period: str | None = None  # "2024-Q3"


@dataclass(frozen=True)
class LineSpec:
    key: str
    label: str
    steps: tuple[Step, ...] = ()  # a benchmark or fixed line
    fleet: Fleet | None = None  # a fleet's breakeven line instead
    fees_per_block_btc: float = DEFAULT_FEES_BTC
    metric: Metric = "price"  # what is compared with the line: the price, or a hashprice
    factor: float = 1.0  # an early warning's 1 + pct/100

    def values(
        self, points: Sequence[Point], heights: HeightModel
    ) -> list[tuple[float, str | None] | None]:
        """(value, period) of the line in force at each point, or None where there is none."""
        if self.fleet is not None:
            out = _fleet_values(self.fleet, self.fees_per_block_btc, points, heights)
        else:
            starts = [s.starts for s in self.steps]
            out = []
            for p in points:
                i = bisect.bisect_right(starts, p.time) - 1
                out.append((self.steps[i].value_usd, self.steps[i].period) if i >= 0 else None)
        if self.factor == 1.0:
            return out
        return [(v[0] * self.factor, v[1]) if v else None for v in out]

    def metric_values(self, points: Sequence[Point], heights: HeightModel) -> list[float | None]:
        """What the rule compares with its line at each point: the price, or that day's
        hashprice (None without a difficulty). Fees: the day's from the fee history, else the
        assumed `fees_per_block_btc`."""
        if self.metric == "price":
            return [p.price_usd for p in points]
        out: list[float | None] = []
        for p in points:
            if p.difficulty is None:
                out.append(None)
                continue
            fees = self.fees_per_block_btc if p.fees_btc is None else p.fees_btc
            hashvalue = econ.hashvalue_btc_per_th_day(
                p.difficulty, heights.subsidy_btc(p.time), fees
            )
            if self.metric == "hashprice_sats":
                out.append(econ.hashprice_sats_per_th_day(hashvalue))
            else:
                out.append(econ.hashprice_usd_per_ph_day(hashvalue, p.price_usd))
        return out


def _fleet_values(
    fleet: Fleet, fees: float, points: Sequence[Point], heights: HeightModel
) -> list[tuple[float, str | None] | None]:
    cache: dict[tuple[float, float, float], float] = {}
    out: list[tuple[float, str | None] | None] = []
    for p in points:
        if p.difficulty is None:
            out.append(None)  # no difficulty known then: no breakeven to compare with
            continue
        subsidy = heights.subsidy_btc(p.time)
        day_fees = fees if p.fees_btc is None else p.fees_btc
        key = (p.difficulty, subsidy, day_fees)
        if key not in cache:
            hashvalue = econ.hashvalue_btc_per_th_day(p.difficulty, subsidy, day_fees)
            cache[key] = econ.fleet_breakeven_price_usd(
                fleet.efficiency_j_per_th, fleet.power_usd_per_kwh, hashvalue, fleet.pool_fee
            )
        out.append((cache[key], None))
    return out


def quarter_start(quarter: str) -> float:
    """`2024-Q3` → unix s of 2024-07-01 00:00 UTC."""
    m = _QUARTER.match(quarter.strip().upper())
    if not m:
        raise ValueError(f"not a quarter: {quarter!r} (expected e.g. 2024-Q3)")
    year, q = int(m.group(1)), int(m.group(2))
    return datetime(year, 3 * q - 2, 1, tzinfo=UTC).timestamp()


def benchmark_line(kind: str, rows: Iterable[dict[str, Any]]) -> LineSpec:
    """The shipped benchmark of one kind, as a step per quarter that has a value.

    `rows` are cost_benchmarks rows (storage.costs); only shipped rows (no workspace) of this
    kind with a quarter count.
    """
    steps = sorted(
        (
            Step(_in_force_from(r), float(r["value_usd"]), r["quarter"])
            for r in rows
            if r["workspace"] is None
            and r["kind"] == kind
            and r["quarter"]
            and _QUARTER.match(r["quarter"])
        ),
        key=lambda s: s.starts,
    )
    return LineSpec(kind, KIND_LABEL[kind], tuple(steps))


def _in_force_from(row: dict[str, Any]) -> float:
    """A quarter's figure counts from the quarter's start or, when its publication day is known
    and later, from that day: a backtest must not use a figure before it existed."""
    start = quarter_start(row["quarter"])
    published = benchmarks.published_at(row.get("published"))
    return start if published is None else max(start, published)


def fixed_line(key: str, label: str, value_usd: float, period: str | None = None) -> LineSpec:
    if not value_usd > 0:
        raise RuleError(f"{key}: a line must be a positive price")
    return LineSpec(key, label, (Step(float("-inf"), float(value_usd), period),))


def fleet_line(
    fleet: Fleet, fees_per_block_btc: float = DEFAULT_FEES_BTC, key: str = "fleet"
) -> LineSpec:
    """A fleet's breakeven line: `fleet` for the one given on the command line, `fleet:<name>`
    for one of a workspace's fleets."""
    if fleet.power_currency != "USD":
        # Replaying the past would need the past's rates: none is guessed.
        raise RuleError(
            f"{key}: its power price is in {fleet.power_currency}, and the backtest has no past "
            "rates to convert with; give the fleet in US$ with --fleet"
        )
    if fleet.power_usd_per_kwh <= 0:
        raise RuleError(f"{key}: with free power there is no breakeven price to watch")
    if fees_per_block_btc < 0:
        raise RuleError("fees per block cannot be negative")
    who = "fleet" if key == "fleet" else f"fleet {fleet.name}"
    label = (
        f"{who} breakeven ({fleet.efficiency_j_per_th:g} J/TH at "
        f"${fleet.power_usd_per_kwh:g}/kWh, pool fee {fleet.pool_fee * 100:g}%)"
    )
    return LineSpec(key, label, fleet=fleet, fees_per_block_btc=fees_per_block_btc)


def hashprice_line(key: str, fees_per_block_btc: float = DEFAULT_FEES_BTC) -> LineSpec:
    """A hashprice threshold (`hashprice:usd:30`, `hashprice:sats:40`), fixed over the replay."""
    target = targets.hashprice_line(key)
    if target is None:
        raise RuleError(f"{key}: not a hashprice level")
    return LineSpec(
        key,
        target.line.label,
        (Step(float("-inf"), target.line.value_usd),),
        fees_per_block_btc=fees_per_block_btc,
        metric=target.metric,
    )


def within_line(pct: float, inner: LineSpec) -> LineSpec:
    """An early warning on `inner`: its line × (1 + pct/100), its metric."""
    return replace(
        inner,
        key=targets.within_key(pct, inner.key),
        label=f"{pct:g}% above {inner.label}",
        factor=inner.factor * (1 + pct / 100),
    )


def parse_rules(text: str) -> list[str]:
    """`cash,allin,fleet,below:80000,cost:7` → rule keys (deduplicated, in order).

    `all-in` and `all_in` are `allin`; `all` is cash and all-in; `below:` takes 80000, $80k or
    1.2m (no thousands commas: the comma separates rules).
    """
    keys: list[str] = []
    for raw in text.split(","):
        word = raw.strip().lower()
        if word:
            keys += _rule_keys(word, raw)
    if not keys:
        raise RuleError("no rule named: e.g. --rules cash,allin")
    return list(dict.fromkeys(keys))


def _rule_keys(word: str, raw: str) -> list[str]:
    """The keys one rule word names; `within:<pct>:<rule>` wraps any other (`within:5:cash`,
    `within:10:hashprice:30`); `hashprice:30` is $/PH/day, `hashprice:40sats` sats/TH/day."""
    if (named := named_keys(word)) is not None:
        return list(named)
    if word.startswith("within:"):
        pct, sep, inner = word.removeprefix("within:").partition(":")
        if not sep or not inner or inner.startswith("within:"):
            raise RuleError(
                f"{raw.strip()!r}: an early warning is within:<pct>:<rule>, e.g. within:5:cash"
            )
        value = _checked(subscribe.within_pct, pct, raw)
        return [targets.within_key(value, key) for key in _rule_keys(inner, raw)]
    if word.startswith("hashprice:"):
        level = word.removeprefix("hashprice:")
        for unit, suffix in (("usd:", ""), ("sats:", " sats")):
            if level.startswith(unit):
                level = level.removeprefix(unit) + suffix
        return [_checked(subscribe.hashprice_level, ["below", level], raw)]
    if word.startswith("below:"):
        return [f"below:{_checked(parsing.price_usd, word.removeprefix('below:'), raw):.10g}"]
    if word.startswith("cost:") and word.removeprefix("cost:").isdigit():
        return [f"cost:{_checked(parsing.row_id, word.removeprefix('cost:'), raw)}"]
    if word.startswith("fleet:") and clean_label(word.removeprefix("fleet:")):
        return [f"fleet:{fleet_key(clean_label(word.removeprefix('fleet:')))}"]  # a stored fleet
    raise RuleError(
        f"unknown rule {raw.strip()!r}: use cash, allin, fleet, fleet:<name>, below:<usd>, "
        "cost:<id>, "
        "hashprice:<usd per PH/day> (or <n>sats) or within:<pct>:<rule>, separated by commas "
        "(e.g. cash,allin,below:80000,hashprice:30,within:5:cash)"
    )


def _checked(parse: Callable[[Any], T], text: Any, raw: str) -> T:
    """The slash commands' parser (`subscribe below <usd>`, `subscribe <id>`), its words kept."""
    try:
        return parse(text)
    except parsing.ParseError as exc:
        raise RuleError(f"{raw.strip()!r}: {exc.expected}") from None
