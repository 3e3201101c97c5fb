"""/hashfloor fleet — the workspace's named fleets (sites): each one more cost line that moves with
the network, `fleet:<name>`.

Grammar: `fleet [<name>] <model|J/TH> <power price> [fee %] [hashrate <PH/s>]`. The first word is
the fleet's name only when it is neither a number nor a machine model (or a maker's name): so
`fleet S21 0.05` keeps meaning model S21 for the fleet `main`, and a name that is a model
(`fleet s21 S21 0.05`) gets a reply saying so instead of a misread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot import currency, fmt
from bot import economics as econ
from bot import fleets as fl
from bot.lines import clean_label, named_keys
from bot.machines import MAKER_WORDS, Machine, match
from bot.market.view import MarketView
from bot.slack import blocks as bk
from bot.slack.blocks import Reply
from commands import machines, parsing
from commands.context import Ctx
from storage import machines as catalogue
from storage import workspaces

USAGE = (
    "`/hashfloor fleet [<name>] <model|J/TH> <$/kWh> [fee %] [hashrate <PH/s>]` · "
    "`/hashfloor fleet list` · `/hashfloor fleet [<name>] off`"
)
NAME_MAX = 24
# Words a fleet cannot be called: the command's own, and the lines `subscribe` names.
RESERVED = {"off", "list", "hashrate", "below", "fleet", "share"}
# How many fleets `/hashfloor status` names before pointing at `fleet list`.
STATUS_SHOWN = 8


def describe(fleet: workspaces.Fleet) -> str:
    return fl.describe(fleet)


def listing(fleets: Mapping[str, workspaces.Fleet], shown: int = STATUS_SHOWN) -> str:
    """`main (17.5 J/TH at $0.05/kWh, pool fee 2%); texas (…)`, escaped, at most `shown`."""
    parts = [f"{fmt.escape(f.name)} ({describe(f)})" for f in list(fleets.values())[:shown]]
    more = len(fleets) - shown
    return "; ".join(parts) + (f"; and {more} more: `/hashfloor fleet list`" if more > 0 else "")


def parse(toks: list[str], ctx: Ctx | None = None) -> tuple[workspaces.Fleet, Machine | None]:
    """The fleet (named `main`), and the catalogue model its efficiency came from (None for a
    J/TH number)."""
    model = None
    rate = None
    if "hashrate" in [t.lower() for t in toks]:
        i = [t.lower() for t in toks].index("hashrate")
        if i + 1 >= len(toks):
            raise parsing.ParseError("hashrate", "a hashrate after the word: `hashrate 350`")
        rate = parsing.hashrate_ph(toks[i + 1])
        toks = toks[:i] + toks[i + 2 :]
    if len(toks) < 2:
        raise parsing.NotPossible(
            "Give the efficiency (or a model) and the power price, e.g. `17.5 0.05 2`."
        )
    if ctx is not None and toks[0][:1].isalpha():
        eff, model, rest = machines.efficiency(ctx, toks)  # a model name: `S21 XP 0.045`
    else:
        eff, rest = parsing.efficiency_j_per_th(toks[0]), toks[1:]
    if not rest:
        raise parsing.NotPossible("Give the power price after the model, e.g. `S21 0.05`.")
    # A bare price is in the workspace's currency; `€0.045`, `0.045 EUR` keep their own.
    money = ctx.service.settings_of(ctx.team).currency if ctx is not None else "USD"
    power, rest = parsing.power_words(rest, money)
    if len(rest) > 1:
        raise parsing.ParseError(
            rest[1], "at most efficiency, power price and pool fee, e.g. `17.5 0.05 2`"
        )
    fleet = workspaces.Fleet(
        eff,
        power.per_kwh,
        parsing.pool_fee(rest[0]) if rest else 0.0,
        rate,
        power_currency=power.currency,
    )
    return fleet, model


def _model_word(ctx: Ctx, tok: str) -> Machine | None | bool:
    """The model a word names (or True for a maker's name, or a start several models share);
    False when it names none, so it may be a fleet's name."""
    if tok.lower() in MAKER_WORDS:
        return True
    found = match(tok, catalogue.all_machines(ctx.service.storage.db))
    if found.machine is not None:
        return found.machine
    return bool(found.candidates)


def fleet_name(text: str) -> str:
    """A fleet's name as typed, cleaned like every label (bot.lines.clean_label), short, and no
    word the commands read otherwise."""
    name = clean_label(text)
    expected = f"a fleet name of 1 to {NAME_MAX} characters, such as `texas` or `site-2`"
    if not name:
        raise parsing.ParseError(text, expected)
    if len(name) > NAME_MAX:
        raise parsing.ParseError(name[:NAME_MAX] + "…", expected)
    if ":" in name or "," in name:
        raise parsing.ParseError(name, f"{expected}, without `:` or `,`")
    if name.lower() in RESERVED or named_keys(name) is not None:
        raise parsing.ParseError(name, f"{expected}; `{name}` is a word the commands read")
    if parsing.number(name) is not None or name[:1].isdigit() or name[:1] in "#$€£.-+":
        raise parsing.ParseError(name, f"{expected}, starting with a letter")
    return name


def parse_named(ctx: Ctx, toks: list[str]) -> tuple[workspaces.Fleet, Machine | None]:
    """`[<name>] <model|J/TH> <power price> [fee] [hashrate <PH/s>]`: the named fleet."""
    first = toks[0]
    is_model = first[:1].isalpha() and _model_word(ctx, first)
    if not first[:1].isalpha() or is_model:
        try:
            return parse(toks, ctx)  # no name: the fleet `main`
        except parsing.ParseError as no_name:
            if not first[:1].isalpha() or len(toks) < 3:
                raise
            try:  # would it read with the first word as a name? Then say why it is not one.
                parse(toks[1:], ctx)
            except parsing.ParseError:
                raise no_name from None
            what = (
                f"the model {machines.describe(is_model)}"
                if isinstance(is_model, Machine)
                else "a maker or model in the catalogue"
            )
            word = clean_label(first)
            raise parsing.NotPossible(
                f"`{word}` is {what}, so it cannot name a fleet: `fleet {word} …` reads it as "
                f"the machine. Give the fleet another name, e.g. `/hashfloor fleet {word}-site "
                f"{' '.join(toks[1:])}`. Nothing was changed."
            ) from None
    name = fleet_name(first)
    if len(toks) == 2:  # a name and one value, or a model that is not in the catalogue
        near = match(first, catalogue.all_machines(ctx.service.storage.db)).nearest
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        raise parsing.NotPossible(
            f"There is no such model in the catalogue as `{name}`{hint}. If it names a fleet, "
            f"give the model (or J/TH) and the power price after it, e.g. "
            f"`/hashfloor fleet {name} S21 0.05`."
        )
    fleet, model = parse(toks[1:], ctx)
    return replace(fleet, name=name), model


def _today(view: MarketView, fleet: workspaces.Fleet) -> str:
    """Where the fleet stands at today's network and price, in a sentence (or nothing)."""
    in_usd = currency.fleet_in_usd(fleet, view.rates, view.now)
    if in_usd is None:
        return (
            f"has no breakeven yet: there is no fresh {fleet.power_currency}/USD rate now, and "
            "each poll's rate converts it once one arrives"
        )
    # A fleet priced in another currency is shown in it first, at the rate it was converted at.
    rate, _ = currency.shown(view.rates, fleet.power_currency, view.now)
    fleet = in_usd
    be = fl.breakeven_usd(fleet, view.hashvalue_btc_per_th_day)
    if be is None or not view.price_usd:
        return ""
    out = (
        f"breaks even at {currency.both(be, rate)} today; BTC at "
        f"{currency.both(view.price_usd, rate)} is "
        f"{fmt.margin_words(econ.margin_over_line(view.price_usd, be))}"
        + (f" (at {currency.rate_words(rate, view.now)})" if rate else "")
    )
    day = fl.day_usd(fleet, view.hashvalue_btc_per_th_day, view.price_usd)
    if day is not None:
        out += f". At {fleet.hashrate_ph:g} PH/s it {fl.day_words(day)}"
    return out


def _list(ctx: Ctx) -> Reply:
    fleets = workspaces.get_fleets(ctx.service.storage.db, ctx.team_id)
    if not fleets:
        msg = "No fleet set."
        return Reply(
            text=msg, blocks=[bk.section(msg), bk.context(f"Set one: {fmt.escape(USAGE)}")]
        )
    view = ctx.service.view(ctx.team, ctx.now)
    rows = []
    for f in fleets.values():
        today = _today(view, f)
        rows.append(f"• *{fmt.escape(f.name)}* — {describe(f)}" + (f": {today}." if today else ""))
    head = (
        f"*Fleets of this workspace* ({len(fleets)} of at most {workspaces.MAX_FLEETS}); "
        "each is a line `fleet:&lt;name&gt;` for `/breakeven`, alerts and the digest"
    )
    text = f"{len(fleets)} fleet{'s' if len(fleets) != 1 else ''}: " + "; ".join(
        f"{fmt.escape(f.name)} ({describe(f)})" for f in fleets.values()
    )
    body = bk.line_sections(rows, budget=bk.MAX_BLOCKS - 2)
    return Reply(text=text, blocks=[bk.section(head), *body, bk.context(fmt.escape(USAGE))])


def _off(ctx: Ctx, name: str) -> Reply:
    db = ctx.service.storage.db
    ctx.require_admin()
    with ctx.service.storage.transaction():
        fleet = workspaces.get_fleet(db, ctx.team_id, name)
        if fleet is None:
            raise parsing.NotPossible(
                f"There is no fleet {clean_label(name)} in this workspace: "
                "`/hashfloor fleet list` shows them."
            )
        workspaces.remove_fleet(db, ctx.team_id, name)
        ctx.audit("fleet.off", name=fleet.key)
    msg = (
        f"Fleet {fmt.escape(fleet.name)} removed: its breakeven line is no longer shown or "
        "watched (its alerts show as removed in `/hashfloor status`)."
    )
    return Reply(text=msg, blocks=[bk.section(msg)])


def handle(ctx: Ctx, toks: list[str]) -> Reply:
    words = [t.lower() for t in toks]
    if not toks or words == ["list"]:
        return _list(ctx)
    if words == ["off"]:
        return _off(ctx, workspaces.MAIN)
    if len(toks) == 2 and words[1] == "off":
        return _off(ctx, toks[0])
    fleet, model = parse_named(ctx, toks)
    ctx.require_admin()
    db = ctx.service.storage.db
    with ctx.service.storage.transaction():
        have = workspaces.get_fleets(db, ctx.team_id)
        if fleet.key not in have and len(have) >= workspaces.MAX_FLEETS:
            raise parsing.NotPossible(
                f"This workspace has {len(have)} fleets, the most it can have: remove one first "
                "(`/hashfloor fleet <name> off`). Nothing was changed."
            )
        workspaces.set_fleet(db, ctx.team_id, fleet, ctx.user_id, ctx.now)
        ctx.audit("fleet.set", **fleet.__dict__)
    used = f" ({model.model}'s {model.efficiency_j_th:g} J/TH from the catalogue)" if model else ""
    name = fmt.escape(fleet.name)
    msg = f"Fleet {name} set: {describe(fleet)}{used}."
    today = _today(ctx.service.view(ctx.team, ctx.now), fleet)
    if today:
        msg += f" It {today}."
    hint = (
        f"Its line is `fleet:{name}`: `/hashfloor subscribe fleet {name}` in a channel for "
        f"alerts on it · {fmt.escape(USAGE)}"
    )
    return Reply(text=msg, blocks=[bk.section(f":pick: {msg}"), bk.context(hint)])
