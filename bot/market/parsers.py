"""Parsers for the market APIs' real response bodies.

Each parser takes the HTTP status and body and returns a value, or raises SourceError with a short
reason. Bodies are untrusted: nothing here may raise anything but SourceError.
"""

from __future__ import annotations

import json
import math
from typing import Any

# A BTC price outside this range is nonsense from a broken source, not a market move.
MIN_PLAUSIBLE_USD = 0.01
MAX_PLAUSIBLE_USD = 10_000_000.0
SATS_PER_BTC = 100_000_000
# Block counts and heights: 10 million blocks is ~190 years away; a larger count is garbage (and
# would overflow SQLite's 64-bit INTEGER when stored).
MAX_PLAUSIBLE_BLOCKS = 10_000_000


class SourceError(Exception):
    """A source failed for this poll; the message is a short reason for people."""


def check_status(status: int) -> None:
    if status == 200:
        return
    reasons = {429: "rate limited (HTTP 429)", 451: "unavailable here (HTTP 451)"}
    raise SourceError(reasons.get(status, f"HTTP {status}"))


def load_json(body: bytes | str) -> Any:
    if not body or not body.strip():
        raise SourceError("empty body")
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if text.lstrip().startswith("<"):
        raise SourceError("HTML instead of JSON")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise SourceError("invalid JSON") from None


def dig(data: Any, *path: str | int) -> Any:
    """data[p0][p1]…, or SourceError naming the missing key."""
    for key in path:
        # Only JSON containers: indexing a string would turn "27712.1"[0] into a price of 2.
        if not isinstance(data, dict | list):
            raise SourceError(f"missing {key!r}")
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            raise SourceError(f"missing {key!r}") from None
    return data


def number(value: Any, what: str) -> float:
    """A finite float from a JSON number or numeric string (APIs send both)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SourceError(f"{what} is not a number")
    try:
        out = float(value)
    except ValueError:
        # repr() of odd characters can be 10x longer than the text: clip what is shown, too.
        shown = repr(str(value)[:20])
        raise SourceError(f"{what} is not a number: {shown[:40]}") from None
    except OverflowError:  # a JSON integer with hundreds of digits
        raise SourceError(f"{what} is not finite") from None
    if not math.isfinite(out):
        raise SourceError(f"{what} is not finite")
    return out


def price(value: Any) -> float:
    usd = number(value, "price")
    if usd <= 0:
        raise SourceError(f"price {usd:g} is not positive")
    if not MIN_PLAUSIBLE_USD <= usd <= MAX_PLAUSIBLE_USD:
        raise SourceError(f"price {usd:g} is implausible")
    return usd


def positive(value: Any, what: str) -> float:
    out = number(value, what)
    if out <= 0:
        raise SourceError(f"{what} {out:g} is not positive")
    return out


def block_count(value: Any, what: str) -> int:
    """A block count or height: a whole number within the plausible range."""
    out = number(value, what)
    if not 0 <= out <= MAX_PLAUSIBLE_BLOCKS:
        raise SourceError(f"{what} {out:g} is implausible")
    return int(out)


def finite(value: float, what: str) -> float:
    """A derived quantity (a product or ratio of finite inputs can still overflow)."""
    if not math.isfinite(value):
        raise SourceError(f"{what} is not finite")
    return value


# --- prices -------------------------------------------------------------------------------


def coinbase_price(status: int, body: bytes | str) -> float:
    check_status(status)
    data = load_json(body)
    if isinstance(data, dict) and data.get("errors"):
        raise SourceError(f"error: {str(data['errors'])[:80]}")
    return price(dig(data, "data", "amount"))


def kraken_price(status: int, body: bytes | str) -> float:
    check_status(status)
    data = load_json(body)
    errors = dig(data, "error")
    if errors:
        # A list of messages in the real API; anything else truthy is an error all the same.
        text = ", ".join(map(str, errors)) if isinstance(errors, list) else str(errors)
        raise SourceError(f"error: {text[:80]}")
    result = dig(data, "result")
    if not isinstance(result, dict) or len(result) != 1:
        raise SourceError("unexpected result")
    # The key is Kraken's own pair name (XXBTZUSD), not the one asked for.
    (ticker,) = result.values()
    return price(dig(ticker, "c", 0))


def bitstamp_price(status: int, body: bytes | str) -> float:
    check_status(status)
    return price(dig(load_json(body), "last"))


def coingecko_price(status: int, body: bytes | str) -> float:
    check_status(status)
    data = load_json(body)
    if isinstance(data, dict) and "error" in data:
        raise SourceError("error body")
    return price(dig(data, "bitcoin", "usd"))


def mempool_price(status: int, body: bytes | str) -> float:
    check_status(status)
    return price(dig(load_json(body), "USD"))


# The currencies mempool's /api/v1/prices quotes besides US$ (bot.currency.CURRENCIES).
FIAT_CODES = ("USD", "EUR", "GBP", "CAD", "CHF", "AUD", "JPY")


def mempool_btc_prices(status: int, body: bytes | str) -> dict[str, float]:
    """BTC's price in every currency of one answer; US$ must be there (every rate is against it).

    A currency that is missing, zero, negative or not a number is left out: that currency has no
    rate this poll, and nothing is filled in for it."""
    check_status(status)
    data = load_json(body)
    out = {"USD": price(dig(data, "USD"))}
    for code in FIAT_CODES[1:]:
        try:
            value = positive(dig(data, code), code)
        except SourceError:
            continue
        # The yen is the widest: a BTC under ¥1 or over ¥10 billion is a broken answer.
        if 1e-6 <= value / out["USD"] <= 1e4:
            out[code] = value
    return out


# --- network ------------------------------------------------------------------------------


def mempool_difficulty_adjustment(status: int, body: bytes | str) -> dict[str, float]:
    """Next retarget: percent, date (unix s), remaining blocks; and the previous one."""
    check_status(status)
    data = load_json(body)
    return {
        "next_adjustment_percent": number(dig(data, "difficultyChange"), "difficultyChange"),
        "next_adjustment_at": positive(dig(data, "estimatedRetargetDate"), "date") / 1000,
        "next_adjustment_blocks": block_count(dig(data, "remainingBlocks"), "remainingBlocks"),
        "previous_adjustment_percent": number(dig(data, "previousRetarget"), "previousRetarget"),
        "previous_adjustment_at": positive(dig(data, "previousTime"), "previousTime"),
    }


def mempool_hashrate(status: int, body: bytes | str) -> dict[str, float]:
    check_status(status)
    data = load_json(body)
    return {
        "difficulty": positive(dig(data, "currentDifficulty"), "difficulty"),
        "hashrate_hs": positive(dig(data, "currentHashrate"), "hashrate"),
    }


def mempool_tip_height(status: int, body: bytes | str) -> int:
    check_status(status)
    text = (body.decode("ascii", "replace") if isinstance(body, bytes) else body).strip()
    # isascii: str.isdigit() also accepts "²", which int() refuses.
    if not (text.isascii() and text.isdigit()):
        raise SourceError("tip height is not a number")
    if len(text) > 20:  # int() of thousands of digits is slow, and refused past 4,300
        raise SourceError("tip height is implausible")
    return block_count(int(text), "tip height")


def mempool_fees_per_block_btc(status: int, body: bytes | str) -> float:
    """Average fees per block over the window: totalFee / (endBlock − startBlock + 1)."""
    check_status(status)
    data = load_json(body)
    total_fee_sats = number(dig(data, "totalFee"), "totalFee")
    blocks = number(dig(data, "endBlock"), "endBlock") - number(dig(data, "startBlock"), "start")
    if blocks < 0 or total_fee_sats < 0:
        raise SourceError("inconsistent reward stats")
    return total_fee_sats / (blocks + 1) / SATS_PER_BTC


def blockchain_info_stats(status: int, body: bytes | str) -> dict[str, float]:
    """Fallback: difficulty, height and fees per block from blockchain.info's 24-hour stats."""
    check_status(status)
    data = load_json(body)
    mined = positive(dig(data, "n_blocks_mined"), "n_blocks_mined")
    fees_sats = number(dig(data, "total_fees_btc"), "total_fees_btc")  # satoshi, despite the name
    if fees_sats < 0:
        raise SourceError("negative fees")
    hashrate_ghs = positive(dig(data, "hash_rate"), "hash_rate")
    return {
        "difficulty": positive(dig(data, "difficulty"), "difficulty"),
        "hashrate_hs": finite(hashrate_ghs * 1e9, "hash_rate"),  # GH/s
        "tip_height": block_count(dig(data, "n_blocks_total"), "n_blocks_total"),
        "fees_per_block_btc": finite(fees_sats / mined / SATS_PER_BTC, "fees per block"),
    }


PRICE_PARSERS = {
    "coinbase": coinbase_price,
    "kraken": kraken_price,
    "bitstamp": bitstamp_price,
    "coingecko": coingecko_price,
    "mempool": mempool_price,
}

PRICE_PATHS = {
    "coinbase": "/v2/prices/BTC-USD/spot",
    "kraken": "/0/public/Ticker?pair=XBTUSD",
    "bitstamp": "/api/v2/ticker/btcusd/",
    "coingecko": "/api/v3/simple/price?ids=bitcoin&vs_currencies=usd",
    "mempool": "/api/v1/prices",
}

MEMPOOL_NETWORK_PATHS = {
    "adjustment": "/api/v1/difficulty-adjustment",
    "hashrate": "/api/v1/mining/hashrate/3d",
    "tip": "/api/blocks/tip/height",
    "fees": "/api/v1/mining/reward-stats/144",
}

BLOCKCHAIN_INFO_STATS_PATH = "/stats"
