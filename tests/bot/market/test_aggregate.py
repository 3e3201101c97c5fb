"""The aggregate price of DESIGN §5: median, discard > 5% from it, median again, fresh with ≥ 2."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.market.aggregate import MIN_AGREEING, OUTLIER_FRACTION, Aggregate, aggregate
from bot.market.snapshot import Quote

NAMES = ("coinbase", "kraken", "bitstamp", "coingecko", "mempool")


def quotes(*prices: float | str | None) -> list[Quote]:
    """One quote per source in NAMES order: a number is a price, a string an error."""
    out = []
    for name, p in zip(NAMES, prices, strict=False):
        if isinstance(p, str) or p is None:
            out.append(Quote(name, None, p or "timed out", 5000.0))
        else:
            out.append(Quote(name, float(p), None, 120.0))
    return out


def test_the_design_constants() -> None:
    assert OUTLIER_FRACTION == 0.05
    assert MIN_AGREEING == 2


@pytest.mark.parametrize(
    "prices, expected",
    [
        pytest.param(
            (91_000, 91_010, 90_990, 91_020, 90_980),
            Aggregate(91_000, True, NAMES, ()),
            id="five agree",
        ),
        pytest.param(
            (91_000, 1, 91_010, 90_990, 91_020),
            # First median 91,000; the $1 liar goes; median of the four that remain.
            Aggregate(91_005, True, ("coinbase", "bitstamp", "coingecko", "mempool"), ("kraken",)),
            id="one $1 liar among five",
        ),
        pytest.param(
            (91_000, 200_000, 91_010, 90_990, 91_020),
            Aggregate(91_005, True, ("coinbase", "bitstamp", "coingecko", "mempool"), ("kraken",)),
            id="one liar far above among five",
        ),
        pytest.param(
            (91_000, 1, 2, 90_990, 91_020),
            # Three honest sources out-vote two liars.
            Aggregate(91_000, True, ("coinbase", "coingecko", "mempool"), ("kraken", "bitstamp")),
            id="two liars among five",
        ),
        pytest.param(
            (91_000, 1, "timed out", "HTTP 500", "rate limited (HTTP 429)"),
            # The median of two is their midpoint; both are far from it: nothing agrees.
            Aggregate(None, False, (), ("coinbase", "kraken")),
            id="two sources, one lies $1",
        ),
        pytest.param(
            (91_000, 103_000, "unreachable", "unreachable", "unreachable"),
            # Median 97,000: each is 6.2% away.
            Aggregate(None, False, (), ("coinbase", "kraken")),
            id="two sources 12% apart",
        ),
        pytest.param(
            (91_000, 91_500, "unreachable", "unreachable", "unreachable"),
            Aggregate(91_250, True, ("coinbase", "kraken"), ()),
            id="two sources agree",
        ),
        pytest.param(
            (91_000, "timed out", "HTTP 500", "invalid JSON", "unreachable"),
            # A lone quote is still shown, but cannot move an alert.
            Aggregate(91_000, False, ("coinbase",), ()),
            id="one source only",
        ),
        pytest.param(
            ("timed out", "HTTP 500", "invalid JSON", "unreachable", "HTTP 451"),
            Aggregate(None, False, (), ()),
            id="all failed",
        ),
        pytest.param((), Aggregate(None, False, (), ()), id="no sources"),
        pytest.param(
            (1_000, 1_000, 1_000, 1_050, 950),
            # 1,050 and 950 are exactly 5% from the median 1,000: kept.
            Aggregate(1_000, True, NAMES, ()),
            id="exactly 5% either side is kept",
        ),
        pytest.param(
            (1_000, 1_000, 1_000, 1_050.01, 949.99),
            Aggregate(1_000, True, ("coinbase", "kraken", "bitstamp"), ("coingecko", "mempool")),
            id="just past 5% is discarded",
        ),
        pytest.param(
            (1_000, 1_050, "HTTP 500", "HTTP 500", "HTTP 500"),
            # Median 1,025: each is 2.4% away.
            Aggregate(1_025, True, ("coinbase", "kraken"), ()),
            id="two sources 5% apart agree",
        ),
    ],
)
def test_aggregate_table(prices: tuple, expected: Aggregate) -> None:
    got = aggregate(quotes(*prices))
    assert got == expected


def test_a_quote_with_an_error_is_ignored_even_if_it_has_a_price() -> None:
    qs = [*quotes(91_000, 91_010), Quote("bitstamp", 1.0, "HTTP 500", 10.0)]
    assert aggregate(qs) == Aggregate(91_005, True, ("coinbase", "kraken"), ())


def test_accepts_any_iterable() -> None:
    assert aggregate(iter(quotes(91_000, 91_010, 90_990))).price_usd == 91_000


prices_st = st.floats(min_value=1, max_value=1e7, allow_nan=False)
quote_lists = st.lists(st.one_of(prices_st, st.just("timed out")), min_size=0, max_size=5).map(
    lambda ps: quotes(*ps)
)


@given(quote_lists, st.randoms())
def test_properties(qs: list[Quote], rnd: random.Random) -> None:
    got = aggregate(qs)
    priced = {q.source: q.price_usd for q in qs if q.error is None}
    # Every priced source is either used or discarded, never both; failed ones are neither.
    assert set(got.used) | set(got.discarded) == set(priced)
    assert not set(got.used) & set(got.discarded)
    assert got.fresh == (len(got.used) >= 2)
    if got.used:
        kept = [priced[s] for s in got.used]
        assert min(kept) <= got.price_usd <= max(kept)
    else:
        assert got.price_usd is None
    # The order the sources answered in does not matter.
    shuffled = list(qs)
    rnd.shuffle(shuffled)
    again = aggregate(shuffled)
    assert (again.price_usd, again.fresh) == (got.price_usd, got.fresh)
    assert set(again.used) == set(got.used)
