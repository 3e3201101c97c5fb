"""The App Home tab: the market dashboard and this workspace's subscriptions and digests.

The channels shown are those the viewer is known to be in (bot.slack.listeners.home decides); the
others are only counted, so a private channel's subscriptions are never named to a non-member.

Pure: a function of the market view, the workspace's subscriptions and digest schedules, and the
time. Within Slack's limits for a Home view: at most 100 blocks, 3,000 characters a section; many
subscriptions are packed several to a section, and what still does not fit is counted, not cut.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot import benchmarks, currency, fmt, hpc
from bot import economics as econ
from bot import fleets as fl
from bot.alerts.messages import last_message_words, state_words
from bot.market.view import MarketView
from bot.slack import blocks as bk
from bot.slack.blocks import Block
from storage.workspaces import Fleet

MAX_HOME_BLOCKS = 100
MAX_LABEL_CHARS = 120
TITLE = "Hashfloor: BTC against the cost to mine"


@dataclass(frozen=True)
class Subscription:
    """One alert rule of the workspace, with its line resolved for people."""

    channel_id: str
    label: str  # the line's name (user text: escaped when shown)
    value_usd: float | None  # None when the line no longer exists
    state: str  # unknown | above | below
    since: float | None
    paused_reason: str | None = None
    paused_at: float | None = None
    key: str = ""  # the rule's line key: its kind's state words (`within 5%`, `hashprice below`)
    value: str | None = None  # the value shown after the name, when not `value_usd` in dollars
    last_message_at: float | None = None
    last_message: str | None = None  # its plain text
    # A rule without a line to cross (difficulty retargets): what it watches, in place of the
    # line's value and the price's state (mrkdwn, already escaped).
    watching: str | None = None
    old: str = ""  # the line's old mark (bot.benchmarks.old_note), "" when it is not old


@dataclass(frozen=True)
class DigestEntry:
    """One channel's weekly digest: its schedule in words and the next send time."""

    channel_id: str
    schedule: str | None  # "Monday 09:00 Europe/Berlin"; None when the digest is off
    default: bool  # the subscription's default rather than a schedule someone set
    next_send: str | None  # "Mon 30 Nov 2026 09:00 CET" (bot.digest.channels.next_words)
    last_error: str | None = None


def home_view(
    view: MarketView,
    fleets: Mapping[str, Fleet],
    subscriptions: Sequence[Subscription],
    digests: Sequence[DigestEntry],
    hidden_channels: int = 0,
    money: str = currency.USD,
    hpc_lease: float | None = None,
) -> dict[str, Any]:
    """The Home tab's view for views.publish; `hidden_channels` counts the workspace's channels
    with alerts or a digest that are left out because the viewer is not known to be in them;
    `money` is the workspace's currency, shown first with US$ beside it (cost lines stay US$)."""
    blocks: list[Block] = [bk.header(TITLE)]
    blocks += _market(view, fleets, money, hpc_lease)
    blocks.append(bk.divider())
    blocks.append(bk.header("Alerts in this workspace"))
    blocks += _subscriptions(subscriptions, hidden_channels > 0)
    blocks.append(bk.divider())
    blocks.append(bk.header("Weekly digests"))
    blocks += _digests(digests, hidden_channels > 0)
    if hidden_channels:
        blocks.append(bk.context(_hidden_words(hidden_channels)))
    blocks.append(
        bk.context(
            "`/hashfloor subscribe` in a channel for alerts · `/hashfloor digest mon 09:00 "
            "Europe/Berlin` sets its digest · `/hashfloor status` there for the details"
        )
    )
    return {"type": "home", "blocks": _fit(blocks)}


# --- the market -------------------------------------------------------------------------------


def _market(
    view: MarketView,
    fleets: Mapping[str, Fleet],
    money: str = currency.USD,
    hpc_lease: float | None = None,
) -> list[Block]:
    if view.price_usd is None:
        return [
            bk.section(
                ":hourglass: No market data yet: the bot polls the price sources at start-up. "
                "Open this tab again in a minute."
            )
        ]
    age = f"fetched {fmt.age(view.age_s)}"
    if view.stale:
        age = f":warning: stale, {age}: the price sources have not agreed since"
    sources = ", ".join(view.price_sources)
    rate, warning = currency.shown(view.rates, money, view.now)
    out = [
        bk.section(
            f"*BTC {currency.both(view.price_usd, rate)}* · {age}"
            + (f" (median of {fmt.escape(sources)})" if sources else "")
        )
    ]
    if rate or warning:
        out.append(bk.context(currency.note(rate, view.now) or warning))
    rows = [
        _line_row(m.line.label, m.line.value_usd, m.margin)
        + benchmarks.slack_mark(m.line.period, view.now)
        for m in view.margins
    ]
    # The workspace's fleets first, as /breakeven lists them, each with what a MWh earns.
    rows = [fl.row(view, f, rate) + _per_mwh(view, f, hpc_lease) for f in fleets.values()] + rows
    out += [bk.section(t) for t in _pack(["*Cost lines*", *rows] if rows else ["*Cost lines*"])]
    out.append(bk.fields_section(_network_fields(view, rate)))
    return out


def _line_row(label: str, value_usd: float, margin: float) -> str:
    icon = ":large_green_circle:" if margin >= 0 else ":red_circle:"
    return (
        f"{icon} *{fmt.escape(_label(label))}* {fmt.usd(value_usd)}: "
        f"price is {fmt.margin_words(margin)}"
    )


def _per_mwh(view: MarketView, fleet: Fleet, hpc_lease: float | None) -> str:
    """Under a fleet's row: what a MWh earns mining (the curtailment price) and, with
    `/hashfloor hpc` set, leased (DESIGN §4.1); "" when there is nothing to say."""
    mining = None
    if view.hashvalue_btc_per_th_day and view.price_usd is not None:
        try:
            power = econ.breakeven_power_usd_per_kwh(
                fleet.efficiency_j_per_th,
                view.price_usd,
                view.hashvalue_btc_per_th_day,
                fleet.pool_fee,
            )
            mining = econ.earnings_usd_per_mwh(power)
        except econ.EconomicsDomainError:
            mining = None
    parts = []
    if mining is not None:
        parts.append(f"mining earns ${mining:,.2f}/MWh (above that power price it loses money)")
    if hpc_lease is not None:
        parts.append(fmt.escape(hpc.lease_words(hpc_lease, mining)))
    return f"\n   :zap: {' · '.join(parts)}" if parts else ""


def _network_fields(view: MarketView, rate: currency.Rate | None = None) -> list[str]:
    if view.hashprice_usd_per_ph_day is not None:
        hashprice = f"{currency.both(view.hashprice_usd_per_ph_day, rate, cents=True)}/PH/day"
        if view.hashprice_sats_per_th_day is not None:
            hashprice += f" · {view.hashprice_sats_per_th_day:,.1f} sats/TH/day"
    else:
        hashprice = "—"
    if view.next_adjustment_percent is not None:
        nxt = f"{fmt.pct(view.next_adjustment_percent / 100, digits=2)} (estimate)"
        if view.next_adjustment_at is not None:
            nxt += f" around {_date(view.next_adjustment_at)}"
        if view.next_adjustment_blocks is not None:
            nxt += f", in {view.next_adjustment_blocks:,} blocks"
        nxt += view.adjustment_note
    else:
        nxt = "—"
    if view.blocks_to_halving is not None:
        days = view.blocks_to_halving * 600 / 86_400  # at the 10-minute target spacing
        halving = f"in {view.blocks_to_halving:,} blocks (about {days:,.0f} days)"
    else:
        halving = "—"
    return [
        f"*Hashprice*\n{hashprice}",
        f"*Difficulty*\n{fmt.difficulty(view.difficulty)}",
        f"*Next difficulty adjustment*\n{nxt}",
        f"*Next halving*\n{halving}",
    ]


# --- subscriptions and digests ----------------------------------------------------------------


def _subscriptions(subs: Sequence[Subscription], others: bool = False) -> list[Block]:
    if not subs and others:
        return [bk.section("None of the channels where you have used Hashfloor has alerts.")]
    if not subs:
        return [bk.section("No channel is subscribed yet: `/hashfloor subscribe` in a channel.")]
    rows: list[str] = []
    channel = None
    for s in sorted(subs, key=lambda s: s.channel_id):  # stable: rules keep their order
        if s.channel_id != channel:
            channel = s.channel_id
            rows.append(f"*<#{s.channel_id}>*")
        if s.value is not None:
            value = f" ({s.value})" if s.value else ""
        else:
            value = f" {fmt.usd(s.value_usd)}" if s.value_usd is not None else " (line removed)"
        since = f" since {_date(s.since)}" if s.since else ""
        state = state_words(s.key, s.state) if s.key else _state_words(s.state)
        row = f"• {fmt.escape(_label(s.label))}{value}: *{state}*{since}"
        if s.watching is not None:
            row = f"• {fmt.escape(_label(s.label))}: {s.watching}"
        if s.old:
            row += f" :hourglass: _{fmt.escape(s.old)}_"
        if last := last_message_words(s.last_message_at, s.last_message):
            row += f"\n   {last}"
        if s.paused_reason:
            row += (
                f"\n   :warning: paused {_date(s.paused_at) if s.paused_at else ''}: Slack said "
                f"`{fmt.escape(_label(s.paused_reason))}`. Invite the bot or subscribe again."
            )
        rows.append(row)
    return [bk.section(t) for t in _pack(rows)]


def _hidden_words(n: int) -> str:
    channels = "1 other channel" if n == 1 else f"{n:,} other channels"
    return (
        f":lock: {channels} of this workspace {'has' if n == 1 else 'have'} alerts or a digest. "
        "Only channels where you have used Hashfloor are listed here (one may be private); "
        "`/hashfloor status` in a channel shows its own."
    )


def _state_words(state: str) -> str:
    return {"above": "price above", "below": "price below", "unknown": "waiting for data"}.get(
        state, state
    )


def _digests(entries: Sequence[DigestEntry], others: bool = False) -> list[Block]:
    if not entries and others:
        return [bk.section("None of the channels where you have used Hashfloor gets the digest.")]
    if not entries:
        return [
            bk.section(
                "No channel gets the weekly digest yet. Subscribed channels get it on Mondays at "
                "09:00 UTC; `/hashfloor digest &lt;day&gt; &lt;HH:MM&gt; [zone]` sets another time."
            )
        ]
    rows = []
    for e in sorted(entries, key=lambda e: e.channel_id):
        if e.schedule is None:
            rows.append(f"• <#{e.channel_id}>: off")
            continue
        row = f"• <#{e.channel_id}>: every {e.schedule}" + (" (default)" if e.default else "")
        if e.next_send is not None:
            row += f" · next {e.next_send}"
        if e.last_error:
            row += f"\n   :warning: {fmt.escape(_label(e.last_error))}"
        rows.append(row)
    return [bk.section(t) for t in _pack(rows)]


# --- helpers ----------------------------------------------------------------------------------


def _pack(rows: list[str]) -> list[str]:
    """Rows joined by newlines into as few section texts as fit in 3,000 characters each."""
    return ["\n".join(group) for group in bk.pack_lines(rows)]


def _fit(blocks: list[Block]) -> list[Block]:
    """At most 100 blocks; the last says how many were left out."""
    if len(blocks) <= MAX_HOME_BLOCKS:
        return blocks
    kept = blocks[: MAX_HOME_BLOCKS - 1]
    return [*kept, bk.context(f"…and {len(blocks) - len(kept)} more sections not shown")]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label(text: str) -> str:
    """User text on one line and of a sane length (escape it after)."""
    return _cut(" ".join(text.split()), MAX_LABEL_CHARS)


def _date(unix_s: float) -> str:
    """A time shown in each reader's own zone, with a UTC fallback."""
    return f"<!date^{int(unix_s)}^{{date_short_pretty}} {{time}}|{fmt.when(unix_s)}>"
