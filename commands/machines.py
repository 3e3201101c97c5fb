"""/hashfloor machines — the machine catalogue; and a model name wherever a J/TH is asked for."""

from __future__ import annotations

import re

from bot import fmt
from bot.machines import Machine, key, match
from bot.slack import blocks as bk
from bot.slack.blocks import Reply
from commands import parsing
from commands.context import Ctx
from storage import machines as catalogue

USAGE = "`/hashfloor machines` · `/hashfloor machines s21` (a filter)"
# Slack allows 3,000 characters a section: a dozen models a section stays well inside it.
ROWS_PER_SECTION = 12


def describe(m: Machine) -> str:
    """How an answer names the model it used: `Antminer S21 (17.5 J/TH)`."""
    return f"{m.model} ({m.efficiency_j_th:g} J/TH)"


def _candidates(ms: tuple[Machine, ...]) -> str:
    return ", ".join(describe(m) for m in ms[:8]) + (" …" if len(ms) > 8 else "")


def efficiency(ctx: Ctx, toks: list[str]) -> tuple[float, Machine | None, list[str]]:
    """The efficiency at the start of `toks`: a J/TH number, or a model name of one or more words
    ending before the first token that is a power price. Returns (J/TH, model, the rest)."""
    if not toks:
        raise parsing.ParseError("(nothing)", "a model such as `S21` or an efficiency in J/TH")
    if not toks[0][:1].isalpha():
        return parsing.efficiency_j_per_th(toks[0]), None, toks[1:]
    end = 1
    while end < len(toks) and not _is_power(toks[end]):
        end += 1
    typed = " ".join(toks[:end])
    found = match(typed, list(ctx.service.machines()))
    if found.machine is not None:
        return found.machine.efficiency_j_th, found.machine, toks[end:]
    if found.candidates:
        raise parsing.ParseError(
            typed, f"several models fit — {_candidates(found.candidates)}; type more of the name"
        )
    hint = f"did you mean {', '.join(found.nearest)}? " if found.nearest else ""
    raise parsing.ParseError(
        typed,
        f"no such model in the catalogue; {hint}see `/hashfloor machines`, or give J/TH like `17.5`",
    )


def _is_power(tok: str) -> bool:
    try:
        parsing.power_price(tok)
    except parsing.ParseError:
        return False
    return True


def _row(m: Machine) -> str:
    rate = f"{m.hashrate_ths:g} TH/s · {m.power_w:,.0f} W · " if m.hashrate_ths else ""
    src = m.source
    # An operator's CSV may hold any text: only a plain URL becomes a link.
    link = re.fullmatch(r"https?://[^\s<>|&\"'`]+", src)
    source = f"<{src}|source>" if link else fmt.escape(src)
    return f"*{fmt.escape(m.model)}* — {m.efficiency_j_th:g} J/TH · {rate}{m.cooling} · {source}"


def _fits(want: str, m: Machine) -> bool:
    """A filter keeps a model when the name starts with it (as matching reads names) or when it
    appears in the maker and model (`whatsminer`, `hydro`)."""
    return m.key.startswith(key(want)) or want.lower() in f"{m.maker} {m.model} {m.cooling}".lower()


def handle(ctx: Ctx, toks: list[str]) -> Reply:
    every = catalogue.all_machines(ctx.service.storage.db)
    want = " ".join(toks)
    shown = [m for m in every if not want or _fits(want, m)]
    if not shown:
        msg = (
            f"No model matches `{fmt.escape(want)}`; `/hashfloor machines` lists all {len(every)}."
        )
        return Reply(text=msg.replace("`", ""), blocks=[bk.section(msg)])
    title = f"*Machine catalogue* — {len(shown)} of {len(every)} models, least efficient first"
    blocks = [bk.section(title)]
    for i in range(0, len(shown), ROWS_PER_SECTION):
        blocks.append(bk.section("\n".join(_row(m) for m in shown[i : i + ROWS_PER_SECTION])))
    blocks.append(
        bk.context(
            "Nameplate figures; bins and firmware vary them ±5%. Use a model wherever a J/TH is "
            "asked for: `/breakeven S21 0.05 2`. Operators add or correct models with "
            "`hashfloor machines import FILE.csv`."
        )
    )
    text = f"{len(shown)} models: " + "; ".join(describe(m) for m in shown)
    return Reply(text=text, blocks=blocks)
