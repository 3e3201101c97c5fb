"""`hashfloor run`: the Slack listener and the scheduler in one process."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING

from bot.scheduler import SchedulerGuard
from bot.scheduler_lock import SchedulerLock
from bot.service import Hashfloor
from bot.settings import Settings
from storage.db import database_files, readable_by_others

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.server import HttpServer
    from bot.slack.http import WsgiApp

log = logging.getLogger("hashfloor.run")

SETUP_HELP = """\
How to get them: create the Slack app from this project's manifest.yml
  1. https://api.slack.com/apps → Create New App → From an app manifest → paste manifest.yml
     (replace YOUR-HOST with this server's public host, or enable Socket Mode).
  2. Install it to your workspace; copy the Bot User OAuth Token (xoxb-…) into SLACK_BOT_TOKEN
     and Basic Information → Signing Secret into SLACK_SIGNING_SECRET.
  3. Behind a firewall: enable Socket Mode, create an app-level token with connections:write,
     and set SLACK_APP_TOKEN (xapp-…) instead of exposing a public URL.
  4. Once the bot runs (over HTTP): app settings → Event Subscriptions → Retry/Verify the
     request URL, which Slack could not reach when the app was created.
  The variables can go in a .env file in this folder (see .env.example)."""


def mode(settings: Settings) -> str:
    if settings.multi_workspace:
        return "oauth"
    if settings.slack_app_token:
        return "socket"
    return "http"


def missing_credentials(settings: Settings) -> list[str]:
    """The variables this mode still needs; empty when the bot can start."""
    m = mode(settings)
    need = {
        "oauth": ["SLACK_SIGNING_SECRET", "HASHFLOOR_SECRET_KEY"],
        "socket": ["SLACK_BOT_TOKEN"],
        "http": ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"],
    }[m]
    return [name for name in need if not getattr(settings, name.lower())]


def shared_files_warning(settings: Settings) -> str | None:
    """One line naming the bot's files that other users of the machine can read, if any.

    New files are created 0600; a database made by an older release, copied in, or restored by a
    tool that ignores modes keeps what it had, and only its owner can say whether that was meant.
    """
    paths = [*database_files(settings.hashfloor_db), SchedulerLock(settings.hashfloor_db).path]
    loose = readable_by_others(paths)
    if not loose:
        return None
    listed = ", ".join(f"{path} ({mode:o})" for path, mode in loose)
    names = " ".join(str(path) for path, _ in loose)
    return (
        f"other users of this machine can read {listed}, which hold the workspaces' data: "
        f"chmod 600 {names}"
    )


AFTER_ACK_GRACE_S = 10.0


def _finish_after_ack_work(app: object, grace_s: float = AFTER_ACK_GRACE_S) -> None:
    """Let changes already acked (Bolt's lazy listeners) finish before the database closes.

    A user who got the ack for `/costs add` should get the change and its answer; waitress only
    drains the requests, and this work runs in Bolt's own thread pool after them.
    """
    executor = app.listener_runner.listener_executor  # type: ignore[attr-defined]
    waiter = threading.Thread(target=executor.shutdown, kwargs={"wait": True}, daemon=True)
    waiter.start()
    waiter.join(grace_s)
    if waiter.is_alive():
        log.warning("work after an ack still running after %.0f s; stopping anyway", grace_s)


class Runner:
    """Owns start and orderly stop: serve until SIGTERM/SIGINT, then drain, then close."""

    def __init__(self, settings: Settings, notes: Sequence[tuple[int, str]] = ()) -> None:
        self.settings = settings
        # (level, line) from the start-up checks, logged once the port is ours: a port in use
        # stays a one-line exit.
        self.notes = tuple(notes)
        self.service = Hashfloor(settings)
        self.guard = SchedulerGuard(self.service)
        self._stop_requested = False  # a plain flag: a signal handler must take no lock
        self._server: HttpServer | None = None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only flags: the server stops itself from its own thread (see bot.server).
        log.info("signal %s: finishing in-flight requests, then stopping", signum)
        self._stop_requested = True
        if self._server is not None:
            self._server.stop()

    def run(self) -> None:
        """Serve until a signal; ServeError (port taken) is raised before anything else starts."""
        from bot.server import HttpServer

        # Bound first: a port in use is a one-line exit, with nothing started or migrated.
        self._server = HttpServer(self.settings.hashfloor_host, self.settings.port)
        for level, line in self.notes:
            log.log(level, "%s", line)
        # The full path: a relative HASHFLOOR_DB depends on the folder the bot was started from,
        # and on a platform without a persistent disk the file vanishes with the container.
        log.info("database: %s", self.settings.hashfloor_db.resolve())
        applied = self.service.migrate()
        if applied:
            log.info("database %s migrated: %s", self.settings.hashfloor_db, ", ".join(applied))
        if warning := shared_files_warning(self.settings):
            log.warning(warning)
        from bot.slack.app import build_app
        from bot.slack.http import WsgiApp

        app = build_app(self.service)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        from bot.background import Background

        background = Background(self.service)
        # Holder or standby: a standby takes over polling, alerts, delivery and digests when the
        # holder exits (DESIGN §10, fail-over); delivery stops before the lock is let go.
        self.guard.start(
            background.interval_jobs, on_start=background.start, on_stop=background.stop
        )
        handler = None
        if mode(self.settings) == "socket":
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            handler = SocketModeHandler(app, self.settings.slack_app_token)
        # Socket Mode: Slack's requests come over the socket; PORT serves no /slack/ route, and
        # /readyz says whether the socket is up.
        wsgi = WsgiApp(
            app,
            self.service,
            background.delivery.pending,
            slack_routes=handler is None,
            socket_connected=handler.client.is_connected if handler else None,
        )
        try:
            if handler is not None:
                self._run_socket_mode(handler, wsgi)
            else:
                self._serve_http(wsgi)
        finally:
            _finish_after_ack_work(app)
            self.guard.stop()
            self.service.close()
            log.info("stopped")

    def _serve_http(self, wsgi: WsgiApp) -> None:
        assert self._server is not None
        log.info(
            "listening on %s:%s (%s mode) — %s",
            self.settings.hashfloor_host,
            self._server.port,
            mode(self.settings),
            "/healthz, /readyz, /metrics"
            if not wsgi.slack_routes
            else "/slack/events, /healthz, /readyz, /metrics",
        )
        self._server.serve(wsgi)

    def _run_socket_mode(self, handler: SocketModeHandler, wsgi: WsgiApp) -> None:
        handler.connect()
        log.info("connected to Slack in Socket Mode")
        # /healthz still answers on PORT, for the process supervisor.
        health_thread = threading.Thread(target=self._serve_http, args=(wsgi,), daemon=True)
        health_thread.start()
        while not self._stop_requested:
            time.sleep(0.25)
        handler.close()
        health_thread.join()
