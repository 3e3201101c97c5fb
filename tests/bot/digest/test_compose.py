"""A workspace's digest from storage: which snapshots, which lines, the fleet's chart line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.digest.compose import LOOKBACK_S, compose, load_snapshots
from bot.service import Hashfloor
from bot.settings import Settings
from storage import costs, snapshots, workspaces
from tests.fakes import history

NOW = 1_795_424_400.0  # Mon 23 Nov 2026 09:00 UTC
DAY = 86_400.0


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hashfloor]:
    path: Path = tmp_path_factory.mktemp("compose") / "compose.db"
    service = Hashfloor(Settings(hashfloor_db=path), clock=lambda: NOW)
    service.migrate()
    history.store(service.storage, history.history(NOW + 5 * DAY))  # some polls after NOW too
    db = service.storage.db
    costs.add(db, "T1", "Acme", "cash", 81_000.0, "2025-Q3", None, "U1", NOW)
    workspaces.set_fleet(db, "T1", workspaces.Fleet(21.5, 0.045, 0.02), "U1", NOW)
    workspaces.set_fleet(db, "T1", workspaces.Fleet(17.5, 0.05, 0.0, 200, "Texas"), "U1", NOW)
    yield service
    service.close()


def test_ninety_days_of_prices_and_the_week_in_full(svc: Hashfloor) -> None:
    got = load_snapshots(svc.storage, NOW)
    full = snapshots.between(svc.storage.db, NOW - 90 * DAY, NOW)
    assert [(s.taken_at, s.price_usd, s.fresh) for s in got] == [
        (s.taken_at, s.price_usd, s.fresh) for s in full
    ]
    week = [s for s in got if s.taken_at >= NOW - LOOKBACK_S]
    older = [s for s in got if s.taken_at < NOW - LOOKBACK_S]
    assert week and older
    assert all(s.network.difficulty is not None and s.quotes for s in week)
    assert all(s.network.difficulty is None and not s.quotes for s in older)


def test_the_week_only(svc: Hashfloor) -> None:
    got = load_snapshots(svc.storage, NOW, history=False)
    assert got == snapshots.between(svc.storage.db, NOW - LOOKBACK_S, NOW)


@pytest.mark.parametrize(
    ("team", "lines", "fleet"),
    [
        (None, ["cash", "allin"], False),
        ("T1", ["cash", "allin", "cost:{id}"], True),
        ("T2", ["cash", "allin"], False),
    ],
)
def test_lines_and_fleet_per_workspace(svc: Hashfloor, team, lines, fleet) -> None:
    own = [r["id"] for r in costs.all_rows(svc.storage.db, "T1") if r["workspace"] == "T1"]
    expected = [k.format(id=own[0]) for k in lines]
    composed = compose(svc.storage, team, NOW, load_snapshots(svc.storage, NOW, history=False))
    assert [line.key for line in composed.lines] == expected
    assert composed.digest.now == NOW and composed.digest.samples > 100
    # Every fleet of the workspace, `main` first, each a line on the chart.
    assert [f.name for f in composed.digest.fleets] == (["main", "Texas"] if fleet else [])
    fleet_keys = ["fleet:main", "fleet:texas"] if fleet else []
    assert [line.key for line in composed.chart_lines] == expected + fleet_keys
    if fleet:
        main, texas = composed.chart_lines[-2:]
        assert main.label == "Fleet main breakeven (21.5 J/TH)"
        assert texas.label == "Fleet Texas breakeven (17.5 J/TH)"
        assert main.value_usd == composed.digest.fleets[0].breakeven_price_usd
        assert texas.value_usd == composed.digest.fleets[1].breakeven_price_usd


def test_the_workspace_currency_and_the_weeks_latest_rate(tmp_path: Path) -> None:
    from tests.fakes.snapshots import design_snapshot

    service = Hashfloor(Settings(hashfloor_db=tmp_path / "rates.db"), clock=lambda: NOW)
    service.migrate()
    db = service.storage.db
    prices = {"USD": 91_000.0, "EUR": 83_720.0}
    snapshots.insert(
        db, design_snapshot(NOW - 3_600, btc_prices={"USD": 90_000.0, "EUR": 81_000.0})
    )
    snapshots.insert(db, design_snapshot(NOW - 60, btc_prices=prices))
    snapshots.insert(db, design_snapshot(NOW - 30))  # mempool had no prices in the last poll
    workspaces.set_currency(db, "T1", "EUR", "U1", NOW)
    workspaces.set_currency(db, "T3", "GBP", "U1", NOW)
    snaps = load_snapshots(service.storage, NOW, history=False)
    try:
        d = compose(service.storage, "T1", NOW, snaps).digest
        assert d.rate is not None and d.rate.per_usd == pytest.approx(0.92)
        assert d.rate.at == NOW - 60 and d.rate_warning == ""
        plain = compose(service.storage, "T2", NOW, snaps).digest
        assert plain.rate is None and plain.rate_warning == ""
        gbp = compose(service.storage, "T3", NOW, snaps).digest
        assert gbp.rate is None and "No fresh GBP/USD rate (none polled)" in gbp.rate_warning
        # A week later without new prices, the rate is stale: US$ only, saying so.
        later = compose(service.storage, "T1", NOW + 900, snaps).digest
        assert later.rate is None and "stale, 0.92 EUR/USD, 16 min old" in later.rate_warning
    finally:
        service.close()
