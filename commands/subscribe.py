"""/hashfloor subscribe | unsubscribe — which lines this channel is alerted about."""

from __future__ import annotations

import re
from typing import Any

from bot import benchmarks, fmt
from bot import fleets as fl
from bot.alerts import engine, messages, retarget, rules
from bot.alerts import retarget_messages as retarget_msgs
from bot.alerts.targets import (
    HASHPRICE_SATS_MAX,
    HASHPRICE_USD_MAX,
    WITHIN_PCT_MAX,
    Target,
    hashprice_key,
    resolve,
    rule_name,
    split_within,
    within_key,
)
from bot.lines import clean_label, named_keys
from bot.slack import blocks as bk
from bot.slack.blocks import Block, Reply, line_sections
from commands import parsing
from commands.context import Ctx
from storage import alerts, workspaces
from storage import retarget as retarget_rules

USAGE = (
    "`/hashfloor subscribe [cash|allin|all|<cost id>|fleet [<name>]|below <usd>]` (default: "
    "cash and allin), `subscribe hashprice below <usd per PH/day>|<n> sats`, "
    "`subscribe <line> within <pct>`"
)
# `fleet` alone: every fleet the workspace has when the command runs (one rule each).
EVERY_FLEET = "fleet"
HASHPRICE_FORM = "`hashprice below 30` ($/PH/day) or `hashprice below 40 sats` (sats/TH/day)"
# `$30`, `30/PH/day`, `$30 /PH/day`; `40 sats`, `40sats/TH/day`.
_HASHPRICE = re.compile(
    r"^\$?\s*(?P<n>[0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)\s*"
    r"(?:(?P<sats>sats?(?:\s*/\s*th(?:/s)?\s*/\s*day)?)|(?:\$?\s*/\s*ph(?:/s)?\s*/\s*day|usd)?)$",
    re.IGNORECASE,
)
ADJUSTMENT_USAGE = (
    "`/hashfloor subscribe adjustment [<pct>]`, e.g. `adjustment` or `adjustment 5` for a "
    "heads-up when the estimate is past ±5%"
)
# Levels are kept to what a rule's name shows (`$30.00/PH/day`, `40.5 sats/TH/day`, `5.25%`):
# `below 30.001` and `below 30` were two rules both named `$30/PH/day`, and `within 1e-19%` one
# no reply could show.
PCT_PLACES = 2
HASHPRICE_PLACES = {"usd": 2, "sats": 1}
UNDELIVERED_SHOWN_S = 7 * 86_400  # how far back status lists messages that were given up on
# Rules one channel may hold, of every kind: each is evaluated on every poll and listed in status,
# so one member typing 100,000 distinct `below` levels must not make the poll (or the file) grow.
RULES_PER_CHANNEL_MAX = 50


def within_pct(text: str) -> float:
    """`5`, `5%`, `2.5 %` → 5.0 (percent above the line), within (0, WITHIN_PCT_MAX]."""
    value = parsing.number(text.strip().removesuffix("%").strip())
    if value is None:
        raise parsing.ParseError(text, "a percentage after `within`, e.g. `cash within 5%`")
    value = round(value, PCT_PLACES)
    if not 0 < value <= WITHIN_PCT_MAX:
        raise parsing.ParseError(
            text,
            f"an early warning at least 0.01% and at most {WITHIN_PCT_MAX:g}% above the line "
            "(in hundredths of a percent)",
        )
    return value


def hashprice_level(toks: list[str]) -> str:
    """`below 30`, `below $30/PH/day`, `below 40 sats` → the hashprice rule's key."""
    text = " ".join(toks[1:])
    if not toks or toks[0].lower() != "below" or not text:
        raise parsing.ParseError(" ".join(toks) or "hashprice", f"try {HASHPRICE_FORM}")
    m = _HASHPRICE.match(text.strip())
    if not m:
        raise parsing.ParseError(text, f"a hashprice level: {HASHPRICE_FORM}")
    sats = bool(m.group("sats"))
    unit = "sats" if sats else "usd"
    value = round(float(m.group("n").replace(",", "")), HASHPRICE_PLACES[unit])
    top = HASHPRICE_SATS_MAX if sats else HASHPRICE_USD_MAX
    if not 0 < value <= top:
        least = 10.0 ** -HASHPRICE_PLACES[unit]
        words = "sats/TH/day" if sats else "$/PH/day"
        raise parsing.ParseError(
            text, f"a hashprice above 0 and at most {top:,g} {words}, in steps of {least:g}"
        )
    return hashprice_key(value, unit)


def parse_keys(toks: list[str]) -> list[str]:
    """Rule keys named by the text; nothing means cash and all-in."""
    if not toks:
        return ["cash", "allin"]
    words = [t.lower() for t in toks]
    if "within" in words:
        at = words.index("within")
        if at == 0:
            raise parsing.ParseError(
                "within", "name the line to warn about first, e.g. `cash within 5%`"
            )
        if len(toks) != at + 2:
            raise parsing.ParseError(
                toks[at + 2] if len(toks) > at + 2 else "within",
                "one percentage after `within`, e.g. `cash within 5%`",
            )
        pct = within_pct(toks[at + 1])
        return [within_key(pct, key) for key in parse_keys(toks[:at])]
    if words[0] == "hashprice":
        return [hashprice_level(toks[1:])]
    if words[0] == "below":
        if len(toks) != 2:
            raise parsing.ParseError(
                toks[2] if len(toks) > 2 else "below", "one price after `below`, e.g. `below 80000`"
            )
        # To the dollar, as its name shows it (`below $80,000`).
        return [f"below:{round(parsing.price_usd(toks[1])):.10g}"]
    keys: list[str] = []
    prev = ""
    for tok, word in zip(toks, words, strict=True):
        after_fleet, prev = prev == EVERY_FLEET, word
        if after_fleet and keys[-1] == EVERY_FLEET and _names_a_fleet(word):
            keys[-1] = _fleet_key(tok)  # `fleet texas`: that fleet, not every one
        elif word.startswith(fl.LINE_PREFIX) and len(word) > len(fl.LINE_PREFIX):
            keys.append(_fleet_key(tok[len(fl.LINE_PREFIX) :]))  # `fleet:texas`
        elif (named := named_keys(word)) is not None:
            keys += named
        elif word.lstrip("#").isdigit():
            keys.append(f"cost:{parsing.row_id(word)}")
        else:
            raise parsing.ParseError(tok, f"try {USAGE}")
    return list(dict.fromkeys(keys))


def _names_a_fleet(word: str) -> bool:
    """After `fleet`, a word that is no other line's name is a fleet's name."""
    return (
        named_keys(word) is None
        and word not in ("below", "hashprice", "within")
        and not word.lstrip("#").isdigit()
        and not word.startswith(fl.LINE_PREFIX)
    )


def _fleet_key(name: str) -> str:
    return fl.LINE_PREFIX + workspaces.fleet_key(clean_label(name))


def _every_fleet(keys: list[str], fleets: dict[str, workspaces.Fleet]) -> list[str]:
    """`fleet` (and `within:<pct>:fleet`) stand for one rule per fleet the workspace has now."""
    out: list[str] = []
    for key in keys:
        pct = split_within(key)
        if key == EVERY_FLEET or (pct and pct[1] == EVERY_FLEET):
            if not fleets:
                raise parsing.NotPossible(
                    "No fleet is set: `/hashfloor fleet <model|J/TH> <$/kWh>` first."
                )
            each = [f.line_key for f in fleets.values()]
            out += [within_key(pct[0], k) for k in each] if pct else each
        else:
            out.append(key)
    return list(dict.fromkeys(out))


def _room_for(have: list[str], keys: list[str]) -> None:
    """NotPossible when adding `keys` (those not there yet) would pass the channel's bound."""
    new = [k for k in dict.fromkeys(keys) if k not in have]
    if new and len(have) + len(new) > RULES_PER_CHANNEL_MAX:
        raise parsing.NotPossible(
            f"This channel has {len(have)} alert rules; {RULES_PER_CHANNEL_MAX} is the most one "
            "channel can hold. Nothing was saved: `/hashfloor unsubscribe <rule>` (or "
            "`unsubscribe below`, `unsubscribe within`, …) first, then subscribe again."
        )


def _targets(ctx: Ctx, keys: list[str]) -> list[tuple[str, Target]]:
    db = ctx.service.storage.db
    lines = engine.benchmark_lines(db, ctx.team, ctx.now)
    fleets = workspaces.get_fleets(db, ctx.team_id)
    net = engine.network(db)
    out = []
    for key in _every_fleet(keys, fleets):
        target = resolve(key, lines, fleets, net, _rates(ctx))
        if target is None:
            # An early warning on a line that is not there: say which line.
            line_key = key.split(":", 2)[2] if key.startswith("within:") else key
            if (name := fl.key_of_line(line_key)) is not None:
                if name in fleets:
                    what = (
                        f"The line of fleet {fleets[name].name} needs network data; try again "
                        "after the next poll."
                    )
                    cur = fleets[name].power_currency
                    if cur != "USD" and cur not in _rates(ctx):
                        what = (
                            f"Fleet {fleets[name].name} is priced in {cur} and there is no "
                            f"fresh {cur}/USD rate to convert with; try again in a minute."
                        )
                else:
                    what = (
                        f"There is no fleet {name} in this workspace: `/hashfloor fleet list` "
                        "shows them."
                    )
            else:
                what = (
                    f"There is no cost line #{line_key.removeprefix('cost:')} here: see `/costs`."
                )
            raise parsing.NotPossible(what)
        out.append((key, target))
    return out


# Slack's answers to a post in a channel the bot cannot post in (DESIGN §5: a subscription
# must be able to arrive).
NOT_THERE = ("not_in_channel", "channel_not_found")


def _cannot_post(error: str) -> Reply:
    if error in NOT_THERE:
        msg = (
            "Hashfloor is not in this channel, so its alerts could not arrive here. "
            "Type `/invite @Hashfloor` in the channel, then subscribe again. Nothing was saved."
        )
    elif error == "is_archived":
        msg = "This channel is archived: alerts could not arrive here. Nothing was saved."
    elif error == "unreachable":
        msg = (
            "Hashfloor could not reach Slack to check that it can post here. Nothing was saved; "
            "try again in a minute."
        )
    else:
        msg = (
            f"Slack did not let Hashfloor post in this channel (`{fmt.escape(error)}`), so its "
            "alerts could not arrive here. Nothing was saved."
        )
    return Reply(text=msg, blocks=[bk.section(f":no_entry: {msg}")])


def adjustment_key(toks: list[str]) -> str:
    """`adjustment` → `adjustment`; `adjustment 5` (or `5%`, `±5%`) → `adjustment:5`."""
    if len(toks) == 1:
        return "adjustment"
    if len(toks) > 2:
        raise parsing.ParseError(toks[2], f"one threshold at most: {ADJUSTMENT_USAGE}")
    raw = toks[1]
    text = raw.strip().removeprefix("±").removeprefix("+-").removesuffix("%").strip()
    pct = parsing.number(text)
    pct = None if pct is None else round(pct, PCT_PLACES)
    if pct is None or not 0 < pct <= retarget.MAX_PCT:
        raise parsing.ParseError(
            raw,
            f"a percentage of at least 0.01 and at most {retarget.MAX_PCT:g}: {ADJUSTMENT_USAGE}",
        )
    return f"adjustment:{pct:g}"


def _subscribe_adjustment(ctx: Ctx, toks: list[str]) -> Reply:
    """One retarget rule per channel: subscribing again with another threshold changes it."""
    key = adjustment_key(toks)
    ctx.require_member()
    db = ctx.service.storage.db
    have = [r["line_key"] for r in alerts.channel_rules(db, ctx.team, ctx.channel_id)]
    # One retarget rule per channel: changing its threshold adds nothing.
    if not any(retarget.is_adjustment_key(k) for k in have):
        _room_for(have, [key])
    net = engine.network(db)
    pct = retarget.parse_pct(key)
    if ctx.post is not None:
        text, blocks = retarget_msgs.subscribed(pct, net, by=ctx.user_id)
        if refused := ctx.post(text, blocks):
            return _cannot_post(refused)
    # The rule starts from the network it can see now: a retarget before this is not news.
    mem = retarget.Memory()
    if net is not None and net.difficulty and net.tip_height is not None:
        mem = retarget.Memory(retarget.epoch_of(net.tip_height), net.difficulty)
    with ctx.service.storage.transaction():
        done = retarget_rules.subscribe(
            db, ctx.team, ctx.channel_id, key, mem, ctx.user_id, ctx.now
        )
        ctx.audit("subscribe", channel=ctx.channel_id, lines=[key])
    name = retarget_msgs.rule_name(pct)
    if ctx.post is not None:
        msg = f"Subscribed to {name}: the confirmation is posted in this channel."
    else:
        msg = retarget_msgs.subscribed(pct, net, by=None)[0]
    if done == "changed":
        msg = f"This channel now gets {name}."
    return Reply(text=msg, blocks=[bk.section(f":bell: {msg}")])


def subscribe(ctx: Ctx, toks: list[str]) -> Reply:
    if not ctx.channel_id:
        raise parsing.NotPossible("Run it in the channel that should get the alerts.")
    if toks and toks[0].lower() == "adjustment":
        return _subscribe_adjustment(ctx, toks)
    targets = _targets(ctx, parse_keys(toks))
    ctx.require_member()
    db = ctx.service.storage.db
    now = engine.current(db, ctx.now)  # the price and the hashprices, and whether fresh
    price, fresh = engine.fresh_price(db, ctx.now)
    values = {m: value for m, (value, _) in now.items()}
    existing = {r["line_key"]: r for r in alerts.channel_rules(db, ctx.team, ctx.channel_id)}
    _room_for(list(existing), [key for key, _ in targets])
    planned = []
    for key, target in targets:
        row = existing.get(key)
        if row is not None and not row["paused_reason"]:
            state = alerts.rule_state(row)  # an active rule is kept as it is
        else:
            value, value_fresh = now[target.metric]
            state = rules.initial_state(value, value_fresh, target.line.value_usd, ctx.now)
        planned.append((key, target, state))
    stood = [(target, state.state) for _, target, state in planned]
    if ctx.post is not None:
        # Posted before anything is saved: if the channel cannot get this, it cannot get alerts.
        text, blocks = messages.where_it_stands(
            price, stood, fresh, by=ctx.user_id, values=values, now=ctx.now
        )
        if refused := ctx.post(text, blocks):
            return _cannot_post(refused)
    with ctx.service.storage.transaction():
        for key, target, state in planned:
            alerts.add_rule(
                db,
                ctx.team,
                ctx.channel_id,
                key,
                state,
                target.line.value_usd,
                target.version,
                ctx.user_id,
                ctx.now,
            )
        ctx.audit("subscribe", channel=ctx.channel_id, lines=[k for k, _ in targets])
    if ctx.post is not None:
        msg = "Subscribed: the confirmation is posted in this channel, where the alerts will go."
        return Reply(text=msg, blocks=[bk.section(f":bell: {msg}")])
    text, blocks = messages.where_it_stands(price, stood, fresh, values=values, now=ctx.now)
    return Reply(text=text, blocks=blocks)


def _names(ctx: Ctx, keys: list[str]) -> list[str]:
    """The rules as people wrote them, escaped for mrkdwn."""
    db = ctx.service.storage.db
    lines = engine.benchmark_lines(db, ctx.team, ctx.now)
    fleets = workspaces.get_fleets(db, ctx.team_id)
    net = engine.network(db)
    rates = _rates(ctx)
    return [fmt.escape(rule_name(k, resolve(k, lines, fleets, net, rates), fleets)) for k in keys]


def _rates(ctx: Ctx) -> dict[str, Any]:
    """The fresh rates now: a fleet priced in another currency is converted with them."""
    view = ctx.service.view(ctx.team, ctx.now)
    return {c: r for c, r in view.rates.items() if r.fresh(view.now)}


def unsubscribe(ctx: Ctx, toks: list[str]) -> Reply:
    """`all`: every rule of the channel, whatever its kind (DESIGN §5.1); `below`, `hashprice` or
    `within` alone: every rule of that kind; nothing: the default set, cash and all-in, as
    `subscribe` adds it."""
    if not ctx.channel_id:
        raise parsing.NotPossible("Run it in the channel.")
    db = ctx.service.storage.db
    have = [r["line_key"] for r in alerts.channel_rules(db, ctx.team, ctx.channel_id)]
    words = [t.lower() for t in toks]
    if "all" in words:
        keys = have
    elif words in (["below"], ["hashprice"], ["within"]):
        # A kind alone: every rule of that kind (price levels, hashprice levels, early warnings).
        keys = [k for k in have if k.startswith(f"{words[0]}:")]
    elif words[:1] == ["adjustment"]:
        keys = [k for k in have if retarget.is_adjustment_key(k)]  # whatever its threshold
    elif words == [EVERY_FLEET]:  # every fleet rule here, a removed fleet's too
        keys = [k for k in have if k.startswith(fl.LINE_PREFIX)]
    else:
        # `fleet within 5%`: the early warning on every fleet this channel has one on.
        keys = [
            k
            for key in parse_keys(toks)
            for k in (
                [h for h in have if h.startswith(key + ":")]
                if key.startswith("within:") and key.endswith(":" + EVERY_FLEET)
                else [key]
            )
        ]
    ctx.require_member()
    names = dict(zip(have, _names(ctx, have), strict=True))
    with ctx.service.storage.transaction():
        gone = [k for k in keys if alerts.remove_rule(db, ctx.team, ctx.channel_id, k)]
        ctx.audit("unsubscribe", channel=ctx.channel_id, lines=gone)
    left = [names[k] for k in have if k not in gone]
    if not have:
        msg = "This channel has no alerts to remove."
    elif not gone:
        msg = "This channel was not subscribed to that."
    else:
        msg = "Unsubscribed from " + _and([names[k] for k in gone]) + "."
    if left:
        msg += (
            " Still subscribed here: " + _and(left) + " (`/hashfloor unsubscribe all` removes "
            "every rule)."
        )
    elif gone:
        msg += " This channel gets no alerts now."
    return Reply(text=msg, blocks=[bk.section(msg)])


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def status_section(ctx: Ctx) -> list[Block]:
    """The channel's rules for `/hashfloor status`: state, since when, last message, pauses."""
    if not ctx.channel_id:
        return []
    db = ctx.service.storage.db
    rows = alerts.channel_rules(db, ctx.team, ctx.channel_id)
    if not rows:
        return [bk.section("*Alerts:* this channel is not subscribed. " + fmt.escape(USAGE))]
    lines = engine.benchmark_lines(db, ctx.team, ctx.now)
    fleets = workspaces.get_fleets(db, ctx.team_id)
    net = engine.network(db)
    rates = _rates(ctx)
    out = []
    for r in rows:
        target = resolve(r["line_key"], lines, fleets, net, rates)
        key = r["line_key"]
        name = fmt.escape(rule_name(key, target, fleets))
        if target is not None and (value := messages.line_value(key, target)):
            name += f" ({value})"
        since = f" since {fmt.when(r['since'])}" if r["since"] else ""
        last = messages.last_message_words(r["last_message_at"], r["last_message"])
        state = messages.state_words(key, r["state"])
        entry = f"• {name}: *{state}*{since}" + (f"; {last}" if last else "")
        if retarget.is_adjustment_key(key):
            watching = retarget_msgs.watching(retarget_rules.memory(r))
            entry = f"• {name}: {watching}" + (f"; {last}" if last else "")
        if target is not None:
            entry += benchmarks.slack_mark((target.near or target.line).period, ctx.now)
        if r["paused_reason"]:
            entry += (
                f"\n   :warning: paused {fmt.when(r['paused_at'])}: Slack said "
                f"`{fmt.escape(r['paused_reason'])}` — invite the bot or subscribe again to resume"
            )
        out.append(entry)
    # Messages given up on (a code final for that message, or an unknown one past its retries):
    # never a silent drop.
    for f in alerts.undelivered(db, ctx.team, ctx.channel_id, ctx.now - UNDELIVERED_SHOWN_S):
        out.append(
            f":warning: not delivered: the {f['kind']} of {fmt.when(f['created_at'])} "
            f"({f['attempts']} tries) — Slack said `{fmt.escape(f['last_error'] or '?')}`"
        )
    # Room for the status reply's other sections (heading, settings) within Slack's 50 blocks.
    return line_sections(
        ["*Alerts in this channel*", *out], budget=bk.MAX_BLOCKS - 5, more="see the App Home"
    )
