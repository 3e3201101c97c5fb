"""The difficulty-retarget rule (DESIGN §5.1), as tables over real network values.

Real vectors: mempool's difficulty-adjustments fixture records the retarget at block 822,528
(2023-12-23) to 72,006,146,478,567.1 with ratio 1.06983; the epoch before it ran at
67,305,906,902,031.39 (mempool, blocks 820,512–822,527). The difficulty-adjustment fixture is a
real estimate: +0.78% with 1,361 blocks to go before block 876,960.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.alerts import retarget_messages as msgs
from bot.alerts.retarget import (
    WATCH_GAP_S,
    HeadsUp,
    Memory,
    Reading,
    Retarget,
    epoch_of,
    parse_pct,
    step,
)
from bot.market import parsers
from bot.market.snapshot import Network
from bot.slack.blocks import as_text
from storage.workspaces import Fleet

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "market"
_ROW = json.loads((FIXTURES / "mempool_difficulty_adjustments_1m.json").read_text())[0]
_, BOUNDARY, D_NEW, RATIO = _ROW  # 822,528; 72,006,146,478,567.1; 1.06983
D_OLD = 67_305_906_902_031.39
EPOCH = epoch_of(BOUNDARY)  # 408
T0 = 1_703_311_464.0
EVERY = 60.0


def net(height: int, difficulty: float | None, **kw: object) -> Network:
    return Network(
        difficulty=difficulty, tip_height=height, fees_per_block_btc=0.35, source="mempool", **kw
    )


def at(t: float, height: int, difficulty: float | None, **kw: object) -> Reading:
    return Reading(net(height, difficulty, **kw), t)


SEEN = Memory(EPOCH - 1, D_OLD)
BEFORE = at(T0 - EVERY, BOUNDARY - 1, D_OLD)  # the last poll of the old epoch


def test_the_vectors_are_the_real_retarget() -> None:
    assert BOUNDARY == 822_528 and EPOCH == 408
    ratio = D_NEW / D_OLD
    assert ratio == pytest.approx(RATIO, abs=1e-5)


@pytest.mark.parametrize(
    ("memory", "previous", "current", "expected_events", "expected_memory"),
    [
        # Watched: the poll before showed the old epoch, this one the new epoch and difficulty.
        (
            SEEN,
            BEFORE,
            at(T0, BOUNDARY, D_NEW),
            (Retarget(EPOCH, D_OLD, D_NEW, T0),),
            Memory(EPOCH, D_NEW),
        ),
        # The tip is past the boundary but the difficulty endpoint has not caught up: wait.
        (SEEN, BEFORE, at(T0, BOUNDARY + 1, D_OLD), (), SEEN),
        # Same epoch, same difficulty: a quiet poll changes nothing.
        (SEEN, None, at(T0, BOUNDARY - 5, D_OLD), (), SEEN),
        # A new rule (no memory) takes the reading in silently, even right at a retarget.
        (Memory(), BEFORE, at(T0, BOUNDARY, D_NEW), (), Memory(EPOCH, D_NEW)),
        # Start-up after a retarget: the old difficulty was last seen hours ago.
        (SEEN, replace(BEFORE, taken_at=T0 - 6 * 3600), at(T0, BOUNDARY + 40, D_NEW), (), None),
        # The old difficulty was never stored (a fresh database with an old memory): not news.
        (SEEN, None, at(T0, BOUNDARY, D_NEW), (), None),
        # A gap of more than one epoch: the bot did not watch the retargets in between.
        (
            Memory(EPOCH - 2, D_OLD / 1.02),
            at(T0 - EVERY, BOUNDARY - 2017, D_OLD / 1.02),
            at(T0, BOUNDARY + 3, D_NEW),
            (),
            Memory(EPOCH, D_NEW),
        ),
        # A lagging fallback source reports an older epoch: nothing moves.
        (Memory(EPOCH, D_NEW), None, at(T0, BOUNDARY - 3, D_OLD), (), Memory(EPOCH, D_NEW)),
        # Another difficulty within the remembered epoch corrects the memory, silently.
        (Memory(EPOCH, D_OLD), None, at(T0, BOUNDARY + 9, D_NEW), (), Memory(EPOCH, D_NEW)),
        # No network data in this poll: nothing to learn.
        (SEEN, BEFORE, at(T0, BOUNDARY, None), (), SEEN),
    ],
)
def test_retarget_table(
    memory: Memory,
    previous: Reading | None,
    current: Reading,
    expected_events: tuple,
    expected_memory: Memory | None,
) -> None:
    result = step(memory, previous, current, pct=None)
    assert result.events == expected_events
    want = expected_memory or Memory(EPOCH, current.network.difficulty)
    assert result.memory == want


def test_watch_gap_is_inclusive_and_bounded() -> None:
    current = at(T0, BOUNDARY, D_NEW)
    just = replace(BEFORE, taken_at=T0 - WATCH_GAP_S)
    assert step(SEEN, just, current, None).events
    late = replace(BEFORE, taken_at=T0 - WATCH_GAP_S - 1)
    assert step(SEEN, late, current, None).events == ()


def test_lagging_difficulty_then_change_is_one_retarget() -> None:
    """Poll by poll: the tip crosses first, the difficulty a poll later; one event, then quiet."""
    mem, events = SEEN, []
    series = [
        at(T0, BOUNDARY - 1, D_OLD),
        at(T0 + 60, BOUNDARY, D_OLD),  # tip past, difficulty not yet
        at(T0 + 120, BOUNDARY + 1, D_NEW),
        at(T0 + 180, BOUNDARY + 1, D_NEW),
        at(T0 + 240, BOUNDARY + 2, D_NEW),
    ]
    last_old = None
    for reading in series:
        result = step(mem, last_old, reading, None)
        mem, events = result.memory, events + list(result.events)
        if reading.network.difficulty == D_OLD:
            last_old = reading
    assert events == [Retarget(EPOCH, D_OLD, D_NEW, T0 + 120)]
    assert events[0].change == pytest.approx(0.06983, abs=1e-5)
    assert events[0].height == 822_528


def test_muted_channel_skips_the_retarget_for_good() -> None:
    muted = step(SEEN, BEFORE, at(T0, BOUNDARY, D_NEW), None, muted=True)
    assert muted.events == () and muted.memory == Memory(EPOCH, D_NEW)
    # Unmuted at the next poll: the retarget is not told late.
    assert step(muted.memory, BEFORE, at(T0 + 60, BOUNDARY + 1, D_NEW), None).events == ()


# --- the heads-up ------------------------------------------------------------------------------

ESTIMATE = parsers.mempool_difficulty_adjustment(
    200, (FIXTURES / "mempool_difficulty_adjustment.json").read_bytes()
)  # +0.78%, 1,361 blocks to go before 876,960
TIP = 876_960 - ESTIMATE["next_adjustment_blocks"]
D_NOW = 108_522_647_629_298.3  # the difficulty of that epoch (mempool, from block 874,944)


def estimate(change: float, blocks: int) -> Reading:
    kw = {**ESTIMATE, "next_adjustment_percent": change, "next_adjustment_blocks": blocks}
    return at(T0, 876_960 - blocks, D_NOW, **kw)


@pytest.mark.parametrize(
    ("pct", "change", "blocks", "fires"),
    [
        (0.5, ESTIMATE["next_adjustment_percent"], ESTIMATE["next_adjustment_blocks"], False),
        (0.5, ESTIMATE["next_adjustment_percent"], 143, True),  # under 144 blocks to go
        (0.5, ESTIMATE["next_adjustment_percent"], 144, False),  # 144 is not fewer than 144
        (1.0, ESTIMATE["next_adjustment_percent"], 100, False),  # +0.78% is not past ±1%
        (5.0, -5.0, 10, True),  # at least ±pct: a drop counts, and exactly pct counts
        (5.0, -4.99, 10, False),
        (None, 12.0, 10, False),  # no threshold: retargets only
        (5.0, 12.0, 0, False),  # 0 blocks to go: the retarget itself, not a heads-up
    ],
)
def test_headsup_table(pct: float | None, change: float, blocks: int, fires: bool) -> None:
    reading = estimate(change, blocks)
    mem = Memory(epoch_of(reading.network.tip_height), D_NOW)
    result = step(mem, None, reading, pct)
    if fires:
        assert result.events == (
            HeadsUp(mem.epoch, change, blocks, ESTIMATE["next_adjustment_at"], D_NOW),
        )
        assert result.memory.headsup_epoch == mem.epoch
    else:
        assert result.events == () and result.memory == mem


def test_headsup_once_per_epoch_and_again_next_epoch() -> None:
    assert TIP == 875_599
    first = step(Memory(), None, estimate(6.0, 100), 5.0)
    assert len(first.events) == 1
    again = step(first.memory, None, estimate(6.5, 99), 5.0)
    assert again.events == ()
    # The next epoch's estimate past ±5% is a new heads-up.
    nxt = replace(
        estimate(-7.0, 50),
        network=replace(estimate(-7.0, 50).network, tip_height=TIP + 2016 + 1311),
    )
    assert len(step(again.memory, None, nxt, 5.0).events) == 1


def test_muted_headsup_is_skipped_not_held() -> None:
    muted = step(Memory(), None, estimate(6.0, 100), 5.0, muted=True)
    assert muted.events == () and muted.memory.headsup_epoch == epoch_of(876_860)
    assert step(muted.memory, None, estimate(6.0, 90), 5.0).events == ()


def test_parse_pct() -> None:
    assert parse_pct("adjustment") is None
    assert parse_pct("adjustment:5") == 5.0
    assert parse_pct("adjustment:2.5") == 2.5


# --- the messages ------------------------------------------------------------------------------


def test_retarget_message_numbers() -> None:
    """Hashprice and breakeven before → after at the current price: both move by the ratio."""
    event = Retarget(EPOCH, D_OLD, D_NEW, T0)
    fleet = Fleet(17.5, 0.05, 0.02)
    market = msgs.Market(43_600.0, net(BOUNDARY, D_NEW))
    text, blocks = msgs.retarget(event, market, [fleet])
    body = as_text(blocks)
    assert "block 822,528" in text and "+6.98%" in text
    assert "67.31 trillion → 72.01 trillion" in text
    # Subsidy 6.25 BTC + 0.35 fees: hashvalue 86,400e12 / (D·2^32) × 6.6 BTC; × $43,600 × 1,000.
    before = 86_400e12 / (D_OLD * 2**32) * 6.6 * 43_600 * 1_000
    after = 86_400e12 / (D_NEW * 2**32) * 6.6 * 43_600 * 1_000
    assert f"${before:,.2f} → ${after:,.2f}/PH/day" in body
    be_before = 0.024 * 17.5 * 0.05 / (86_400e12 / (D_OLD * 2**32) * 6.6 * 0.98)
    be_after = be_before * D_NEW / D_OLD
    assert f"${be_before:,.0f} → ${be_after:,.0f}" in body
    assert "17.5 J/TH at $0.05/kWh" in body


def test_retarget_message_without_a_fresh_price() -> None:
    event = Retarget(EPOCH, D_NEW, D_OLD, T0)  # a drop
    text, blocks = msgs.retarget(event, msgs.Market(None, net(BOUNDARY, D_OLD)), [])
    assert "-6.53%" in text and "easier" in as_text(blocks)
    assert "no fresh BTC price" in as_text(blocks)


def test_headsup_message() -> None:
    event = HeadsUp(434, -5.5, 120, T0 + 72_000, D_NOW)
    text, blocks = msgs.heads_up(event, msgs.Market(91_000.0, net(TIP, D_NOW)), [], T0)
    assert "in 120 blocks" in text and "-5.50%" in text
    assert "108.52 trillion → ~102.55 trillion" in text
    assert "→ ~$" in as_text(blocks)


def test_rule_name() -> None:
    assert msgs.rule_name(None) == "difficulty retargets"
    assert msgs.rule_name(5.0) == "difficulty retargets (heads-up past ±5%)"
    assert msgs.rule_name(2.5) == "difficulty retargets (heads-up past ±2.5%)"


@given(
    st.lists(
        st.tuples(
            st.integers(0, 700),
            st.booleans(),
            st.floats(0.8, 1.25).filter(lambda r: abs(r - 1) > 1e-9),  # a retarget changes it
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 2015),
)
def test_a_watched_chain_gives_one_retarget_per_epoch(
    steps: list[tuple[int, bool, float]], start_offset: int
) -> None:
    """Polls a minute apart over a chain whose difficulty changes at each boundary, sometimes a
    poll late (mempool's difficulty lagging its tip): every boundary crossed by one epoch at a
    time is told once, with the difficulties on either side; nothing else is told."""
    height, difficulty = epoch_of(BOUNDARY) * 2016 + start_offset - 2016, D_OLD
    by_epoch = {epoch_of(height): difficulty}
    first = at(T0, height, difficulty)  # the first poll: the rule learns where the chain is
    mem, t, last = step(Memory(), None, first, None).memory, T0, {difficulty: first}
    told: list[Retarget] = []
    expected: list[Retarget] = []
    lagging = None  # the difficulty still shown one poll after a boundary
    for blocks, lag, ratio in steps:
        before = epoch_of(height)
        height += blocks
        for e in range(before + 1, epoch_of(height) + 1):
            by_epoch[e] = by_epoch[e - 1] * ratio
        shown = by_epoch[epoch_of(height)]
        if epoch_of(height) == before + 1:
            expected.append(Retarget(epoch_of(height), by_epoch[before], shown, 0.0))
            if lag:
                lagging = by_epoch[before]
        for d in (lagging, shown) if lagging is not None else (shown,):
            t += 60
            reading = at(t, height, d)
            result = step(mem, last.get(mem.difficulty), reading, None)
            told += result.events
            mem = result.memory
            last[d] = reading
            if result.events:
                expected[-1] = replace(expected[-1], seen_at=t)
        lagging = None
    told_pairs = [(e.epoch, e.old_difficulty, e.new_difficulty) for e in told]
    # A jump of several epochs in one poll is not told (nothing was expected for it).
    want = [(e.epoch, e.old_difficulty, e.new_difficulty) for e in expected]
    assert told_pairs == want
