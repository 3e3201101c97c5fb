"""/healthz: last successful poll, data age, pending deliveries; 503 when stale or no database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.market.view import STALE_AFTER_S, is_fresh_age
from bot.service import Hashfloor
from storage import snapshots


def health(
    service: Hashfloor, pending: Callable[[], int] | None = None
) -> tuple[int, dict[str, Any]]:
    now = service.clock()
    try:
        db = service.storage.db
        good = snapshots.latest_fresh(db)
        last = snapshots.latest(db)
    except Exception as exc:  # the database is unreachable: say so, do not crash the probe
        unreachable = f"unreachable: {type(exc).__name__}"
        return 503, {"ok": False, "database": unreachable, "role": service.role}
    problem = service.storage.write_problem
    if problem is not None:  # the last write failed for lack of space or permission
        return 503, {
            "ok": False,
            "database": "not writable",
            "error": problem,
            "role": service.role,
        }
    age = None if good is None else round(now - good.taken_at, 1)
    stale = age is None or not is_fresh_age(age)
    body = {
        "ok": not stale,
        "database": "ok",
        "last_successful_poll": good.taken_at if good else None,
        "data_age_s": age,
        "last_poll": last.taken_at if last else None,
        "last_poll_fresh": bool(last and last.fresh),
        "price_usd": good.price_usd if good else None,
        "pending_deliveries": pending() if pending else 0,
        "stale_after_s": STALE_AFTER_S,
        "role": service.role,
    }
    return (503 if stale else 200), body
