"""The HTTP surface: Bolt's WSGI handler for /slack/*, and /healthz; served by waitress."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.health import health

StartResponse = Callable[..., Any]


class WsgiApp:
    def __init__(self, app: App, service: Any, delivery_pending: Callable[[], int] | None = None):
        self.slack = SlackRequestHandler(app)
        self.service = service
        self.delivery_pending = delivery_pending

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in (
            "GET",
            "HEAD",
        ):
            status, body = health(self.service, self.delivery_pending)
            line = "200 OK" if status == 200 else "503 Service Unavailable"
            return _respond(start_response, line, "application/json", json.dumps(body).encode())
        if not _timestamp_ok(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")):
            # slack_sdk's verifier calls int() on it: Bolt would answer 500 and log a traceback.
            plain = "text/plain;charset=utf-8"
            return _respond(start_response, "401 Unauthorized", plain, b"Unauthorized")
        return self.slack(environ, start_response)


def _timestamp_ok(value: str | None) -> bool:
    """Absent is Bolt's to refuse; present, it must be a whole number of seconds."""
    if value is None:
        return True
    try:
        int(value)
    except ValueError:
        return False
    return True


def _respond(
    start_response: StartResponse, status: str, content_type: str, body: bytes
) -> Iterable[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
