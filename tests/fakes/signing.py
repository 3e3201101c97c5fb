"""Requests signed exactly as Slack signs them: v0 HMAC-SHA256 over `v0:{timestamp}:{body}`."""

from __future__ import annotations

import hashlib
import hmac
import time


def slack_headers(body: str | bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    raw = body.encode() if isinstance(body, str) else body
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest.hexdigest()}
