"""A model name wherever a J/TH is asked for, and `/hashfloor machines`, through commands.answer.

Vectors are DESIGN §4.1's (D = 152 × 10^12, fees 0.02 BTC per block, BTC $91,000).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.service import Hashfloor
from storage import workspaces
from tests.commands.test_replies import all_text, ask, design_snapshot, make_service


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Hashfloor]:
    service = make_service(tmp_path, design_snapshot())
    yield service
    service.close()


@pytest.mark.parametrize(
    ("text", "names", "price"),
    [
        ("S21 0.05 2", "Antminer S21 (17.5 J/TH) at $0.05/kWh, pool fee 2%", "$51,483"),
        ("antminer s21 xp 0.05", "Antminer S21 XP (13.5 J/TH) at $0.05/kWh", "$38,921"),
        ("S21XP 0.05 0", "Antminer S21 XP (13.5 J/TH)", "$38,921"),
        ("Antminer S19 XP 6c", "Antminer S19 XP (21.5 J/TH) at $0.06/kWh", "$74,382"),
        ("17.5 0.05 2", "17.5 J/TH at $0.05/kWh, pool fee 2%", "$51,483"),
        ("S21 50/MWh 2", "Antminer S21 (17.5 J/TH) at $0.05/kWh, pool fee 2%", "$51,483"),
        ("S21XP 45 $/MWh", "Antminer S21 XP (13.5 J/TH) at $0.045/kWh", "$35,029"),
    ],
)
def test_breakeven_with_a_model(svc: Hashfloor, text: str, names: str, price: str) -> None:
    out = all_text(ask(svc, "/breakeven", text))
    assert names in out
    assert f"*Breakeven BTC price*\\n{price}" in out


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("S19 0.05", "several models fit"),
        ("S12 0.05", "did you mean Antminer S21"),
        ("Zeus 9000 0.05", "no such model in the catalogue"),
        ("S21", "I could not read `S21`: give the power price after the model"),
        ("S21 0.05 2 extra", "I could not read `extra`: at most three values"),
    ],
)
def test_model_mistakes_get_a_clear_answer(svc: Hashfloor, text: str, says: str) -> None:
    out = all_text(ask(svc, "/breakeven", text))
    assert says in out and "Breakeven BTC price" not in out


def test_ambiguous_model_lists_the_candidates(svc: Hashfloor) -> None:
    msg = all_text(ask(svc, "/breakeven", "s19 0.05"))
    assert "Antminer S19 Pro (29.5 J/TH)" in msg and "Antminer S19 XP (21.5 J/TH)" in msg


def test_fleet_with_a_model_stores_its_efficiency_and_says_so(svc: Hashfloor) -> None:
    out = all_text(ask(svc, "/hashfloor", "fleet S21XP 0.045"))
    assert "Antminer S21 XP's 13.5 J/TH from the catalogue" in out
    fleet = workspaces.get_fleet(svc.storage.db, "T1")
    assert fleet is not None and (fleet.efficiency_j_per_th, fleet.power_usd_per_kwh) == (
        13.5,
        0.045,
    )


def test_a_model_that_does_not_exist_changes_nothing(svc: Hashfloor) -> None:
    out = all_text(ask(svc, "/hashfloor", "fleet Zeus9000 0.045"))
    assert "no such model in the catalogue" in out
    assert workspaces.get_fleet(svc.storage.db, "T1") is None


def test_machines_lists_the_catalogue_with_sources(svc: Hashfloor) -> None:
    out = ask(svc, "/hashfloor", "machines")
    text = all_text(out)
    assert "22 of 22 models" in text
    assert "*Antminer S21 XP* — 13.5 J/TH · 270 TH/s · 3,645 W · air" in text
    assert "<https://hashrateindex.com/blog/hardware-review-canaans-a16-series|source>" in text


@pytest.mark.parametrize(
    ("filter_", "count"), [("s21", 8), ("whatsminer", 5), ("hydro", 7), ("zzz", 0)]
)
def test_machines_filter(svc: Hashfloor, filter_: str, count: int) -> None:
    text = all_text(ask(svc, "/hashfloor", f"machines {filter_}"))
    if count:
        assert f"{count} of 22 models" in text
    else:
        assert "No model matches `zzz`" in text


def test_a_fleet_answer_gives_the_curtailment_price_per_mwh(svc: Hashfloor) -> None:
    """DESIGN §4.1: 17.5 J/TH with a 2% pool fee earns $88.38 per MWh, $2,121 per MW per day."""
    out = all_text(ask(svc, "/breakeven", "S21 45/MWh 2"))
    assert "*Curtailment price $88.38/MWh* ($0.0884/kWh)" in out
    assert "each MW of load $2,121 a day" in out


@pytest.mark.parametrize("bad", ["-5/MWh", "abc/MWh", "2000/MWh"])
def test_bad_per_mwh_prices_are_refused(svc: Hashfloor, bad: str) -> None:
    out = all_text(ask(svc, "/breakeven", f"17.5 {bad}"))
    assert "I could not read" in out and "Curtailment" not in out
