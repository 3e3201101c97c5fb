"""storage.retarget.rules_to_step reads only the rules a poll may change: it must never leave out
one that `bot.alerts.retarget.step` would change or make speak."""

from __future__ import annotations

import itertools
from pathlib import Path

from bot.alerts.retarget import Memory, Reading, epoch_of, parse_pct, step
from bot.alerts.rules import RuleState
from bot.market.snapshot import Network
from storage import alerts, retarget
from storage.db import Storage
from storage.migrations import migrate

D_OLD = 67_305_906_902_031.39
D_NEW = 72_006_146_478_567.1
EPOCH = epoch_of(822_528)
T0 = 1_703_311_464.0

MEMORIES = [
    Memory(),
    Memory(EPOCH - 1, D_OLD),
    Memory(EPOCH, D_NEW),
    Memory(EPOCH, D_OLD),
    Memory(EPOCH, D_NEW, EPOCH),
    Memory(EPOCH + 1, D_NEW),
]
KEYS = ["adjustment", "adjustment:5", "adjustment:2.5", "adjustment:10"]
NETWORKS = [
    Network(D_NEW, tip_height=822_528),
    Network(D_OLD, tip_height=822_529),
    Network(D_NEW, tip_height=822_600, next_adjustment_percent=1.0, next_adjustment_blocks=1_000),
    Network(D_NEW, tip_height=824_500, next_adjustment_percent=-5.0, next_adjustment_blocks=44),
    Network(D_NEW, tip_height=824_500, next_adjustment_percent=2.5, next_adjustment_blocks=44),
    Network(D_NEW, tip_height=824_500, next_adjustment_percent=9.9, next_adjustment_blocks=44),
]


def test_no_rule_a_poll_would_change_is_left_out(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "r.db")
    db = storage.db
    migrate(db)
    ids = {}
    for n, (mem, key) in enumerate(itertools.product(MEMORIES, KEYS)):
        retarget.subscribe(db, "T1", f"C{n}", key, mem, "U1", T0)
        ids[retarget.channel_rule(db, "T1", f"C{n}")["id"]] = (mem, key)
    previous = Reading(Network(D_OLD, tip_height=822_527), T0 - 60)
    for net in NETWORKS:
        blocks, change = net.next_adjustment_blocks, net.next_adjustment_percent
        window = change is not None and blocks is not None and 0 < blocks < 144
        read = retarget.rules_to_step(
            db, epoch_of(net.tip_height), net.difficulty, abs(change) if window else None
        )
        got = {r["id"] for r in read}
        needed = set()
        for rid, (mem, key) in ids.items():
            result = step(mem, previous, Reading(net, T0), parse_pct(key))
            if result.memory != mem or result.events:
                needed.add(rid)
        assert needed <= got, (net, [ids[i] for i in needed - got])
        assert len(got) < len(ids)  # and it does leave out the rules this poll cannot change
    storage.close()


def test_the_line_rules_pass_does_not_read_retarget_rules(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "r.db")
    db = storage.db
    migrate(db)
    alerts.add_rule(db, "T1", "C1", "cash", RuleState(), 74_600.0, "1", "U1", T0)
    alerts.add_rule(db, "T1", "C1", "below:80000", RuleState(), 80_000.0, "1", "U1", T0)
    for n, key in enumerate(("adjustment", "adjustment:5", "adjustment:0.5")):
        retarget.subscribe(db, "T1", f"C{n + 2}", key, Memory(), "U1", T0)
    assert [r["line_key"] for r in alerts.rules_to_step(db)] == ["cash", "below:80000"]
    assert [r["line_key"] for r in retarget.rules_to_step(db, EPOCH, D_NEW, None)] == [
        "adjustment",
        "adjustment:5",
        "adjustment:0.5",
    ]
    storage.close()
