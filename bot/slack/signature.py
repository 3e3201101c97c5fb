"""Slack's request signature (v0), checked over the raw bytes before anything decodes them.

Slack signs `v0:{timestamp}:{body}` with HMAC-SHA256 under the app's signing secret and sends
`X-Slack-Request-Timestamp` and `X-Slack-Signature: v0=<hex>`. slack_sdk's verifier decodes the
body as UTF-8 first (a non-UTF-8 body is an exception, not a refusal) and, before 3.43, accepted an
empty secret; this check does neither. Pure: the time is an argument.
"""

from __future__ import annotations

import hashlib
import hmac

WINDOW_S = 5 * 60  # Slack's replay window, either side of now
MAX_BODY_BYTES = 1 << 20  # DESIGN §9: 1 MiB; Slack's own payloads are a few kilobytes


def refusal(
    secret: str | None, body: bytes, timestamp: str | None, signature: str | None, now: float
) -> str | None:
    """Why this request is not Slack's, in a few words; None when the signature holds."""
    if not secret or not secret.strip():
        return "no signing secret is set, so nothing can be verified"
    if not timestamp or not signature:
        return "no signature"
    # Digits only (int() also takes " +1_700"), and few: int() of 5,000 digits raises ValueError.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return "timestamp is not a number"
    if abs(now - int(timestamp)) > WINDOW_S:
        return "timestamp outside the 5-minute window"
    if not signature.startswith("v0="):
        return "signature is not of the v0 scheme"
    expected = hmac.new(
        secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(("v0=" + expected).encode(), signature.encode(errors="replace")):
        return "signature does not match (is SLACK_SIGNING_SECRET the app's?)"
    return None
