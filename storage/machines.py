"""The machine catalogue: ASIC models shipped with the bot (`machines.csv`, each row with the source
of its figures) and the models operators add or correct with `hashfloor machines import`.

`machines.csv` is the reference table of the product design (maker, model, TH/s, W, J/TH, cooling,
source, note); an operator's row for the same model replaces the shipped one and stays replaced
across upgrades.
"""

from __future__ import annotations

import time
from importlib import resources

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.machines import Machine, read_csv
from storage.db import select

migrations = Migrations("hashfloor.machines")


@migrations()
def m001_machines(db: Database) -> None:
    db["machines"].create(
        {
            "key": str,  # bot.machines.key(model): what matching compares
            "maker": str,
            "model": str,
            "hashrate_ths": float,
            "power_w": float,
            "efficiency_j_th": float,
            "cooling": str,
            "source": str,
            "note": str,
            "origin": str,  # shipped | imported
            "updated_at": float,
        },
        pk="key",
        not_null={"model", "efficiency_j_th", "source", "origin"},
    )


def shipped() -> list[Machine]:
    text = resources.files("storage").joinpath("machines.csv").read_text(encoding="utf-8")
    good, bad = read_csv(text)
    if bad:  # a broken shipped table is a bug in the release, not the operator's problem
        raise ValueError("storage/machines.csv: " + "; ".join(map(str, bad)))
    return good


def _row(m: Machine, origin: str, now: float) -> dict:
    return {
        "key": m.key,
        "maker": m.maker,
        "model": m.model,
        "hashrate_ths": m.hashrate_ths,
        "power_w": m.power_w,
        "efficiency_j_th": m.efficiency_j_th,
        "cooling": m.cooling,
        "source": m.source,
        "note": m.note,
        "origin": origin,
        "updated_at": now,
    }


def seed(db: Database, now: float | None = None) -> int:
    """Add shipped models that are missing; an operator's row for a model is never replaced."""
    now = time.time() if now is None else now
    have = {r["key"] for r in select(db, "SELECT key FROM machines")}
    rows = [_row(m, "shipped", now) for m in shipped() if m.key not in have]
    if rows:
        db["machines"].insert_all(rows)
    return len(rows)


def upsert(db: Database, machines: list[Machine], now: float) -> tuple[int, int]:
    """Add or correct models; returns (added, corrected)."""
    have = {r["key"] for r in select(db, "SELECT key FROM machines")}
    added = sum(1 for m in machines if m.key not in have)
    db["machines"].upsert_all([_row(m, "imported", now) for m in machines], pk="key")
    return added, len(machines) - added


def all_machines(db: Database) -> list[Machine]:
    return [
        Machine(
            maker=r["maker"] or "",
            model=r["model"],
            hashrate_ths=r["hashrate_ths"] or 0.0,
            power_w=r["power_w"] or 0.0,
            efficiency_j_th=r["efficiency_j_th"],
            cooling=r["cooling"] or "",
            source=r["source"],
            note=r["note"] or "",
        )
        for r in select(db, "SELECT * FROM machines ORDER BY efficiency_j_th DESC, model")
    ]


def origins(db: Database) -> dict[str, str]:
    return {r["key"]: r["origin"] for r in select(db, "SELECT key, origin FROM machines")}
