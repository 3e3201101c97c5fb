"""The ack of a listener whose work runs after it, as a Bolt lazy listener."""

from __future__ import annotations

from slack_bolt import Ack


def just_ack(ack: Ack) -> None:
    """Acknowledge at once; the lazy listeners registered with it do the work afterwards."""
    ack()
