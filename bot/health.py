"""/healthz (liveness) and /readyz (readiness), both JSON, both naming the process's role.

/healthz: last successful poll, data age, pending deliveries; 503 when stale or no database.
/readyz (DESIGN §10): migrated, the Socket Mode connection up when used, price data fresh.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.market.snapshot import Snapshot
from bot.market.view import STALE_AFTER_S, is_fresh_age
from bot.service import Hashfloor
from storage import migrations, snapshots


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
    age, stale = _data_age(now, good)
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


def readiness(
    service: Hashfloor, socket_connected: Callable[[], bool] | None = None
) -> tuple[int, dict[str, Any]]:
    """Whether this process should be sent traffic; `socket_connected` only in Socket Mode."""
    try:
        db = service.storage.db
        pending = migrations.pending(db)
        good = snapshots.latest_fresh(db)
    except Exception as exc:  # as in health(): the probe answers, it does not crash
        unreachable = f"unreachable: {type(exc).__name__}"
        return 503, {"ready": False, "database": unreachable, "role": service.role}
    age, stale = _data_age(service.clock(), good)
    checks = {"migrated": not pending, "price_fresh": not stale}
    if socket_connected is not None:
        checks["socket_mode_connected"] = bool(socket_connected())
    ready = all(checks.values())
    body: dict[str, Any] = {"ready": ready, **checks, "data_age_s": age, "role": service.role}
    if pending:
        body["pending_migrations"] = pending
    return (200 if ready else 503), body


def _data_age(now: float, good: Snapshot | None) -> tuple[float | None, bool]:
    """Seconds since the last fresh snapshot, and whether that is too old (or none at all)."""
    age = None if good is None else round(now - good.taken_at, 1)
    return age, age is None or not is_fresh_age(age)
