"""The one place Slack Web API clients are made: base URL, retries, token."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.settings import Settings

TIMEOUT_S = 10


def make_client(settings: Settings, token: str | None = None, retries: bool = True) -> WebClient:
    """A WebClient on SLACK_API_URL.

    `retries=False` is for the delivery worker, which waits out 429s and backs off on 5xx itself,
    so that a rate-limited channel never blocks a worker thread inside the SDK.
    """
    client = WebClient(token=token, base_url=settings.api_url, timeout=TIMEOUT_S)
    if retries:
        client.retry_handlers = [
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
        ]
    else:
        client.retry_handlers = []
    return client
