"""The alert rule state machine (DESIGN §5), driven by synthetic price series."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.alerts import rules
from bot.alerts.rules import (
    CONFIRM_POLLS,
    RECOVERY_BAND,
    Observation,
    RuleState,
    classify,
    initial_state,
    is_muted,
    mute,
    step,
    unmute,
)

LINE = 74_600.0  # CoinShares cash cost, 2025-Q2
TOP = LINE * (1 + RECOVERY_BAND)  # 75,346: the top of the hysteresis band
T0 = 1_750_000_000.0
EVERY = 60.0

ABOVE = RuleState(state="above", since=T0 - 3600, last_announced="above")
BELOW = RuleState(state="below", since=T0 - 3600, last_announced="below")
UNKNOWN = RuleState()


@dataclass(frozen=True)
class Poll:
    """One poll of a series: a price (None when no source answered), and from this poll on,
    optionally, a new line value."""

    price: float | None
    fresh: bool = True
    line: float | None = None


def stale(price: float | None = None) -> Poll:
    return Poll(price, fresh=False)


@dataclass
class Trace:
    events: list[tuple[int, str]] = field(default_factory=list)
    silent: list[int] = field(default_factory=list)  # indexes of silent transitions
    states: list[RuleState] = field(default_factory=list)  # the state after each poll

    @property
    def final(self) -> RuleState:
        return self.states[-1]


def run(
    series: list[float | None | Poll],
    state: RuleState = ABOVE,
    line: float = LINE,
    muted_until: float | None = None,
) -> Trace:
    """Feed a series through `step`, one poll every minute from T0, the way the poller does:
    a bare float is a fresh price, None a poll with no price; `line_moved` compares with the
    line used at the previous fresh step."""
    if muted_until is not None:
        state = mute(state, muted_until)
    trace = Trace()
    used_line = line
    for i, item in enumerate(series):
        poll = item if isinstance(item, Poll) else Poll(item, fresh=item is not None)
        if poll.line is not None:
            line = poll.line
        obs = Observation(
            price_usd=poll.price, fresh=poll.fresh, line_usd=line, line_moved=line != used_line
        )
        result = step(state, obs, now=T0 + i * EVERY)
        if poll.fresh and poll.price is not None:
            used_line = line
        if result.event is not None:
            trace.events.append((i, result.event))
        if result.silent_transition:
            trace.silent.append(i)
        state = result.state
        trace.states.append(state)
    return trace


# --- classify ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "line", "zone"),
    [
        (74_599.99, LINE, "below"),
        (0.0, LINE, "below"),
        (LINE, LINE, "band"),  # at the line is not below it
        (75_000.0, LINE, "band"),
        (TOP, LINE, "band"),  # the top of the band is not above it
        (75_346.01, LINE, "above"),
        (91_000.0, LINE, "above"),
        (100.0, 100.0, "band"),
        (101.0, 100.0, "band"),
        (101.0001, 100.0, "above"),
        (99.9999, 100.0, "below"),
    ],
)
def test_classify(price: float, line: float, zone: str) -> None:
    assert classify(price, line) == zone


@pytest.mark.parametrize("line", [0.0, -74_600.0, float("nan"), float("inf")])
def test_classify_refuses_a_line_that_is_not_a_price(line: float) -> None:
    with pytest.raises(ValueError, match="positive price"):
        classify(80_000.0, line)


# --- crossings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "series", "events"),
    [
        pytest.param(
            ABOVE, [80_000, 74_000, 73_000, 72_000], [(2, "crossed_below")], id="clean drop"
        ),
        pytest.param(ABOVE, [80_000, 74_000, 80_000, 74_000, 80_000], [], id="single-poll dips"),
        pytest.param(
            ABOVE,
            [74_000, 75_000, 74_000, 74_000],
            [(3, "crossed_below")],
            id="band resets a pending drop",
        ),
        pytest.param(ABOVE, [LINE] * 10, [], id="at the line is not below"),
        pytest.param(BELOW, [75_000] * 20, [], id="the band keeps a rule below"),
        pytest.param(
            BELOW,
            [74_000, 75_000, TOP, 75_400, 75_500],
            [(4, "recovered_above")],
            id="recovery needs the 1% band",
        ),
        pytest.param(
            BELOW,
            [75_400, 75_000, 75_400, 75_400],
            [(3, "recovered_above")],
            id="a poll back in the band resets a pending recovery",
        ),
        pytest.param(
            BELOW,
            [75_400, 74_000, 75_400, 75_400],
            [(3, "recovered_above")],
            id="a poll below resets a pending recovery",
        ),
        pytest.param(
            ABOVE,
            [74_000, 74_000, 76_000, 76_000, 74_000, 74_000],
            [(1, "crossed_below"), (3, "recovered_above"), (5, "crossed_below")],
            id="round trips",
        ),
        pytest.param(
            ABOVE,
            [80_000, 74_000, None, stale(74_000), None, 74_000],
            [(5, "crossed_below")],
            id="stale gap neither cancels",
        ),
        pytest.param(
            ABOVE,
            [80_000, 74_000, stale(70_000), stale(70_000), 80_000, 74_000, 80_000],
            [],
            id="stale gap nor confirms",
        ),
        pytest.param(
            BELOW,
            [76_000, None, None, None, 76_000],
            [(4, "recovered_above")],
            id="stale gap in a recovery",
        ),
        pytest.param(ABOVE, [None] * 5 + [stale(1.0)] * 5, [], id="only stale polls"),
        pytest.param(ABOVE, [float("nan"), 74_000, float("nan"), 80_000], [], id="nan is stale"),
    ],
)
def test_series(start: RuleState, series: list, events: list[tuple[int, str]]) -> None:
    assert run(series, state=start).events == events


def test_a_crossing_records_when_and_what_was_announced() -> None:
    trace = run([80_000, 74_000, 73_000])
    assert trace.states[1] == RuleState(
        state="above", since=ABOVE.since, pending="below", pending_count=1, last_announced="above"
    )
    assert trace.final == RuleState(state="below", since=T0 + 2 * EVERY, last_announced="below")
    assert trace.silent == []


def test_the_count_is_of_consecutive_fresh_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    # With a longer confirmation the count shows: stale polls hold it, a band poll resets it.
    monkeypatch.setattr(rules, "CONFIRM_POLLS", 3)
    trace = run([74_000, None, 74_000, 75_000, 74_000, 74_000, 74_000])
    assert [s.pending_count for s in trace.states] == [1, 1, 2, 0, 1, 2, 0]
    assert trace.events == [(6, "crossed_below")]


@pytest.mark.parametrize("pending", [None, "below"])
@pytest.mark.parametrize("obs_price, fresh", [(None, True), (None, False), (70_000.0, False)])
def test_a_stale_poll_changes_nothing(pending: str | None, obs_price: float | None, fresh: bool):
    state = RuleState(
        state="above",
        since=T0,
        pending=pending,
        pending_count=1 if pending else 0,
        last_announced="above",
    )
    for line_moved in (False, True):
        obs = Observation(obs_price, fresh=fresh, line_usd=LINE, line_moved=line_moved)
        result = step(state, obs, now=T0 + 60)
        assert result.state is state
        assert result.event is None
        assert result.silent_transition is False


def hover(pattern: list[float], n: int = 100) -> list[float]:
    return [LINE * pattern[i % len(pattern)] for i in range(n)]


def jitter(seed: int, n: int = 100) -> list[float]:
    rng = random.Random(seed)
    return [LINE * rng.uniform(0.995, 1.005) for _ in range(n)]


@pytest.mark.parametrize(
    ("start", "series", "expected"),
    [
        pytest.param(ABOVE, hover([0.995, 1.005]), [], id="alternating"),
        pytest.param(
            ABOVE, hover([0.995, 0.995, 1.005, 1.005]), [(1, "crossed_below")], id="pairs"
        ),
        pytest.param(
            ABOVE, hover([1.005, 0.995, 0.995, 1.005]), [(2, "crossed_below")], id="pairs offset"
        ),
        pytest.param(BELOW, hover([1.005, 1.005, 0.995]), [], id="from below"),
        pytest.param(ABOVE, jitter(1), None, id="jitter 1"),
        pytest.param(ABOVE, jitter(2), None, id="jitter 2"),
        pytest.param(BELOW, jitter(3), [], id="jitter from below"),
        pytest.param(UNKNOWN, jitter(4), None, id="jitter from unknown"),
    ],
)
def test_hovering_half_a_percent_around_the_line_posts_at_most_once(
    start: RuleState, series: list[float], expected: list[tuple[int, str]] | None
) -> None:
    events = run(series, state=start).events
    assert len(events) <= 1
    assert all(event == "crossed_below" for _, event in events)
    if expected is not None:
        assert events == expected


# --- unknown and subscribing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("series", "state", "settled_at"),
    [
        ([74_000], "below", 0),
        ([None, stale(70_000), 74_000], "below", 2),
        ([80_000], "above", 0),
        ([75_000], "above", 0),  # in the band: not below
        ([LINE], "above", 0),
    ],
)
def test_unknown_takes_its_first_state_silently(series: list, state: str, settled_at: int) -> None:
    trace = run(series + [series[-1]] * 3, state=UNKNOWN)
    assert trace.events == []
    assert trace.silent == [settled_at]
    assert all(s.state == "unknown" for s in trace.states[:settled_at])
    assert trace.final == RuleState(
        state=state, since=T0 + settled_at * EVERY, last_announced=state
    )


def test_after_settling_an_unknown_rule_alerts_as_usual() -> None:
    trace = run([None, 80_000, 74_000, 74_000, 76_000, 76_000], state=UNKNOWN)
    assert trace.events == [(3, "crossed_below"), (5, "recovered_above")]
    assert trace.silent == [1]


@pytest.mark.parametrize(
    ("price", "fresh", "expected"),
    [
        (80_000.0, True, RuleState(state="above", since=T0, last_announced="above")),
        (74_000.0, True, RuleState(state="below", since=T0, last_announced="below")),
        (75_000.0, True, RuleState(state="above", since=T0, last_announced="above")),
        (74_000.0, False, RuleState()),
        (None, True, RuleState()),
        (float("nan"), True, RuleState()),
    ],
)
def test_initial_state(price: float | None, fresh: bool, expected: RuleState) -> None:
    assert initial_state(price, fresh, LINE, T0) == expected


def test_subscribing_below_the_line_is_not_a_crossing() -> None:
    start = initial_state(70_000.0, True, LINE, T0 - EVERY)
    assert run([70_000, 69_000, 68_000], state=start).events == []


# --- a line that moves ------------------------------------------------------------------------


def test_an_edit_that_puts_the_price_below_the_line_posts_nothing() -> None:
    trace = run([80_000, 80_000, Poll(80_000, line=85_000), 80_000, 80_000])
    assert trace.events == []
    assert trace.states[2].state == "above"  # the edit's own poll only starts a confirmation
    assert trace.silent == [3]  # below after 2 polls, silently
    assert trace.final == RuleState(state="below", since=T0 + 3 * EVERY, last_announced="above")


def test_after_an_edit_real_crossings_of_the_new_line_post() -> None:
    series = [80_000, Poll(80_000, line=85_000), 80_000, 86_000, 86_000, 84_000, 84_000]
    trace = run(series)
    assert trace.silent == [2]
    assert trace.events == [(4, "recovered_above"), (6, "crossed_below")]


def test_an_edit_that_lifts_the_price_above_the_line_posts_nothing() -> None:
    trace = run([70_000, Poll(70_000, line=60_000), 70_000, 70_000], state=BELOW)
    assert trace.events == []
    assert trace.silent == [2]
    assert trace.final.state == "above"
    assert trace.final.last_announced == "below"


def test_a_confirmation_the_line_moved_during_is_silent() -> None:
    # A drop starts with the old line, the line moves (a fleet breakeven after a retarget) at the
    # poll that would have confirmed it: we cannot tell which one made the crossing.
    trace = run([74_000, Poll(74_000, line=74_700), 74_000])
    assert trace.events == []
    assert trace.silent == [1]


def test_a_stale_gap_after_an_edit_keeps_the_confirmation_silent() -> None:
    trace = run([80_000, Poll(80_000, line=85_000), None, stale(80_000), 80_000])
    assert trace.events == []
    assert trace.silent == [4]


def test_an_edit_during_a_stale_gap_counts_at_the_next_fresh_poll() -> None:
    # The edit lands while the data is stale: the next fresh poll is the first to use the new line.
    trace = run([80_000, Poll(None, fresh=False, line=85_000), 80_000, 80_000])
    assert trace.events == []
    assert trace.silent == [3]


def test_an_edit_whose_confirmation_is_cancelled_leaves_no_trace() -> None:
    series = [Poll(80_000, line=85_000), 90_000, 84_000, 84_000]
    trace = run(series)
    assert trace.states[1] == ABOVE  # the silent confirmation ended with the price back above
    assert trace.events == [(3, "crossed_below")]


def test_a_line_that_moves_every_poll_far_from_the_price_changes_nothing() -> None:
    series = [Poll(91_000, line=LINE + i) for i in range(20)]
    trace = run(series)
    assert trace.events == [] and trace.silent == []
    assert trace.final == ABOVE


# --- mute -------------------------------------------------------------------------------------


def test_a_muted_crossing_changes_the_state_and_unmute_reports_it_once() -> None:
    trace = run([80_000, 74_000, 74_000, 74_000], muted_until=T0 + 3600)
    assert trace.events == []
    assert trace.silent == [2]
    assert trace.final.state == "below"
    assert trace.final.last_announced == "above"

    unmuted, message = unmute(trace.final, 74_000.0, LINE, T0 + 300)
    assert message == "now_below"
    assert unmuted.muted_until is None
    assert unmuted.last_announced == "below"
    assert unmuted.since == trace.final.since  # unmuting is not a state change
    assert unmute(unmuted, 74_000.0, LINE, T0 + 360) == (unmuted, None)
    # and the recovery after it posts as usual
    assert run([76_000, 76_000], state=unmuted).events == [(1, "recovered_above")]


def test_unmute_when_nothing_changed_posts_nothing() -> None:
    trace = run([80_000, 74_000, 80_000, 81_000], muted_until=T0 + 3600)
    unmuted, message = unmute(trace.final, 81_000.0, LINE, T0 + 300)
    assert message is None
    assert unmuted == RuleState(
        state="above", since=ABOVE.since, last_announced="above", muted_until=None
    )


def test_down_and_back_up_while_muted_posts_nothing_on_unmute() -> None:
    trace = run([74_000, 74_000, 76_000, 76_000], muted_until=T0 + 3600)
    assert trace.events == []
    assert trace.silent == [1, 3]
    assert unmute(trace.final, 76_000.0, LINE, T0 + 300)[1] is None


def test_a_mute_that_has_expired_no_longer_silences() -> None:
    # muted until the second poll: the crossing confirmed at that poll posts
    trace = run([74_000, 74_000, 73_000], muted_until=T0 + EVERY)
    assert trace.events == [(1, "crossed_below")]
    assert is_muted(trace.final, T0 + EVERY - 1)
    assert not is_muted(trace.final, T0 + EVERY)


def test_a_crossing_confirmed_while_muted_is_not_posted_when_the_mute_ends() -> None:
    trace = run([74_000, 74_000, 73_000, 73_000], muted_until=T0 + 2 * EVERY)
    assert trace.events == []
    assert unmute(trace.final, 73_000.0, LINE, T0 + 4 * EVERY)[1] == "now_below"


def test_unmute_reports_a_silent_edit_too() -> None:
    trace = run([Poll(80_000, line=85_000), 80_000], muted_until=T0 + 3600)
    assert unmute(trace.final, 80_000.0, 85_000.0, T0 + 300)[1] == "now_below"


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (None, RuleState()),
        (74_000.0, RuleState(state="below", since=T0, last_announced="below")),
        (80_000.0, RuleState(state="above", since=T0, last_announced="above")),
    ],
)
def test_unmute_settles_an_unknown_rule_silently(price: float | None, expected: RuleState) -> None:
    assert unmute(mute(UNKNOWN, T0 + 3600), price, LINE, T0) == (expected, None)


def test_mute_keeps_the_confirmation_under_way() -> None:
    pending = RuleState(
        state="above", since=T0, pending="below", pending_count=1, last_announced="above"
    )
    assert mute(pending, T0 + 60) == RuleState(
        state="above",
        since=T0,
        pending="below",
        pending_count=1,
        last_announced="above",
        muted_until=T0 + 60,
    )


# --- persisted state is checked ---------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"state": "sideways"},
        {"state": "above", "pending": "up", "pending_count": 1},
        {"state": "above", "pending": "below", "pending_count": 0},
        {"state": "above", "pending": None, "pending_count": 1},
        {"state": "above", "pending_count": -1},
        {"state": "above", "last_announced": "unknown"},
    ],
)
def test_rule_state_refuses_what_step_never_produces(fields: dict) -> None:
    with pytest.raises(ValueError):
        RuleState(**fields)


# --- properties -------------------------------------------------------------------------------

fresh_prices = st.one_of(
    st.floats(LINE * 0.97, LINE * 1.03),
    st.sampled_from([LINE, TOP, LINE - 0.01, TOP + 0.01]),
)
polls = st.one_of(
    fresh_prices,
    st.just(None),
    st.builds(stale, st.one_of(st.none(), fresh_prices)),
)
starts = st.sampled_from([ABOVE, BELOW, UNKNOWN])


def is_fresh(item: float | None | Poll) -> bool:
    return item is not None if not isinstance(item, Poll) else item.fresh and item.price is not None


def zone_of(item: float | Poll) -> str:
    return classify(item if not isinstance(item, Poll) else item.price, LINE)


@given(start=starts, series=st.lists(polls, max_size=80))
def test_events_alternate_and_never_come_from_stale_polls(start: RuleState, series: list) -> None:
    trace = run(series, state=start)
    kinds = [event for _, event in trace.events]
    assert all(a != b for a, b in zip(kinds, kinds[1:], strict=False))
    assert all(is_fresh(series[i]) for i, _ in trace.events)
    before = [start, *trace.states]
    for i, event in trace.events:  # each event leaves the state it was in
        went = "below" if event == "crossed_below" else "above"
        assert before[i].state != went and trace.states[i].state == went
    # no mute, no line move: the only silent transition is settling an unknown rule
    assert len(trace.silent) == (1 if start is UNKNOWN and any(map(is_fresh, series)) else 0)


@given(start=starts, series=st.lists(polls, max_size=80))
def test_state_follows_confirmed_zones(start: RuleState, series: list) -> None:
    """Sound: a known state changes only where the last CONFIRM_POLLS fresh polls were all in
    the new state's zone. Complete: after CONFIRM_POLLS fresh polls in a zone, the state is
    that zone's."""
    trace = run(series, state=start)
    fresh_zones: list[str] = []
    previous = start
    for item, after in zip(series, trace.states, strict=True):
        if is_fresh(item):
            fresh_zones.append(zone_of(item))
        else:
            assert after == previous
        last = fresh_zones[-CONFIRM_POLLS:]
        if previous.state != "unknown" and after.state != previous.state:
            assert len(last) == CONFIRM_POLLS and set(last) == {after.state}
        if len(last) == CONFIRM_POLLS and len(set(last)) == 1 and last[0] != "band":
            assert after.state == last[0]
        previous = after


lines = st.sampled_from([LINE, LINE * 1.02, LINE * 0.98])
moving_polls = st.one_of(
    polls, st.builds(Poll, st.one_of(st.none(), fresh_prices), st.booleans(), lines)
)


@given(
    start=starts,
    series=st.lists(moving_polls, max_size=80),
    mute_polls=st.one_of(st.none(), st.integers(0, 80)),
)
def test_no_event_from_a_stale_poll_a_mute_or_a_moved_line(
    start: RuleState, series: list, mute_polls: int | None
) -> None:
    muted_until = None if mute_polls is None else T0 + mute_polls * EVERY
    trace = run(series, state=start, muted_until=muted_until)
    before = [mute(start, muted_until) if muted_until else start, *trace.states]
    used_line, line = LINE, LINE
    moved_in_confirmation = False
    for i, item in enumerate(series):
        if isinstance(item, Poll) and item.line is not None:
            line = item.line
        event = dict(trace.events).get(i)
        after = trace.states[i]
        if not is_fresh(item):
            assert event is None and after == before[i]
            continue
        moved_in_confirmation = (before[i].pending is not None and moved_in_confirmation) or (
            line != used_line
        )
        used_line = line
        if event is not None:
            assert not (muted_until and T0 + i * EVERY < muted_until)
            assert not moved_in_confirmation
            assert after.last_announced == after.state
        elif i in trace.silent:
            assert after.last_announced == before[i].last_announced or before[i].state == "unknown"
        if after.pending is None:
            moved_in_confirmation = False
