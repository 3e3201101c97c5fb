"""What a rule watches: its `line_key` resolved to a cost line, for one workspace, at one poll.

Keys: `cash`, `allin` (CoinShares, latest quarter), `cost:<id>` (a benchmark row), `fleet` (the
workspace's fleet breakeven, which moves with difficulty and fees), `below:<usd>` (a fixed price).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import economics as econ
from bot import fmt
from bot.lines import CostLine
from bot.market.snapshot import Network
from storage.workspaces import Fleet


@dataclass(frozen=True)
class Target:
    line: CostLine
    # Changes when the line really moves (an edit, a difficulty retarget); the fleet line's daily
    # drift with fees is not a move, so it cannot silence a real crossing.
    version: str


def fleet_line(fleet: Fleet, net: Network | None) -> Target | None:
    if (
        net is None
        or not net.difficulty
        or net.tip_height is None
        or net.fees_per_block_btc is None
    ):
        return None
    hashvalue = econ.hashvalue_btc_per_th_day(
        net.difficulty, econ.block_subsidy_btc(net.tip_height + 1), net.fees_per_block_btc
    )
    be = econ.fleet_breakeven_price_usd(
        fleet.efficiency_j_per_th, fleet.power_usd_per_kwh, hashvalue, fleet.pool_fee
    )
    label = (
        f"your fleet's breakeven ({fleet.efficiency_j_per_th:g} J/TH at "
        f"${fleet.power_usd_per_kwh:g}/kWh)"
    )
    version = f"{net.difficulty:.0f}:{fleet.efficiency_j_per_th}:{fleet.power_usd_per_kwh}:{fleet.pool_fee}"
    return Target(CostLine("fleet", label, be, "Hashfloor fleet", None), version)


def below_line(usd: float) -> Target:
    return Target(
        CostLine(f"below:{usd:.10g}", f"your alert level {fmt.usd(usd)}", usd), f"{usd:.10g}"
    )


def resolve(
    key: str,
    benchmark_lines: dict[str, CostLine],
    fleet: Fleet | None,
    net: Network | None,
) -> Target | None:
    """`benchmark_lines` maps `cash`, `allin` and `cost:<id>` keys to their lines."""
    if key == "fleet":
        return fleet_line(fleet, net) if fleet else None
    if key.startswith("below:"):
        try:
            return below_line(float(key.removeprefix("below:")))
        except ValueError:
            return None
    line = benchmark_lines.get(key)
    return Target(line, f"{line.value_usd:.2f}") if line else None


def rule_name(key: str, target: Target | None) -> str:
    """A rule as people wrote it (`below $80,000`, the cost line's name), never its internal key;
    plain text: escape it where it is shown."""
    if key.startswith("below:"):
        try:
            return f"below {fmt.usd(float(key.removeprefix('below:')))}"
        except ValueError:
            return "a price level"
    if target is not None:
        return target.line.label
    if key == "fleet":
        return "your fleet's breakeven (not available now)"
    if key.startswith("cost:"):
        return f"cost line #{key.removeprefix('cost:')} (removed)"
    return {"cash": "the CoinShares cash cost", "allin": "the CoinShares all-in cost"}.get(
        key, "a line that no longer exists"
    )
