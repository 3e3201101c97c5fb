"""Signed OAuth states: issued without a write, accepted only as issued and only until they expire."""

from __future__ import annotations

import pytest

from bot.slack.oauth_state import SignedStateStore

KEY = "the secret key of this bot, 32 chars+"
T0 = 1_760_000_000.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("age_s", "valid"), [(0, True), (599, True), (600, False), (3600, False)])
def test_a_state_works_only_until_it_expires(age_s: int, valid: bool) -> None:
    clock = Clock(T0)
    states = SignedStateStore(KEY, expiration_seconds=600, clock=clock)
    state = states.issue()

    clock.now = T0 + age_s
    assert states.consume(state) is valid


def test_states_are_unguessable() -> None:
    states = SignedStateStore(KEY, expiration_seconds=600)
    issued = {states.issue() for _ in range(50)}
    assert len(issued) == 50 and all(len(s) >= 60 for s in issued)


def tampered(state: str) -> list[str]:
    nonce, expiry, signature = state.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return [
        f"{nonce}.{int(expiry) + 86_400}.{signature}",  # a later expiry
        f"{nonce}x.{expiry}.{signature}",  # another nonce
        f"{nonce}.{expiry}.{flipped}",  # another signature
        f"{nonce}.{expiry}",  # no signature
        f"{nonce}.{expiry}.{signature}.x",
        f"{nonce}.soon.{signature}",
        f"{nonce}.{expiry}.é{signature[1:]}",  # not ASCII
        "",
        "forged",
    ]


def test_a_tampered_state_is_refused() -> None:
    states = SignedStateStore(KEY, expiration_seconds=600)
    state = states.issue()
    for bad in tampered(state):
        assert states.consume(bad) is False, bad
    assert states.consume(state) is True


def test_a_state_signed_with_another_key_is_refused() -> None:
    other = SignedStateStore("another secret key, also 32 chars+", expiration_seconds=600)
    assert SignedStateStore(KEY, expiration_seconds=600).consume(other.issue()) is False
