"""The alert rule state machine (DESIGN §5): one line watched in one channel.

Pure: no I/O and no clock. Time is the ``now`` argument (unix seconds); the shell persists
`RuleState`, feeds one `Observation` per poll to `step`, and writes the new state together with
the event's outbox row.

Zones. `classify` puts a price in one of three zones against a line::

    below:  price < line
    band:   line <= price <= line * (1 + RECOVERY_BAND)
    above:  price > line * (1 + RECOVERY_BAND)

A fresh poll *votes* for leaving the current state: a rule in ``above`` hears only ``below``
(the band is simply "not below"), a rule in ``below`` hears only ``above`` (the band keeps it
below). So a price hovering within 1% of the line can cross down once and never flap back.

Confirmation. A vote for the same direction as ``pending`` adds one to ``pending_count``; a vote
for the other direction is impossible (it would be the current state); a fresh poll that does not
vote cancels the pending direction. ``CONFIRM_POLLS`` consecutive votes make the transition.

Stale polls (``fresh`` False, or no finite price) change nothing at all: the count is neither
advanced nor reset, so a stale gap in the middle of a crossing neither confirms nor cancels it;
the next fresh poll carries on where the last one stopped.

Unknown. A rule that has never seen fresh data takes its state from the first fresh poll, at once
and silently (below if price < line, otherwise above); that first state is also taken as what the
channel knows (``last_announced``), exactly as `initial_state` does for a fresh subscription.

Moved line. When ``obs.line_moved`` the poll is classified against the new line and counted with
the same confirmation rules, but a confirmation that counted any such poll is marked
``pending_silent`` and the transition it completes posts nothing, even when the completing poll
itself saw an unchanged line. E.g. an edit that puts the price below the line: the edit's poll
starts a silent "below", the next poll below makes the state ``below`` with no event. A silent
transition leaves ``last_announced`` alone, so `unmute` can still tell the channel later. Later
price crossings of the new line post as usual, even one that leads back to the state last
announced: the crossing is real, and the last message was about the line before it moved.
``line_moved`` must compare with the line used at the previous *fresh* step (stale steps use no
line). A confirmation already under way when the line moves becomes silent too: we cannot tell
whether the price alone would have completed it.

Mute. While ``now < muted_until`` transitions still happen but post nothing and leave
``last_announced`` alone; `unmute` then reports where the price stands if it differs from what the
channel was last told. `step` never clears ``muted_until`` itself: when a mute expires the shell
calls `unmute` (see `is_muted`), which is what produces the single catch-up message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

CONFIRM_POLLS = 2
RECOVERY_BAND = 0.01

State = Literal["unknown", "above", "below"]
Direction = Literal["above", "below"]
Zone = Literal["below", "band", "above"]
Event = Literal["crossed_below", "recovered_above"]
UnmuteEvent = Literal["now_below", "now_above"]

_STATES = ("unknown", "above", "below")
_DIRECTIONS = ("above", "below")
_EVENTS: dict[str, Event] = {"below": "crossed_below", "above": "recovered_above"}
_UNMUTE_EVENTS: dict[str, UnmuteEvent] = {"below": "now_below", "above": "now_above"}


@dataclass(frozen=True)
class RuleState:
    """What is persisted for one rule between polls."""

    state: State = "unknown"
    since: float | None = None  # unix s of the last state change
    pending: Direction | None = None  # direction being confirmed
    pending_count: int = 0  # consecutive fresh polls confirming `pending`
    muted_until: float | None = None  # unix s
    last_announced: Direction | None = None  # the state the channel was last told about
    pending_silent: bool = False  # `pending` counted a moved-line poll: its transition is silent

    def __post_init__(self) -> None:
        # Catches a corrupt row or a typo in the shell before it becomes a wrong alert.
        if self.state not in _STATES:
            raise ValueError(f"state must be one of {_STATES}, not {self.state!r}")
        if self.pending is not None and self.pending not in _DIRECTIONS:
            raise ValueError(f"pending must be above, below or None, not {self.pending!r}")
        if self.last_announced is not None and self.last_announced not in _DIRECTIONS:
            raise ValueError(
                f"last_announced must be above, below or None, not {self.last_announced!r}"
            )
        if self.pending_count < 0 or (self.pending is None) != (self.pending_count == 0):
            raise ValueError(
                f"pending {self.pending!r} does not fit pending_count {self.pending_count}"
            )


@dataclass(frozen=True)
class Observation:
    """One poll as seen by one rule."""

    price_usd: float | None  # the aggregated price, None when no source answered
    fresh: bool  # the aggregate met the freshness rule (DESIGN §5)
    line_usd: float  # the line's value now
    line_moved: bool = False  # line_usd differs from the line used at the previous fresh step


@dataclass(frozen=True)
class StepResult:
    state: RuleState
    event: Event | None = None  # a message to post
    silent_transition: bool = False  # the state changed but nothing is posted


def classify(price_usd: float, line_usd: float) -> Zone:
    """The zone of a price against a line: ``below`` < line <= ``band`` <= line·1.01 < ``above``."""
    if not math.isfinite(line_usd) or line_usd <= 0:
        raise ValueError(f"a line must be a positive price, not {line_usd!r}")
    if price_usd < line_usd:
        return "below"
    if price_usd > line_usd * (1 + RECOVERY_BAND):
        return "above"
    return "band"


def _first_state(price_usd: float, line_usd: float) -> Direction:
    return "below" if classify(price_usd, line_usd) == "below" else "above"


def is_muted(state: RuleState, now: float) -> bool:
    return state.muted_until is not None and now < state.muted_until


def initial_state(price_usd: float | None, fresh: bool, line_usd: float, now: float) -> RuleState:
    """The state of a new subscription: where the price stands, silently (subscribing is not
    crossing). Without fresh data the rule starts ``unknown`` and `step` settles it later."""
    if not fresh or price_usd is None or not math.isfinite(price_usd):
        return RuleState()
    first = _first_state(price_usd, line_usd)
    return RuleState(state=first, since=now, last_announced=first)


def step(state: RuleState, obs: Observation, now: float) -> StepResult:
    """Advance one rule by one poll. See the module docstring for the rules."""
    price = obs.price_usd
    if not obs.fresh or price is None or not math.isfinite(price):
        return StepResult(state)

    if state.state == "unknown":
        first = _first_state(price, obs.line_usd)
        settled = replace(
            state,
            state=first,
            since=now,
            pending=None,
            pending_count=0,
            pending_silent=False,
            last_announced=first,
        )
        return StepResult(settled, silent_transition=True)

    vote = _vote(state.state, classify(price, obs.line_usd))
    if vote is None:
        return StepResult(replace(state, pending=None, pending_count=0, pending_silent=False))

    if state.pending == vote:
        count = state.pending_count + 1
        silent = state.pending_silent or obs.line_moved
    else:
        count = 1
        silent = obs.line_moved
    if count < CONFIRM_POLLS:
        return StepResult(replace(state, pending=vote, pending_count=count, pending_silent=silent))

    changed = replace(
        state, state=vote, since=now, pending=None, pending_count=0, pending_silent=False
    )
    if silent or is_muted(state, now):
        return StepResult(changed, silent_transition=True)
    return StepResult(replace(changed, last_announced=vote), event=_EVENTS[vote])


def stands(state: State, price_usd: float, line_usd: float) -> bool:
    """True when a fresh poll at this price gives a settled rule (``above`` or ``below``) no vote
    to leave its state: for such a rule with nothing pending, `step` changes nothing."""
    return _vote(state, classify(price_usd, line_usd)) is None


def _vote(current: State, zone: Zone) -> Direction | None:
    """The direction a poll in `zone` argues for, or None when it confirms `current`."""
    if current == "above" and zone == "below":
        return "below"
    if current == "below" and zone == "above":
        return "above"
    return None


def mute(state: RuleState, until: float) -> RuleState:
    """Mute the rule until `until` (unix s); confirmation carries on underneath."""
    return replace(state, muted_until=until)


def unmute(
    state: RuleState, price_usd: float | None, line_usd: float, now: float
) -> tuple[RuleState, UnmuteEvent | None]:
    """End a mute (asked for, or expired). Returns the state and, when the confirmed state differs
    from what the channel was last told, the one message saying where the price stands.

    `price_usd` is the latest *fresh* aggregate, or None. It only matters for a rule still
    ``unknown``: like a new subscription, that rule settles silently from it (nothing was ever
    announced, so there is nothing to correct).
    """
    unmuted = replace(state, muted_until=None)
    if unmuted.state == "unknown":
        if price_usd is None or not math.isfinite(price_usd):
            return unmuted, None
        first = _first_state(price_usd, line_usd)
        return replace(unmuted, state=first, since=now, last_announced=first), None
    if unmuted.state == unmuted.last_announced:
        return unmuted, None
    return replace(unmuted, last_announced=unmuted.state), _UNMUTE_EVENTS[unmuted.state]
