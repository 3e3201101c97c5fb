"""The HTTP surface on loopback: what is refused before Bolt sees it, slow clients, a clean stop.

The WSGI app (bot.slack.http.WsgiApp) is served by bot.server.HttpServer, as `hashfloor run` serves
it; requests are written on raw sockets where a test needs to send something no client would.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.logs import Throttle
from bot.server import HttpServer, ServeError
from bot.service import Hashfloor
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.http import WsgiApp
from bot.slack.signature import MAX_BODY_BYTES, refusal
from storage import snapshots
from tests.fakes.signing import slack_headers
from tests.fakes.slack import FakeSlack
from tests.fakes.slash_commands import command_fields
from tests.fakes.snapshots import design_snapshot

SECRET = "http-surface-secret-0123456789abcdef"
TOKEN = "xoxb-1111-2222-http"
TEAM = "T0HASHFLR"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(team_id=TEAM) as fake:
        yield fake


def make_service(tmp_path: Path, slack: FakeSlack, secret: str | None = SECRET) -> Hashfloor:
    settings = Settings(
        hashfloor_db=tmp_path / "http.db",
        slack_bot_token=TOKEN,
        slack_signing_secret=secret,
        slack_api_url=slack.url,
    )
    svc = Hashfloor(settings)
    svc.migrate()
    snapshots.insert(svc.storage.db, design_snapshot(time.time() - 30))
    return svc


@pytest.fixture
def service(tmp_path: Path, slack: FakeSlack) -> Iterator[Hashfloor]:
    svc = make_service(tmp_path, slack)
    yield svc
    svc.close()


@pytest.fixture
def wsgi(service: Hashfloor) -> WsgiApp:
    return WsgiApp(build_app(service), service)


@contextmanager
def serving(app: Callable[..., Any], **kw: Any) -> Iterator[HttpServer]:
    server = HttpServer("127.0.0.1", 0, **kw)
    thread = threading.Thread(target=server.serve, args=(app,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join(15)
        assert not thread.is_alive(), "the server did not stop"


@pytest.fixture
def port(wsgi: WsgiApp) -> Iterator[int]:
    with serving(wsgi) as server:
        yield server.port


def request(
    port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def command_body(slack: FakeSlack, text: str = "20 0.06 2") -> bytes:
    fields = command_fields("/breakeven", text, slack.response_url("r"), "U0MEMBER", team=TEAM)
    return urlencode(fields).encode()


def form(body: bytes, **sign: Any) -> dict[str, str]:
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        **slack_headers(body, sign.pop("secret", SECRET), **sign),
    }


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "hashfloor.http"]


# --- the body cap -------------------------------------------------------------------------------


def test_a_body_over_1_mib_is_refused_before_a_byte_of_it_is_sent(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        # 500 MB announced, none of it sent: the answer comes from the headers alone
        sock.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 500000000\r\n\r\n"
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413 ")
    (line,) = refusals(caplog)
    assert line.levelno == logging.WARNING and "with 413" in line.getMessage()
    assert "Traceback" not in caplog.text


def test_the_app_refuses_a_large_body_without_reading_it(wsgi: WsgiApp) -> None:
    class Unreadable(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise AssertionError("the body was read")

    seen: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(MAX_BODY_BYTES + 1),
        "wsgi.input": Unreadable(),
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in slack_headers(b"", SECRET).items()},
    }
    body = b"".join(wsgi(environ, lambda status, headers: seen.append(status)))
    assert seen == ["413 Content Too Large"] and body == b"Content Too Large"


def test_a_signed_body_of_exactly_1_mib_is_served(port: int) -> None:
    challenge = b'{"type": "url_verification", "challenge": "abc", "token": "x"}'
    body = challenge + b" " * (MAX_BODY_BYTES - len(challenge))
    headers = {"Content-Type": "application/json", **slack_headers(body, SECRET)}
    status, data = request(port, "POST", "/slack/events", body, headers)
    assert status == 200 and json.loads(data) == {"challenge": "abc"}


# --- refused before Bolt: 4xx and one short line ---------------------------------------------


def cases(slack: FakeSlack) -> dict[str, tuple[bytes, dict[str, str], str]]:
    body = command_body(slack)
    now = int(time.time())
    latin = "text=caf\xe9".encode("latin-1")  # not UTF-8: Bolt's decode would raise
    bad_json = b'{"type": "event_callback", "event": '
    return {
        "no signature": (body, {"Content-Type": "application/x-www-form-urlencoded"}, "no sig"),
        "wrong secret": (body, form(body, secret="guessed"), "does not match"),
        "stale": (body, form(body, timestamp=now - 6 * 60), "5-minute window"),
        "future": (body, form(body, timestamp=now + 6 * 60), "5-minute window"),
        "tampered": (body.replace(b"20", b"21"), form(body), "does not match"),
        "timestamp a word": (
            body,
            {**form(body), "X-Slack-Request-Timestamp": "soon"},
            "not a number",
        ),
        "timestamp a float": (
            body,
            {**form(body), "X-Slack-Request-Timestamp": "1.7e9"},
            "not a number",
        ),
        "timestamp huge": (
            body,
            {**form(body), "X-Slack-Request-Timestamp": "9" * 5000},
            "not a number",
        ),
        "not v0": (
            body,
            {**form(body), "X-Slack-Signature": "v1=" + "0" * 64},
            "v0 scheme",
        ),
        "signature not ascii": (
            body,
            {**form(body), "X-Slack-Signature": "v0=é"},
            "does not match",
        ),
        "not utf-8": (latin, form(latin, secret="guessed"), "does not match"),
        "malformed json": (bad_json, {"Content-Type": "application/json"}, "no signature"),
        "malformed payload": (
            b"payload=%7B%22type",
            {"Content-Type": "application/x-www-form-urlencoded"},
            "no signature",
        ),
    }


NAMES = [
    "no signature",
    "wrong secret",
    "stale",
    "future",
    "tampered",
    "timestamp a word",
    "timestamp a float",
    "timestamp huge",
    "not v0",
    "signature not ascii",
    "not utf-8",
    "malformed json",
    "malformed payload",
]


@pytest.mark.parametrize("how", NAMES)
def test_a_refused_request_is_a_401_and_one_short_line(
    wsgi: WsgiApp, slack: FakeSlack, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    caplog.set_level(logging.DEBUG)
    body, headers, why = cases(slack)[how]
    with serving(wsgi) as server:
        status, data = request(server.port, "POST", "/slack/events", body, headers)
    assert (status, data) == (401, b"Unauthorized")
    (line,) = refusals(caplog)
    message = line.getMessage()
    assert line.levelno == logging.WARNING and line.exc_info is None
    assert message.startswith("refused POST /slack/events from 127.0.0.1 with 401: ")
    assert why in message and "\n" not in message
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert slack.calls == [] and slack.responses("r") == []


def test_a_flood_of_refusals_is_one_line_then_a_count(
    wsgi: WsgiApp, port: int, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    now = [1000.0]
    wsgi.refused_log = Throttle(10.0, clock=lambda: now[0])
    body = command_body(slack)
    for _ in range(50):
        assert request(port, "POST", "/slack/events", body, form(body, secret="x"))[0] == 401
    assert len(refusals(caplog)) == 1
    # the next line, once the window has passed, says how many were held back
    now[0] += 10.0
    assert request(port, "POST", "/slack/events", body, form(body, secret="x"))[0] == 401
    assert "(49 more refused since the last such line)" in refusals(caplog)[1].getMessage()


def test_throttle_counts_what_it_holds_back() -> None:
    now = [100.0]
    throttle = Throttle(10.0, clock=lambda: now[0])

    def at(t: float) -> int | None:
        now[0] = t
        return throttle.ready()

    assert at(100.0) == 0
    assert [at(t) for t in (101.0, 105.0, 109.9)] == [None, None, None]
    assert at(110.0) == 3
    assert at(111.0) is None


def test_a_signed_request_still_reaches_bolt(port: int, slack: FakeSlack) -> None:
    body = command_body(slack)
    status, data = request(port, "POST", "/slack/events", body, form(body))
    assert status == 200
    assert "breakeven BTC price $70,605" in json.loads(data)["text"]


def test_an_empty_signing_secret_verifies_nothing(
    tmp_path: Path, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    svc = make_service(tmp_path, slack, secret="")
    try:
        body = command_body(slack)
        with serving(WsgiApp(build_app(svc), svc)) as server:
            status, _ = request(server.port, "POST", "/slack/events", body, form(body, secret=""))
        assert status == 401
        assert "no signing secret is set" in refusals(caplog)[0].getMessage()
        assert "Traceback" not in caplog.text
    finally:
        svc.close()


def test_the_signature_check_needs_a_secret() -> None:
    body = b"text=x"
    headers = slack_headers(body, "")
    ts, sig = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    for secret in ("", "   ", None):
        assert refusal(secret, body, ts, sig, float(ts)) is not None
    good = slack_headers(body, SECRET)
    ts, sig = good["X-Slack-Request-Timestamp"], good["X-Slack-Signature"]
    assert refusal(SECRET, body, ts, sig, float(ts) + 299) is None
    assert refusal(SECRET, body, ts, sig, float(ts) + 301) is not None


# --- routes ---------------------------------------------------------------------------------


def test_only_slack_events_takes_a_post(port: int, slack: FakeSlack) -> None:
    body = command_body(slack)
    assert request(port, "POST", "/slack/other", body, form(body))[0] == 404
    assert request(port, "GET", "/slack/events")[0] == 404
    assert request(port, "POST", "/elsewhere", body, form(body))[0] == 404
    assert request(port, "GET", "/healthz")[0] == 200


def test_socket_mode_serves_no_slack_route(
    service: Hashfloor, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    app = WsgiApp(build_app(service), service, slack_routes=False)
    body = command_body(slack)
    with serving(app) as server:
        # signed with the real secret, and with an empty one: neither reaches Bolt
        for secret in (SECRET, ""):
            status, _ = request(
                server.port, "POST", "/slack/events", body, form(body, secret=secret)
            )
            assert status == 404
        assert request(server.port, "GET", "/slack/install")[0] == 404
        assert request(server.port, "GET", "/healthz")[0] == 200
    assert slack.calls == [] and slack.responses("r") == []


def test_oauth_install_is_served_to_a_browser_unsigned(tmp_path: Path, slack: FakeSlack) -> None:
    settings = Settings(
        hashfloor_db=tmp_path / "oauth.db",
        slack_client_id="1111.2222",
        slack_client_secret="client-secret-for-tests",
        slack_signing_secret=SECRET,
        hashfloor_secret_key="k" * 40,
        slack_api_url=slack.url,
    )
    svc = Hashfloor(settings)
    svc.migrate()
    try:
        with serving(WsgiApp(build_app(svc), svc)) as server:
            status, _ = request(server.port, "GET", "/slack/install")
            assert status == 302  # on to Slack's consent page
            assert request(server.port, "POST", "/slack/install")[0] == 404
    finally:
        svc.close()


# --- readiness -----------------------------------------------------------------------------


def readyz(app: WsgiApp) -> tuple[int, dict[str, Any]]:
    with serving(app) as server:
        status, body = request(server.port, "GET", "/readyz")
    return status, json.loads(body)


def test_readyz_when_migrated_and_fresh(service: Hashfloor) -> None:
    status, body = readyz(WsgiApp(build_app(service), service))
    assert status == 200
    assert body["ready"] is True and body["migrated"] is True and body["price_fresh"] is True
    assert body["role"] == "standby" and "socket_mode_connected" not in body
    service.role = "scheduler"
    assert readyz(WsgiApp(build_app(service), service))[1]["role"] == "scheduler"


def test_readyz_is_503_on_stale_data_and_pending_migrations(service: Hashfloor) -> None:
    service.clock = lambda: time.time() + 400  # five minutes past the last fresh poll
    status, body = readyz(WsgiApp(build_app(service), service))
    assert status == 503 and body["ready"] is False and body["price_fresh"] is False
    assert body["migrated"] is True and body["data_age_s"] > 300
    service.clock = time.time
    last = service.storage.db.execute(
        "SELECT migration_set, name FROM _sqlite_migrations ORDER BY rowid DESC LIMIT 1"
    ).fetchone()
    service.storage.db.execute(
        "DELETE FROM _sqlite_migrations WHERE migration_set = ? AND name = ?", last
    )
    status, body = readyz(WsgiApp(build_app(service), service))
    assert status == 503 and body["migrated"] is False
    assert body["pending_migrations"] == [f"{last[0]}:{last[1]}"]


def test_readyz_in_socket_mode_needs_the_connection(service: Hashfloor) -> None:
    up = [False]
    app = WsgiApp(build_app(service), service, slack_routes=False, socket_connected=lambda: up[0])
    status, body = readyz(app)
    assert status == 503 and body["socket_mode_connected"] is False
    up[0] = True
    status, body = readyz(app)
    assert status == 200 and body["socket_mode_connected"] is True


# --- slow clients ---------------------------------------------------------------------------


def test_healthz_answers_while_110_connections_trickle(port: int) -> None:
    """Slowloris, bounded: 110 connections, one byte each every 0.2 s, for at most 5 s."""
    trickling = []
    stop = threading.Event()
    try:
        for _ in range(110):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
            trickling.append(sock)

        def trickle() -> None:
            for _ in range(25):
                if stop.wait(0.2):
                    return
                for sock in trickling:
                    with suppress(OSError):
                        sock.send(b"X")

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        for _ in range(3):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            assert resp.status == 200 and json.loads(resp.read())["ok"] is True
            conn.close()
        assert thread.is_alive(), "the trickle ended before /healthz was asked"
    finally:
        stop.set()
        for sock in trickling:
            sock.close()


def test_a_request_that_never_finishes_arriving_is_closed(wsgi: WsgiApp) -> None:
    with (
        serving(wsgi, request_read_s=1.0) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=0.2) as sock,
    ):
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
        deadline = time.monotonic() + 15
        closed = False
        while not closed and time.monotonic() < deadline:
            try:
                sock.send(b"X")  # never idle: only the read deadline can close it
                closed = sock.recv(1024) == b""
            except TimeoutError:
                continue
            except OSError:
                closed = True
        assert closed, "a request trickling in for 15 s was still held open"


# --- start and stop -------------------------------------------------------------------------


def test_a_port_in_use_is_a_one_line_serve_error() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with pytest.raises(ServeError) as caught:
            HttpServer("127.0.0.1", taken)
    message = str(caught.value)
    assert message == (
        f"port {taken} is already in use (127.0.0.1:{taken}): stop the other process or set PORT"
    )


def test_stop_lets_a_request_in_flight_finish_and_closes_cleanly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    started = threading.Event()

    def slow(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        started.set()
        time.sleep(1.0)
        start_response("200 OK", [("Content-Length", "4")])
        return [b"done"]

    answers: list[tuple[int, bytes]] = []
    with serving(slow) as server:
        client = threading.Thread(
            target=lambda: answers.append(request(server.port, "GET", "/slow")), daemon=True
        )
        client.start()
        assert started.wait(10)
        server.stop()
        client.join(15)
        assert server.stopped.wait(15)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
    assert answers == [(200, b"done")]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]
