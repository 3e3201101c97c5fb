"""A fake of Slack's Web API: a real HTTP server on loopback that records calls and answers like Slack.

Point the bot at it with ``SLACK_API_URL=fake.url``; slack_sdk posts each method to
``{base_url}{method}``. The fake answers with the shapes of the real API, keeps what was posted (so
chat.update of an unknown message fails as it does on Slack), and can be told to rate-limit, break,
refuse or stall any method.

    with FakeSlack() as slack:
        slack.fail("chat.postMessage", times=1, status=429, retry_after=1)
        slack.fail("chat.postMessage", times=2, shape="html", status=502)  # a proxy's error page
        ...  # run the bot with SLACK_API_URL=slack.url
        slack.wait_for(lambda calls: any(c.method == "chat.postMessage" and c.ok for c in calls))
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

T = TypeVar("T")

# Slack's documented limits; the fake refuses what the real API would refuse.
MESSAGE_BLOCKS_MAX = 50
HOME_BLOCKS_MAX = 100
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
MESSAGE_TEXT_MAX = 40000

PARTNER_TEAM = "T0PARTNER"  # the home team of external (Slack Connect) users

_TS_START = 1_700_000_000 * 1_000_000  # message ts in microseconds: "1700000000.000100", ...
_TS_STEP = 100


@dataclass(frozen=True)
class Call:
    """One request to a Web API method, as the fake received and answered it."""

    method: str
    args: dict[str, Any]  # query string and body merged; form values stay strings, as sent
    token: str | None  # from "Authorization: Bearer …", else the `token` argument
    headers: dict[str, str]  # header names lower-cased
    at: float  # wall-clock time of arrival
    status: int = 200  # HTTP status the fake answered
    response: dict[str, Any] = field(default_factory=dict)  # JSON body the fake answered

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


# Answers that are not Slack's JSON (DESIGN §5: "every other answer from Slack is transient").
# html, empty and truncated come from something between the bot and Slack (a proxy, a cut
# connection): the request never reached Slack, so nothing is posted. no_ts is Slack accepting the
# message but answering only {"ok": true}: the message is posted, its ts is not returned.
SHAPES = ("html", "empty", "truncated", "no_ts")
_HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>The proxy could not reach slack.com.</p></body></html>"
)
_TRUNCATED = b'{"ok": true, "channel": "C0'


@dataclass
class _Fault:
    times: int | None  # None: until reset()
    status: int
    error: str
    retry_after: int
    channel: str | None
    shape: str | None = None  # one of SHAPES: answer that instead of {"ok": false, "error": …}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output quiet; the calls are recorded instead

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers, up to the blank line
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def answer(
        self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class FakeSlack:
    """Slack's Web API on ``http://127.0.0.1:<free port>/api/``; see the module docstring."""

    def __init__(
        self,
        *,
        team_id: str = "T0HASHFLR",
        team_name: str = "Hashfloor Test",
        team_domain: str = "hashfloor-test",
        bot_user_id: str = "U0HASHBOT",
        bot_id: str = "B0HASHBOT",
        app_id: str = "A0HASHAPP",
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        # Configuration, kept by reset(): fields merged over the defaults of each answer.
        self.users: dict[str, dict[str, Any]] = {}  # users.info, by user id
        # conversations.info, by channel id; `"is_member": False` also makes chat.postMessage and
        # chat.update there fail as Slack's do: not_in_channel, or channel_not_found when private.
        self.channels: dict[str, dict[str, Any]] = {}
        self.auth: dict[str, dict[str, Any]] = {}  # auth.test, by token (multi-workspace)
        self.oauth_response: dict[str, Any] | None = None  # oauth.v2.access body; None: default
        # Sent as `x-oauth-scopes` with every answer to a call that carried a token, as Slack does.
        self.scopes = "commands,chat:write,files:write,users:read"
        # Token rotation, as Slack does it: each refresh token works once and brings the next.
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> team id, still unspent
        # chat.update of a message older than this many seconds answers edit_window_closed, as
        # Slack does where the workspace limits editing; None: no limit (Slack's default).
        self.edit_window_s: float | None = None
        # Slack's own state, kept by reset(): messages posted, so chat.update can find them, and
        # when each was posted (wall clock).
        self._posted: dict[tuple[str, str], dict[str, Any]] = {}
        self._posted_at: dict[tuple[str, str], float] = {}
        self._spent_codes: set[str] = set()  # an authorization code works once
        self._refreshes = 0
        self._ts_count = 0
        self._file_count = 0
        self._view_count = 0
        # Records and faults, cleared by reset().
        self._calls: list[Call] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, float] = {}
        self._issued: dict[str, dict[str, Any]] = {}  # file id -> getUploadURLExternal args
        self.uploads: dict[str, bytes] = {}  # file id -> bytes POSTed to its upload URL
        self._responses: dict[str, list[Any]] = {}
        self.revoked: set[str] = set()  # tokens revoked by auth.revoke / apps.uninstall

        self._changed = threading.Condition()  # guards all of the above; notified on each call
        self._closing = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._methods: dict[str, Callable[[dict[str, Any], str | None], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "auth.revoke": self._auth_revoke,
            "apps.uninstall": self._apps_uninstall,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "oauth.v2.access": self._oauth_v2_access,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        if self._server is None:
            self._closing.clear()
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},  # close() waits for one poll at most
                name="fake-slack",
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        if self._server is None:
            return
        self._closing.set()  # cuts short any delay() in progress
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def root(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """Base URL of the Web API, for SLACK_API_URL / WebClient(base_url=...)."""
        return f"{self.root}/api/"

    # -- what was received ------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """A copy of every Web API call so far, in order of arrival."""
        with self._changed:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Arguments of the chat.postMessage calls Slack accepted (a 429 or an error is no message)."""
        return [
            c.args
            for c in self.calls_to("chat.postMessage")
            if c.ok and (channel is None or c.args.get("channel") == channel)
        ]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """A posted message as the channel shows it now (after any chat.update), or None."""
        with self._changed:
            found = self._posted.get((channel, ts))
            return dict(found) if found else None

    def post_as_user(self, channel: str, user: str, text: str) -> str:
        """A message a person posted (not the bot); returns its ts. chat.update of it answers
        cant_update_message, as on Slack."""
        with self._changed:
            ts = self._next_ts()
            message = {"type": "message", "user": user, "team": self.team_id, "text": text}
            self._posted[(channel, ts)] = message | {"ts": ts}
            self._posted_at[(channel, ts)] = time.time()
            return ts

    def wait_for(self, predicate: Callable[[list[Call]], T], timeout: float = 5.0) -> T:
        """Wait until predicate(calls) is truthy and return its value; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = predicate(list(self._calls))
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = ", ".join(f"{c.method}={c.status}" for c in self._calls) or "none"
                    raise AssertionError(
                        f"FakeSlack: condition not met in {timeout}s; calls: {seen}"
                    )
                self._changed.wait(left)

    def response_url(self, name: str) -> str:
        """A URL on this server to hand out as a `response_url`; what is POSTed to it is kept."""
        return f"{self.root}/response/{name}"

    def responses(self, name: str) -> list[Any]:
        """JSON bodies POSTed to response_url(name), in order."""
        with self._changed:
            return list(self._responses.get(name, []))

    def external_user(
        self,
        user_id: str,
        team_id: str = PARTNER_TEAM,
        *,
        enterprise_id: str | None = None,
        **flags: Any,
    ) -> None:
        """Make users.info answer for `user_id` as Slack does for a Slack Connect partner in a
        shared channel: their own `team_id` (and enterprise, on Grid), `is_stranger` false (Slack
        sets it only for users in no shared channel), and whatever role they hold at home
        (`is_admin=True`: their own organisation's admin)."""
        user: dict[str, Any] = {
            "team_id": team_id,
            "is_stranger": False,
            **flags,
        }
        if enterprise_id:
            user["enterprise_user"] = {
                "id": user_id,
                "enterprise_id": enterprise_id,
                "enterprise_name": "Partner Org",
                "is_admin": bool(flags.get("is_admin")),
                "is_owner": bool(flags.get("is_owner")),
                "teams": [team_id],
            }
        with self._changed:
            self.users[user_id] = user

    # -- faults -----------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        times: int | None = 1,
        status: int | None = None,
        error: str | None = None,
        retry_after: int = 1,
        channel: str | None = None,
        shape: str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (all of them if None) with a failure.

        status=429 answers HTTP 429 with Retry-After; status=5xx an HTTP server error; error=...
        alone answers HTTP 200 {"ok": false, "error": error}. shape= one of SHAPES answers that
        (HTTP 200 unless status says otherwise). With channel, only calls aimed at that channel
        fail. Faults queue up: a second fail() on a method acts after the first.
        """
        if times is not None and times < 1:
            raise ValueError("times must be at least 1, or None for every call")
        if shape is not None:
            if shape not in SHAPES:
                raise ValueError(f"shape must be one of {SHAPES}")
            with self._changed:
                self._faults.setdefault(method, []).append(
                    _Fault(times, status or 200, "", retry_after, channel, shape)
                )
            return
        if status is None:
            if error is None:
                raise ValueError("fail() needs a status, an error, or both")
            status = 200
        if error is None:
            error = {429: "ratelimited"}.get(status, "internal_error" if status >= 500 else "")
            if not error:
                raise ValueError(f"fail() needs an error to answer with status {status}")
        with self._changed:
            self._faults.setdefault(method, []).append(
                _Fault(times, status, error, retry_after, channel)
            )

    def delay(self, method: str, seconds: float) -> None:
        """Hold every answer to `method` for `seconds` (0 removes the delay)."""
        with self._changed:
            if seconds > 0:
                self._delays[method] = seconds
            else:
                self._delays.pop(method, None)

    def clear_faults(self, method: str | None = None) -> None:
        """Remove the faults of `method` (of every method if None); calls and delays stay."""
        with self._changed:
            if method is None:
                self._faults.clear()
            else:
                self._faults.pop(method, None)

    def reset(self) -> None:
        """Forget calls, uploads, responses and revoked tokens; remove faults and delays."""
        with self._changed:
            self._calls.clear()
            self._faults.clear()
            self._delays.clear()
            self._issued.clear()
            self.uploads.clear()
            self._responses.clear()
            self.revoked.clear()

    # -- HTTP -------------------------------------------------------------------------------

    def _serve(self, request: _Handler) -> None:
        parts = urlsplit(request.path)
        body = request.read_body()
        if parts.path.startswith("/api/"):
            self._serve_method(request, unquote(parts.path[len("/api/") :]), parts.query, body)
        elif parts.path.startswith("/upload/v1/"):
            self._serve_upload(request, parts.path[len("/upload/v1/") :], body)
        elif parts.path.startswith("/response/") and request.command == "POST":
            self._serve_response_url(request, unquote(parts.path[len("/response/") :]), body)
        else:
            request.answer(404, b"Not Found", "text/plain")

    def _serve_method(self, request: _Handler, method: str, query: str, body: bytes) -> None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            args = _parse_args(query, body, headers.get("content-type", ""))
        except ValueError:  # a body that is not what its Content-Type says
            args = {"_body": body.decode("utf-8", "replace")}
        token = _token_of(headers, args)
        extra: dict[str, str] = {}
        raw: tuple[bytes, str] | None = None  # a body that is not Slack's JSON, and its type
        with self._changed:
            fault = self._take_fault(method, args)
            delay = self._delays.get(method, 0.0)
            if fault is not None and fault.shape is not None:
                status, answer, raw = self._shaped(fault, method, args, token)
            elif fault is not None:
                status, answer = fault.status, {"ok": False, "error": fault.error}
                if fault.status == 429:
                    extra["Retry-After"] = str(fault.retry_after)
            elif "_body" in args:
                status, answer = 200, _error("invalid_json")
            else:
                try:
                    status, answer = 200, self._answer(method, args, token)
                except Exception as exc:  # a bug in the fake: say so to the caller, not a reset
                    status, answer = 500, _error(f"fake_slack_failed: {exc!r}")
            if token:
                extra["x-oauth-scopes"] = self.scopes
            self._calls.append(Call(method, args, token, headers, time.time(), status, answer))
            self._changed.notify_all()
        if delay:
            self._closing.wait(delay)
        if raw is not None:
            request.answer(status, *raw)
            return
        payload = json.dumps(answer).encode()
        request.answer(status, payload, "application/json; charset=utf-8", extra)

    def _shaped(
        self, fault: _Fault, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], tuple[bytes, str] | None]:
        """(status, the JSON recorded as the answer, the raw body if not JSON) of a shaped fault."""
        json_type = "application/json; charset=utf-8"
        if fault.shape == "html":
            return fault.status, {}, (_HTML_PAGE, "text/html; charset=utf-8")
        if fault.shape == "empty":
            return fault.status, {}, (b"", json_type)
        if fault.shape == "truncated":
            return fault.status, {}, (_TRUNCATED, json_type)
        # no_ts: Slack accepts (the message is posted) but the answer carries no ts.
        answer = self._answer(method, args, token)
        if answer.get("ok"):
            answer = {"ok": True}
        return fault.status, answer, None

    def _serve_upload(self, request: _Handler, file_id: str, body: bytes) -> None:
        content_type = request.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            files = [
                v for v in _parse_multipart(body, content_type).values() if isinstance(v, bytes)
            ]
            body = files[0] if files else b""
        with self._changed:
            if file_id not in self._issued:
                status, text = 404, "file_not_found"
            else:
                self.uploads[file_id] = body
                status, text = 200, f"OK - {len(body)}"
            self._changed.notify_all()
        request.answer(status, text.encode(), "text/plain; charset=utf-8")

    def _serve_response_url(self, request: _Handler, name: str, body: bytes) -> None:
        try:
            posted: Any = json.loads(body)
        except ValueError:
            posted = body.decode("utf-8", "replace")
        with self._changed:
            self._responses.setdefault(name, []).append(posted)
            self._changed.notify_all()
        request.answer(200, b'{"ok":true}', "application/json; charset=utf-8")

    def _take_fault(self, method: str, args: dict[str, Any]) -> _Fault | None:
        for fault in self._faults.get(method, []):
            if fault.channel is not None and fault.channel not in _channels_of(args):
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times == 0:
                    self._faults[method].remove(fault)
            return fault
        return None

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        handler = self._methods.get(method)
        if handler is None:
            return _error("unknown_method")
        if method != "oauth.v2.access":
            if not token:
                return _error("not_authed")
            if not token.startswith("xox"):
                return _error("invalid_auth")
            if token in self.revoked:
                return _error("token_revoked")
        return handler(args, token)

    def _next_ts(self) -> str:
        self._ts_count += 1
        micros = _TS_START + self._ts_count * _TS_STEP
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    # -- methods (called with the lock held) ------------------------------------------------

    def _auth_test(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        answer = {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": "hashfloor",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }
        return answer | self.auth.get(token or "", {})

    def _auth_revoke(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if _truthy(args.get("test")):
            return {"ok": True, "revoked": False}
        assert token is not None
        self.revoked.add(token)
        return {"ok": True, "revoked": True}

    def _apps_uninstall(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not args.get("client_id"):
            return _error("invalid_client_id")
        if not args.get("client_secret"):
            return _error("bad_client_secret")
        assert token is not None
        self.revoked.add(token)
        return {"ok": True}

    def _message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": args.get("text", ""),
            "ts": ts,
        }
        blocks = _json_arg(args.get("blocks"))
        if blocks:
            message["blocks"] = blocks
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        return message

    def _chat_post_message(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return _error("channel_not_found")
        if refused := self._membership_problem(channel):
            return _error(refused)
        if problem := _message_problem(args):
            return _error(problem)
        ts = self._next_ts()
        message = self._message(args, ts)
        self._posted[(channel, ts)] = message
        self._posted_at[(channel, ts)] = time.time()
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _membership_problem(self, channel: str) -> str | None:
        """Slack refuses a bot's post in a channel it is not in; a private one it cannot see."""
        config = self.channels.get(channel, {})
        if config.get("is_member", True):
            return None
        return "channel_not_found" if config.get("is_private") else "not_in_channel"

    def _chat_update(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        if not channel:
            return _error("channel_not_found")
        if refused := self._membership_problem(channel):
            return _error(refused)
        if (channel, ts) not in self._posted:
            return _error("message_not_found")
        posted_by = self._posted[(channel, ts)].get("bot_id")
        if posted_by != self.bot_id:  # a person's message, or another app's
            return _error("cant_update_message")
        age = time.time() - self._posted_at.get((channel, ts), time.time())
        if self.edit_window_s is not None and age > self.edit_window_s:
            return _error("edit_window_closed")
        if problem := _message_problem(args):
            return _error(problem)
        message = self._posted[(channel, ts)] | self._message(args, ts)
        self._posted[(channel, ts)] = message
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": message,
        }

    def _chat_post_ephemeral(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not args.get("channel"):
            return _error("channel_not_found")
        if not args.get("user"):
            return _error("user_not_found")
        if problem := _message_problem(args):
            return _error(problem)
        return {"ok": True, "message_ts": self._next_ts()}

    def _views_publish(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        view = _json_arg(args.get("view"))
        if not args.get("user_id") or not isinstance(view, dict) or view.get("type") != "home":
            return _error("invalid_arguments")
        if problem := _blocks_problem(view.get("blocks", []), HOME_BLOCKS_MAX):
            return _error(problem)
        self._view_count += 1
        view_id = f"V0FAKE{self._view_count:05d}"
        published = {
            "id": view_id,
            "team_id": self.team_id,
            "type": "home",
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{view_id}",
            "title": None,
            "close": None,
            "submit": None,
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        return {"ok": True, "view": published}

    def _users_info(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        user_id = args.get("user")
        if not user_id:
            return _error("user_not_found")
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": user_id.lower(),
            "real_name": f"User {user_id}",
            "deleted": False,
            "tz": "America/New_York",
            "tz_label": "Eastern Standard Time",
            "tz_offset": -18000,
            "profile": {"real_name": f"User {user_id}", "display_name": user_id.lower()},
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }
        return {"ok": True, "user": user | self.users.get(user_id, {})}

    def _conversations_info(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel_id = args.get("channel")
        if not channel_id:
            return _error("channel_not_found")
        is_im = channel_id.startswith("D")
        channel = {
            "id": channel_id,
            "name": channel_id.lower(),
            "name_normalized": channel_id.lower(),
            "is_channel": not is_im,
            "is_group": False,
            "is_im": is_im,
            "is_mpim": False,
            "is_private": is_im,
            "is_archived": False,
            "is_general": False,
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_member": True,
            "created": 1_700_000_000,
            "creator": "U0CREATOR",
            "context_team_id": self.team_id,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }
        return {"ok": True, "channel": channel | self.channels.get(channel_id, {})}

    def _oauth_v2_access(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        code = args.get("code")
        if code:
            if code in self._spent_codes:
                return _error("invalid_code")
            self._spent_codes.add(code)
        if self.oauth_response is not None:
            return dict(self.oauth_response)
        if args.get("grant_type") == "refresh_token":
            return self._refresh_token(args)
        if not code:
            return _error("invalid_code")
        return {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": "U0INSTALLR"},
            "scope": "commands,chat:write,files:write,users:read",
            "token_type": "bot",
            "access_token": f"xoxb-{self.team_id}-{args['code']}",
            "bot_user_id": self.bot_user_id,
            "team": {"id": self.team_id, "name": self.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _refresh_token(self, args: dict[str, Any]) -> dict[str, Any]:
        team_id = self.refresh_tokens.pop(str(args.get("refresh_token")), None)
        if team_id is None:  # unknown, or spent by an earlier refresh
            return _error("invalid_refresh_token")
        self._refreshes += 1
        n = self._refreshes
        self.refresh_tokens[f"xoxe-1-{team_id}-r{n}"] = team_id
        return {
            "ok": True,
            "token_type": "bot",
            "access_token": f"xoxe.xoxb-{team_id}-r{n}",
            "refresh_token": f"xoxe-1-{team_id}-r{n}",
            "expires_in": 12 * 3600,
        }

    def _files_get_upload_url(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        length = str(args.get("length", ""))
        if not args.get("filename") or not length.isdigit():
            return _error("invalid_arguments")
        self._file_count += 1
        file_id = f"F0FAKE{self._file_count:05d}"
        self._issued[file_id] = {"filename": args["filename"], "length": int(length)}
        return {"ok": True, "upload_url": f"{self.root}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        files = _json_arg(args.get("files"))
        if not isinstance(files, list) or not files:
            return _error("invalid_arguments")
        answered = []
        for item in files:
            file_id = item.get("id") if isinstance(item, dict) else None
            if file_id not in self.uploads:  # never issued, or nothing was uploaded to its URL
                return _error("file_not_found")
            issued = self._issued[file_id]
            answered.append(
                {
                    "id": file_id,
                    "title": item.get("title") or issued["filename"],
                    "name": issued["filename"],
                    "size": len(self.uploads[file_id]),
                }
            )
        return {"ok": True, "files": answered}


# -- request parsing and Slack's rules (pure) -------------------------------------------------


def _error(name: str) -> dict[str, Any]:
    return {"ok": False, "error": name}


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _flatten(pairs: dict[str, list[str]]) -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in pairs.items()}


def _parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        fields[str(name)] = data if part.get_filename() else data.decode("utf-8", "replace")
    return fields


def _parse_args(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    """Arguments as Slack reads them: query string, then a JSON, form or multipart body."""
    args = _flatten(parse_qs(query, keep_blank_values=True))
    if not body:
        return args
    if content_type.startswith("application/json"):
        parsed = json.loads(body)
        if isinstance(parsed, dict):
            args.update(parsed)
    elif content_type.startswith("multipart/form-data"):
        args.update(_parse_multipart(body, content_type))
    else:
        args.update(_flatten(parse_qs(body.decode("utf-8"), keep_blank_values=True)))
    return args


def _token_of(headers: dict[str, str], args: dict[str, Any]) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    token = args.get("token")
    return token if isinstance(token, str) and token else None


def _json_arg(value: Any) -> Any:
    """Form-encoded calls send lists and objects (blocks, view, files) as JSON strings."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _channels_of(args: dict[str, Any]) -> set[str]:
    found = {args.get("channel"), args.get("channel_id")}
    channels = args.get("channels")
    if isinstance(channels, str):
        found.update(channels.split(","))
    elif isinstance(channels, list):
        found.update(channels)
    return {c for c in found if c}


def _blocks_problem(blocks: Any, limit: int) -> str | None:
    if not isinstance(blocks, list):
        return "invalid_blocks_format"
    if len(blocks) > limit:
        return "invalid_blocks"
    for block in blocks:
        if not isinstance(block, dict) or "type" not in block:
            return "invalid_blocks"
        text = (block.get("text") or {}).get("text", "")
        if block["type"] == "section":
            fields = block.get("fields") or []
            if len(text) > SECTION_TEXT_MAX or len(fields) > SECTION_FIELDS_MAX:
                return "invalid_blocks"
            if any(len(f.get("text", "")) > SECTION_FIELD_TEXT_MAX for f in fields):
                return "invalid_blocks"
        elif block["type"] == "header" and len(text) > HEADER_TEXT_MAX:
            return "invalid_blocks"
    return None


def _message_problem(args: dict[str, Any]) -> str | None:
    text, blocks = args.get("text"), _json_arg(args.get("blocks"))
    if not text and not blocks and not args.get("attachments"):
        return "no_text"
    if text and len(text) > MESSAGE_TEXT_MAX:
        return "msg_too_long"
    if blocks:
        return _blocks_problem(blocks, MESSAGE_BLOCKS_MAX)
    return None
