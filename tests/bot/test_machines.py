"""The machine catalogue's pure part: names matched as miners type them, CSV rows in words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.machines import Machine, key, match, read_csv
from storage.machines import shipped

CATALOGUE = shipped()


@pytest.mark.parametrize(
    ("typed", "model"),
    [
        ("S21 XP", "Antminer S21 XP"),
        ("s21xp", "Antminer S21 XP"),
        ("Antminer S21-XP", "Antminer S21 XP"),
        ("antminer s21 xp", "Antminer S21 XP"),
        ("Bitmain Antminer S21", "Antminer S21"),
        # An exact match wins over the longer names it starts (S21+, S21 Pro, S21 XP …).
        ("S21", "Antminer S21"),
        ("s21+", "Antminer S21+"),
        ("S21 XP Hyd", "Antminer S21 XP Hydro"),  # one model starts with it: used
        ("whatsminer m60s", "Whatsminer M60S"),
        ("M60", "Whatsminer M60"),
        ("avalon a16 xp", "Avalon A16 XP"),
        ("A1466", "Avalon A1466"),
    ],
)
def test_names_match_as_typed(typed: str, model: str) -> None:
    got = match(typed, CATALOGUE)
    assert got.machine is not None and got.machine.model == model


def test_several_candidates_are_listed_not_guessed() -> None:
    got = match("S19", CATALOGUE)
    assert got.machine is None
    assert {m.model for m in got.candidates} == {
        "Antminer S19 Pro",
        "Antminer S19j Pro",
        "Antminer S19 XP",
        "Antminer S19 XP Hyd",
    }


@pytest.mark.parametrize(("typed", "near"), [("S12", "Antminer S21"), ("M6OS", "Whatsminer M60S")])
def test_unknown_names_get_the_nearest(typed: str, near: str) -> None:
    got = match(typed, CATALOGUE)
    assert got.machine is None and not got.candidates
    assert near in got.nearest


def test_empty_or_maker_only_matches_nothing_by_itself() -> None:
    assert match("", CATALOGUE).machine is None
    assert match("antminer", CATALOGUE).machine is None


@given(st.sampled_from(CATALOGUE), st.sampled_from(["", " ", "-", "_"]), st.booleans())
def test_every_shipped_model_is_found_however_it_is_spelled(
    m: Machine, sep: str, upper: bool
) -> None:
    typed = sep.join(m.model.split())
    typed = typed.upper() if upper else typed.lower()
    got = match(typed, CATALOGUE)
    assert got.machine == m


def test_shipped_table_is_the_reference_with_sources() -> None:
    assert len(CATALOGUE) == 22
    s21 = match("S21", CATALOGUE).machine
    assert s21 is not None and (s21.efficiency_j_th, s21.hashrate_ths, s21.power_w) == (
        17.5,
        200,
        3500,
    )
    assert all(m.source for m in CATALOGUE)
    assert len({m.key for m in CATALOGUE}) == len(CATALOGUE)


HEADER = "maker,model,hashrate_ths,power_w,efficiency_j_th,cooling,source,note\n"


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ("Bitmain,,200,3500,17.5,air,press,", "the model name is empty"),
        ("Bitmain,S99,200,3500,abc,air,press,", "efficiency_j_th `abc` is not a number"),
        ("Bitmain,S99,200,3500,inf,air,press,", "outside 1–200 J/TH"),
        ("Bitmain,S99,200,3500,nan,air,press,", "outside 1–200 J/TH"),
        ("Bitmain,S99,200,3500,0.5,air,press,", "outside 1–200 J/TH"),
        ("Bitmain,S99,200,3500,12,air,press,", "disagrees with power_w ÷ hashrate_ths = 17.5"),
        ("Bitmain,S99,200,,,air,press,", "give efficiency_j_th, or both hashrate_ths and power_w"),
        ("Bitmain,S99,200,3500,17.5,steam,press,", "cooling `steam` is not one of"),
        ("Bitmain,S99,200,3500,17.5,air,,", "source is empty"),
        ("Bitmain,=HYPERLINK(1),200,3500,17.5,air,press,", "may hold letters, digits"),
    ],
)
def test_bad_rows_are_refused_in_words(row: str, error: str) -> None:
    good, bad = read_csv(HEADER + row + "\n")
    assert good == []
    assert len(bad) == 1 and bad[0].line == 2 and error in bad[0].message, bad


def test_good_rows_derive_efficiency_and_duplicates_are_refused() -> None:
    text = HEADER + "Acme,Z1,100,2000,,immersion,our lab,\nAcme,Z-1,100,2000,20,air,x,\n"
    good, bad = read_csv(text)
    assert [(m.model, m.efficiency_j_th, m.cooling) for m in good] == [("Z1", 20.0, "immersion")]
    assert [str(e) for e in bad] == ["line 3: Z-1 appears twice in the file"]
    assert key("Z-1") == key("Z1")


def test_a_file_without_the_header_is_one_error() -> None:
    good, bad = read_csv("S21,17.5\n")
    assert good == [] and "the header must name the columns" in str(bad[0])
