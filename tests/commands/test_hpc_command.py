"""/hashfloor hpc: a lease price to compare a megawatt's mining earnings with (DESIGN §4.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.service import Hashfloor
from commands.context import Roles
from storage import workspaces
from tests.commands.test_replies import all_text, ask, design_snapshot, make_service

MEMBER = Roles()


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Hashfloor]:
    service = make_service(tmp_path, design_snapshot())
    yield service
    service.close()


def test_set_show_and_compare_in_fleet_answers(svc: Hashfloor) -> None:
    assert "No HPC lease price is set" in all_text(ask(svc, "/hashfloor", "hpc"))
    out = all_text(ask(svc, "/hashfloor", "hpc 150"))
    assert "HPC lease set: $150/kW-month, which is $205.48 per MWh" in out
    assert workspaces.get_hpc_lease(svc.storage.db, "T1") == 150
    assert "$205.48/MWh" in all_text(ask(svc, "/hashfloor", "hpc"))
    # 17.5 J/TH with a 2% fee earns $88.38/MWh: the lease earns 2.3× that.
    answer = all_text(ask(svc, "/breakeven", "S21 0.05 2"))
    assert (
        ":office: *HPC lease* at $150/kW-month earns $205.48/MWh ($4,932 per MW per day) — "
        "2.3× what mining earns." in answer
    )
    # Another workspace has not set one.
    assert "HPC lease" not in all_text(ask(svc, "/breakeven", "S21 0.05 2", team="T2"))
    out = all_text(ask(svc, "/hashfloor", "hpc off"))
    assert "HPC comparison off" in out
    assert "HPC lease" not in all_text(ask(svc, "/breakeven", "S21 0.05 2"))
    actions = [r["action"] for r in svc.storage.db.query("SELECT action FROM audit")]
    assert actions.count("hpc.set") == 1 and actions.count("hpc.off") == 1


def test_a_cheap_lease_says_mining_earns_more(svc: Hashfloor) -> None:
    ask(svc, "/hashfloor", "hpc 20")  # $27.40/MWh
    answer = all_text(ask(svc, "/breakeven", "S21XP 0.03"))
    # 13.5 J/TH with no fee earns $116.90/MWh; $20/kW-month is $27.40/MWh.
    assert "earns $27.40/MWh ($658 per MW per day) — 4.3× less than mining." in answer


@pytest.mark.parametrize("bad", ["0", "-5", "abc", "5000", "inf", "nan", "150 200"])
def test_bad_prices_change_nothing(svc: Hashfloor, bad: str) -> None:
    out = all_text(ask(svc, "/hashfloor", f"hpc {bad}"))
    assert "I could not read" in out
    assert workspaces.get_hpc_lease(svc.storage.db, "T1") is None


def test_only_admins_set_it(svc: Hashfloor) -> None:
    out = all_text(ask(svc, "/hashfloor", "hpc 150", roles=MEMBER))
    assert "Only workspace admins" in out
    assert workspaces.get_hpc_lease(svc.storage.db, "T1") is None
    assert list(svc.storage.db.query("SELECT * FROM audit")) == []
