"""Price and difficulty history for backtests, cached from mempool so that a later run only
downloads what is new.

history_prices: one row per price mempool published (daily in the past, hourly lately), keyed by
its time; a row once stored is kept. history_adjustments: one row per difficulty adjustment,
keyed by height. history_fees: the average fees per block of each UTC day, from mempool's
`/api/v1/mining/blocks/fees/…`; the last day is replaced when fetched again (it may have been still
running). history_meta: when each kind was last fetched (to know whether the last cached day
was complete when it was fetched).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("hashfloor.history")

PRICES = "prices"
ADJUSTMENTS = "adjustments"
FEES = "fees"


@migrations()
def m001_history(db: Database) -> None:
    db["history_prices"].create(
        {"time": int, "price_usd": float, "source": str}, pk="time", not_null={"price_usd"}
    )
    db["history_adjustments"].create(
        {"height": int, "time": int, "difficulty": float, "ratio": float},
        pk="height",
        not_null={"time", "difficulty"},
    )
    db["history_adjustments"].create_index(["time"])
    db["history_meta"].create({"key": str, "fetched_at": float}, pk="key")


@migrations()
def m002_history_fees(db: Database) -> None:
    db["history_fees"].create(
        {"day": int, "time": int, "height": int, "fees_sats": float},
        pk="day",
        not_null={"time", "fees_sats"},
    )


def put_fees(db: Database, rows: Iterable[tuple[int, int, int, float]]) -> int:
    """Store (UTC day index, unix s, average height, average fees per block in sats) rows,
    replacing a day already stored; returns how many rows were written."""
    written = 0
    with db.atomic():
        for day, time, height, sats in rows:
            db.execute(
                "INSERT OR REPLACE INTO history_fees (day, time, height, fees_sats)"
                " VALUES (?, ?, ?, ?)",
                [int(day), int(time), int(height), float(sats)],
            )
            written += 1
    return written


def fees(db: Database) -> list[tuple[int, float]]:
    """(UTC day index, average fees per block in sats), oldest first."""
    rows = db.execute("SELECT day, fees_sats FROM history_fees ORDER BY day").fetchall()
    return [(r[0], r[1]) for r in rows]


def last_fee_day(db: Database) -> tuple[int, int] | None:
    """(UTC day index, unix s) of the latest day of fees on file."""
    row = db.execute("SELECT day, time FROM history_fees ORDER BY day DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else None


def fee_days(db: Database) -> int:
    return db.execute("SELECT COUNT(*) FROM history_fees").fetchone()[0]


def add_prices(db: Database, rows: Iterable[tuple[int, float]], source: str = "mempool") -> int:
    """Store (unix s, US$) rows not stored yet; returns how many were new."""
    added = 0
    with db.atomic():
        for time, price in rows:
            cur = db.execute(
                "INSERT OR IGNORE INTO history_prices (time, price_usd, source) VALUES (?, ?, ?)",
                [int(time), float(price), source],
            )
            added += cur.rowcount
    return added


def add_adjustments(db: Database, rows: Iterable[tuple[int, int, float, float | None]]) -> int:
    """Store (unix s, height, difficulty, ratio) rows not stored yet; returns how many were new."""
    added = 0
    with db.atomic():
        for time, height, difficulty, ratio in rows:
            cur = db.execute(
                "INSERT OR IGNORE INTO history_adjustments (height, time, difficulty, ratio)"
                " VALUES (?, ?, ?, ?)",
                [int(height), int(time), float(difficulty), ratio],
            )
            added += cur.rowcount
    return added


def prices(
    db: Database, start: float | None = None, end: float | None = None
) -> list[tuple[int, float]]:
    """(unix s, US$) with start <= time < end, oldest first."""
    sql = "SELECT time, price_usd FROM history_prices WHERE 1"
    args: list[float] = []
    if start is not None:
        sql += " AND time >= ?"
        args.append(start)
    if end is not None:
        sql += " AND time < ?"
        args.append(end)
    return [(r[0], r[1]) for r in db.execute(sql + " ORDER BY time", args).fetchall()]


def adjustments(db: Database) -> list[tuple[int, int, float]]:
    """(unix s, height, difficulty), lowest height first."""
    rows = db.execute(
        "SELECT time, height, difficulty FROM history_adjustments ORDER BY height"
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def last_price_time(db: Database) -> int | None:
    return db.execute("SELECT MAX(time) FROM history_prices").fetchone()[0]


def last_adjustment(db: Database) -> tuple[int, int] | None:
    """(unix s, height) of the latest adjustment on file."""
    row = db.execute(
        "SELECT time, height FROM history_adjustments ORDER BY height DESC LIMIT 1"
    ).fetchone()
    return (row[0], row[1]) if row else None


def counts(db: Database) -> tuple[int, int]:
    """How many price rows and adjustments are on file."""
    n_prices = db.execute("SELECT COUNT(*) FROM history_prices").fetchone()[0]
    n_adjustments = db.execute("SELECT COUNT(*) FROM history_adjustments").fetchone()[0]
    return n_prices, n_adjustments


def fetched_at(db: Database, kind: str) -> float | None:
    row = db.execute("SELECT fetched_at FROM history_meta WHERE key = ?", [kind]).fetchone()
    return row[0] if row else None


def set_fetched_at(db: Database, kind: str, when: float) -> None:
    db.execute(
        "INSERT INTO history_meta (key, fetched_at) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET fetched_at = excluded.fetched_at",
        [kind, when],
    )
