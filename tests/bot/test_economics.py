"""Vectors of DESIGN §4, subsidy and halving tables, properties, and the domain errors."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import economics as econ
from bot.economics import EconomicsDomainError

# DESIGN §4 test conditions.
D = 152e12
SUBSIDY_BTC = 3.125
FEES_BTC = 0.02
PRICE_USD = 91_000
POOL_FEE = 0.02
HASHVALUE = econ.hashvalue_btc_per_th_day(D, SUBSIDY_BTC, FEES_BTC)


def round_sig(value: float, digits: int) -> Decimal:
    """`value` rounded to `digits` significant figures (as a Decimal, so no binary noise)."""
    exact = Decimal(value)
    exponent = exact.adjusted() - digits + 1
    return exact.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN)


def sig4(value: float) -> Decimal:
    return round_sig(value, 4)


def significant_digits(printed: str) -> int:
    """How many significant figures a number printed as in DESIGN carries ("0.0773" -> 3)."""
    mantissa = printed.replace(",", "").lower().split("e")[0]
    return len(mantissa.replace(".", "").lstrip("0"))


@pytest.mark.parametrize(
    ("value", "digits", "rounded"),
    [
        (70_605.0019, 4, "70610"),
        (51_482.81, 4, "51480"),
        (123_558.75, 4, "123600"),
        (37.8767, 4, "37.88"),
        (4.162276e-7, 4, "4.162e-7"),
        (0.0773316, 3, "0.0773"),
        (1.3234584e-7, 5, "1.3235e-7"),
        (-12.345678, 4, "-12.35"),
    ],
)
def test_round_sig(value: float, digits: int, rounded: str) -> None:
    assert round_sig(value, digits) == Decimal(rounded)
    if digits == 4:
        assert sig4(value) == Decimal(rounded)


def design_vectors() -> list[tuple[str, float, str, str]]:
    """(what, computed value, value as DESIGN §4 prints it, the exact value to 4 figures)."""
    vectors = [
        ("blocks per TH/day", econ.blocks_per_th_day(D), "1.3235e-7", "1.323e-7"),
        ("hashvalue BTC/TH/day", HASHVALUE, "4.162e-7", "4.162e-7"),
        (
            "hashprice $/PH/day",
            econ.hashprice_usd_per_ph_day(HASHVALUE, PRICE_USD),
            "37.88",
            "37.88",
        ),
    ]
    fleets = [
        (20, 0.06, "70,605", "70,610", "0.0773", "0.07733"),
        (17.5, 0.05, "51,483", "51,480", "0.0884", "0.08838"),
        (30, 0.07, "123,559", "123,600", "0.0516", "0.05155"),
    ]
    for efficiency, power, price, price_4, power_breakeven, power_breakeven_4 in fleets:
        vectors.append(
            (
                f"{efficiency} J/TH @ ${power}/kWh breakeven price",
                econ.fleet_breakeven_price_usd(efficiency, power, HASHVALUE, POOL_FEE),
                price,
                price_4,
            )
        )
        vectors.append(
            (
                f"{efficiency} J/TH breakeven power price",
                econ.breakeven_power_usd_per_kwh(efficiency, PRICE_USD, HASHVALUE, POOL_FEE),
                power_breakeven,
                power_breakeven_4,
            )
        )
    return vectors


@pytest.mark.parametrize(("what", "computed", "printed", "four_figures"), design_vectors())
def test_design_vectors(what: str, computed: float, printed: str, four_figures: str) -> None:
    # Each value to 4 significant figures, and to every figure DESIGN prints (5 for 70,605,
    # 3 for the power prices). The 4-figure column is not DESIGN's value re-rounded: that would
    # round twice (1.3235e-7 is 1.32346e-7, which is 1.323e-7 to 4 figures, not 1.324e-7).
    assert sig4(computed) == Decimal(four_figures.replace(",", "")), what
    digits = significant_digits(printed)
    assert round_sig(computed, digits) == Decimal(printed.replace(",", "")), what


@pytest.mark.parametrize(
    ("efficiency", "power", "price", "power_breakeven", "margin_per_ph"),
    [
        (20, 0.06, "70,605", "0.0773", "8.319"),
        (17.5, 0.05, "51,483", "0.0884", "16.12"),
        (30, 0.07, "123,559", "0.0516", "-13.28"),
    ],
)
def test_fleet_economics_at_design_vectors(
    efficiency: float, power: float, price: str, power_breakeven: str, margin_per_ph: str
) -> None:
    fleet = econ.fleet_economics(
        efficiency_j_per_th=efficiency,
        power_usd_per_kwh=power,
        pool_fee=POOL_FEE,
        difficulty=D,
        height=900_000,
        fees_per_block_btc=FEES_BTC,
        price_usd=PRICE_USD,
    )
    assert fleet.subsidy_btc == SUBSIDY_BTC
    assert round_sig(fleet.blocks_per_th_day, 5) == Decimal("1.3235e-7")
    assert sig4(fleet.hashvalue_btc_per_th_day) == Decimal("4.162e-7")
    assert sig4(fleet.hashprice_usd_per_ph_day) == Decimal("37.88")
    assert sig4(fleet.hashprice_sats_per_th_day) == Decimal("41.62")
    price_digits = significant_digits(price)
    assert round_sig(fleet.breakeven_price_usd, price_digits) == Decimal(price.replace(",", ""))
    power_digits = significant_digits(power_breakeven)
    assert round_sig(fleet.breakeven_power_usd_per_kwh, power_digits) == Decimal(power_breakeven)
    # revenue 37.8767 × 0.98 = 37.1192 $/PH/day, minus 1,000 × 0.024 × J/TH × $/kWh
    assert sig4(fleet.daily_margin_usd_per_ph) == Decimal(margin_per_ph)
    hashcost = 0.024 * efficiency * power
    assert math.isclose(fleet.hashcost_usd_per_th_day, hashcost, rel_tol=1e-12)
    assert math.isclose(fleet.hashcost_usd_per_ph_day, hashcost * 1000, rel_tol=1e-12)
    expected_margin = (PRICE_USD - fleet.breakeven_price_usd) / fleet.breakeven_price_usd
    assert fleet.margin_over_breakeven is not None
    assert math.isclose(fleet.margin_over_breakeven, expected_margin, rel_tol=1e-12)
    assert (fleet.margin_over_breakeven > 0) == (fleet.daily_margin_usd_per_ph > 0)


def test_fleet_economics_keeps_its_inputs() -> None:
    fleet = econ.fleet_economics(20, 0.06, 0.02, D, 900_000, 0.02, 91_000)
    assert (
        fleet.efficiency_j_per_th,
        fleet.power_usd_per_kwh,
        fleet.pool_fee,
        fleet.difficulty,
        fleet.height,
        fleet.fees_per_block_btc,
        fleet.price_usd,
    ) == (20.0, 0.06, 0.02, D, 900_000, 0.02, 91_000.0)
    with pytest.raises(AttributeError):
        fleet.price_usd = 1.0  # type: ignore[misc]


def test_fleet_economics_mines_the_next_block() -> None:
    # At tip 1,049,999 the block being mined is 1,050,000: the subsidy has already halved.
    before = econ.fleet_economics(20, 0.06, 0.0, D, 1_049_998, 0.0, 91_000)
    after = econ.fleet_economics(20, 0.06, 0.0, D, 1_049_999, 0.0, 91_000)
    assert before.subsidy_btc == 3.125
    assert after.subsidy_btc == 1.5625
    assert math.isclose(after.breakeven_price_usd, 2 * before.breakeven_price_usd, rel_tol=1e-12)


def test_fleet_economics_with_free_power_has_no_line_to_measure() -> None:
    fleet = econ.fleet_economics(20, 0, 0.02, D, 900_000, 0.02, 91_000)
    assert fleet.breakeven_price_usd == 0
    assert fleet.hashcost_usd_per_th_day == 0
    assert fleet.margin_over_breakeven is None
    assert fleet.daily_margin_usd_per_ph == pytest.approx(37.8767 * 0.98, rel=1e-5)


# --- subsidy and halvings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("height", "subsidy_sats", "subsidy_btc"),
    [
        (0, 5_000_000_000, 50.0),
        (209_999, 5_000_000_000, 50.0),
        (210_000, 2_500_000_000, 25.0),
        (419_999, 2_500_000_000, 25.0),
        (420_000, 1_250_000_000, 12.5),
        (630_000, 625_000_000, 6.25),
        (839_999, 625_000_000, 6.25),
        (840_000, 312_500_000, 3.125),
        (1_049_999, 312_500_000, 3.125),
        (1_050_000, 156_250_000, 1.5625),
        (1_260_000, 78_125_000, 0.78125),
        # integer shift: 5,000,000,000 >> 10 = 4,882,812 (the half satoshi is dropped)
        (10 * 210_000, 4_882_812, 0.04882812),
        (32 * 210_000, 1, 1e-8),
        (33 * 210_000 - 1, 1, 1e-8),
        (33 * 210_000, 0, 0.0),
        (64 * 210_000 - 1, 0, 0.0),
        (64 * 210_000, 0, 0.0),
        (64 * 210_000 + 1, 0, 0.0),
        (100 * 210_000, 0, 0.0),
        (10**12, 0, 0.0),
    ],
)
def test_block_subsidy(height: int, subsidy_sats: int, subsidy_btc: float) -> None:
    assert econ.block_subsidy_sats(height) == subsidy_sats
    assert isinstance(econ.block_subsidy_sats(height), int)
    assert econ.block_subsidy_btc(height) == subsidy_btc


@pytest.mark.parametrize(
    ("height", "next_halving", "blocks_to_go"),
    [
        (0, 210_000, 210_000),
        (1, 210_000, 209_999),
        (209_999, 210_000, 1),
        (210_000, 420_000, 210_000),
        (839_999, 840_000, 1),
        (840_000, 1_050_000, 210_000),
        (900_000, 1_050_000, 150_000),
        (925_123, 1_050_000, 124_877),
        (1_049_999, 1_050_000, 1),
        (1_050_000, 1_260_000, 210_000),
    ],
)
def test_halving_countdown(height: int, next_halving: int, blocks_to_go: int) -> None:
    assert econ.next_halving_height(height) == next_halving
    assert econ.blocks_to_next_halving(height) == blocks_to_go


# --- network ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("difficulty", "hashrate_hs"),
    [
        (1, 2**32 / 600),
        (600, 2**32),
        (152e12, 152e12 * 2**32 / 600),  # about 1.088 ZH/s
    ],
)
def test_network_hashrate(difficulty: float, hashrate_hs: float) -> None:
    assert math.isclose(econ.network_hashrate_hs(difficulty), hashrate_hs, rel_tol=1e-15)


def test_network_hashrate_at_design_difficulty() -> None:
    assert sig4(econ.network_hashrate_hs(D)) == Decimal("1.088e21")


@pytest.mark.parametrize(
    ("subsidy_btc", "fees_btc", "share"),
    [
        (3.125, 0.02, 0.02 / 3.145),
        (3.125, 0.0, 0.0),
        (0.0, 0.5, 1.0),
        (3.125, 3.125, 0.5),
    ],
)
def test_fees_share_of_reward(subsidy_btc: float, fees_btc: float, share: float) -> None:
    assert math.isclose(econ.fees_share_of_reward(subsidy_btc, fees_btc), share, rel_tol=1e-15)


@pytest.mark.parametrize(
    ("price", "line", "margin"),
    [
        (91_000, 74_600, 16_400 / 74_600),
        (91_000, 137_800, -46_800 / 137_800),
        (74_600, 74_600, 0.0),
        (150_000, 100_000, 0.5),
        (50_000, 100_000, -0.5),
    ],
)
def test_margin_over_line(price: float, line: float, margin: float) -> None:
    assert math.isclose(econ.margin_over_line(price, line), margin, rel_tol=1e-15, abs_tol=0)


def test_hashprice_in_sats() -> None:
    assert econ.hashprice_sats_per_th_day(4.162e-7) == pytest.approx(41.62, rel=1e-12)
    assert econ.hashprice_sats_per_th_day(0) == 0


# --- properties -------------------------------------------------------------------------------

efficiencies = st.floats(min_value=5, max_value=200)
power_prices = st.floats(min_value=0.001, max_value=0.5)
hashvalues = st.floats(min_value=1e-9, max_value=1e-4)
pool_fees = st.floats(min_value=0, max_value=0.1)
prices = st.floats(min_value=1_000, max_value=10_000_000)


@given(efficiencies, power_prices, hashvalues, pool_fees)
def test_breakeven_price_pays_the_hashcost(
    efficiency: float, power: float, hashvalue: float, fee: float
) -> None:
    price = econ.fleet_breakeven_price_usd(efficiency, power, hashvalue, fee)
    hashcost = econ.hashcost_usd_per_th_day(efficiency, power)
    assert math.isclose(price * hashvalue * (1 - fee), hashcost, rel_tol=1e-9)


@given(efficiencies, power_prices, hashvalues, pool_fees)
def test_breakeven_power_at_breakeven_price_is_the_power_price(
    efficiency: float, power: float, hashvalue: float, fee: float
) -> None:
    price = econ.fleet_breakeven_price_usd(efficiency, power, hashvalue, fee)
    power_back = econ.breakeven_power_usd_per_kwh(efficiency, price, hashvalue, fee)
    assert math.isclose(power_back, power, rel_tol=1e-9)


@given(efficiencies, power_prices, hashvalues, pool_fees)
def test_no_daily_margin_at_the_breakeven_price(
    efficiency: float, power: float, hashvalue: float, fee: float
) -> None:
    price = econ.fleet_breakeven_price_usd(efficiency, power, hashvalue, fee)
    margin = econ.daily_margin_usd_per_ph(efficiency, power, hashvalue, price, fee)
    hashcost_per_ph = econ.hashcost_usd_per_th_day(efficiency, power) * 1000
    assert math.isclose(margin, 0, abs_tol=hashcost_per_ph * 1e-9)


@given(prices, prices)
def test_margin_sign_matches_price_against_line(price: float, line: float) -> None:
    margin = econ.margin_over_line(price, line)
    assert (margin > 0) == (price > line)
    assert (margin < 0) == (price < line)
    assert (margin == 0) == (price == line)


@given(efficiencies, power_prices, hashvalues, pool_fees, prices)
def test_daily_margin_sign_matches_price_against_breakeven(
    efficiency: float, power: float, hashvalue: float, fee: float, price: float
) -> None:
    breakeven = econ.fleet_breakeven_price_usd(efficiency, power, hashvalue, fee)
    margin = econ.daily_margin_usd_per_ph(efficiency, power, hashvalue, price, fee)
    scale = econ.hashcost_usd_per_th_day(efficiency, power) * 1000
    if not math.isclose(price, breakeven, rel_tol=1e-9):
        assert (margin > 0) == (price > breakeven)
    else:
        assert abs(margin) <= scale * 1e-8


# --- domain errors ----------------------------------------------------------------------------

NAN = math.nan
INF = math.inf
GOOD_FLEET = {"efficiency_j_per_th": 20, "power_usd_per_kwh": 0.06}
GOOD_BREAKEVEN = {"hashvalue_btc_per_th_day": 4.162e-7, "pool_fee": 0.02}
GOOD_FLEET_ECONOMICS = {
    "efficiency_j_per_th": 20,
    "power_usd_per_kwh": 0.06,
    "pool_fee": 0.02,
    "difficulty": D,
    "height": 900_000,
    "fees_per_block_btc": 0.02,
    "price_usd": 91_000,
}


def _cases(function, good: dict, name: str, bad_values: list) -> list:
    return [
        pytest.param(function, {**good, name: bad}, name, id=f"{function.__name__}-{name}={bad!r}")
        for bad in bad_values
    ]


NOT_POSITIVE = [0, 0.0, -1, -0.5, NAN, INF, -INF]
NEGATIVE = [-1, -1e-9, NAN, INF, -INF]
BAD_FEES = [-0.01, 1, 1.0, 1.5, 100, NAN, INF]
BAD_HEIGHTS = [-1, -210_000, 1.5, 840_000.0, "840000", None, True]

DOMAIN_ERRORS = [
    *_cases(econ.block_subsidy_btc, {}, "height", BAD_HEIGHTS),
    *_cases(econ.block_subsidy_sats, {}, "height", BAD_HEIGHTS),
    *_cases(econ.next_halving_height, {}, "height", BAD_HEIGHTS),
    *_cases(econ.blocks_to_next_halving, {}, "height", BAD_HEIGHTS),
    *_cases(econ.network_hashrate_hs, {}, "difficulty", NOT_POSITIVE),
    *_cases(econ.blocks_per_th_day, {}, "difficulty", [*NOT_POSITIVE, "152e12", None]),
    *_cases(
        econ.hashvalue_btc_per_th_day,
        {"subsidy_btc": 3.125, "fees_per_block_btc": 0.02},
        "difficulty",
        NOT_POSITIVE,
    ),
    *_cases(
        econ.hashvalue_btc_per_th_day,
        {"difficulty": D, "fees_per_block_btc": 0.02},
        "subsidy_btc",
        NEGATIVE,
    ),
    *_cases(
        econ.hashvalue_btc_per_th_day,
        {"difficulty": D, "subsidy_btc": 3.125},
        "fees_per_block_btc",
        NEGATIVE,
    ),
    *_cases(
        econ.hashprice_usd_per_ph_day, {"price_usd": 91_000}, "hashvalue_btc_per_th_day", NEGATIVE
    ),
    *_cases(
        econ.hashprice_usd_per_ph_day,
        {"hashvalue_btc_per_th_day": 4.162e-7},
        "price_usd",
        NOT_POSITIVE,
    ),
    *_cases(econ.hashprice_sats_per_th_day, {}, "hashvalue_btc_per_th_day", NEGATIVE),
    *_cases(
        econ.hashcost_usd_per_th_day,
        {"power_usd_per_kwh": 0.06},
        "efficiency_j_per_th",
        NOT_POSITIVE,
    ),
    *_cases(
        econ.hashcost_usd_per_th_day,
        {"efficiency_j_per_th": 20},
        "power_usd_per_kwh",
        NEGATIVE,
    ),
    *_cases(
        econ.fleet_breakeven_price_usd,
        {**GOOD_FLEET, **GOOD_BREAKEVEN},
        "efficiency_j_per_th",
        NOT_POSITIVE,
    ),
    *_cases(
        econ.fleet_breakeven_price_usd,
        {**GOOD_FLEET, **GOOD_BREAKEVEN},
        "power_usd_per_kwh",
        NEGATIVE,
    ),
    *_cases(
        econ.fleet_breakeven_price_usd,
        {**GOOD_FLEET, **GOOD_BREAKEVEN},
        "hashvalue_btc_per_th_day",
        NOT_POSITIVE,
    ),
    *_cases(
        econ.fleet_breakeven_price_usd,
        {**GOOD_FLEET, **GOOD_BREAKEVEN},
        "pool_fee",
        BAD_FEES,
    ),
    *_cases(
        econ.breakeven_power_usd_per_kwh,
        {"efficiency_j_per_th": 20, "price_usd": 91_000, **GOOD_BREAKEVEN},
        "efficiency_j_per_th",
        NOT_POSITIVE,
    ),
    *_cases(
        econ.breakeven_power_usd_per_kwh,
        {"efficiency_j_per_th": 20, "price_usd": 91_000, **GOOD_BREAKEVEN},
        "price_usd",
        NOT_POSITIVE,
    ),
    *_cases(
        econ.breakeven_power_usd_per_kwh,
        {"efficiency_j_per_th": 20, "price_usd": 91_000, **GOOD_BREAKEVEN},
        "hashvalue_btc_per_th_day",
        NEGATIVE,
    ),
    *_cases(
        econ.breakeven_power_usd_per_kwh,
        {"efficiency_j_per_th": 20, "price_usd": 91_000, **GOOD_BREAKEVEN},
        "pool_fee",
        BAD_FEES,
    ),
    *_cases(
        econ.daily_margin_usd_per_ph,
        {**GOOD_FLEET, **GOOD_BREAKEVEN, "price_usd": 91_000},
        "efficiency_j_per_th",
        NOT_POSITIVE,
    ),
    *_cases(
        econ.daily_margin_usd_per_ph,
        {**GOOD_FLEET, **GOOD_BREAKEVEN, "price_usd": 91_000},
        "power_usd_per_kwh",
        NEGATIVE,
    ),
    *_cases(
        econ.daily_margin_usd_per_ph,
        {**GOOD_FLEET, **GOOD_BREAKEVEN, "price_usd": 91_000},
        "hashvalue_btc_per_th_day",
        NEGATIVE,
    ),
    *_cases(
        econ.daily_margin_usd_per_ph,
        {**GOOD_FLEET, **GOOD_BREAKEVEN, "price_usd": 91_000},
        "price_usd",
        NOT_POSITIVE,
    ),
    *_cases(
        econ.daily_margin_usd_per_ph,
        {**GOOD_FLEET, **GOOD_BREAKEVEN, "price_usd": 91_000},
        "pool_fee",
        BAD_FEES,
    ),
    *_cases(econ.margin_over_line, {"line_usd": 74_600}, "price_usd", NOT_POSITIVE),
    *_cases(econ.margin_over_line, {"price_usd": 91_000}, "line_usd", NOT_POSITIVE),
    *_cases(econ.fees_share_of_reward, {"fees_per_block_btc": 0.02}, "subsidy_btc", NEGATIVE),
    *_cases(econ.fees_share_of_reward, {"subsidy_btc": 3.125}, "fees_per_block_btc", NEGATIVE),
    *_cases(econ.fees_share_of_reward, {"subsidy_btc": 0}, "fees_per_block_btc", [0, 0.0]),
    *[
        case
        for name, bad_values in [
            ("efficiency_j_per_th", NOT_POSITIVE),
            ("power_usd_per_kwh", NEGATIVE),
            ("pool_fee", BAD_FEES),
            ("difficulty", NOT_POSITIVE),
            ("height", BAD_HEIGHTS),
            ("fees_per_block_btc", NEGATIVE),
            ("price_usd", NOT_POSITIVE),
        ]
        for case in _cases(econ.fleet_economics, GOOD_FLEET_ECONOMICS, name, bad_values)
    ],
    # no subsidy left and no fees: nothing to break even against
    *_cases(
        econ.fleet_economics,
        {**GOOD_FLEET_ECONOMICS, "height": 64 * 210_000},
        "fees_per_block_btc",
        [0],
    ),
]


@pytest.mark.parametrize(("function", "kwargs", "name"), DOMAIN_ERRORS)
def test_domain_errors_name_the_bad_input(function, kwargs: dict, name: str) -> None:
    with pytest.raises(EconomicsDomainError, match=name):
        function(**kwargs)


def test_domain_error_is_a_value_error() -> None:
    assert issubclass(EconomicsDomainError, ValueError)
    with pytest.raises(ValueError, match="pool_fee"):
        econ.fleet_breakeven_price_usd(20, 0.06, 4.162e-7, 1.0)


@pytest.mark.parametrize(
    ("function", "kwargs"),
    [
        (econ.hashcost_usd_per_th_day, {"efficiency_j_per_th": 20, "power_usd_per_kwh": 0}),
        (
            econ.hashvalue_btc_per_th_day,
            {"difficulty": D, "subsidy_btc": 0, "fees_per_block_btc": 0},
        ),
        (econ.hashprice_usd_per_ph_day, {"hashvalue_btc_per_th_day": 0, "price_usd": 91_000}),
        (econ.fleet_breakeven_price_usd, {**GOOD_FLEET, **GOOD_BREAKEVEN, "pool_fee": 0}),
        (econ.fleet_breakeven_price_usd, {**GOOD_FLEET, **GOOD_BREAKEVEN, "pool_fee": 0.999}),
        (econ.block_subsidy_btc, {"height": 0}),
    ],
)
def test_edges_that_make_sense_are_accepted(function, kwargs: dict) -> None:
    result = function(**kwargs)
    assert math.isfinite(result) and result >= 0


# --- DESIGN §4.1: machines, per MWh, HPC ------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "computed", "printed"),
    [
        (
            "13.5 J/TH at $0.05, no pool fee",
            econ.fleet_breakeven_price_usd(13.5, 0.05, HASHVALUE, 0.0),
            "38,921",
        ),
        (
            "17.5 J/TH at $0.045, no pool fee",
            econ.fleet_breakeven_price_usd(17.5, 0.045, HASHVALUE, 0.0),
            "45,408",
        ),
        (
            "21.5 J/TH at $0.06, no pool fee",
            econ.fleet_breakeven_price_usd(21.5, 0.06, HASHVALUE, 0.0),
            "74,382",
        ),
        (
            "17.5 J/TH, 2%: $ per MWh",
            econ.earnings_usd_per_mwh(
                econ.breakeven_power_usd_per_kwh(17.5, PRICE_USD, HASHVALUE, POOL_FEE)
            ),
            "88.38",
        ),
        (
            "17.5 J/TH, 2%: $ per MW per day",
            econ.earnings_usd_per_mw_day(
                econ.breakeven_power_usd_per_kwh(17.5, PRICE_USD, HASHVALUE, POOL_FEE)
            ),
            "2,121",
        ),
        ("HPC lease at $150/kW-month: $ per MWh", econ.hpc_lease_usd_per_mwh(150), "205.48"),
    ],
)
def test_design_4_1_vectors(what: str, computed: float, printed: str) -> None:
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    assert f"{computed:,.{decimals}f}" == printed, what


def test_fleet_economics_carries_the_curtailment_price() -> None:
    fe = econ.fleet_economics(17.5, 0.05, POOL_FEE, D, 925_000, 0.02, PRICE_USD)
    assert fe.earnings_usd_per_mwh == pytest.approx(fe.breakeven_power_usd_per_kwh * 1000)
    assert f"{fe.earnings_usd_per_mwh:.2f}" == "88.38"
    assert f"{fe.earnings_usd_per_mw_day:,.0f}" == "2,121"


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_a_lease_price_must_be_a_finite_non_negative_number(bad: float) -> None:
    with pytest.raises(econ.EconomicsDomainError):
        econ.hpc_lease_usd_per_mwh(bad)


@given(efficiencies, power_prices, hashvalues, pool_fees, st.floats(0.1, 10))
def test_breakeven_scales_linearly_with_power_price_and_efficiency(
    efficiency: float, power: float, hashvalue: float, fee: float, k: float
) -> None:
    base = econ.fleet_breakeven_price_usd(efficiency, power, hashvalue, fee)
    scaled_power = econ.fleet_breakeven_price_usd(efficiency, power * k, hashvalue, fee)
    scaled_eff = econ.fleet_breakeven_price_usd(efficiency * k, power, hashvalue, fee)
    assert math.isclose(scaled_power, base * k, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(scaled_eff, base * k, rel_tol=1e-9, abs_tol=1e-12)


@given(efficiencies, prices, hashvalues, pool_fees)
def test_what_a_mwh_earns_is_the_breakeven_power_price_per_mwh(
    efficiency: float, price: float, hashvalue: float, fee: float
) -> None:
    per_kwh = econ.breakeven_power_usd_per_kwh(efficiency, price, hashvalue, fee)
    assert math.isclose(econ.earnings_usd_per_mwh(per_kwh), per_kwh * 1000, rel_tol=1e-12)
    # At that power price the fleet's daily margin is zero: the curtailment price.
    margin = econ.daily_margin_usd_per_ph(efficiency, per_kwh, hashvalue, price, fee)
    scale = econ.hashprice_usd_per_ph_day(hashvalue, price) + 1e-9
    assert abs(margin) <= 1e-9 * max(scale, 1.0)


# --- a fleet of known hashrate, per day (DESIGN §4.1 "Fleets") ---------------------------------

HASHPRICE = econ.hashprice_usd_per_ph_day(HASHVALUE, PRICE_USD)  # $37.88/PH/day


@pytest.mark.parametrize(
    ("hashrate_ph", "efficiency", "power", "fee", "revenue", "cost", "margin"),
    [
        # 200 PH/s × $37.88 × 0.98 = $7,424; 200,000 TH × 0.024 × 17.5 × $0.05 = $4,200
        (200, 17.5, 0.05, 0.02, "7423.84", "4200.00", "3223.84"),
        (350, 17.5, 0.05, 0.02, "12991.71", "7350.00", "5641.71"),
        (50, 13.5, 0.05, 0.0, "1893.84", "810.00", "1083.84"),
        # 30 J/TH at $0.07 loses money on power alone (it breaks even at $123,559)
        (100, 30, 0.07, 0.0, "3787.67", "5040.00", "-1252.33"),
        (0, 17.5, 0.05, 0.02, "0.00", "0.00", "0.00"),
    ],
)
def test_fleet_money_per_day(
    hashrate_ph: float,
    efficiency: float,
    power: float,
    fee: float,
    revenue: str,
    cost: str,
    margin: str,
) -> None:
    got_revenue = econ.fleet_revenue_usd_per_day(hashrate_ph, HASHPRICE, fee)
    got_cost = econ.fleet_power_cost_usd_per_day(hashrate_ph, efficiency, power)
    got_margin = econ.fleet_margin_usd_per_day(got_revenue, got_cost)
    cents = Decimal("0.01")
    assert Decimal(got_revenue).quantize(cents) == Decimal(revenue)
    assert Decimal(got_cost).quantize(cents) == Decimal(cost)
    assert Decimal(got_margin).quantize(cents) == Decimal(margin)


def test_fleet_margin_per_day_is_zero_at_the_breakeven_price() -> None:
    be = econ.fleet_breakeven_price_usd(17.5, 0.05, HASHVALUE, POOL_FEE)  # $51,483
    hashprice = econ.hashprice_usd_per_ph_day(HASHVALUE, be)
    revenue = econ.fleet_revenue_usd_per_day(200, hashprice, POOL_FEE)
    cost = econ.fleet_power_cost_usd_per_day(200, 17.5, 0.05)
    assert econ.fleet_margin_usd_per_day(revenue, cost) == pytest.approx(0, abs=1e-6)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: econ.fleet_revenue_usd_per_day(-1, 37.88, 0.02), "hashrate_ph"),
        (lambda: econ.fleet_revenue_usd_per_day(200, math.nan, 0.02), "hashprice_usd_per_ph_day"),
        (lambda: econ.fleet_revenue_usd_per_day(200, 37.88, 1.0), "pool_fee"),
        (lambda: econ.fleet_power_cost_usd_per_day(math.inf, 17.5, 0.05), "hashrate_ph"),
        (lambda: econ.fleet_power_cost_usd_per_day(200, 0, 0.05), "efficiency_j_per_th"),
        (lambda: econ.fleet_margin_usd_per_day(math.nan, 1.0), "revenue_usd_per_day"),
    ],
)
def test_fleet_money_per_day_refuses_nonsense(call: object, name: str) -> None:
    with pytest.raises(EconomicsDomainError, match=name):
        call()  # type: ignore[operator]
