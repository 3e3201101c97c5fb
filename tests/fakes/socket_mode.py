"""A fake of Slack's Socket Mode on loopback, in front of FakeSlack.

Two servers:
- a Web API front: `apps.connections.open` (app-level `xapp-` token) answers with this fake's
  websocket URL; every other request is passed to FakeSlack unchanged. Point SLACK_API_URL at
  `fake.url`.
- a websocket server (the `websockets` package) that speaks Socket Mode: it sends `hello` to each new
  connection, sends envelopes the test asks for, and keeps the acks the app sends back.

slack_sdk's built-in SocketModeClient (what Bolt's SocketModeHandler uses) connects without TLS to
any port but 443, so a plain ws:// URL on loopback works.

    with FakeSlack() as slack, FakeSocketMode(slack) as socket_mode:
        ...  # run the bot with SLACK_APP_TOKEN=xapp-…, SLACK_API_URL=socket_mode.url
        socket_mode.wait_connected()
        eid = socket_mode.send("slash_commands", {"command": "/breakeven", ...})
        ack = socket_mode.ack(eid)          # {"envelope_id": eid, "payload": {...}}
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.protocol import State
from websockets.sync.server import Server, ServerConnection, serve

from tests.fakes.slack import FakeSlack

# Headers a proxy must not pass on as they are (hop-by-hop, or recomputed).
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class FakeSocketMode:
    def __init__(self, slack: FakeSlack, app_id: str = "A0HASHAPP") -> None:
        self.slack = slack
        self.app_id = app_id
        self.opened: list[str | None] = []  # tokens apps.connections.open was called with
        self.received: list[dict[str, Any]] = []  # every JSON message the app sent
        self._acks: dict[str, dict[str, Any]] = {}
        self._connections: list[ServerConnection] = []
        self._changed = threading.Condition()
        self._ws: Server | None = None
        self._http: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> FakeSocketMode:
        self._ws = serve(self._session, "127.0.0.1", 0)
        self._http = _Front(self)
        for name, target in (("ws", self._ws.serve_forever), ("api", self._http.serve_forever)):
            thread = threading.Thread(target=target, name=f"fake-socket-mode-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._ws is not None:
            self._ws.shutdown()
        for thread in self._threads:
            thread.join(5)
        self._http = self._ws = None
        self._threads.clear()

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """Web API base URL for SLACK_API_URL."""
        assert self._http is not None, "FakeSocketMode is not started"
        return f"http://127.0.0.1:{self._http.server_address[1]}/api/"

    @property
    def ws_url(self) -> str:
        assert self._ws is not None, "FakeSocketMode is not started"
        return f"ws://127.0.0.1:{self._ws.socket.getsockname()[1]}/"

    # -- what the test does -----------------------------------------------------------------

    def wait_connected(self, timeout: float = 10.0) -> None:
        """Until an app holds an open connection that has been sent `hello`."""
        self._wait(lambda: any(self._open(c) for c in self._connections), timeout, "no connection")

    def send(
        self,
        kind: str,
        payload: dict[str, Any],
        accepts_response_payload: bool = True,
        retry_attempt: int = 0,
        retry_reason: str = "",
        envelope_id: str | None = None,
    ) -> str:
        """Send an envelope on the newest open connection; returns its envelope_id."""
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        with self._changed:
            live = [c for c in self._connections if self._open(c)]
        if not live:
            raise AssertionError("FakeSocketMode: no app is connected")
        live[-1].send(json.dumps(envelope))
        return envelope_id

    def ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The app's acknowledgement of an envelope: {"envelope_id": …[, "payload": {…}]}."""
        self._wait(lambda: envelope_id in self._acks, timeout, f"no ack for {envelope_id}")
        with self._changed:
            return self._acks[envelope_id]

    def acks(self) -> dict[str, dict[str, Any]]:
        with self._changed:
            return dict(self._acks)

    # -- the websocket side ----------------------------------------------------------------

    @staticmethod
    def _open(conn: ServerConnection) -> bool:
        # connections are listed only once `hello` went out
        return conn.protocol.state is State.OPEN

    def _wait(self, done: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"FakeSocketMode: {what} in {timeout}s")
                self._changed.wait(left)

    def _session(self, conn: ServerConnection) -> None:
        hello = {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {
                "host": "applink-fake-1",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
        conn.send(json.dumps(hello))
        with self._changed:
            self._connections.append(conn)
            self._changed.notify_all()
        try:
            for raw in conn:
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                with self._changed:
                    self.received.append(message)
                    if isinstance(message, dict) and "envelope_id" in message:
                        self._acks[message["envelope_id"]] = message
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._changed.notify_all()


class _Front(ThreadingHTTPServer):
    """The Web API as the app sees it: apps.connections.open here, the rest from FakeSlack."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, fake: FakeSocketMode) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _FrontHandler)


class _FrontHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Front

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.split("?")[0] == "/api/apps.connections.open":
            self._connections_open()
        else:
            self._proxy(body)

    do_GET = do_POST

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _connections_open(self) -> None:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        fake = self.server.fake
        with fake._changed:
            fake.opened.append(token or None)
        if not token:
            answer = {"ok": False, "error": "not_authed"}
        elif not token.startswith("xapp-"):
            answer = {"ok": False, "error": "not_allowed_token_type"}
        else:
            answer = {"ok": True, "url": fake.ws_url}
        data = json.dumps(answer).encode()
        self._send(200, data, [("Content-Type", "application/json; charset=utf-8")])

    def _proxy(self, body: bytes) -> None:
        target = http.client.HTTPConnection(*_host_port(self.server.fake.slack.root), timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            target.request(self.command, self.path, body=body or None, headers=headers)
            resp = target.getresponse()
            data = resp.read()
            passed = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP]
            self._send(resp.status, data, passed)
        finally:
            target.close()


def _host_port(root: str) -> tuple[str, int]:
    host, _, port = root.removeprefix("http://").partition(":")
    return host, int(port)
