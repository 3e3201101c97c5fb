"""Tables for commands/parsing.py: the forgiving forms people type, and what is refused and why."""

from __future__ import annotations

import re

import pytest

from commands import parsing
from commands.parsing import ParseError


@pytest.mark.parametrize(
    ("text", "usd"),
    [
        ("74600", 74_600),
        ("74,600", 74_600),
        ("$74,600", 74_600),
        ("$74.6k", 74_600),
        ("74.6K", 74_600),
        ("$ 74600", 74_600),
        ("74600 USD", 74_600),
        ("74600usd", 74_600),
        ("74600.50", 74_600.5),
        ("1,000,000.5", 1_000_000.5),
        ("1.2m", 1_200_000),
        ("1.2M", 1_200_000),
        ("$.5k", 500),
        ("+5", 5),
        (" 61000 ", 61_000),
    ],
)
def test_usd_reads(text: str, usd: float) -> None:
    assert parsing.usd(text) == pytest.approx(usd)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("0", "more than zero"),
        ("-5", "more than zero"),
        ("$0k", "more than zero"),
        ("7,46,00", "a dollar amount"),  # commas only in groups of three
        ("74,6000", "a dollar amount"),
        ("74 600", "a dollar amount"),
        ("$74.6kk", "a dollar amount"),
        ("1e5", "a dollar amount"),
        ("inf", "a dollar amount"),
        ("nan", "a dollar amount"),
        ("abc", "a dollar amount"),
        ("$", "a dollar amount"),
        ("", "a dollar amount"),
        ("9" * 400, "a dollar amount"),  # float('9'*400) is inf: refused, not stored
    ],
)
def test_usd_refuses(text: str, why: str) -> None:
    with pytest.raises(ParseError, match=why) as exc:
        parsing.usd(text)
    assert exc.value.bad == text


@pytest.mark.parametrize(
    ("text", "j_per_th"),
    [
        ("17.5", 17.5),
        ("17.5J/TH", 17.5),
        ("17.5 J/TH", 17.5),
        ("17.5j/th", 17.5),
        ("17.5 W/TH", 17.5),  # watts per TH/s is the same number
        ("17.5 J/TH ", 17.5),
        ("1", 1),
        ("500", 500),
    ],
)
def test_efficiency_reads(text: str, j_per_th: float) -> None:
    assert parsing.efficiency_j_per_th(text) == j_per_th


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("0.5", "between 1 and 500"),
        ("501", "between 1 and 500"),
        ("-17", "between 1 and 500"),
        ("17,5", "fleet efficiency"),  # a decimal comma is not a thousands separator
        ("1e1", "fleet efficiency"),
        ("nan", "fleet efficiency"),
        ("abc", "fleet efficiency"),
        ("", "fleet efficiency"),
    ],
)
def test_efficiency_refuses(text: str, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        parsing.efficiency_j_per_th(text)


@pytest.mark.parametrize(
    ("text", "usd_per_kwh"),
    [
        ("0.05", 0.05),
        ("$0.05", 0.05),
        ("0.05$", 0.05),
        ("0.05/kWh", 0.05),
        ("0.05 /kWh", 0.05),
        ("$0.05/kwh", 0.05),
        ("0.05$/kWh", 0.05),
        ("0.05kWh", 0.05),  # `0.05 kWh` arrives as one token (tokens() joins the unit)
        ("5c", 0.05),
        ("5C", 0.05),
        ("5 c", 0.05),
        ("5¢", 0.05),
        ("5c/kWh", 0.05),
        ("5.5¢/kWh", 0.055),
        ("99c", 0.99),
        ("0.999", 0.999),
        ("0", 0.0),  # free power (flare gas) is a real case
    ],
)
def test_power_reads(text: str, usd_per_kwh: float) -> None:
    assert parsing.power_usd_per_kwh(text) == pytest.approx(usd_per_kwh)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("-0.01", "cannot be negative"),
        ("1", "more than any grid charges — for 1 cents write `1c`"),
        ("5", "for 5 cents write `5c`"),
        ("c", "a power price per kWh"),
        ("abc", "a power price per kWh"),
        ("", "a power price per kWh"),
    ],
)
def test_power_refuses(text: str, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        parsing.power_usd_per_kwh(text)


def test_power_in_cents_over_a_dollar_does_not_suggest_cents_again() -> None:
    with pytest.raises(ParseError) as exc:
        parsing.power_usd_per_kwh("100c")
    assert "more than any grid charges" in str(exc.value)
    assert "write `1c`" not in str(exc.value)


@pytest.mark.parametrize(
    ("text", "fraction"),
    [("2", 0.02), ("2%", 0.02), ("2 %", 0.02), ("0.5%", 0.005), ("0", 0.0), ("99.9", 0.999)],
)
def test_pool_fee_reads_percent(text: str, fraction: float) -> None:
    assert parsing.pool_fee(text) == pytest.approx(fraction)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("100", "under 100%"),
        ("-1", "at least 0%"),
        ("%", "pool fee in percent"),
        ("2%%", "pool fee in percent"),
        ("abc", "pool fee in percent"),
    ],
)
def test_pool_fee_refuses(text: str, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        parsing.pool_fee(text)


@pytest.mark.parametrize(
    ("text", "ph"),
    [("350", 350), ("350PH/s", 350), ("350 PH", 350), ("350ph", 350), ("1,000", 1000)],
)
def test_hashrate_reads(text: str, ph: float) -> None:
    assert parsing.hashrate_ph(text) == ph


@pytest.mark.parametrize("text", ["0", "-1", "abc", "", "350 EH"])
def test_hashrate_refuses(text: str) -> None:
    with pytest.raises(ParseError, match="hashrate in PH/s"):
        parsing.hashrate_ph(text)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1m", 60),
        ("30m", 1800),
        ("10mins", 600),
        ("4h", 14_400),
        ("4 h", 14_400),
        ("4hours", 14_400),
        ("1.5h", 5400),
        ("1d", 86_400),
        ("2w", 1_209_600),
        ("30d", 2_592_000),
        ("4H", 14_400),
    ],
)
def test_duration_reads(text: str, seconds: float) -> None:
    assert parsing.duration_s(text) == seconds


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("0.5m", "between 1 minute and 30 days"),
        ("31d", "between 1 minute and 30 days"),
        ("5w", "between 1 minute and 30 days"),
        ("59s", "a duration such as"),
        ("4", "a duration such as"),
        ("abc", "a duration such as"),
        ("", "a duration such as"),
    ],
)
def test_duration_refuses(text: str, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        parsing.duration_s(text)


@pytest.mark.parametrize(
    ("text", "quarter"),
    [("2025-Q3", "2025-Q3"), ("2025q3", "2025-Q3"), ("Q3 2025", "2025-Q3"), ("q3-2025", "2025-Q3")],
)
def test_quarter_reads(text: str, quarter: str) -> None:
    assert parsing.quarter(text) == quarter


@pytest.mark.parametrize("text", ["2025-Q5", "2025", "Q3", "25-Q3", ""])
def test_quarter_refuses(text: str) -> None:
    with pytest.raises(ParseError, match="a quarter such as `2025-Q3`"):
        parsing.quarter(text)


@pytest.mark.parametrize(
    ("text", "toks"),
    [
        ("", []),
        ("   ", []),
        ("17.5 0.05 2", ["17.5", "0.05", "2"]),
        ("17.5 J/TH 0.05 2%", ["17.5J/TH", "0.05", "2%"]),
        ("17.5 j/th 5 c 2 %", ["17.5j/th", "5c", "2%"]),
        ("17.5 J/TH 0.05 $/kWh", ["17.5J/TH", "0.05$/kWh"]),
        ("fleet 17.5 0.05 hashrate 350 PH/s", ["fleet", "17.5", "0.05", "hashrate", "350PH/s"]),
        ('add "Acme Mining" cash=61000', ["add", "Acme Mining", "cash=61000"]),
        ("add “Acme Mining” cash=61000", ["add", "Acme Mining", "cash=61000"]),  # curly quotes
        ("% 2", ["%", "2"]),  # a unit with no number before it stays a token of its own
    ],
)
def test_tokens(text: str, toks: list[str]) -> None:
    assert parsing.tokens(text) == toks


def test_tokens_unclosed_quote_quotes_the_text() -> None:
    with pytest.raises(ParseError, match="a quote is not closed") as exc:
        parsing.tokens('add "Acme cash=1')
    assert exc.value.bad == 'add "Acme cash=1'


@pytest.mark.parametrize(
    ("toks", "words", "pairs"),
    [
        (["Acme", "cash=61000"], ["Acme"], {"cash": "61000"}),
        (["Acme", "All-In=98k", "period=2025-Q3"], ["Acme"], {"allin": "98k", "period": "2025-Q3"}),
        (["source=https://x.example/?a=b&c=d"], [], {"source": "https://x.example/?a=b&c=d"}),
        (["=x", "1=2"], ["=x", "1=2"], {}),  # not key=value: a key is letters
    ],
)
def test_key_values(toks: list[str], words: list[str], pairs: dict[str, str]) -> None:
    assert parsing.key_values(toks) == (words, pairs)


@pytest.mark.parametrize(
    ("bad", "shown"),
    [
        ("<!channel>", "`&lt;!channel&gt;`"),
        ("a&b", "`a&amp;b`"),
        ("<@U123|bob>", "`&lt;@U123|bob&gt;`"),
    ],
)
def test_parse_error_quotes_the_bad_part_escaped(bad: str, shown: str) -> None:
    err = ParseError(bad, "the right form")
    assert str(err) == f"I could not read {shown}: the right form"
    assert err.bad == bad and err.expected == "the right form"


@pytest.mark.parametrize(
    "parse",
    [
        parsing.usd,
        parsing.efficiency_j_per_th,
        parsing.power_usd_per_kwh,
        parsing.pool_fee,
        parsing.hashrate_ph,
        parsing.duration_s,
        parsing.quarter,
    ],
)
def test_every_parser_escapes_what_it_quotes(parse: object) -> None:
    with pytest.raises(ParseError) as exc:
        parse("<!here>&")  # type: ignore[operator]
    assert "&lt;!here&gt;&amp;" in str(exc.value)
    assert "<!here>" not in str(exc.value)


# --- cost lines: one parser for Slack, `hashfloor costs add` and CSV import ---------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("$1", "a cost per BTC between $1,000 and $10,000,000"),
        ("999", "a cost per BTC between $1,000 and $10,000,000"),
        ("$10,000,000,000", "a cost per BTC between $1,000 and $10,000,000"),
        ("10.1m", "a cost per BTC between"),
        ("1e400", "a dollar amount"),
        ("inf", "a dollar amount"),
        ("nan", "a dollar amount"),
    ],
)
def test_cost_usd_refuses_what_no_miner_pays(text: str, why: str) -> None:
    with pytest.raises(ParseError) as exc:
        parsing.cost_usd(text)
    assert why in str(exc.value)


@pytest.mark.parametrize(("text", "usd"), [("$1k", 1_000), ("98k", 98_000), ("$10m", 10_000_000)])
def test_cost_usd_reads_the_bounds_themselves(text: str, usd: float) -> None:
    assert parsing.cost_usd(text) == usd


def test_price_usd_bounds() -> None:
    assert parsing.price_usd("80k") == 80_000
    for bad in ("$1", "$99", "20m"):
        with pytest.raises(ParseError, match="a BTC price between \\$100 and \\$10,000,000"):
            parsing.price_usd(bad)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("cash", "cash"),
        ("CASH", "cash"),
        ("allin", "allin"),
        ("all-in", "allin"),
        ("All_In", "allin"),
    ],
)
def test_cost_kind(text: str, kind: str) -> None:
    assert parsing.cost_kind(text) == kind


def test_cost_kind_refuses_others() -> None:
    with pytest.raises(ParseError, match="a kind: `cash` or `allin`"):
        parsing.cost_kind("opex")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Acme Mining", "Acme Mining"),
        ("  Acme\n\tMining  ", "Acme Mining"),
        ("Acme\r\n:rotating_light: BTC below", "Acme :rotating＿light: BTC below"),
        ("Ac\u200bme\u200d\ufeff", "Acme"),  # zero-width
        ("\u202eenimgniM\u202c Acme\u2066x\u2069", "enimgniM Acmex"),  # bidi overrides, isolates
        ("Acme\u2028Mining\u2029", "Acme Mining"),  # line and paragraph separators
        ("\u3164Acme\u034f", "Acme"),  # a Hangul filler, a combining grapheme joiner
        ("*bold* _it_ ~st~ `code`", "＊bold＊ ＿it＿ ～st～ ｀code｀"),
        ("A <b> & [red]", "A <b> & [red]"),  # escaped where shown, not here
        ("Café 矿工", "Café 矿工"),
    ],
)
def test_label_cleans(text: str, label: str) -> None:
    assert parsing.label(text) == label


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "at least one visible character"),
        ("\u200b\u202e\n", "at least one visible character"),
        ("N" * 81, "at most 80 characters"),
    ],
)
def test_label_refuses(text: str, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        parsing.label(text)


@pytest.mark.parametrize(
    "url", ["https://coinshares.com/research/q3", "http://example.com/a?b=c#d", "HTTPS://X.IO"]
)
def test_source_url_reads(url: str) -> None:
    assert parsing.source_url(url) == url


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "JavaScript://%0aalert(1)",
        "file:///etc/passwd",
        "data:text/html,<script>",
        "ftp://example.com/x",
        "10-Q p.12",
        "https://",
        "https://exa mple.com",
        "https://example.com/\u202ex",
        "https://example.com/<script>",
        "https://example.com/a|click here",
        'https://example.com/"x"',
        "https://example.com:99999999/",
        "https://" + "a" * 300 + ".com",
    ],
)
def test_source_url_refuses(text: str) -> None:
    with pytest.raises(ParseError, match="a source"):
        parsing.source_url(text)


@pytest.mark.parametrize(("text", "row_id"), [("12", 12), ("#12", 12), (str(2**63 - 1), 2**63 - 1)])
def test_row_id_reads(text: str, row_id: int) -> None:
    assert parsing.row_id(text) == row_id


@pytest.mark.parametrize("text", ["99999999999999999999", str(2**63), "0", "-1", "1.5", "١٢", ""])
def test_row_id_refuses(text: str) -> None:
    with pytest.raises(ParseError):
        parsing.row_id(text)


def test_quarter_years_are_bounded() -> None:
    assert parsing.quarter("2009-Q1") == "2009-Q1"
    for bad in ("1999-Q1", "9999-Q4", "banana"):
        with pytest.raises(ParseError):
            parsing.quarter(bad)


def test_cost_input_names_the_bad_field() -> None:
    line = parsing.cost_input(" Acme ", "all-in", "$98k", "2025q3", "https://acme.example/10q")
    assert line == parsing.CostInput("Acme", "allin", 98_000, "2025-Q3", "https://acme.example/10q")
    for args, field in [
        (("", "cash", "98k"), "name"),
        (("Acme", "opex", "98k"), "kind"),
        (("Acme", "cash", "90k!"), "value"),
        (("Acme", "cash", "98k", "banana"), "quarter"),
        (("Acme", "cash", "98k", None, "file:///x"), "source"),
    ]:
        with pytest.raises(ParseError) as exc:
            parsing.cost_input(*args)
        assert exc.value.field == field


def test_parse_error_escapes_the_expected_form() -> None:
    """`<usd>` in a hint would be a link to Slack; it must arrive as `&lt;usd&gt;`."""
    exc = ParseError("x", "give `cash=<usd>`")
    assert str(exc) == "I could not read `x`: give `cash=&lt;usd&gt;`"
    assert exc.plain() == "I could not read `x`: give `cash=<usd>`"


def test_the_bad_part_is_quoted_on_one_line_without_hidden_characters() -> None:
    exc = ParseError("12\n:rotating_light: *x*\u202e`y`", "an id")
    assert str(exc) == "I could not read `12 :rotating_light: *x*'y'`: an id"


@pytest.mark.parametrize(
    ("text", "per_kwh", "code", "explicit"),
    [
        ("0.05", 0.05, "EUR", False),  # a bare price is the workspace's currency (EUR here)
        ("5c", 0.05, "EUR", False),
        ("45/MWh", 0.045, "EUR", False),
        ("$0.05", 0.05, "USD", True),
        ("0.05 USD", 0.05, "USD", True),
        ("45 $/MWh", 0.045, "USD", True),
        ("€0.045", 0.045, "EUR", True),
        ("0.045 EUR", 0.045, "EUR", True),
        ("0.045eur/kWh", 0.045, "EUR", True),
        ("£0.04", 0.04, "GBP", True),
        ("0.05 CAD", 0.05, "CAD", True),
        ("C$0.05", 0.05, "CAD", True),
        ("A$0.07", 0.07, "AUD", True),
        ("0.06 chf", 0.06, "CHF", True),
        ("¥7", 7.0, "JPY", True),
        ("7 JPY/kWh", 7.0, "JPY", True),
        ("45 €/MWh", 0.045, "EUR", True),
        ("45 EUR/MWh", 0.045, "EUR", True),
        ("£40/MWh", 0.04, "GBP", True),
        ("0", 0.0, "EUR", False),
        ("4.5c EUR", 0.045, "EUR", True),
    ],
)
def test_power_price_carries_its_currency(
    text: str, per_kwh: float, code: str, explicit: bool
) -> None:
    got = parsing.power_price(" ".join(parsing.tokens(text)), default="EUR")
    assert (got.per_kwh, got.currency, got.explicit) == (pytest.approx(per_kwh), code, explicit)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("0 EUR", "a price in EUR more than zero"),
        ("€0", "a price in EUR more than zero"),
        ("-5/MWh", "cannot be negative"),
        ("€-0.05", "cannot be negative"),
        ("0.05 XYZ", "`XYZ` is not a currency I convert"),
        ("0.05xyz/kWh", "`XYZ` is not a currency I convert"),
        ("€0.05 USD", "one currency per price, not EUR and USD"),
        ("2 EUR", "€2/kWh is more than any grid charges"),
        ("200 JPY", "¥200/kWh is more than any grid charges"),
        ("1500 €/MWh", "€1500/MWh is more than any grid charges"),
        ("¥5c", "a power price per kWh"),
        ("5c/MWh", "a power price per kWh"),
    ],
)
def test_power_price_refuses(text: str, why: str) -> None:
    with pytest.raises(ParseError, match=re.escape(why)) as exc:
        parsing.power_price(text)
    assert f"`{text}`" in str(exc.value)


def test_power_usd_per_kwh_refuses_other_currencies() -> None:
    assert parsing.power_usd_per_kwh("$0.05") == 0.05
    with pytest.raises(ParseError, match="in US\\$ here"):
        parsing.power_usd_per_kwh("€0.05")


def test_a_currency_word_joins_a_number_only() -> None:
    assert parsing.tokens("S21 0.045 EUR 2") == ["S21", "0.045 EUR", "2"]
    assert parsing.tokens("17.5 45 €/MWh") == ["17.5", "45 €/MWh"]
    assert parsing.tokens("currency eur") == ["currency", "eur"]
