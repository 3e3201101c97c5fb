from pathlib import Path

import pytest

from storage import history
from storage.db import Storage
from storage.migrations import MIGRATION_SETS, migrate


@pytest.fixture
def db(tmp_path: Path):
    storage = Storage(tmp_path / "h.db")
    migrate(storage.db)
    yield storage.db
    storage.close()


def test_the_migration_set_is_registered(db):
    assert history.migrations in MIGRATION_SETS
    assert {"history_prices", "history_adjustments", "history_meta"} <= set(db.table_names())


def test_prices_are_added_once_and_counted(db):
    assert history.add_prices(db, [(200, 2.0), (100, 1.0)]) == 2
    assert history.add_prices(db, [(200, 2.5), (300, 3.0)]) == 1  # 200 is on file: kept as it was
    assert history.prices(db) == [(100, 1.0), (200, 2.0), (300, 3.0)]
    assert history.last_price_time(db) == 300
    assert history.counts(db) == (3, 0)


@pytest.mark.parametrize(
    "start, end, times",
    [(None, None, [100, 200, 300]), (200, None, [200, 300]), (None, 300, [100, 200]),
     (150, 250, [200])],
)  # fmt: skip
def test_prices_between(db, start, end, times):
    history.add_prices(db, [(100, 1.0), (200, 2.0), (300, 3.0)])
    assert [t for t, _ in history.prices(db, start, end)] == times


def test_adjustments_by_height(db):
    rows = [(2_000, 4_032, 30.0, 1.5), (1_000, 2_016, 20.0, None)]
    assert history.add_adjustments(db, rows) == 2
    assert history.add_adjustments(db, rows[:1]) == 0
    assert history.adjustments(db) == [(1_000, 2_016, 20.0), (2_000, 4_032, 30.0)]
    assert history.last_adjustment(db) == (2_000, 4_032)


def test_empty_cache(db):
    assert history.last_price_time(db) is None
    assert history.last_adjustment(db) is None
    assert history.fetched_at(db, history.PRICES) is None
    assert history.counts(db) == (0, 0)


def test_fetched_at(db):
    history.set_fetched_at(db, history.PRICES, 10.0)
    history.set_fetched_at(db, history.PRICES, 20.0)
    history.set_fetched_at(db, history.ADJUSTMENTS, 5.0)
    assert history.fetched_at(db, history.PRICES) == 20.0
    assert history.fetched_at(db, history.ADJUSTMENTS) == 5.0
