"""The slash commands: one module each, answered the same way in Slack and in the console."""

from __future__ import annotations

import logging
import sqlite3
from types import ModuleType

from bot.economics import EconomicsDomainError
from bot.fmt import escape
from bot.slack import blocks as bk
from bot.slack.blocks import Reply
from commands import breakeven, costs, hashfloor, hashprice
from commands.context import Ctx, PermissionDenied
from commands.parsing import ParseError
from storage.db import BUSY, fault

log = logging.getLogger("hashfloor.commands")

COMMANDS: dict[str, ModuleType] = {m.NAME: m for m in (breakeven, hashprice, costs, hashfloor)}


def answer(ctx: Ctx, command: str, text: str) -> Reply:
    """Always a reply: bad text and refused changes get a clear one, bugs a short apology."""
    module = COMMANDS.get(command)
    if module is None:
        return bk.error_reply(f"Hashfloor does not know `{escape(command)}`.", hashfloor.USAGE)
    try:
        return module.handle(ctx, text or "")
    except ParseError as exc:
        return bk.error_reply(str(exc), module.USAGE)
    except EconomicsDomainError as exc:
        return bk.error_reply(f"Those numbers do not work: {exc}", module.USAGE)
    except PermissionDenied as exc:
        return Reply(text=str(exc), blocks=[bk.section(f":lock: {exc}")])
    except sqlite3.Error as exc:
        kind = fault(exc)
        if kind is None:
            log.exception("%s %r failed", command, text)
            return _apology()
        log.warning("%s %r: not saved, the database is %s (%s)", command, text, kind, exc)
        return _not_saved(kind)
    except Exception:
        log.exception("%s %r failed", command, text)
        return _apology()


def _apology() -> Reply:
    msg = "Something went wrong on our side answering that; it has been logged."
    return Reply(text=msg, blocks=[bk.section(f":x: {msg}")])


def _not_saved(kind: str) -> Reply:
    """A change SQLite refused: say it was not saved, and whether trying again will help."""
    if kind == BUSY:
        msg = "The database is busy, try again in a moment: nothing was changed."
    else:
        msg = (
            f"That could not be saved: the database is not writable ({kind}). Nothing was "
            "changed; the operator has been told in the log."
        )
    return Reply(text=msg, blocks=[bk.section(f":warning: {msg}")])


def is_change(command: str, text: str) -> bool:
    module = COMMANDS.get(command)
    return bool(module and module.is_change(text or ""))
