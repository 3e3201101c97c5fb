"""Retention benchmark: a year of 60 s snapshots, rows and file size before and after thinning.

    python bench/retention.py [--days 365] [--poll 60]

(a) No retention: a year of polls, each stored as a poll stores it (storage.snapshots.insert's
    row: five quotes as JSON, the network fields), in one database file.
(b) The same file after one run of the retention job (bot.retention.prune, DESIGN's defaults):
    the rows left, the file size (SQLite keeps freed pages for reuse, so the file does not shrink),
    and the size after `VACUUM`.
(c) The job running as in production: a day of polls, then the daily prune, for the whole year.
    The file stops growing once freed pages are reused: its size at the end of the year.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import json  # noqa: E402

from bot.market.snapshot import Snapshot  # noqa: E402
from bot.retention import DAY, Policy, prune  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.db import Storage  # noqa: E402
from storage.migrations import migrate  # noqa: E402
from tests.fakes.snapshots import design_snapshot  # noqa: E402

SOURCES = ("coinbase", "kraken", "bitstamp", "coingecko", "mempool")
START = 1_733_000_000.0


def row(snap: Snapshot) -> dict[str, object]:
    """The row storage.snapshots.insert writes."""
    net = asdict(snap.network)
    return {
        "taken_at": snap.taken_at,
        "price_usd": snap.price_usd,
        "fresh": int(snap.fresh),
        "used_sources": ",".join(snap.used_sources),
        "quotes": json.dumps([asdict(q) for q in snap.quotes]),
        "network_source": net.pop("source"),
        "network_error": net.pop("error"),
        **net,
    }


def polls(start: float, end: float, every: float) -> list[dict[str, object]]:
    out = []
    t = start
    while t < end:
        price = 91_000.0 + (t % 7_919)  # prices differ a little, as real ones do
        out.append(row(design_snapshot(t, price, SOURCES, latency_ms=123.4)))
        t += every
    return out


def insert(storage: Storage, rows: list[dict[str, object]]) -> None:
    with storage.transaction() as db:
        db["market_snapshots"].insert_all(rows, batch_size=2_000)


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def rows_in(storage: Storage) -> int:
    return storage.db.execute("SELECT COUNT(*) FROM market_snapshots").fetchone()[0]


def checkpoint(storage: Storage) -> None:
    storage.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--poll", type=float, default=60.0)
    args = parser.parse_args()
    policy = Policy.from_settings(Settings())
    end = START + args.days * DAY
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.db"
        storage = Storage(path)
        migrate(storage.db)
        for day in range(args.days):
            insert(storage, polls(START + day * DAY, START + (day + 1) * DAY, args.poll))
        checkpoint(storage)
        print(f"(a) {args.days} days of {args.poll:g} s polls, no retention:")
        print(f"    {rows_in(storage):,} rows, file {mb(size(path))}")
        t0 = time.perf_counter()
        pruned = prune(storage, end, policy)
        took = time.perf_counter() - t0
        checkpoint(storage)
        print(f"(b) after one retention run ({took:.1f} s, {pruned.snapshots:,} rows deleted):")
        print(f"    {rows_in(storage):,} rows, file {mb(size(path))} (freed pages kept for reuse)")
        storage.db.execute("VACUUM")
        checkpoint(storage)
        print(f"    after VACUUM: file {mb(size(path))}")
        storage.close()

        path = Path(tmp) / "c.db"
        storage = Storage(path)
        migrate(storage.db)
        longest = 0.0
        for day in range(args.days):
            insert(storage, polls(START + day * DAY, START + (day + 1) * DAY, args.poll))
            t0 = time.perf_counter()
            prune(storage, START + (day + 1) * DAY, policy)
            longest = max(longest, time.perf_counter() - t0)
        checkpoint(storage)
        print(f"(c) {args.days} days with the daily job running along:")
        print(
            f"    {rows_in(storage):,} rows, file {mb(size(path))}; longest daily run {longest:.2f} s"
        )
        storage.close()


if __name__ == "__main__":
    main()
