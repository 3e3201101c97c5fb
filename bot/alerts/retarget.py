"""Difficulty retargets (DESIGN §5.1): one message per retarget the bot saw happen, and, with a
threshold, one heads-up per epoch when the estimate says the coming retarget is large.

Pure: no I/O and no clock; time is each reading's ``taken_at``. The shell keeps one `Memory` per
rule (columns of the rules table, written only when it changes: at subscribe time and about once
per epoch, so a quiet poll writes nothing) and finds `previous` in the stored snapshots.

An epoch is ``tip height // 2,016``. A retarget is *seen* when a poll shows the tip in the epoch
after the one the rule remembers **and** a difficulty other than the one it remembers: mempool's
tip and difficulty come from different endpoints, and the tip may pass the boundary a poll before
the difficulty changes; that poll waits rather than announcing an unchanged difficulty.

It is *news* only when the bot watched it happen: `previous` (the last earlier poll that showed
the remembered difficulty) exists and was taken at most `WATCH_GAP_S` before this one, and the
new epoch is the very next one. A first start after a retarget, a bot that was down for hours, or
a gap of more than one epoch moves the memory silently. A new rule takes its memory from the first
reading (subscribing is not a retarget). A reading in an older epoch than remembered (a lagging
fallback source) changes nothing; another difficulty within the remembered epoch corrects the
memory silently.

Mute: a muted channel skips the epoch's messages for good (the memory moves on, no catch-up on
unmute): a retarget is a moment, not a state that can still be reported as "now below".
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.economics import RETARGET_BLOCKS
from bot.market.snapshot import Network

HEADSUP_BLOCKS = 144  # about a day of blocks before the retarget
WATCH_GAP_S = 3_600.0  # the old difficulty must have been seen within the hour before the new one
MAX_PCT = 300.0  # a retarget moves difficulty by at most ×4 (+300%) or ÷4 (−75%)


@dataclass(frozen=True)
class Memory:
    """What one adjustment rule remembers between polls."""

    epoch: int | None = None  # the epoch whose difficulty the rule last took in
    difficulty: float | None = None  # that difficulty
    headsup_epoch: int | None = None  # the epoch whose heads-up was handled (sent or muted)


@dataclass(frozen=True)
class Reading:
    """One poll's network data and when the poll was taken (unix s)."""

    network: Network
    taken_at: float


@dataclass(frozen=True)
class Retarget:
    epoch: int  # the new epoch
    old_difficulty: float
    new_difficulty: float
    seen_at: float  # the poll that first showed it

    @property
    def height(self) -> int:
        """The first block of the new epoch: the block that retargeted."""
        return epoch_start(self.epoch)

    @property
    def change(self) -> float:
        return self.new_difficulty / self.old_difficulty - 1


@dataclass(frozen=True)
class HeadsUp:
    epoch: int  # the epoch that ends at the coming retarget
    change_percent: float  # mempool's estimate, in percent
    remaining_blocks: int
    estimated_at: float | None  # mempool's estimated retarget date (unix s)
    difficulty: float  # the difficulty now


Event = Retarget | HeadsUp


@dataclass(frozen=True)
class Step:
    memory: Memory
    events: tuple[Event, ...] = ()


def epoch_of(height: int) -> int:
    return height // RETARGET_BLOCKS


def epoch_start(epoch: int) -> int:
    """The height of an epoch's first block, the block whose difficulty is new."""
    return epoch * RETARGET_BLOCKS


def parse_pct(key: str) -> float | None:
    """The heads-up threshold of a rule key: `adjustment` → None, `adjustment:5` → 5.0."""
    _, _, pct = key.partition(":")
    return float(pct) if pct else None


def is_adjustment_key(key: str) -> bool:
    return key == "adjustment" or key.startswith("adjustment:")


def step(
    memory: Memory,
    previous: Reading | None,
    current: Reading,
    pct: float | None,
    muted: bool = False,
) -> Step:
    """One poll for one rule. `previous`: the last poll before `current` that showed the
    difficulty `memory` holds (None if none is stored); `pct`: the heads-up threshold in percent,
    None for retargets only; `muted`: the channel is muted now."""
    net = current.network
    if not net.difficulty or net.tip_height is None:
        return Step(memory)  # no network data in this poll: nothing to tell, nothing to learn
    epoch, difficulty = epoch_of(net.tip_height), net.difficulty
    events: list[Event] = []
    if memory.epoch is None or memory.difficulty is None:
        mem = replace(memory, epoch=epoch, difficulty=difficulty)
    elif epoch < memory.epoch:
        mem = memory
    elif epoch == memory.epoch:
        mem = memory if difficulty == memory.difficulty else replace(memory, difficulty=difficulty)
    elif difficulty == memory.difficulty:
        mem = memory  # past the boundary, the difficulty not updated yet: wait for it
    else:
        mem = replace(memory, epoch=epoch, difficulty=difficulty)
        watched = (
            epoch == memory.epoch + 1
            and previous is not None
            and previous.network.difficulty == memory.difficulty
            and current.taken_at - previous.taken_at <= WATCH_GAP_S
        )
        if watched and not muted:
            events.append(Retarget(epoch, memory.difficulty, difficulty, current.taken_at))
    change, blocks = net.next_adjustment_percent, net.next_adjustment_blocks
    if (
        pct is not None
        and mem.headsup_epoch != epoch
        and change is not None
        and blocks is not None
        and 0 < blocks < HEADSUP_BLOCKS
        and abs(change) >= pct
    ):
        mem = replace(mem, headsup_epoch=epoch)
        if not muted:
            events.append(HeadsUp(epoch, change, blocks, net.next_adjustment_at, difficulty))
    return Step(mem, tuple(events))
