"""bot.currency: rates one poll implies, conversion, and how amounts read (DESIGN §4.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import currency
from bot import economics as econ
from bot.currency import Rate

HASHVALUE = econ.hashvalue_btc_per_th_day(152e12, 3.125, 0.02)
POLL = {"USD": 91_000.0, "EUR": 83_720.0}  # DESIGN §4.1: 0.92 EUR/USD


@pytest.mark.parametrize(
    ("eff", "power", "code", "fee", "usd", "local"),
    [
        # DESIGN §4.1: 17.5 J/TH at €0.05/kWh, 2% → $55,960 = €51,483.
        (17.5, 0.05, "EUR", 0.02, 55_960, 51_483),
        # US$ converts to itself: DESIGN §4's vectors are unchanged.
        (17.5, 0.05, "USD", 0.02, 51_483, 51_483),
        (20, 0.06, "USD", 0.02, 70_605, 70_605),
        # €0.046/kWh is $0.05/kWh at 0.92: the same fleet as DESIGN's $0.05.
        (17.5, 0.046, "EUR", 0.02, 51_483, 47_364),
    ],
)
def test_vectors(eff: float, power: float, code: str, fee: float, usd: int, local: int) -> None:
    rate = currency.rates(POLL, 1_000.0)[code]
    be_usd = econ.fleet_breakeven_price_usd(eff, rate.to_usd(power), HASHVALUE, fee)
    assert round(be_usd) == usd
    assert round(rate.from_usd(be_usd)) == local


def test_rates_from_one_poll() -> None:
    got = currency.rates({"USD": 91_000, "EUR": 83_720, "JPY": 14_105_000, "GBP": 0}, 5.0)
    assert set(got) == {"USD", "EUR", "JPY"}  # a zero price gives no rate
    assert got["EUR"] == Rate("EUR", pytest.approx(0.92), 5.0)
    assert got["JPY"].per_usd == pytest.approx(155.0)
    assert got["USD"].per_usd == 1.0


@pytest.mark.parametrize(
    "prices",
    [None, {}, {"EUR": 83_720}, {"USD": 0, "EUR": 83_720}, {"USD": float("nan"), "EUR": 1}],
)
def test_no_usd_no_rates(prices: dict[str, float] | None) -> None:
    assert currency.rates(prices, 5.0) == {}


def test_freshness_and_words() -> None:
    rate = Rate("EUR", 0.92, 1_000.0)
    assert rate.fresh(1_000.0) and rate.fresh(1_300.0)
    assert not rate.fresh(1_301.0)
    assert not rate.fresh(999.0)  # the clock went back: its age cannot be told
    assert currency.rate_words(rate, 1_180.0) == "0.92 EUR/USD, 3 min old"
    assert currency.rate_words(rate, 1_042.0) == "0.92 EUR/USD, 42s old"
    assert currency.rate_words(Rate("JPY", 155.04, 0), 7_200.0) == "155 JPY/USD, 2.0 h old"


@pytest.mark.parametrize(
    ("amount", "code", "cents", "text"),
    [
        (51_483.4, "EUR", False, "€51,483"),
        (-2.5, "GBP", True, "-£2.50"),
        (14_105_000, "JPY", True, "¥14,105,000"),
        (1_234.5, "CAD", False, "C$1,234"),
        (1_234.5, "CHF", True, "CHF 1,234.50"),
        (None, "EUR", False, "—"),
    ],
)
def test_money(amount: float | None, code: str, cents: bool, text: str) -> None:
    assert currency.money(amount, code, cents) == text


amounts = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False)
per_usd = st.floats(min_value=1e-3, max_value=1e4, allow_nan=False)


@given(amounts, per_usd, st.sampled_from(currency.CURRENCIES))
def test_a_round_trip_is_the_identity(amount: float, rate: float, code: str) -> None:
    r = Rate(code, 1.0 if code == "USD" else rate, 0.0)
    assert r.to_usd(r.from_usd(amount)) == pytest.approx(amount, rel=1e-12)
    assert r.from_usd(r.to_usd(amount)) == pytest.approx(amount, rel=1e-12)


@given(amounts, st.floats(min_value=1, max_value=1e7), st.floats(min_value=1, max_value=1e9))
def test_a_rate_from_prices_round_trips(amount: float, usd: float, local: float) -> None:
    rate = currency.rates({"USD": usd, "EUR": local}, 0.0)["EUR"]
    assert rate.to_usd(rate.from_usd(amount)) == pytest.approx(amount, rel=1e-12)
    # BTC's price converts exactly into the other: the rate is the ratio of the two.
    assert rate.from_usd(usd) == pytest.approx(local, rel=1e-12)


def test_a_stored_power_price_in_us_dollars() -> None:
    rates = currency.rates(POLL, 1_000.0)
    assert currency.power_usd(0.046, "EUR", rates) == pytest.approx(0.05)
    assert currency.power_usd(0.05, "USD", {}) == 0.05  # no rate needed
    assert currency.power_usd(0.0, "GBP", {}) == 0.0  # free power is free in any currency
    assert currency.power_usd(0.04, "GBP", rates) is None  # the poll did not quote GBP
    assert currency.power_usd(0.046, "EUR", rates, now=1_300.0) == pytest.approx(0.05)
    assert currency.power_usd(0.046, "EUR", rates, now=1_301.0) is None  # stale
