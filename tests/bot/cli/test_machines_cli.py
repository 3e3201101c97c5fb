"""`hashfloor machines list|import` as a process on a real database file."""

from __future__ import annotations

from pathlib import Path

from tests.bot.cli.test_check import hashfloor, no_traceback

HEADER = "maker,model,hashrate_ths,power_w,efficiency_j_th,cooling,source,note\n"


def run(tmp_path: Path, *args: str):
    got = hashfloor(tmp_path, "machines", *args, env={"HASHFLOOR_DB": str(tmp_path / "m.db")})
    no_traceback(got)
    return got


def test_list_shows_the_shipped_table_with_sources(tmp_path: Path) -> None:
    got = run(tmp_path, "list", "s21 xp")
    assert got.returncode == 0
    assert "Antminer S21 XP" in got.stdout and "13.5" in got.stdout
    assert "IREN" not in got.stdout  # notes stay in the file; the table shows the source
    assert "shipped" in got.stdout


def test_import_adds_and_corrects_models_and_breakeven_uses_them(tmp_path: Path) -> None:
    csv_file = tmp_path / "ours.csv"
    csv_file.write_text(
        HEADER
        + "Bitmain,Antminer S21,200,3400,17,air,our measurements 2026-10,re-measured at the wall\n"
        + "Acme,Z1,100,2000,,immersion,Acme datasheet 2026,\n"
    )
    got = run(tmp_path, "import", str(csv_file))
    assert got.returncode == 0, got.stdout
    assert "imported 2 model(s): 1 added, 1 corrected" in got.stdout
    listed = run(tmp_path, "list", "z1").stdout
    assert "Z1" in listed and "20" in listed and "imported" in listed
    s21 = run(tmp_path, "list", "s21").stdout
    assert "our measurements 2026-10" in s21
    # A second start (migrations and seeding) keeps the operator's correction.
    run(tmp_path, "list")
    assert "our measurements 2026-10" in run(tmp_path, "list", "s21").stdout


def test_one_bad_row_imports_nothing_and_says_why(tmp_path: Path) -> None:
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text(HEADER + "Acme,Z1,100,2000,,air,Acme,\nAcme,Z2,100,2000,90k,air,Acme,\n")
    got = run(tmp_path, "import", str(csv_file))
    assert got.returncode == 1
    assert "line 3: efficiency_j_th `90k` is not a number" in got.stdout
    assert "nothing was imported" in got.stdout
    assert "Z1" not in run(tmp_path, "list", "z1").stdout


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    got = run(tmp_path, "import", str(tmp_path / "nope.csv"))
    assert got.returncode == 2 and "cannot read" in got.stdout
