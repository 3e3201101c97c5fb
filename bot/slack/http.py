"""The HTTP surface: /healthz, /readyz, and Slack's requests handed to Bolt once their signature holds.

Nothing under /slack/ is decoded or parsed before its signature is checked over the raw bytes
(DESIGN §9): Bolt's WSGI adapter reads, decodes and parses the whole body before it verifies, so
an unsigned 500 MB body, or a malformed one, cost memory and tracebacks. Here a body over 1 MiB is
refused from its Content-Length without being read, and a refusal is one short WARNING line,
throttled so that a flood cannot fill the log but an operator with a wrong signing secret sees why
Slack says `dispatch_failed`. In Socket Mode no Slack route is served over HTTP at all.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot import metrics
from bot.health import health, readiness
from bot.logs import Throttle
from bot.slack.signature import MAX_BODY_BYTES, refusal

StartResponse = Callable[..., Any]

log = logging.getLogger("hashfloor.http")

REFUSED_LOG_EVERY_S = 10.0
PLAIN = "text/plain;charset=utf-8"
STATUS_LINES = {
    400: "400 Bad Request",
    401: "401 Unauthorized",
    404: "404 Not Found",
    411: "411 Length Required",
    413: "413 Content Too Large",
}


class WsgiApp:
    """`slack_routes=False` (Socket Mode): /slack/* is 404, whatever the request carries."""

    def __init__(
        self,
        app: App,
        service: Any,
        delivery_pending: Callable[[], int] | None = None,
        *,
        slack_routes: bool = True,
        socket_connected: Callable[[], bool] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.slack = SlackRequestHandler(app)
        self.service = service
        self.delivery_pending = delivery_pending
        self.slack_routes = slack_routes
        self.socket_connected = socket_connected
        self.signing_secret: str | None = service.settings.slack_signing_secret
        self.clock = clock
        self.refused_log = Throttle(REFUSED_LOG_EVERY_S)
        flow = app.oauth_flow
        # OAuth install and its redirect come from a person's browser, which cannot sign.
        self.browser_paths = {flow.install_path, flow.redirect_uri_path} if flow else set()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        if path in ("/healthz", "/readyz") and method in ("GET", "HEAD"):
            if path == "/healthz":
                status, body = health(self.service, self.delivery_pending)
            else:
                status, body = readiness(self.service, self.socket_connected)
            line = "200 OK" if status == 200 else "503 Service Unavailable"
            return _respond(start_response, line, "application/json", json.dumps(body).encode())
        if path == "/metrics" and method in ("GET", "HEAD"):
            body = self.service.metrics.exposition()
            return _respond(start_response, "200 OK", metrics.CONTENT_TYPE, body)
        if not self.slack_routes or not path.startswith("/slack/"):
            return _plain(start_response, 404)
        if method == "GET" and path in self.browser_paths:
            return self.slack(environ, start_response)
        if method != "POST" or path != self.slack.path:
            return _plain(start_response, 404)
        return self._from_slack(environ, start_response)

    def _from_slack(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return self._refuse(environ, start_response, 411, "no Content-Length")
        if length > MAX_BODY_BYTES:  # refused unread: a body is memory until it is verified
            return self._refuse(environ, start_response, 413, f"body of {length} bytes over 1 MiB")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        if len(body) != length:
            return self._refuse(environ, start_response, 400, "body shorter than its length")
        why = refusal(
            self.signing_secret,
            body,
            environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
            environ.get("HTTP_X_SLACK_SIGNATURE"),
            self.clock(),
        )
        if why:
            return self._refuse(environ, start_response, 401, why)
        # Bolt reads the body again (and checks the signature again: harmless, and kept in case
        # Bolt is ever reached another way).
        return self.slack({**environ, "wsgi.input": io.BytesIO(body)}, start_response)

    def _refuse(
        self, environ: dict[str, Any], start_response: StartResponse, status: int, why: str
    ) -> Iterable[bytes]:
        held = self.refused_log.ready()
        if held is not None:
            more = f" ({held} more refused since the last such line)" if held else ""
            log.warning(
                "refused %s %s from %s with %s: %s%s",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                environ.get("REMOTE_ADDR", "?"),
                status,
                why,
                more,
            )
        return _plain(start_response, status)


def _plain(start_response: StartResponse, status: int) -> Iterable[bytes]:
    line = STATUS_LINES[status]
    return _respond(start_response, line, PLAIN, line.split(" ", 1)[1].encode())


def _respond(
    start_response: StartResponse, status: str, content_type: str, body: bytes
) -> Iterable[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
