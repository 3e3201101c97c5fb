"""The economics of Bitcoin mining (DESIGN §4): pure functions, units in every name.

Units used throughout:
- difficulty D: dimensionless; one unit of difficulty is 2^32 expected hashes per block.
- hashrate: H/s; a fleet is measured in TH/s (10^12 H/s) or PH/s (10^15 H/s).
- "per TH/day": per TH/s of hashrate running for one day (likewise "per PH/day").
- efficiency: J/TH (joules per terahash, i.e. watts per TH/s).
- power price: US$ per kWh; BTC price: US$ per BTC; pool fee: a fraction in [0, 1).

Every function checks its inputs and raises EconomicsDomainError, naming the input, when they
make no sense (NaN, infinite, negative, zero where a quantity must be positive).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

HASHES_PER_DIFFICULTY = 2**32
TARGET_SPACING_S = 600
RETARGET_BLOCKS = 2016
HALVING_BLOCKS = 210_000
SATS_PER_BTC = 100_000_000
INITIAL_SUBSIDY_SATS = 50 * SATS_PER_BTC
# Bitcoin Core returns a zero subsidy from the 64th halving on (a 64-bit shift is undefined in C++).
MAX_HALVINGS = 64

SECONDS_PER_DAY = 86_400
HASHES_PER_TH = 10**12
TH_PER_PH = 1_000
JOULES_PER_KWH = 3_600_000
# Energy drawn in a day by 1 TH/s at 1 J/TH (1 W): 86,400 J = 0.024 kWh.
KWH_PER_WATT_DAY = SECONDS_PER_DAY / JOULES_PER_KWH
KWH_PER_MWH = 1_000
HOURS_PER_DAY = 24
HOURS_PER_MONTH = 730  # how power and hosting contracts count a month (8,760 / 12)


class EconomicsDomainError(ValueError):
    """An input to the economics makes no sense (negative, zero where positive, NaN, infinite)."""


def _number(name: str, value: object) -> float:
    # float and int first: the ABC check for Real is slow, and a /breakeven makes ~25 of these.
    if (
        type(value) is not float
        and type(value) is not int
        and (isinstance(value, bool) or not isinstance(value, Real))
    ):
        raise EconomicsDomainError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise EconomicsDomainError(f"{name} must be a finite number, got {value!r}")
    return number


def _positive(name: str, value: object) -> float:
    number = _number(name, value)
    if number <= 0:
        raise EconomicsDomainError(f"{name} must be greater than 0, got {value!r}")
    return number


def _non_negative(name: str, value: object) -> float:
    number = _number(name, value)
    if number < 0:
        raise EconomicsDomainError(f"{name} must not be negative, got {value!r}")
    return number


def _pool_fee(name: str, value: object) -> float:
    number = _number(name, value)
    if not 0 <= number < 1:
        raise EconomicsDomainError(
            f"{name} must be a fraction from 0 up to (not including) 1, e.g. 0.02 for 2%, "
            f"got {value!r}"
        )
    return number


def _height(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise EconomicsDomainError(f"{name} must be a whole block height, got {value!r}")
    if value < 0:
        raise EconomicsDomainError(f"{name} must not be negative, got {value!r}")
    return value


# --- subsidy and halvings ---------------------------------------------------------------------


def block_subsidy_sats(height: int) -> int:
    """Subsidy of the block at `height`, in satoshis: 50 BTC >> (height // 210,000).

    Integer shift, as consensus does; 0 from the 64th halving on.
    """
    halvings = _height("height", height) // HALVING_BLOCKS
    if halvings >= MAX_HALVINGS:
        return 0
    return INITIAL_SUBSIDY_SATS >> halvings


def block_subsidy_btc(height: int) -> float:
    """Subsidy of the block at `height`, in BTC (computed in satoshis, see block_subsidy_sats)."""
    return block_subsidy_sats(height) / SATS_PER_BTC


def next_halving_height(height: int) -> int:
    """Height of the first halving block after the tip at `height` (a multiple of 210,000)."""
    return (_height("height", height) // HALVING_BLOCKS + 1) * HALVING_BLOCKS


def blocks_to_next_halving(height: int) -> int:
    """Blocks still to be mined, after the tip at `height`, up to and including the halving block.

    At tip 839,999 it is 1 (block 840,000 halves); at tip 840,000 it is 210,000.
    """
    return next_halving_height(height) - height


# --- network ----------------------------------------------------------------------------------


def network_hashrate_hs(difficulty: float) -> float:
    """Network hashrate implied by difficulty, in H/s: D · 2^32 / 600."""
    d = _positive("difficulty", difficulty)
    return d * HASHES_PER_DIFFICULTY / TARGET_SPACING_S


def blocks_per_th_day(difficulty: float) -> float:
    """Expected blocks found by 1 TH/s in one day: 86,400 · 10^12 / (D · 2^32)."""
    d = _positive("difficulty", difficulty)
    return SECONDS_PER_DAY * HASHES_PER_TH / (d * HASHES_PER_DIFFICULTY)


def hashvalue_btc_per_th_day(
    difficulty: float, subsidy_btc: float, fees_per_block_btc: float
) -> float:
    """Hashvalue, BTC earned by 1 TH/s in one day (before pool fee).

    blocks per TH/day × (subsidy + average fees per block), both in BTC per block.
    """
    blocks = blocks_per_th_day(difficulty)
    subsidy = _non_negative("subsidy_btc", subsidy_btc)
    fees = _non_negative("fees_per_block_btc", fees_per_block_btc)
    return blocks * (subsidy + fees)


def hashprice_usd_per_ph_day(hashvalue_btc_per_th_day: float, price_usd: float) -> float:
    """Hashprice, US$ earned by 1 PH/s in one day (before pool fee): hashvalue × price × 1,000."""
    hashvalue = _non_negative("hashvalue_btc_per_th_day", hashvalue_btc_per_th_day)
    price = _positive("price_usd", price_usd)
    return hashvalue * price * TH_PER_PH


def hashprice_sats_per_th_day(hashvalue_btc_per_th_day: float) -> float:
    """Hashprice in satoshis earned by 1 TH/s in one day: hashvalue × 10^8."""
    hashvalue = _non_negative("hashvalue_btc_per_th_day", hashvalue_btc_per_th_day)
    return hashvalue * SATS_PER_BTC


def fees_share_of_reward(subsidy_btc: float, fees_per_block_btc: float) -> float:
    """Fraction (0..1) of the block reward paid by fees: fees / (subsidy + fees)."""
    subsidy = _non_negative("subsidy_btc", subsidy_btc)
    fees = _non_negative("fees_per_block_btc", fees_per_block_btc)
    if subsidy + fees == 0:
        raise EconomicsDomainError(
            "subsidy_btc and fees_per_block_btc are both 0: there is no reward to share"
        )
    return fees / (subsidy + fees)


# --- a fleet's costs and breakevens -----------------------------------------------------------


def hashcost_usd_per_th_day(efficiency_j_per_th: float, power_usd_per_kwh: float) -> float:
    """Power cost of running 1 TH/s for one day, in US$: 0.024 × J/TH × $/kWh.

    0.024 kWh is a day (86,400 s) at 1 W, and 1 TH/s at e J/TH draws e W.
    """
    efficiency = _positive("efficiency_j_per_th", efficiency_j_per_th)
    power = _non_negative("power_usd_per_kwh", power_usd_per_kwh)
    return KWH_PER_WATT_DAY * efficiency * power


def fleet_breakeven_price_usd(
    efficiency_j_per_th: float,
    power_usd_per_kwh: float,
    hashvalue_btc_per_th_day: float,
    pool_fee: float,
) -> float:
    """BTC price (US$) at which a fleet's revenue after pool fee pays its power.

    hashcost ($/TH/day) / (hashvalue (BTC/TH/day) × (1 − pool fee)).
    """
    hashcost = hashcost_usd_per_th_day(efficiency_j_per_th, power_usd_per_kwh)
    hashvalue = _positive("hashvalue_btc_per_th_day", hashvalue_btc_per_th_day)
    fee = _pool_fee("pool_fee", pool_fee)
    return hashcost / (hashvalue * (1 - fee))


def breakeven_power_usd_per_kwh(
    efficiency_j_per_th: float,
    price_usd: float,
    hashvalue_btc_per_th_day: float,
    pool_fee: float,
) -> float:
    """Power price (US$/kWh) at which a fleet breaks even at today's BTC price.

    hashvalue (BTC/TH/day) × price ($/BTC) × (1 − pool fee) / (0.024 × efficiency (J/TH)).
    """
    efficiency = _positive("efficiency_j_per_th", efficiency_j_per_th)
    price = _positive("price_usd", price_usd)
    hashvalue = _non_negative("hashvalue_btc_per_th_day", hashvalue_btc_per_th_day)
    fee = _pool_fee("pool_fee", pool_fee)
    return hashvalue * price * (1 - fee) / (KWH_PER_WATT_DAY * efficiency)


def earnings_usd_per_mwh(breakeven_power_usd_per_kwh: float) -> float:
    """What a fleet earns per MWh of power it burns: its breakeven power price × 1,000.

    It is the curtailment price: when power costs more, the machines lose money on power alone.
    """
    return _non_negative("breakeven_power_usd_per_kwh", breakeven_power_usd_per_kwh) * KWH_PER_MWH


def earnings_usd_per_mw_day(breakeven_power_usd_per_kwh: float) -> float:
    """What one MW of the fleet's load earns in a day: US$ per MWh × 24."""
    return earnings_usd_per_mwh(breakeven_power_usd_per_kwh) * HOURS_PER_DAY


def hpc_lease_usd_per_mwh(lease_usd_per_kw_month: float) -> float:
    """What a MW leased to HPC/AI at L US$ per kW-month earns per MWh: L × 1,000 / 730."""
    lease = _non_negative("lease_usd_per_kw_month", lease_usd_per_kw_month)
    return lease * KWH_PER_MWH / HOURS_PER_MONTH


def daily_margin_usd_per_ph(
    efficiency_j_per_th: float,
    power_usd_per_kwh: float,
    hashvalue_btc_per_th_day: float,
    price_usd: float,
    pool_fee: float,
) -> float:
    """Profit of 1 PH/s over one day, in US$ (negative: a loss).

    hashprice ($/PH/day) × (1 − pool fee) − hashcost ($/TH/day) × 1,000.
    """
    revenue = hashprice_usd_per_ph_day(hashvalue_btc_per_th_day, price_usd)
    fee = _pool_fee("pool_fee", pool_fee)
    cost = hashcost_usd_per_th_day(efficiency_j_per_th, power_usd_per_kwh) * TH_PER_PH
    return revenue * (1 - fee) - cost


# --- a fleet of known hashrate, per day --------------------------------------------------------


def fleet_revenue_usd_per_day(
    hashrate_ph: float, hashprice_usd_per_ph_day: float, pool_fee: float
) -> float:
    """What a fleet of `hashrate_ph` PH/s earns in a day after pool fee, in US$:
    PH/s × hashprice ($/PH/day) × (1 − pool fee)."""
    rate = _non_negative("hashrate_ph", hashrate_ph)
    hashprice = _non_negative("hashprice_usd_per_ph_day", hashprice_usd_per_ph_day)
    return rate * hashprice * (1 - _pool_fee("pool_fee", pool_fee))


def fleet_power_cost_usd_per_day(
    hashrate_ph: float, efficiency_j_per_th: float, power_usd_per_kwh: float
) -> float:
    """What a fleet of `hashrate_ph` PH/s pays for power in a day, in US$:
    PH/s × 1,000 × hashcost ($/TH/day)."""
    rate = _non_negative("hashrate_ph", hashrate_ph)
    return rate * TH_PER_PH * hashcost_usd_per_th_day(efficiency_j_per_th, power_usd_per_kwh)


def fleet_margin_usd_per_day(revenue_usd_per_day: float, power_cost_usd_per_day: float) -> float:
    """Revenue less power cost, US$ a day (negative: the fleet loses money on power alone)."""
    return _number("revenue_usd_per_day", revenue_usd_per_day) - _number(
        "power_cost_usd_per_day", power_cost_usd_per_day
    )


def margin_over_line(price_usd: float, line_usd: float) -> float:
    """Margin of the BTC price over a cost line, as a fraction: (price − line) / line.

    0.25 means 25% above the line, −0.1 means 10% below it.
    """
    price = _positive("price_usd", price_usd)
    line = _positive("line_usd", line_usd)
    return (price - line) / line


# --- everything /breakeven <J/TH> <$/kWh> [fee] shows --------------------------------------------


@dataclass(frozen=True)
class FleetEconomics:
    """A fleet's economics at one moment of the network and the market.

    `margin_over_breakeven` is (price − breakeven price) / breakeven price, or None when the
    breakeven price is 0 (free power: no line to measure against).
    """

    # inputs
    efficiency_j_per_th: float
    power_usd_per_kwh: float
    pool_fee: float
    difficulty: float
    height: int
    fees_per_block_btc: float
    price_usd: float
    # network and market
    subsidy_btc: float
    blocks_per_th_day: float
    hashvalue_btc_per_th_day: float
    hashprice_usd_per_ph_day: float
    hashprice_sats_per_th_day: float
    # the fleet
    hashcost_usd_per_th_day: float
    hashcost_usd_per_ph_day: float
    breakeven_price_usd: float
    breakeven_power_usd_per_kwh: float
    daily_margin_usd_per_ph: float
    margin_over_breakeven: float | None
    earnings_usd_per_mwh: float  # the curtailment price, per MWh
    earnings_usd_per_mw_day: float


def fleet_economics(
    efficiency_j_per_th: float,
    power_usd_per_kwh: float,
    pool_fee: float,
    difficulty: float,
    height: int,
    fees_per_block_btc: float,
    price_usd: float,
) -> FleetEconomics:
    """Everything about a fleet (J/TH, $/kWh, pool fee) at difficulty, tip height, fees and price.

    The subsidy is that of the next block (height + 1), the one the fleet is mining now.
    """
    subsidy = block_subsidy_btc(_height("height", height) + 1)
    fees = _non_negative("fees_per_block_btc", fees_per_block_btc)
    if subsidy + fees == 0:
        raise EconomicsDomainError(
            f"fees_per_block_btc is 0 and the subsidy after height {height} is 0: "
            "mining earns nothing, so there is no breakeven"
        )
    blocks = blocks_per_th_day(difficulty)
    hashvalue = hashvalue_btc_per_th_day(difficulty, subsidy, fees)
    hashcost = hashcost_usd_per_th_day(efficiency_j_per_th, power_usd_per_kwh)
    breakeven_price = fleet_breakeven_price_usd(
        efficiency_j_per_th, power_usd_per_kwh, hashvalue, pool_fee
    )
    breakeven_power = breakeven_power_usd_per_kwh(
        efficiency_j_per_th, price_usd, hashvalue, pool_fee
    )
    return FleetEconomics(
        efficiency_j_per_th=float(efficiency_j_per_th),
        power_usd_per_kwh=float(power_usd_per_kwh),
        pool_fee=float(pool_fee),
        difficulty=float(difficulty),
        height=height,
        fees_per_block_btc=fees,
        price_usd=_positive("price_usd", price_usd),
        subsidy_btc=subsidy,
        blocks_per_th_day=blocks,
        hashvalue_btc_per_th_day=hashvalue,
        hashprice_usd_per_ph_day=hashprice_usd_per_ph_day(hashvalue, price_usd),
        hashprice_sats_per_th_day=hashprice_sats_per_th_day(hashvalue),
        hashcost_usd_per_th_day=hashcost,
        hashcost_usd_per_ph_day=hashcost * TH_PER_PH,
        breakeven_price_usd=breakeven_price,
        breakeven_power_usd_per_kwh=breakeven_power,
        daily_margin_usd_per_ph=daily_margin_usd_per_ph(
            efficiency_j_per_th, power_usd_per_kwh, hashvalue, price_usd, pool_fee
        ),
        margin_over_breakeven=(
            margin_over_line(price_usd, breakeven_price) if breakeven_price > 0 else None
        ),
        earnings_usd_per_mwh=earnings_usd_per_mwh(breakeven_power),
        earnings_usd_per_mw_day=earnings_usd_per_mw_day(breakeven_power),
    )
