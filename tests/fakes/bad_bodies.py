"""Answers no market API should send, for the byte-cap tests (DESIGN §10, "Bounded inputs").

The fakes (FakeMarket, FakeMempoolHistory) serve these through `override(..., chunks=…)` (a body
sent chunk by chunk without a Content-Length, until the client hangs up) or `body=…, headers=…`.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler

CHUNK = b'{"pad": "' + b"x" * 65_000


def endless() -> Iterator[bytes]:
    """A body that never ends."""
    while True:
        yield CHUNK


def stream_of(total_bytes: int) -> Iterator[bytes]:
    """`total_bytes` sent chunk by chunk, without saying the length up front."""
    left = total_bytes
    while left > 0:
        yield CHUNK[:left]
        left -= len(CHUNK)


@functools.cache
def gzip_bomb(inflated_mb: int = 256) -> bytes:
    """A small gzip body (about 1/1000 of it) that inflates to `inflated_mb` MB of zeros."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    parts = [z.compress(zeros) for _ in range(inflated_mb)]
    parts.append(z.flush())
    return b"".join(parts)


GZIP = {"Content-Encoding": "gzip"}


def send_stream(
    handler: BaseHTTPRequestHandler,
    status: int,
    chunks: Iterable[bytes],
    headers: dict | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> None:
    """HTTP/1.0 without a Content-Length: the body ends when the connection closes."""
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        for chunk in chunks:
            if stopping():
                break
            handler.wfile.write(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client stopped reading: what a byte cap does
