"""waitress, tuned for a public port and stopped from its own thread.

Tuning (DESIGN §9): a body over 1 MiB is refused (413) from its Content-Length before it is read;
a connection that has not finished sending its request within REQUEST_READ_S is closed, so
connections trickling a byte at a time (slowloris) cannot hold the server; the connection limit is
well above what Slack opens, and poll() is used so file descriptors past 1024 are no problem.
A reverse proxy with its own read timeouts still belongs in front of it in production.

Stopping: `stop()` only sets a flag (safe from a signal handler). The serving thread sees it within
LOOP_S, stops accepting, lets requests already received finish and their answers go out, then
closes everything itself. Closing the sockets from another thread while the loop selects on them
is what made waitress log `OSError: [Errno 9] Bad file descriptor` at SIGTERM.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer

from bot.logs import Throttle
from bot.slack.signature import MAX_BODY_BYTES

log = logging.getLogger("hashfloor.http")

REQUEST_READ_S = 10.0  # Slack sends a request in one go; 10 s is generous for any real client
LOOP_S = 0.25  # how soon a stop is noticed
DRAIN_S = 10.0  # how long requests already received may take to finish at stop
WAITRESS: dict[str, Any] = {
    "threads": 8,
    "connection_limit": 500,
    "channel_timeout": 30,  # an idle kept-alive connection
    "cleanup_interval": 1,  # how often the two timeouts are checked
    "asyncore_use_poll": True,
    # waitress refuses a body whose length is >= this; exactly 1 MiB is allowed
    "max_request_body_size": MAX_BODY_BYTES + 1,
    "max_request_header_size": 64 * 1024,
    "ident": "hashfloor",
}


class ServeError(Exception):
    """The server could not start (the port is taken, or not ours to bind); one line for people."""


class _Channel(HTTPChannel):
    """A channel that remembers when its current request started arriving."""

    receiving_since: float | None = None

    def received(self, data: bytes) -> bool:
        if self.request is None:
            self.receiving_since = time.monotonic()
        return super().received(data)

    def service(self) -> None:
        request = self.requests[0] if self.requests else None
        error = getattr(request, "error", None)
        if error is not None:  # waitress answers it (413, 400); say so once, shortly
            self.server.refused(self.addr, error)
        super().service()


class _Server(TcpWSGIServer):
    channel_class = _Channel
    request_read_s = REQUEST_READ_S
    refused_log: Throttle

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        late = time.monotonic() - self.request_read_s
        for channel in list(self.active_channels.values()):
            since = getattr(channel, "receiving_since", None)
            started = channel.request is not None and since is not None
            if started and not channel.requests and since < late:
                channel.will_close = True  # closed by this loop, in this thread

    def refused(self, addr: Any, error: Any) -> None:
        held = self.refused_log.ready()
        if held is not None:
            more = f" ({held} more refused since the last such line)" if held else ""
            host = addr[0] if isinstance(addr, tuple) else addr
            log.warning(
                "refused a request from %s with %s: %s%s", host, error.code, error.body, more
            )


class HttpServer:
    """Bind at construction (so a taken port fails before anything else starts); serve; stop."""

    def __init__(
        self, host: str, port: int, request_read_s: float = REQUEST_READ_S, **adjust: Any
    ) -> None:
        self.map: dict[int, Any] = {}
        try:
            adj = Adjustments(host=host, port=port, **(WAITRESS | adjust))
            # The WSGI app comes with serve(): nothing is served before then.
            self.server = _Server(_not_yet, map=self.map, adj=adj)
        except OSError as exc:
            raise ServeError(_bind_failure(host, port, exc)) from None
        except ValueError as exc:  # waitress could not resolve HASHFLOOR_HOST
            raise ServeError(f"cannot listen on {host}:{port}: {exc}") from None
        self.server.request_read_s = request_read_s
        self.server.refused_log = Throttle(10.0)
        # A plain flag, not an Event: Event.set() takes a lock, which a signal handler must not.
        self._stopping = False
        self.stopped = threading.Event()

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    def stop(self) -> None:
        """Ask the serving thread to stop; returns at once (safe in a signal handler)."""
        self._stopping = True

    def serve(self, app: Callable[..., Any]) -> None:
        """Serve `app` until stop(); then drain and close, all in this thread."""
        self.server.application = app
        try:
            while not self._stopping:
                wasyncore.loop(timeout=LOOP_S, map=self.map, use_poll=True, count=1)
            self._drain()
        finally:
            self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=DRAIN_S)
            wasyncore.close_all(self.map)
            self.stopped.set()

    def _drain(self) -> None:
        # Stop accepting: the listening socket is closed here, between two polls, not under one.
        wasyncore.dispatcher.close(self.server)
        deadline = time.monotonic() + DRAIN_S
        while time.monotonic() < deadline:
            busy = False
            for channel in list(self.server.active_channels.values()):
                if channel.requests or channel.total_outbufs_len:
                    busy = True
                else:
                    channel.will_close = True  # idle or half-sent: nothing owed to it
            if not busy:
                return
            wasyncore.loop(timeout=LOOP_S, map=self.map, use_poll=True, count=1)
        log.warning("requests still running after %.0f s; stopping anyway", DRAIN_S)


def _not_yet(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Length", "0")])
    return [b""]


def _bind_failure(host: str, port: int, exc: OSError) -> str:
    where = f"{host or '*'}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is already in use ({where}): stop the other process or set PORT"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on {where}: choose a PORT above 1023"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: HASHFLOOR_HOST is not an address of this machine"
    return f"cannot listen on {where}: {exc.strerror or exc}"
