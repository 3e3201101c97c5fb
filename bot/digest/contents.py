"""What a weekly digest says (DESIGN §6), computed from stored snapshots by one pure function.

The week is the 7 days up to `now` (start inclusive). Prices come only from fresh snapshots: a poll
whose sources did not agree says nothing about the price.

Hours below a line are summed over the intervals between consecutive fresh snapshots whose earlier
end was below the line. Each interval counts for at most twice the median poll interval of the
week, so a gap in the data (the bot down for a night) is not counted as hours below: we did not see
the price then. The stretch from the last fresh snapshot to `now` is not counted either.

Hashprice at a snapshot uses its price and the latest complete network data (difficulty, tip
height, fees) seen at or before it, since network data is polled separately from prices and can
miss a poll. The subsidy is that of the next block (tip + 1), the one being mined.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot import benchmarks, currency
from bot import economics as econ
from bot.lines import CostLine
from bot.market.snapshot import Snapshot

WEEK_S = 7 * 86_400
GAP_FACTOR = 2.0  # an interval longer than this many median poll intervals is a gap in the data

Fleet = tuple[float, float, float]  # (efficiency J/TH, power US$/kWh, pool fee fraction)


@dataclass(frozen=True)
class LineStat:
    key: str
    label: str
    value_usd: float
    margin: float | None  # (price now − line) / line; None without a price
    hours_below: float
    old: str = ""  # the old mark at the digest's `now` (bot.benchmarks.old_note); "" if not old


@dataclass(frozen=True)
class FleetStat:
    efficiency_j_per_th: float
    power_usd_per_kwh: float
    pool_fee: float
    breakeven_price_usd: float | None  # at the latest network data; None without it
    margin: float | None  # of the price now over the breakeven price
    hours_below: float  # below the breakeven as it was at each snapshot
    name: str = "main"  # the fleet's name, as typed
    # What the fleet earns per MWh at the latest price and network data (its curtailment price)
    earnings_usd_per_mwh: float | None = None


@dataclass(frozen=True)
class WeekDigest:
    now: float  # unix seconds
    week_start: float  # now − 7 days
    samples: int  # fresh snapshots in the week
    poll_interval_s: float | None  # median interval between fresh snapshots
    # Hours of the week the fresh polls cover (gaps left out): what "hours below" rests on. In
    # the first days of a subscription, or after an outage, it is much less than 168.
    hours_covered: float

    price_now_usd: float | None  # the latest fresh price of the week (also its close)
    price_at: float | None  # when it was taken
    open_usd: float | None
    close_usd: float | None
    high_usd: float | None
    low_usd: float | None
    change_usd: float | None  # close − open
    change: float | None  # close / open − 1

    lines: tuple[LineStat, ...]

    hashprice_usd_per_ph_day: float | None
    hashprice_week_ago_usd_per_ph_day: float | None  # at the first fresh snapshot of the week
    hashprice_week_ago_at: float | None
    hashprice_change: float | None  # fraction

    difficulty: float | None
    previous_adjustment_percent: float | None  # percent, as mempool gives it: 1.9 = +1.9%
    previous_adjustment_at: float | None
    next_adjustment_percent: float | None  # estimate
    next_adjustment_at: float | None
    next_adjustment_blocks: int | None
    tip_height: int | None
    blocks_to_halving: int | None

    fleets: tuple[FleetStat, ...]  # each of the workspace's fleets, `main` first
    hpc_lease_usd_per_kw_month: float | None = None  # the workspace's `/hashfloor hpc`, if set

    # The workspace's currency (`/hashfloor currency`): money shown in it first with US$ beside
    # it, at the rate of the week's latest poll that quoted it; None for US$, or with no fresh
    # rate, when `rate_warning` says so and amounts are in US$ only.
    rate: currency.Rate | None = None
    rate_warning: str = ""

    @property
    def has_prices(self) -> bool:
        return self.samples > 0


@dataclass(frozen=True)
class _Point:
    t: float
    price: float
    hashvalue: float | None  # BTC per TH/day from the latest complete network data, if any


def build_digest(
    snapshots: Sequence[Snapshot],
    lines: Sequence[CostLine],
    now: float,
    fleets: Sequence[tuple[str, Fleet]] = (),
    money: str = currency.USD,
    hpc_lease_usd_per_kw_month: float | None = None,
) -> WeekDigest:
    """The digest of the 7 days before `now`; snapshots may come in any order and span more.

    `fleets` are (name, (efficiency J/TH, power US$/kWh, pool fee fraction)). With no fresh price in the week
    the digest has `samples == 0` and no price figures; it is never an exception.
    """
    start = now - WEEK_S
    ordered = sorted((s for s in snapshots if s.taken_at <= now), key=lambda s: s.taken_at)
    points = [p for p in _points(ordered) if p.t >= start]
    week = [s for s in ordered if s.taken_at >= start]

    prices = [p.price for p in points]
    first, last = (points[0], points[-1]) if points else (None, None)
    interval = _median_interval(points)
    cap = GAP_FACTOR * interval if interval is not None else 0.0

    price_now = last.price if last else None
    line_stats = tuple(
        LineStat(
            key=line.key,
            label=line.label,
            value_usd=line.value_usd,
            margin=_margin(price_now, line.value_usd),
            hours_below=_hours_below(points, lambda _p, v=line.value_usd: v, cap),
            old=benchmarks.old_note(line.period, now),
        )
        for line in lines
    )

    hp_points = [p for p in points if p.hashvalue is not None]
    hp_now = _hashprice(hp_points[-1]) if hp_points else None
    hp_ago = _hashprice(hp_points[0]) if hp_points else None

    net = _latest_network(week)
    height = net.get("tip_height")
    quoted = next((s for s in reversed(week) if s.btc_prices), None)
    rates = currency.rates(quoted.btc_prices, quoted.taken_at) if quoted else {}
    rate, rate_warning = currency.shown(rates, money, now)
    return WeekDigest(
        now=now,
        week_start=start,
        samples=len(points),
        poll_interval_s=interval,
        hours_covered=_hours_below(points, lambda _p: math.inf, cap),
        price_now_usd=price_now,
        price_at=last.t if last else None,
        open_usd=first.price if first else None,
        close_usd=price_now,
        high_usd=max(prices) if prices else None,
        low_usd=min(prices) if prices else None,
        change_usd=price_now - first.price if first and last else None,
        change=price_now / first.price - 1 if first and last else None,
        lines=line_stats,
        hashprice_usd_per_ph_day=hp_now,
        hashprice_week_ago_usd_per_ph_day=hp_ago,
        hashprice_week_ago_at=hp_points[0].t if hp_points else None,
        hashprice_change=hp_now / hp_ago - 1 if hp_now is not None and hp_ago else None,
        difficulty=net.get("difficulty"),
        previous_adjustment_percent=net.get("previous_adjustment_percent"),
        previous_adjustment_at=net.get("previous_adjustment_at"),
        next_adjustment_percent=net.get("next_adjustment_percent"),
        next_adjustment_at=net.get("next_adjustment_at"),
        next_adjustment_blocks=net.get("next_adjustment_blocks"),
        tip_height=height,
        blocks_to_halving=econ.blocks_to_next_halving(height) if height is not None else None,
        fleets=tuple(_fleet_stat(name, f, points, price_now, cap) for name, f in fleets),
        rate=rate,
        rate_warning=rate_warning,
        hpc_lease_usd_per_kw_month=hpc_lease_usd_per_kw_month,
    )


def fresh_prices(snapshots: Iterable[Snapshot]) -> list[tuple[float, float]]:
    """(taken_at, price) of the fresh snapshots with a usable price, in time order."""
    return sorted(
        (s.taken_at, s.price_usd)
        for s in snapshots
        if s.fresh and s.price_usd is not None and s.price_usd > 0
    )


def gap_limit_s(times: Sequence[float]) -> float | None:
    """The longest interval between consecutive samples that is not a gap in the data."""
    interval = _median([b - a for a, b in zip(times, times[1:], strict=False) if b > a])
    return GAP_FACTOR * interval if interval is not None else None


def _points(ordered: Sequence[Snapshot]) -> list[_Point]:
    points: list[_Point] = []
    hashvalue: float | None = None
    for snap in ordered:
        latest = _hashvalue(snap)
        if latest is not None:  # carry the latest complete network data forward
            hashvalue = latest
        if snap.fresh and snap.price_usd is not None and snap.price_usd > 0:
            points.append(_Point(snap.taken_at, snap.price_usd, hashvalue))
    return points


def _hashvalue(snap: Snapshot) -> float | None:
    net = snap.network
    if net.difficulty is None or net.tip_height is None or net.fees_per_block_btc is None:
        return None
    try:
        subsidy = econ.block_subsidy_btc(net.tip_height + 1)
        return econ.hashvalue_btc_per_th_day(net.difficulty, subsidy, net.fees_per_block_btc)
    except econ.EconomicsDomainError:
        return None  # a nonsensical reading (zero difficulty, negative fees) is no reading


def _hashprice(point: _Point) -> float | None:
    assert point.hashvalue is not None
    return econ.hashprice_usd_per_ph_day(point.hashvalue, point.price)


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _median_interval(points: Sequence[_Point]) -> float | None:
    times = [p.t for p in points]
    return _median([b - a for a, b in zip(times, times[1:], strict=False) if b > a])


def _hours_below(points: Sequence[_Point], line_at, cap: float) -> float:
    """Hours spent below the line; `line_at(point)` is the line's value then (None: unknown)."""
    seconds = 0.0
    for a, b in zip(points, points[1:], strict=False):
        level = line_at(a)
        if level is not None and a.price < level:
            seconds += min(b.t - a.t, cap)
    return seconds / 3600


def _margin(price: float | None, line_usd: float) -> float | None:
    if price is None:
        return None
    try:
        return econ.margin_over_line(price, line_usd)
    except econ.EconomicsDomainError:
        return None  # a line at zero has no margin


def _breakeven(fleet: Fleet, hashvalue: float | None) -> float | None:
    if hashvalue is None:
        return None
    efficiency, power, fee = fleet
    try:
        return econ.fleet_breakeven_price_usd(efficiency, power, hashvalue, fee)
    except econ.EconomicsDomainError:
        return None


def _fleet_stat(
    name: str, fleet: Fleet, points: Sequence[_Point], price_now: float | None, cap: float
) -> FleetStat:
    efficiency, power, fee = fleet
    known = [p for p in points if p.hashvalue is not None]
    breakeven = _breakeven(fleet, known[-1].hashvalue) if known else None
    per_mwh = None
    if known and price_now and known[-1].hashvalue is not None:
        try:
            power_be = econ.breakeven_power_usd_per_kwh(
                efficiency, price_now, known[-1].hashvalue, fee
            )
            per_mwh = econ.earnings_usd_per_mwh(power_be)
        except econ.EconomicsDomainError:
            per_mwh = None
    return FleetStat(
        efficiency_j_per_th=efficiency,
        power_usd_per_kwh=power,
        pool_fee=fee,
        breakeven_price_usd=breakeven,
        margin=_margin(price_now, breakeven) if breakeven else None,
        hours_below=_hours_below(points, lambda p: _breakeven(fleet, p.hashvalue), cap),
        name=name,
        earnings_usd_per_mwh=per_mwh,
    )


_NETWORK_FIELDS = (
    "difficulty",
    "tip_height",
    "previous_adjustment_percent",
    "previous_adjustment_at",
    "next_adjustment_percent",
    "next_adjustment_at",
    "next_adjustment_blocks",
)


def _latest_network(week: Sequence[Snapshot]) -> dict:
    """Each network field's latest known value in the week (sources fail field by field)."""
    found: dict = {}
    for snap in reversed(week):
        for name in _NETWORK_FIELDS:
            value = getattr(snap.network, name)
            if name not in found and value is not None:
                found[name] = value
        if len(found) == len(_NETWORK_FIELDS):
            break
    return found
