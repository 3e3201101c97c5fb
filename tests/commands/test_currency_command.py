"""Power prices in other currencies and `/hashfloor currency` (DESIGN §4.1, "Currencies").

DESIGN's vector: 17.5 J/TH at €0.05/kWh, 2% → $55,960 = €51,483, with BTC at $91,000 and €83,720
(0.92 EUR/USD) in the same poll.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import economics as econ
from bot.market.snapshot import Snapshot
from bot.service import Hashfloor
from commands.context import Roles
from storage import snapshots, workspaces
from tests.commands.test_replies import NOW, SOURCES, TAKEN, all_text, ask, make_service
from tests.fakes import snapshots as snapshots_fake

PRICES = {"USD": 91_000.0, "EUR": 83_720.0, "GBP": 71_890.0, "JPY": 14_105_000.0}
MEMBER = Roles()


def snap(taken_at: float = TAKEN, btc_prices: dict[str, float] | None = PRICES) -> Snapshot:
    return snapshots_fake.design_snapshot(
        taken_at, 91_000.0, SOURCES, adjustment_at=NOW + 7 * 86_400, btc_prices=btc_prices
    )


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Hashfloor]:
    service = make_service(tmp_path, snap())
    yield service
    service.close()


@pytest.fixture
def no_rates(tmp_path: Path) -> Iterator[Hashfloor]:
    service = make_service(tmp_path, snap(btc_prices=None))
    yield service
    service.close()


def breakeven_usd(power_usd: float, eff: float = 17.5, fee: float = 0.02) -> float:
    hashvalue = econ.hashvalue_btc_per_th_day(152e12, 3.125, 0.02)
    return econ.fleet_breakeven_price_usd(eff, power_usd, hashvalue, fee)


@pytest.mark.parametrize(
    "text",
    ["17.5 €0.05 2", "17.5 0.05 EUR 2", "17.5 0.05eur 2", "17.5 50 €/MWh 2", "17.5 50 EUR/MWh 2"],
)
def test_design_vector_in_euros(svc: Hashfloor, text: str) -> None:
    out = all_text(ask(svc, "/breakeven", text))
    assert "€51,483 ($55,960)" in out
    assert "at 0.92 EUR/USD, 42s old" in out
    # The breakeven power price in euros first: $0.0884/kWh × 0.92.
    assert "€0.0813/kWh ($0.0884/kWh)" in out


def test_a_model_and_a_currency(svc: Hashfloor) -> None:
    out = all_text(ask(svc, "/breakeven", "S21 €0.045 2"))
    expected = breakeven_usd(0.045 / 0.92)
    assert f"({'$'}{expected:,.0f})" in out
    assert f"€{expected * 0.92:,.0f}" in out
    assert "Antminer S21 (17.5 J/TH) at €0.045/kWh ($0.0489/kWh at 0.92 EUR/USD" in out


@pytest.mark.parametrize(
    ("text", "code", "per_usd"),
    [("£0.04", "GBP", 0.79), ("¥7", "JPY", 155), ("0.04 GBP", "GBP", 0.79)],
)
def test_other_currencies(svc: Hashfloor, text: str, code: str, per_usd: float) -> None:
    out = all_text(ask(svc, "/breakeven", f"17.5 {text} 2"))
    assert f"{per_usd:g} {code}/USD" in out
    amount = float(text.strip("£¥ GBP"))
    assert f"{breakeven_usd(amount / per_usd):,.0f}" in out


def test_a_currency_the_poll_did_not_quote_is_refused(svc: Hashfloor) -> None:
    out = all_text(ask(svc, "/breakeven", "17.5 0.05 CAD 2"))
    assert "No CAD/USD rate" in out and "I do not guess" in out
    assert "Breakeven" not in out


def test_no_rate_at_all(no_rates: Hashfloor) -> None:
    out = all_text(ask(no_rates, "/breakeven", "17.5 €0.05 2"))
    assert "No EUR/USD rate" in out
    assert "$55,960" not in out and "Breakeven" not in out
    # US$ needs no rate; free power is free in any currency.
    assert "$51,483" in all_text(ask(no_rates, "/breakeven", "17.5 0.05 2"))
    assert "Breakeven BTC price" in all_text(ask(no_rates, "/breakeven", "17.5 0 2"))


def test_a_stale_rate_is_not_used(tmp_path: Path) -> None:
    # The rate came from a poll 10 minutes ago; the newer polls' mempool answers had none.
    svc = make_service(tmp_path, snap(NOW - 600))
    snapshots.insert(svc.storage.db, snap(TAKEN, btc_prices=None))
    try:
        out = all_text(ask(svc, "/breakeven", "17.5 €0.05 2"))
        assert "The EUR/USD rate is stale (0.92 EUR/USD, 10 min old)" in out
        assert "Breakeven" not in out
        # A newer poll with prices: the rate is fresh again, and its age is that poll's.
        snapshots.insert(svc.storage.db, snap(NOW - 125))
        assert "0.92 EUR/USD, 2 min old" in all_text(ask(svc, "/breakeven", "17.5 €0.05 2"))
    finally:
        svc.close()


@pytest.mark.parametrize(
    ("text", "quoted", "why"),
    [
        ("17.5 0 EUR 2", "0 EUR", "more than zero"),
        ("17.5 €0 2", "€0", "more than zero"),
        ("17.5 -5/MWh 2", "-5/MWh", "cannot be negative"),
        ("17.5 0.05 XYZ 2", "0.05 XYZ", "`XYZ` is not a currency"),
        ("17.5 0.05XYZ", "0.05XYZ", "`XYZ` is not a currency"),
        ("17.5 2 EUR", "2 EUR", "more than any grid charges"),
        ("17.5 ¥5c", "¥5c", "a power price per kWh"),
    ],
)
def test_bad_prices_quote_the_bad_part(svc: Hashfloor, text: str, quoted: str, why: str) -> None:
    out = all_text(ask(svc, "/breakeven", text))
    assert f"I could not read `{quoted}`" in out and why in out


def test_workspace_currency(svc: Hashfloor) -> None:
    db = svc.storage.db
    assert "Answers show money in US$" in all_text(ask(svc, "/hashfloor", "currency"))
    out = all_text(ask(svc, "/hashfloor", "currency eur"))
    assert "Currency set to EUR" in out and "0.92 EUR/USD, 42s old" in out
    assert workspaces.get_currency(db, "T1") == "EUR"
    assert "Answers show money in EUR first" in all_text(ask(svc, "/hashfloor", "currency"))
    # A bare power price is now euros: the DESIGN vector.
    assert "€51,483 ($55,960)" in all_text(ask(svc, "/breakeven", "17.5 0.05 2"))
    # A price with its own sign keeps it: $0.05 → $51,483, shown as €47,364 first.
    out = all_text(ask(svc, "/breakeven", "17.5 $0.05 2"))
    assert "€47,364 ($51,483)" in out and "at $0.05/kWh" in out
    assert "€47,364 ($51,483)" in all_text(ask(svc, "/breakeven", "17.5 0.05 USD 2"))
    # The market answer: BTC in euros first; cost lines stay in US$.
    out = all_text(ask(svc, "/breakeven", ""))
    assert "BTC €83,720 ($91,000)" in out and "$74,600" in out and "€68,632" not in out
    # Another workspace is not affected.
    assert "$51,483" in all_text(ask(svc, "/breakeven", "17.5 0.05 2", team="T2"))
    assert "€" not in all_text(ask(svc, "/breakeven", "17.5 0.05 2", team="T2"))
    out = all_text(ask(svc, "/hashfloor", "currency USD"))
    assert "Currency reset" in out and workspaces.get_currency(db, "T1") == "USD"
    assert "€" not in all_text(ask(svc, "/breakeven", ""))
    actions = [r["action"] for r in db.query("SELECT action FROM audit")]
    assert actions.count("currency.set") == 2


def test_the_currency_keeps_the_hpc_setting(svc: Hashfloor) -> None:
    ask(svc, "/hashfloor", "hpc 150")
    ask(svc, "/hashfloor", "currency GBP")
    assert workspaces.get_hpc_lease(svc.storage.db, "T1") == 150
    ask(svc, "/hashfloor", "hpc off")
    assert workspaces.get_currency(svc.storage.db, "T1") == "GBP"


def test_workspace_currency_without_a_rate(no_rates: Hashfloor) -> None:
    ask(no_rates, "/hashfloor", "currency EUR")
    out = all_text(ask(no_rates, "/breakeven", ""))
    assert (
        "BTC $91,000" in out and "No fresh EUR/USD rate (none polled): amounts in US$ only" in out
    )
    # A bare price means euros: without a rate it is refused, not read as dollars.
    out = all_text(ask(no_rates, "/breakeven", "17.5 0.05 2"))
    assert "No EUR/USD rate" in out and "$51,483" not in out
    assert "$51,483" in all_text(ask(no_rates, "/breakeven", "17.5 $0.05 2"))


@pytest.mark.parametrize("bad", ["XYZ", "euro", "EUR USD", "€€"])
def test_bad_currency_changes_nothing(svc: Hashfloor, bad: str) -> None:
    out = all_text(ask(svc, "/hashfloor", f"currency {bad}"))
    assert "I could not read" in out
    assert workspaces.get_currency(svc.storage.db, "T1") == "USD"


def test_only_admins_set_it(svc: Hashfloor) -> None:
    out = all_text(ask(svc, "/hashfloor", "currency EUR", roles=MEMBER))
    assert "Only workspace admins" in out
    assert workspaces.get_currency(svc.storage.db, "T1") == "USD"
    assert "Answers show money in US$" in all_text(ask(svc, "/hashfloor", "currency", roles=MEMBER))


@pytest.mark.parametrize("typed", ["eur\u202e", "e\u200bur", "\u2066EUR\u2069"])
def test_hidden_characters_pasted_with_a_currency_are_not_part_of_it(
    svc: Hashfloor, typed: str
) -> None:
    """A bidi override or a zero-width character pasted along: the reply named the code with it
    (upper-cased, back into Slack) and refused `EUR`. The code is what the user sees."""
    out = ask(svc, "/hashfloor", f"currency {typed}")["text"]
    assert out.startswith("Currency set to EUR")
    assert workspaces.get_currency(svc.storage.db, "T1") == "EUR"


def test_a_backtick_in_a_bad_currency_stays_inside_the_code_span(svc: Hashfloor) -> None:
    out = ask(svc, "/hashfloor", "currency a`b\u202e")["text"]
    assert out.startswith("I could not read `a'b`: `A'B` is not a currency I convert")
    assert workspaces.get_currency(svc.storage.db, "T1") == "USD"


# --- a fleet priced in another currency ----------------------------------------------------------


def test_a_fleet_in_euros(svc: Hashfloor) -> None:
    out = all_text(ask(svc, "/hashfloor", "fleet 17.5 €0.05 2"))
    fleet = workspaces.get_fleet(svc.storage.db, "T1")
    assert fleet is not None and (fleet.power_usd_per_kwh, fleet.power_currency) == (0.05, "EUR")
    assert "Fleet main set: 17.5 J/TH at €0.05/kWh, pool fee 2%" in out
    assert "breaks even at €51,483 ($55,960) today" in out and "0.92 EUR/USD, 42s old" in out
    # /breakeven and status show it as it was set, converted at the poll's rate.
    out = all_text(ask(svc, "/breakeven", ""))
    assert "*Fleet main* (17.5 J/TH at €0.05/kWh, pool fee 2%) breaks even at $55,960" in out
    assert "17.5 J/TH at €0.05/kWh" in all_text(ask(svc, "/hashfloor", "fleet"))


def test_a_bare_fleet_price_is_the_workspace_currency(svc: Hashfloor) -> None:
    ask(svc, "/hashfloor", "currency GBP")
    ask(svc, "/hashfloor", "fleet S21 0.04")
    fleet = workspaces.get_fleet(svc.storage.db, "T1")
    assert fleet is not None and fleet.power_currency == "GBP"
    ask(svc, "/hashfloor", "fleet S21 $0.05 2")
    fleet = workspaces.get_fleet(svc.storage.db, "T1")
    assert fleet is not None and (fleet.power_usd_per_kwh, fleet.power_currency) == (0.05, "USD")


@pytest.mark.parametrize("bad", ["17.5 0.05 XYZ 2", "17.5 0 EUR", "17.5 -5/MWh"])
def test_a_bad_fleet_price_changes_nothing(svc: Hashfloor, bad: str) -> None:
    out = all_text(ask(svc, "/hashfloor", f"fleet {bad}"))
    assert "I could not read" in out
    assert workspaces.get_fleet(svc.storage.db, "T1") is None


def test_a_fleet_in_euros_without_a_rate(no_rates: Hashfloor) -> None:
    out = all_text(ask(no_rates, "/hashfloor", "fleet 17.5 €0.05 2"))
    # The setting is valid and kept; no breakeven is computed at a guessed rate.
    assert "Fleet main set: 17.5 J/TH at €0.05/kWh" in out
    assert "there is no fresh EUR/USD rate now" in out
    assert "$55,960" not in out
    out = all_text(ask(no_rates, "/breakeven", ""))
    assert "*Fleet main* (17.5 J/TH at €0.05/kWh, pool fee 2%): no fresh EUR/USD rate" in out
    assert "vs fleet main" not in out
    out = all_text(ask(no_rates, "/hashfloor", "subscribe fleet"))
    assert "no fresh EUR/USD rate to convert with" in out
