"""How numbers read: the sign before the currency, difficulty as a number, not a unit."""

import pytest

from bot import fmt


@pytest.mark.parametrize(
    ("value", "cents", "text"),
    [
        (-172.12, True, "-$172.12"),
        (172.12, True, "$172.12"),
        (-74_600, False, "-$74,600"),
        (-0.001, True, "$0.00"),  # rounds to nothing: no "-$0.00"
        (0, False, "$0"),
        (None, False, "—"),
    ],
)
def test_usd(value, cents, text) -> None:
    assert fmt.usd(value, cents=cents) == text


def test_difficulty_reads_as_a_number() -> None:
    assert fmt.difficulty(152e12) == "152.00 trillion"
