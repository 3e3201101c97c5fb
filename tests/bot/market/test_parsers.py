"""The market parsers on the APIs' real bodies, on broken bodies, and on random input.

A parser either returns a plausible value or raises SourceError with a short reason; nothing else.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.market import parsers
from bot.market.parsers import SourceError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "market"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def source_error(parse: Callable[[int, bytes], Any], status: int, body: bytes | str) -> str:
    """The reason a parser gives; fails the test if it returns or raises anything else."""
    with pytest.raises(SourceError) as info:
        parse(status, body)
    reason = str(info.value)
    assert reason and "\n" not in reason and len(reason) <= 100, reason
    return reason


# --- the real bodies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, file, expected",
    [
        ("coinbase", "coinbase_v2_spot.json", 48_691.23),
        ("kraken", "kraken_ticker_xbtusd.json", 27_712.1),
        ("bitstamp", "bitstamp_ticker_btcusd.json", 26_216.0),
        ("coingecko", "coingecko_simple_price.json", 7_984.89),
        ("mempool", "mempool_prices.json", 43_753.0),
    ],
)
def test_price_parsers_read_the_real_bodies(source: str, file: str, expected: float) -> None:
    got = parsers.PRICE_PARSERS[source](200, fixture(file))
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=1e-12)


def test_mempool_difficulty_adjustment_real_body() -> None:
    got = parsers.mempool_difficulty_adjustment(200, fixture("mempool_difficulty_adjustment.json"))
    assert got == pytest.approx(
        {
            "next_adjustment_percent": 0.7843046881601534,
            "next_adjustment_at": 1_735_514_828.279,  # ms → s
            "next_adjustment_blocks": 1361,
            "previous_adjustment_percent": 4.429396745461176,
            "previous_adjustment_at": 1_734_312_810.0,  # already in s
        }
    )
    assert isinstance(got["next_adjustment_blocks"], int)


def test_mempool_hashrate_real_body() -> None:
    got = parsers.mempool_hashrate(200, fixture("mempool_hashrate_3d.json"))
    assert got == pytest.approx(
        {"difficulty": 31_251_101_365_711.12, "hashrate_hs": 252_033_247_355_212_300_000.0}
    )


def test_mempool_tip_height_real_body() -> None:
    got = parsers.mempool_tip_height(200, fixture("mempool_blocks_tip_height.txt"))
    assert got == 698_767
    assert isinstance(got, int)


def test_mempool_reward_stats_real_body() -> None:
    # totalFee 1,311,748,254 sat over blocks 736,556…736,655 (100 blocks)
    got = parsers.mempool_fees_per_block_btc(200, fixture("mempool_reward_stats_100.json"))
    assert got == pytest.approx(0.131_174_825_4)


def test_blockchain_info_stats_real_body() -> None:
    got = parsers.blockchain_info_stats(200, fixture("blockchain_info_stats.json"))
    assert got == pytest.approx(
        {
            "difficulty": 6_702_169_884_349.0,
            "hashrate_hs": 44_977_500_727.36728e9,  # GH/s → H/s
            "tip_height": 575_644,
            # total_fees_btc is satoshi despite its name: 11,648,437,530 sat over 135 blocks
            "fees_per_block_btc": 11_648_437_530 / 135 / 1e8,
        }
    )
    assert isinstance(got["tip_height"], int)


@pytest.mark.parametrize(
    "source, file, status, words",
    [
        ("kraken", "kraken_error.json", 200, "EQuery:Unknown asset pair"),
        ("coingecko", "coingecko_error_10012.json", 200, "error"),
        ("coingecko", "coingecko_error_10012.json", 400, "HTTP 400"),
        ("coinbase", "binance_451.json", 451, "unavailable here (HTTP 451)"),
        # The Exchange ticker is not the spot endpoint the poller asks: no `data.amount`.
        ("coinbase", "coinbase_exchange_ticker.json", 200, "missing 'data'"),
        ("mempool", "mempool_historical_price_eur.json", 200, "missing 'USD'"),
    ],
)
def test_real_error_bodies_are_source_errors(
    source: str, file: str, status: int, words: str
) -> None:
    assert words in source_error(parsers.PRICE_PARSERS[source], status, fixture(file))


# --- broken bodies, per price source --------------------------------------------------------

# Each source's real shape, with PRICE where the price goes as a raw JSON token.
TEMPLATE_BODIES = {
    "coinbase": '{"data": {"base": "BTC", "currency": "USD", "amount": PRICE}}',
    "kraken": (
        '{"error": [], "result": {"XXBTZUSD": {"a": ["1", "1", "1.000"], "c": [PRICE, "0.01"],'
        ' "o": "1"}}}'
    ),
    "bitstamp": '{"timestamp": "1686068944", "last": PRICE, "bid": "26208"}',
    "coingecko": '{"bitcoin": {"usd": PRICE}}',
    "mempool": '{"time": 1703252411, "USD": PRICE, "EUR": 40545}',
}
SHAPES: dict[str, Callable[[str], str]] = {
    source: (lambda token, body=body: body.replace("PRICE", token))
    for source, body in TEMPLATE_BODIES.items()
}
SOURCES = tuple(SHAPES)
HTML = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
BINANCE_451 = (
    '{"code":0,"msg":"Service unavailable from a restricted location according to '
    "'b. Eligibility' in https://www.binance.com/en/terms.\"}"
)
KRAKEN_ERROR = '{"error":["EQuery:Unknown asset pair"]}'
COINGECKO_10012 = (
    '{"error":{"status":{"error_code":10012,"error_message":"Your request exceeds the allowed'
    " time range. Public API users are limited to querying historical data within the past"
    ' 365 days."}}}'
)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    "token, expected",
    [("91234.5", 91_234.5), ('"91234.50"', 91_234.5), ("91234", 91_234.0), ("1e5", 100_000.0)],
)
def test_shapes_hold_a_good_price(source: str, token: str, expected: float) -> None:
    """The control for the table below: the same shapes with a good price parse."""
    assert parsers.PRICE_PARSERS[source](200, SHAPES[source](token)) == expected


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    "token, words",
    [
        ("0", "price 0 is not positive"),
        ('"0.00"', "price 0 is not positive"),
        ("-91000", "price -91000 is not positive"),
        ('"-1"', "price -1 is not positive"),
        ("1e12", "price 1e+12 is implausible"),
        ('"1000000000000"', "price 1e+12 is implausible"),
        ("0.001", "price 0.001 is implausible"),
        ('"abc"', "price is not a number: 'abc'"),
        ('""', "price is not a number"),
        ("null", "price is not a number"),
        ("true", "price is not a number"),
        ("[91000]", "price is not a number"),
        ('{"usd": 91000}', "price is not a number"),
        ("NaN", "price is not finite"),
        ('"NaN"', "price is not finite"),
        ("Infinity", "price is not finite"),
        ("-Infinity", "price is not finite"),
        ('"inf"', "price is not finite"),
        ("1" + "0" * 400, "price is not finite"),  # an integer no float can hold
    ],
)
def test_bad_price_values(source: str, token: str, words: str) -> None:
    assert words in source_error(parsers.PRICE_PARSERS[source], 200, SHAPES[source](token))


# (name, status, body, reason words for every source, except where SPECIFIC says otherwise)
BAD_BODIES: list[tuple[str, int, str | bytes, str]] = [
    ("html error page", 200, HTML, "HTML instead of JSON"),
    ("html with leading blanks", 200, "\n  " + HTML, "HTML instead of JSON"),
    ("html 502", 502, HTML, "HTTP 502"),
    ("empty body", 200, b"", "empty body"),
    ("blank body", 200, " \r\n\t", "empty body"),
    ("truncated json", 200, '{"data": {"amount": "9123', "invalid JSON"),
    ("not json", 200, "OK", "invalid JSON"),
    ("binary junk", 200, b"\xff\xfe\x00\x81", "invalid JSON"),
    ("deep nesting", 200, "[" * 100_000, "invalid JSON"),
    ("http 429", 429, '{"message": "Too many requests"}', "rate limited (HTTP 429)"),
    ("http 451", 451, BINANCE_451, "unavailable here (HTTP 451)"),
    ("http 500", 500, "Internal Server Error", "HTTP 500"),
    ("http 503 empty", 503, b"", "HTTP 503"),
    ("http 404", 404, "not found", "HTTP 404"),
    ("http 200 list", 200, "[]", "missing"),
    ("list of objects", 200, "[{}]", "missing"),
    ("a bare number", 200, "91000", "missing"),
    ("a bare string", 200, '"91000"', "missing"),
    ("null", 200, "null", "missing"),
    ("empty object", 200, "{}", "missing"),
    ("kraken error", 200, KRAKEN_ERROR, "missing"),
    ("coingecko 10012", 200, COINGECKO_10012, "missing"),
]
# Where a source's own parser gives a more specific reason.
SPECIFIC = {
    ("kraken", "kraken error"): "error: EQuery:Unknown asset pair",
    ("kraken", "coingecko 10012"): "error",
    ("coingecko", "coingecko 10012"): "error body",
    ("coingecko", "kraken error"): "error body",
    ("coinbase", "empty object"): "missing 'data'",
    ("kraken", "empty object"): "missing 'error'",
    ("bitstamp", "empty object"): "missing 'last'",
    ("coingecko", "empty object"): "missing 'bitcoin'",
    ("mempool", "empty object"): "missing 'USD'",
}


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("name, status, body, words", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_bodies(source: str, name: str, status: int, body: str | bytes, words: str) -> None:
    expected = SPECIFIC.get((source, name), words)
    for payload in (body, body.encode() if isinstance(body, str) else body):
        assert expected in source_error(parsers.PRICE_PARSERS[source], status, payload)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("status", [201, 204, 301, 400, 403, 418, 429, 451, 500, 502, 503, 504])
def test_non_200_status_fails_even_with_a_good_body(source: str, status: int) -> None:
    assert f"HTTP {status}" in source_error(
        parsers.PRICE_PARSERS[source], status, SHAPES[source]("91000")
    )


def test_a_list_instead_of_the_price_object() -> None:
    # Kraken's ticker arrays, and Coinbase's data, sent as lists: a missing key, not a crash.
    assert "missing 'amount'" in source_error(parsers.coinbase_price, 200, '{"data": ["1"]}')
    assert "missing 'result'" in source_error(parsers.kraken_price, 200, '{"error": []}')
    assert "unexpected result" in source_error(
        parsers.kraken_price, 200, '{"error": [], "result": [["91000"]]}'
    )
    assert "unexpected result" in source_error(
        parsers.kraken_price,
        200,
        '{"error": [], "result": {"XXBTZUSD": {"c": ["1"]}, "XETHZUSD": {"c": ["2"]}}}',
    )
    assert "missing 'usd'" in source_error(parsers.coingecko_price, 200, '{"bitcoin": [91000]}')


def test_a_string_is_not_indexed_as_a_list() -> None:
    # "c": "27712.1" must not be read as c[0] == "2".
    body = '{"error": [], "result": {"XXBTZUSD": {"c": "27712.10000"}}}'
    assert "missing 0" in source_error(parsers.kraken_price, 200, body)


@pytest.mark.parametrize(
    "body, words",
    [
        ('{"error": ["EGeneral:Too many requests", "EAPI:Rate limit exceeded"]}',
         "error: EGeneral:Too many requests, EAPI:Rate limit exceeded"),
        ('{"error": "EService:Unavailable"}', "error: EService:Unavailable"),
        ('{"error": true, "result": {"XXBTZUSD": {"c": ["91000.1", "0.01"]}}}', "error: True"),
        ('{"error": 5}', "error: 5"),
        ('{"error": ["' + "E" * 300 + '"]}', "error: EEEE"),
    ],
)  # fmt: skip
def test_kraken_error_of_any_shape(body: str, words: str) -> None:
    assert words in source_error(parsers.kraken_price, 200, body)


def test_coinbase_errors_body() -> None:
    body = '{"errors": [{"id": "not_found", "message": "Invalid currency"}]}'
    assert "not_found" in source_error(parsers.coinbase_price, 200, body)


# --- broken network bodies ----------------------------------------------------------------

ADJUSTMENT = {
    "progressPercent": 32.5,
    "difficultyChange": 0.78,
    "estimatedRetargetDate": 1_735_514_828_279,
    "remainingBlocks": 1361,
    "remainingTime": 811_481_279,
    "previousRetarget": 4.43,
    "previousTime": 1_734_312_810,
    "nextRetargetHeight": 876_960,
    "timeAvg": 596_239,
}
HASHRATE = {"hashrates": [], "difficulty": [], "currentHashrate": 6.9e20, "currentDifficulty": 1e14}
REWARD_STATS = {
    "startBlock": 736_556,
    "endBlock": 736_655,
    "totalReward": "63811748254",
    "totalFee": "1311748254",
    "totalTx": "164216",
}
STATS = {
    "hash_rate": 4.5e10,
    "total_fees_btc": 11_648_437_530,
    "n_blocks_mined": 135,
    "n_blocks_total": 575_644,
    "difficulty": 6_702_169_884_349,
}


def with_(base: dict[str, Any], **changes: Any) -> str:
    return json.dumps({**base, **changes})


def without(base: dict[str, Any], key: str) -> str:
    return json.dumps({k: v for k, v in base.items() if k != key})


@pytest.mark.parametrize(
    "parse, status, body, words",
    [
        (parsers.mempool_difficulty_adjustment, 200, without(ADJUSTMENT, "difficultyChange"),
         "missing 'difficultyChange'"),
        (parsers.mempool_difficulty_adjustment, 200, with_(ADJUSTMENT, estimatedRetargetDate=0),
         "date 0 is not positive"),
        (parsers.mempool_difficulty_adjustment, 200, with_(ADJUSTMENT, remainingBlocks="many"),
         "remainingBlocks is not a number"),
        (parsers.mempool_difficulty_adjustment, 200, with_(ADJUSTMENT, remainingBlocks=1e300),
         "remainingBlocks 1e+300 is implausible"),
        (parsers.mempool_difficulty_adjustment, 200, with_(ADJUSTMENT, remainingBlocks=-1),
         "remainingBlocks -1 is implausible"),
        (parsers.mempool_difficulty_adjustment, 500, json.dumps(ADJUSTMENT), "HTTP 500"),
        (parsers.mempool_hashrate, 200, with_(HASHRATE, currentDifficulty=-1),
         "difficulty -1 is not positive"),
        (parsers.mempool_hashrate, 200, with_(HASHRATE, currentHashrate=None),
         "hashrate is not a number"),
        (parsers.mempool_hashrate, 200, HTML, "HTML instead of JSON"),
        (parsers.mempool_tip_height, 200, "", "tip height is not a number"),
        (parsers.mempool_tip_height, 200, "-5", "tip height is not a number"),
        (parsers.mempool_tip_height, 200, "698767.5", "tip height is not a number"),
        (parsers.mempool_tip_height, 200, "²", "tip height is not a number"),
        (parsers.mempool_tip_height, 200, HTML, "tip height is not a number"),
        (parsers.mempool_tip_height, 200, "9" * 30, "tip height is implausible"),
        (parsers.mempool_tip_height, 200, "9" * 5000, "tip height is implausible"),
        (parsers.mempool_tip_height, 429, "698767", "rate limited"),
        (parsers.mempool_fees_per_block_btc, 200, with_(REWARD_STATS, endBlock=1),
         "inconsistent reward stats"),
        (parsers.mempool_fees_per_block_btc, 200, with_(REWARD_STATS, totalFee="-1"),
         "inconsistent reward stats"),
        (parsers.mempool_fees_per_block_btc, 200, without(REWARD_STATS, "totalFee"),
         "missing 'totalFee'"),
        (parsers.blockchain_info_stats, 200, with_(STATS, n_blocks_mined=0),
         "n_blocks_mined 0 is not positive"),
        (parsers.blockchain_info_stats, 200, with_(STATS, total_fees_btc=-1), "negative fees"),
        (parsers.blockchain_info_stats, 200, with_(STATS, difficulty="NaN"),
         "difficulty is not finite"),
        (parsers.blockchain_info_stats, 200, with_(STATS, n_blocks_total=2**70),
         "n_blocks_total 1.18059e+21 is implausible"),
        (parsers.blockchain_info_stats, 200, with_(STATS, hash_rate=1e300),
         "hash_rate is not finite"),
        (parsers.blockchain_info_stats, 200, with_(STATS, total_fees_btc=1e308, n_blocks_mined=1e-9),
         "fees per block is not finite"),
        (parsers.blockchain_info_stats, 200, "[]", "missing"),
    ],
)  # fmt: skip
def test_bad_network_bodies(
    parse: Callable[[int, bytes], Any], status: int, body: str, words: str
) -> None:
    assert words in source_error(parse, status, body)


def test_reward_stats_of_one_block() -> None:
    body = with_(REWARD_STATS, startBlock=10, endBlock=10, totalFee="2000000")
    assert parsers.mempool_fees_per_block_btc(200, body) == pytest.approx(0.02)


# --- random input -------------------------------------------------------------------------

ALL_PARSERS: dict[str, Callable[[int, bytes], Any]] = {
    **parsers.PRICE_PARSERS,
    "mempool_adjustment": parsers.mempool_difficulty_adjustment,
    "mempool_hashrate": parsers.mempool_hashrate,
    "mempool_tip": parsers.mempool_tip_height,
    "mempool_fees": parsers.mempool_fees_per_block_btc,
    "blockchain_info": parsers.blockchain_info_stats,
}
# A real-shaped body per parser, for random values dropped into real keys.
TEMPLATES: dict[str, Any] = {
    "coinbase": {"data": {"base": "BTC", "currency": "USD", "amount": "91000.12"}},
    "kraken": {"error": [], "result": {"XXBTZUSD": {"c": ["91000.1", "0.01"], "o": "90000"}}},
    "bitstamp": {"timestamp": "1686068944", "last": "91000"},
    "coingecko": {"bitcoin": {"usd": 91000.5}},
    "mempool": {"time": 1703252411, "USD": 91000},
    "mempool_adjustment": ADJUSTMENT,
    "mempool_hashrate": HASHRATE,
    "mempool_fees": REWARD_STATS,
    "blockchain_info": STATS,
}

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(allow_nan=True, allow_infinity=True).map(str)
    | st.integers().map(str)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def check_outcome(name: str, status: int, body: bytes | str) -> None:
    """Only SourceError, or a value every later step can use."""
    try:
        got = ALL_PARSERS[name](status, body)
    except SourceError as exc:
        assert str(exc) and "\n" not in str(exc) and len(str(exc)) <= 100
        return
    assert status == 200
    if name in parsers.PRICE_PARSERS:
        assert isinstance(got, float)
        assert parsers.MIN_PLAUSIBLE_USD <= got <= parsers.MAX_PLAUSIBLE_USD
    elif name == "mempool_tip":
        assert isinstance(got, int) and 0 <= got <= parsers.MAX_PLAUSIBLE_BLOCKS
    elif name == "mempool_fees":
        assert isinstance(got, float) and math.isfinite(got) and got >= 0
    else:
        assert isinstance(got, dict) and got
        for key, value in got.items():
            assert isinstance(value, int | float) and math.isfinite(value), (key, value)
            # Integers go into SQLite INTEGER columns: they must fit in 64 bits.
            assert not isinstance(value, int) or abs(value) < 2**63, (key, value)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(ALL_PARSERS)),
    status=st.sampled_from([200, 200, 200, 429, 500]),
    body=st.binary(max_size=200),
)
def test_random_bytes(name: str, status: int, body: bytes) -> None:
    check_outcome(name, status, body)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(ALL_PARSERS)), value=json_values)
def test_random_json(name: str, value: Any) -> None:
    check_outcome(name, 200, json.dumps(value).encode())


def _replace(doc: Any, path: list[Any], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[head] = _replace(copy[head], rest, value)
    return copy


def _paths(doc: Any, prefix: tuple = ()) -> list[list[Any]]:
    """Every key path in a JSON document, containers included."""
    out = [list(prefix)] if prefix else []
    items = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    )
    for key, child in items:
        out.extend(_paths(child, (*prefix, key)))
    return out


@st.composite
def mutated_bodies(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(TEMPLATES)))
    template = TEMPLATES[name]
    path = draw(st.sampled_from(_paths(template)))
    return name, json.dumps(_replace(template, path, draw(json_values)))


@settings(max_examples=500, deadline=None)
@given(case=mutated_bodies())
# Found by this test: astral characters made the quoted value push the message past 100 characters.
@example(
    case=(
        "blockchain_info",
        '{"hash_rate": 45000000000.0, "total_fees_btc": "000000000\\u001f\\u001f'
        + "\\ud806\\udd5a" * 4
        + '", "n_blocks_mined": 135, "n_blocks_total": 575644, "difficulty": 6702169884349}',
    )
)
def test_random_values_in_real_shapes(case: tuple[str, str]) -> None:
    name, body = case
    check_outcome(name, 200, body)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=12))
def test_random_tip_height_text(text: str) -> None:
    check_outcome("mempool_tip", 200, text)
    check_outcome("mempool_tip", 200, text.encode())


# --- BTC in other currencies (mempool /api/v1/prices) ----------------------------------------


def test_mempool_btc_prices_real_body() -> None:
    got = parsers.mempool_btc_prices(200, fixture("mempool_prices.json"))
    assert got == {
        "USD": 43_753.0,
        "EUR": 40_545.0,
        "GBP": 37_528.0,
        "CAD": 58_123.0,
        "CHF": 37_438.0,
        "AUD": 64_499.0,
        "JPY": 6_218_915.0,
    }


@pytest.mark.parametrize(
    "body, kept",
    [
        ('{"time": 1, "USD": 91000, "GBP": 71890}', {"USD", "GBP"}),  # EUR missing
        ('{"USD": 91000, "EUR": 0, "GBP": 71890}', {"USD", "GBP"}),
        ('{"USD": 91000, "EUR": -83720, "GBP": 71890}', {"USD", "GBP"}),
        ('{"USD": 91000, "EUR": "abc", "GBP": null}', {"USD"}),
        ('{"USD": 91000, "EUR": true, "JPY": 1e400}', {"USD"}),
        ('{"USD": 91000, "EUR": 0.000001, "JPY": 1e12}', {"USD"}),  # implausible rates
        ('{"USD": "91000", "EUR": "83720"}', {"USD", "EUR"}),
    ],
)
def test_mempool_btc_prices_leave_out_bad_currencies(body: str, kept: set[str]) -> None:
    assert set(parsers.mempool_btc_prices(200, body)) == kept


@pytest.mark.parametrize(
    "status, body, words",
    [
        (200, "<html><body>502 Bad Gateway</body></html>", "HTML"),
        (200, '{"EUR": 83720}', "missing 'USD'"),
        (200, '{"USD": 0, "EUR": 83720}', "not positive"),
        (200, '{"USD": -91000, "EUR": 83720}', "not positive"),
        (200, "", "empty"),
        (503, '{"USD": 91000, "EUR": 83720}', "HTTP 503"),
        (200, "[91000]", "missing 'USD'"),
    ],
)
def test_mempool_btc_prices_without_usd_give_nothing(status: int, body: str, words: str) -> None:
    with pytest.raises(SourceError, match=words):
        parsers.mempool_btc_prices(status, body)
