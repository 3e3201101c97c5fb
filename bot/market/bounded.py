"""Reading an HTTP answer with a byte cap, before and after decompression (DESIGN §10, "Bounded
inputs"): a market API that never stops sending, a gzip bomb or a 50 MB page costs at most the
cap in memory, and the source fails for that poll with a short reason.

httpx's own decoders inflate a whole network chunk at once (a 64 KB chunk of a gzip bomb is 64 MB),
so the bytes are read raw and inflated here, never more than the cap plus one byte at a time.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import httpx

from bot.market.parsers import SourceError

# What the bot asks for: encodings it inflates itself (not br or zstd, which httpx would add when
# their packages happen to be installed).
ACCEPT_ENCODING = "gzip, deflate"


def _size(n: int) -> str:
    return f"{n / (1 << 20):g} MiB" if n >= 1 << 20 else f"{n / 1024:g} KiB"


class TooLarge(SourceError):
    """The answer is longer than the cap (as sent, or once decompressed)."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"answer larger than {_size(cap)}")


class Decoder:
    """Counts raw bytes and inflates them (gzip, deflate or none), refusing past `cap` either way."""

    def __init__(self, content_encoding: str, cap: int) -> None:
        self.cap = cap
        self.raw = 0
        self.size = 0
        encoding = content_encoding.strip().lower()
        if encoding in ("", "identity"):
            self._z = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            self._z = zlib.decompressobj(32 + zlib.MAX_WBITS)  # gzip or zlib header, detected
        else:
            raise SourceError(f"unsupported content encoding {encoding[:30]!r}")

    def _out(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.cap:
            raise TooLarge(self.cap)
        return data

    def feed(self, chunk: bytes) -> bytes:
        self.raw += len(chunk)
        if self.raw > self.cap:
            raise TooLarge(self.cap)
        if self._z is None:
            return self._out(chunk)
        try:
            # At most one byte past what is left: enough to know the cap is passed.
            return self._out(self._z.decompress(chunk, self.cap - self.size + 1))
        except zlib.error:
            raise SourceError("answer not valid gzip/deflate") from None

    def finish(self) -> bytes:
        if self._z is None:
            return b""
        try:
            return self._out(self._z.flush(self.cap - self.size + 1))
        except zlib.error:
            raise SourceError("answer not valid gzip/deflate") from None


def _declared(resp: httpx.Response, cap: int) -> Decoder:
    length = resp.headers.get("content-length", "")
    if length.isdigit() and int(length) > cap:
        raise TooLarge(cap)  # said up front: not a byte of it is read
    return Decoder(resp.headers.get("content-encoding", ""), cap)


async def read_async(resp: httpx.Response, cap: int) -> bytes:
    """The body of a streamed answer (`client.stream(...)`), decoded, at most `cap` bytes."""
    dec = _declared(resp, cap)
    parts = [dec.feed(chunk) async for chunk in resp.aiter_raw()]
    parts.append(dec.finish())
    return b"".join(parts)


def read(resp: httpx.Response, cap: int, on_chunk: Callable[[int], None] | None = None) -> bytes:
    """The same, blocking; `on_chunk(raw bytes so far)` after each chunk (a progress bar)."""
    dec = _declared(resp, cap)
    parts = []
    for chunk in resp.iter_raw():
        parts.append(dec.feed(chunk))
        if on_chunk:
            on_chunk(dec.raw)
    parts.append(dec.finish())
    return b"".join(parts)
