"""kill -9 at random moments of a run of crossings (DESIGN §5: "a crash at any point loses nothing
and resends nothing already marked sent").

The price swings across the cash line while `python -m bot run` is killed with SIGKILL and
restarted on the same database, 22 times — during start-up, polls, evaluations, and, on purpose,
while FakeSlack holds its answer to chat.postMessage (the message is accepted, the bot has not
recorded it) and while it answers every post with a proxy's HTML page or a 5xx (DESIGN §5: the
bot must keep retrying those, across the kill). At the end the bot drains its outbox and the test compares SQLite with FakeSlack:

- every outbox row is sent, and Slack holds a message with exactly that row's ts;
- each rule has one row per transition, alternating alert / recovery (nothing lost in between);
- the only extra messages are duplicates of rows that were still pending when the process died
  although Slack had already accepted them — counted at each kill, printed, and they must account
  for every extra message Slack holds.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.alert_harness import BotProcess, accepted_posts, wait_until
from tests.fakes.market import FakeMarket
from tests.fakes.slack import Call, FakeSlack

pytestmark = pytest.mark.e2e

KILLS = 22
CHANNELS = ("C0KILL1", "C0KILL2", "C0KILL3")
FLIP_S = 3.0  # the price crosses the line this often: a crossing needs two 1 s polls
IN_FLIGHT_EVERY = 4  # every 4th kill waits for a post FakeSlack is holding
# and every 4th, two later, falls while FakeSlack answers posts with an HTML page or a 5xx
BAD_ANSWERS = (("html", 200), ("html", 502), ("error", 503), ("error", 500))


class Swings:
    """Moves the price across the cash line ($79,995 since 2026-03-25, $74,600 before: the
    swings clear either by more than the 1% recovery band) every FLIP_S seconds. Each swing has its own
    price, so every message's text names its transition."""

    def __init__(self, market: FakeMarket) -> None:
        self.market = market
        self.n = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def price(self, n: int) -> float:
        return (70_000.0 if n % 2 else 90_000.0) + 10 * n

    def _run(self) -> None:
        while not self._stop.wait(FLIP_S):
            self.n += 1
            self.market.set_price(self.price(self.n))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def key(call: Call) -> tuple[str, str]:
    return call.args["channel"], call.args["text"]


@pytest.fixture
def market() -> Iterator[FakeMarket]:
    with FakeMarket(price=90_000.0) as fake:
        yield fake


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def test_kill9_loses_nothing_and_duplicates_only_what_slack_accepted_before_the_kill(
    tmp_path: Path, market: FakeMarket, slack: FakeSlack
) -> None:
    seed = int(os.environ.get("HASHFLOOR_KILL9_SEED", time.time_ns() % 1_000_000))
    rnd = random.Random(seed)
    print(f"seed {seed} (HASHFLOOR_KILL9_SEED to replay)")
    bot = BotProcess(tmp_path, market, slack)
    swings = Swings(market)
    try:
        bot.start()
        wait_until(lambda: bot.healthz()[0] == 200, 15, "the first fresh poll")
        for channel in CHANNELS:
            assert "above" in bot.subscribe(channel)["text"]
        swings.start()

        kills: list[float] = []
        in_flight_kills = 0
        bad_answer_kills: Counter[str] = Counter()
        pending_at_kill = 0  # messages Slack accepted whose row was pending when the bot died
        for i in range(KILLS):
            if i:
                bot.start(ready=False)
            if i % IN_FLIGHT_EVERY == IN_FLIGHT_EVERY - 1:
                # Hold the next post's answer and kill while Slack holds it.
                slack.delay("chat.postMessage", 1.5)
                seen = len(slack.calls_to("chat.postMessage"))
                try:
                    wait_until(
                        lambda n=seen: len(slack.calls_to("chat.postMessage")) > n,
                        10,
                        "a post in flight",
                    )
                    in_flight_kills += 1
                    time.sleep(rnd.uniform(0.0, 1.2))
                except AssertionError:
                    pass  # nothing to send this time: an ordinary kill
            elif i % IN_FLIGHT_EVERY == 1:
                # Every post is refused with a bad answer; kill once the bot has had some.
                slack.delay("chat.postMessage", 0)
                shape, status = BAD_ANSWERS[(i // IN_FLIGHT_EVERY) % len(BAD_ANSWERS)]
                if shape == "error":
                    slack.fail("chat.postMessage", times=None, status=status)
                else:
                    slack.fail("chat.postMessage", times=None, shape=shape, status=status)
                seen = len(slack.calls_to("chat.postMessage"))
                try:
                    wait_until(
                        lambda n=seen: len(slack.calls_to("chat.postMessage")) > n,
                        10,
                        "a post answered badly",
                    )
                    bad_answer_kills[f"{shape} {status}"] += 1
                    time.sleep(rnd.uniform(0.0, 2.5))  # during the backoff, or the next try
                except AssertionError:
                    pass  # nothing to send this time: an ordinary kill
            else:
                slack.delay("chat.postMessage", rnd.choice([0, 0, 0.3, 0.8]))
                time.sleep(rnd.uniform(0.2, 6.0))  # start-up alone takes ~1 s
            bot.kill9()
            slack.clear_faults("chat.postMessage")
            # A request the bot wrote just before dying may still be read by FakeSlack: let it
            # land, so that every post of this life is stamped before the kill's time.
            time.sleep(0.3)
            kills.append(time.time())
            since = kills[-2] if len(kills) > 1 else 0.0
            pending = {
                (r["channel_id"], r["text"]) for r in bot.db.outbox() if r["status"] == "pending"
            }
            pending_at_kill += sum(
                1 for c in accepted_posts(slack) if since < c.at and key(c) in pending
            )
            time.sleep(rnd.uniform(0.0, 0.3))  # down a little longer, sometimes

        # The last start: steady price, no delays, everything queued goes out.
        swings.stop()
        slack.delay("chat.postMessage", 0)
        bot.start()
        bot.wait_polls(3)
        # Rows refused by bad answers wait out their backoff (up to a minute after many tries).
        wait_until(lambda: bot.healthz()[1]["pending_deliveries"] == 0, 90, "the outbox to drain")
        assert bot.stop() == 0
    finally:
        swings.stop()
        bot.kill9()
        print(bot.tail(40))

    every_row = bot.db.outbox()
    # The edits (chat.update of an alert its recovery ended) are checked apart: they post nothing.
    rows = [r for r in every_row if r["kind"] != "edit"]
    edits = [r for r in every_row if r["kind"] == "edit"]
    rules = bot.db.rules()
    posts = accepted_posts(slack)
    by_ts = {c.response["ts"]: c for c in posts}
    assert rows, "no crossing happened: the run proved nothing"
    assert {r["status"] for r in rows} == {"sent"}

    # Every transition recorded arrived at Slack, as the very message whose ts the row keeps.
    for row in rows:
        call = by_ts.get(row["ts"])
        assert call is not None, f"row {row['key']} is marked sent but Slack never got {row['ts']}"
        assert key(call) == (row["channel_id"], row["text"])
        if row["thread_of"]:
            parent = next(r for r in rows if r["id"] == row["thread_of"])
            assert call.args.get("thread_ts") == parent["ts"]

    # Every recovery of a posted alert edited that alert; the channel shows the last edit.
    assert {r["status"] for r in edits} == ({"sent"} if edits else set())
    recoveries = [r for r in rows if r["kind"] == "recovery"]
    assert len(edits) == len(recoveries)
    for edit in edits:
        alert = next(r for r in rows if r["id"] == edit["thread_of"])
        shown = slack.message(alert["channel_id"], alert["ts"])
        assert shown is not None and shown["text"] == edit["text"]

    # One row per transition, alternating, for every rule: no transition without its message.
    for rule in rules:
        kinds = [r["kind"] for r in rows if r["rule_id"] == rule["id"]]
        assert len(kinds) == rule["transitions"]
        assert kinds == ["alert", "recovery"] * (len(kinds) // 2) + ["alert"] * (len(kinds) % 2)

    # Every other message Slack holds is a copy of a row, accepted before a kill, sent again after.
    final_at = {row["id"]: by_ts[row["ts"]].at for row in rows}
    row_of = {(r["channel_id"], r["text"]): r for r in rows}
    assert len(row_of) == len(rows), "two rows with the same text in a channel: cannot tell apart"
    duplicates = [c for c in posts if c.response["ts"] not in {r["ts"] for r in rows}]
    for dup in duplicates:
        row = row_of.get(key(dup))
        assert row is not None, f"Slack got a message no row explains: {dup.args['text']}"
        assert any(dup.at < k < final_at[row["id"]] for k in kills), (
            f"{row['key']} was sent twice without a kill in between"
        )
    copies = Counter(key(c) for c in posts)
    bad = ", ".join(f"{n} {what}" for what, n in sorted(bad_answer_kills.items())) or "none"
    refused = [c for c in slack.calls_to("chat.postMessage") if not c.ok]
    print(
        f"{len(kills)} kills ({in_flight_kills} while Slack held a post; while Slack answered "
        f"badly: {bad}); {len(refused)} posts answered badly, all retried; {len(rows)} transitions "
        f"sent across {len(rules)} rules; {len(posts)} messages accepted by Slack; "
        f"{len(duplicates)} duplicates, all of rows Slack had accepted while they were pending "
        f"at a kill ({pending_at_kill} counted at the kills); most copies of one row: "
        f"{max(copies.values())}"
    )
    assert len(kills) >= 20
    assert in_flight_kills >= 1
    assert sum(bad_answer_kills.values()) >= 1
    assert len(duplicates) == pending_at_kill
