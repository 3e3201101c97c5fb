"""A forward proxy on loopback that records what it was asked and tunnels nothing.

Enough to show that a client honours HTTPS_PROXY / HTTP_PROXY: an HTTPS request through a proxy
starts with `CONNECT host:443`, which this proxy records and refuses (403), so nothing goes further.

    with FakeProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        ...                                  # the client's request fails
        assert "CONNECT api.coinbase.com:443" in proxy.requests
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeProxy:
    def __init__(self) -> None:
        self.requests: list[str] = []  # request lines, e.g. "CONNECT slack.com:443"
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _refuse(self) -> None:
                with proxy._lock:
                    proxy.requests.append(f"{self.command} {self.path}")
                body = b"proxy: refused in tests\n"
                self.send_response(403)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            do_CONNECT = do_GET = do_POST = _refuse  # noqa: N815 (http.server's names)

        return Handler
