"""What a rule watches: its `line_key` resolved to a line and a metric, for one workspace, at one
poll.

Keys: `cash`, `allin` (CoinShares, latest quarter), `cost:<id>` (a benchmark row), `fleet:<name>`
(one of the workspace's fleets: its breakeven, which moves with difficulty and fees), `below:<usd>`
(a fixed price);
`hashprice:usd:<usd per PH/day>` and `hashprice:sats:<sats per TH/day>` (a hashprice threshold);
`within:<pct>:<any other key>` (an early warning: that line × (1 + pct/100)).

The *metric* is what the rule compares with its line at each poll: the BTC price, or the
hashprice. A line that moves (an edit, a difficulty retarget moving the fleet's breakeven) is
recomputed silently (`rules.Observation.line_moved`); a metric that moves is what alerts are for,
so a hashprice that drops only because difficulty went up *is* a crossing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bot import currency, fmt
from bot import economics as econ
from bot import fleets as fl
from bot.alerts.retarget import is_adjustment_key, parse_pct
from bot.alerts.retarget_messages import rule_name as retarget_name
from bot.lines import CostLine
from bot.market.snapshot import Network, Snapshot
from storage.workspaces import Fleet

Metric = Literal["price", "hashprice_usd", "hashprice_sats"]
METRICS: tuple[Metric, ...] = ("price", "hashprice_usd", "hashprice_sats")
# The bounds people may subscribe with (commands.subscribe says so when they do not hold).
WITHIN_PCT_MAX = 50.0
HASHPRICE_USD_MAX = 10_000.0  # $/PH/day; its all-time high was well under this
HASHPRICE_SATS_MAX = 1_000_000.0  # sats/TH/day


@dataclass(frozen=True)
class Target:
    # The level the metric is compared with. For a hashprice rule its `value_usd` is the
    # threshold in the metric's own unit ($/PH/day or sats/TH/day), not a BTC price.
    line: CostLine
    # Changes when the line really moves (an edit, a difficulty retarget); the fleet line's daily
    # drift with fees is not a move, so it cannot silence a real crossing.
    version: str
    metric: Metric = "price"
    # An early warning: the line approached (`line` is it × (1 + within)) and the fraction.
    near: CostLine | None = None
    within: float | None = None
    name: str | None = None  # the rule as people name it (`fleet texas`), when not the label


def read(metric: Metric, snap: Snapshot) -> tuple[float | None, bool]:
    """The metric at this poll and whether it is fresh. A hashprice needs a fresh price *and*
    the poll's own complete network data: without either, the poll is stale for that rule."""
    if metric == "price":
        return snap.price_usd, snap.fresh
    hashvalue = hashvalue_of(snap.network)
    price = snap.price_usd
    if hashvalue is None or price is None or not math.isfinite(price) or price <= 0:
        return None, False
    if metric == "hashprice_sats":
        return econ.hashprice_sats_per_th_day(hashvalue), snap.fresh
    return econ.hashprice_usd_per_ph_day(hashvalue, price), snap.fresh


def hashvalue_of(net: Network | None) -> float | None:
    """BTC per TH/s per day from complete network data (the subsidy of the block being mined)."""
    if (
        net is None
        or not net.difficulty
        or net.tip_height is None
        or net.fees_per_block_btc is None
    ):
        return None
    try:
        subsidy = econ.block_subsidy_btc(net.tip_height + 1)
        return econ.hashvalue_btc_per_th_day(net.difficulty, subsidy, net.fees_per_block_btc)
    except econ.EconomicsDomainError:
        return None  # a nonsensical reading is no reading


def show(metric: Metric, value: float | None) -> str:
    """A metric's value with its unit: `$74,600`, `$30.00/PH/day`, `40.0 sats/TH/day`."""
    if value is None:
        return "—"
    if metric == "hashprice_usd":  # `$37.88/PH/day`, a round threshold `$30/PH/day`
        return f"{fmt.usd(value, cents=True).removesuffix('.00')}/PH/day"
    if metric == "hashprice_sats":
        return f"{value:,.1f}".removesuffix(".0") + " sats/TH/day"
    return fmt.usd(value)


def fleet_line(
    fleet: Fleet, net: Network | None, rates: Mapping[str, currency.Rate] | None = None
) -> Target | None:
    """The fleet's breakeven at this network; a fleet priced in another currency is converted
    with `rates` (the poll's): without its rate the line is unavailable this poll, like the line
    without network data. The rate's drift, like the fees', is no move: not in the version."""
    if (
        net is None
        or not net.difficulty
        or net.tip_height is None
        or net.fees_per_block_btc is None
    ):
        return None
    given = fleet
    in_usd = currency.fleet_in_usd(fleet, rates or {})
    if in_usd is None:
        return None
    fleet = in_usd
    hashvalue = econ.hashvalue_btc_per_th_day(
        net.difficulty, econ.block_subsidy_btc(net.tip_height + 1), net.fees_per_block_btc
    )
    be = econ.fleet_breakeven_price_usd(
        fleet.efficiency_j_per_th, fleet.power_usd_per_kwh, hashvalue, fleet.pool_fee
    )
    # The same version as before fleets had names, so the migration to `fleet:main` is no move.
    version = f"{net.difficulty:.0f}:{fleet.efficiency_j_per_th}:{given.power_usd_per_kwh}:{fleet.pool_fee}"
    if given.power_currency != currency.USD:
        version += f":{given.power_currency}"
    line = CostLine(fleet.line_key, fl.line_label(given), be, "Hashfloor fleet", None)
    return Target(line, version, name=fl.title(fleet.name))


def below_line(usd: float) -> Target:
    return Target(
        CostLine(f"below:{usd:.10g}", f"your alert level {fmt.usd(usd)}", usd), f"{usd:.10g}"
    )


def hashprice_key(value: float, unit: Literal["usd", "sats"]) -> str:
    return f"hashprice:{unit}:{value:.10g}"


def within_key(pct: float, key: str) -> str:
    """An early warning on the line `key` (any key but another early warning)."""
    return f"within:{pct:.10g}:{key}"


def split_within(key: str) -> tuple[float, str] | None:
    """(pct, the watched line's key) of a `within:` key, or None."""
    _, _, rest = key.partition("within:")
    pct, sep, inner = rest.partition(":")
    try:
        value = float(pct)
    except ValueError:
        return None
    if not sep or not inner or not 0 < value <= WITHIN_PCT_MAX:
        return None
    return value, inner


def _hashprice(key: str) -> tuple[Metric, float] | None:
    unit, _, value = key.removeprefix("hashprice:").partition(":")
    try:
        level = float(value)
    except ValueError:
        return None
    if unit not in ("usd", "sats") or not math.isfinite(level) or level <= 0:
        return None
    return ("hashprice_usd" if unit == "usd" else "hashprice_sats"), level


def hashprice_line(key: str) -> Target | None:
    parsed = _hashprice(key)
    if parsed is None:
        return None
    metric, level = parsed
    label = f"hashprice {show(metric, level)}"
    return Target(CostLine(key, label, level), f"{level:.10g}", metric)


def near_line(base: Target, pct: float) -> Target:
    """An early warning on `base`: its line × (1 + pct/100); it moves when `base` moves."""
    line = base.line
    watched = CostLine(
        within_key(pct, line.key),
        f"{pct:g}% above {line.label}",
        line.value_usd * (1 + pct / 100),
        line.source,
        line.period,
    )
    return Target(watched, f"{pct:g}:{base.version}", base.metric, line, pct / 100)


def resolve(
    key: str,
    benchmark_lines: dict[str, CostLine],
    fleets: Mapping[str, Fleet],
    net: Network | None,
    rates: Mapping[str, currency.Rate] | None = None,
) -> Target | None:
    """`benchmark_lines` maps `cash`, `allin` and `cost:<id>` keys to their lines; `fleets` are
    the workspace's fleets by key (storage.workspaces.get_fleets)."""
    if key.startswith("within:"):
        parsed = split_within(key)
        if parsed is None or parsed[1].startswith("within:"):
            return None
        base = resolve(parsed[1], benchmark_lines, fleets, net, rates)
        return near_line(base, parsed[0]) if base else None
    if key.startswith("hashprice:"):
        return hashprice_line(key)
    if (name := fl.key_of_line(key)) is not None:
        fleet = fleets.get(name)
        return fleet_line(fleet, net, rates) if fleet else None
    if key.startswith("below:"):
        try:
            return below_line(float(key.removeprefix("below:")))
        except ValueError:
            return None
    line = benchmark_lines.get(key)
    return Target(line, f"{line.value_usd:.2f}") if line else None


def rule_name(key: str, target: Target | None, fleets: Mapping[str, Fleet] | None = None) -> str:
    """A rule as people wrote it (`below $80,000`, `fleet texas`, the cost line's name), never its
    internal key; plain text: escape it where it is shown. `fleets` tells a fleet that is gone
    from one whose line waits for network data."""
    if key.startswith("within:"):
        parsed = split_within(key)
        if parsed is None:
            return "an early warning that no longer reads"
        pct, inner = parsed
        base = None
        if target is not None and target.near is not None:
            base = Target(target.near, target.version, target.metric)
        return f"within {pct:g}% of {_line_words(inner, base)}"
    if key.startswith("hashprice:"):
        parsed = _hashprice(key)
        if parsed is None:
            return "a hashprice level"
        return f"hashprice below {show(*parsed)}"
    if is_adjustment_key(key):
        return retarget_name(parse_pct(key))
    if key.startswith("below:"):
        try:
            return f"below {fmt.usd(float(key.removeprefix('below:')))}"
        except ValueError:
            return "a price level"
    if target is not None:
        return target.name or target.line.label
    if (name := fl.key_of_line(key)) is not None:
        if fleets is None:
            return f"{fl.title(name)} (not available now)"
        if name in fleets:
            return f"{fl.title(fleets[name].name)} (breakeven unknown until network data arrives)"
        return f"{fl.title(name)} (removed)"
    if key.startswith("cost:"):
        return f"cost line #{key.removeprefix('cost:')} (removed)"
    return {"cash": "the CoinShares cash cost", "allin": "the CoinShares all-in cost"}.get(
        key, "a line that no longer exists"
    )


def _line_words(key: str, target: Target | None) -> str:
    """A line as the object of a sentence: `$80,000`, `hashprice $30.00/PH/day`, a line's name."""
    name = rule_name(key, target)
    if key.startswith("below:"):
        return name.removeprefix("below ")
    return name.replace("hashprice below ", "hashprice ", 1)
