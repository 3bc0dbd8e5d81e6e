"""Request bodies streamed to disk, hashed (MD5, CRC-64/ECMA) on the way, never held whole.

Chunks are gathered to about 512 KiB (FLUSH_SIZE) and handed to a disk thread that hashes
and writes them while the loop reads the next one, so a large upload neither blocks the
loop on the disk nor costs more memory than two such buffers.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import fastcrc.crc64
from aiohttp import web

FLUSH_SIZE = 512 * 1024  # per request: this batch + one being written bound the memory
READ_SIZE = 256 * 1024
# A body that stops arriving for this long is given up (OSS answers RequestTimeout): a client
# that stalls half-way must not hold a connection and a temp file for ever.
BODY_IDLE_TIMEOUT = 60.0


class BodyTimeout(Exception):
    """No byte of the request body arrived within the idle timeout."""


class BodyCounter:
    """Bytes of request bodies received, all requests together (for the chaos figures)."""

    def __init__(self) -> None:
        self.received = 0


class Throttle:
    """Caps one connection's transfer rate (the ``bandwidth:`` fault)."""

    def __init__(self, bytes_per_second: int) -> None:
        self.rate = float(bytes_per_second)
        self._next = time.monotonic()

    @property
    def chunk_size(self) -> int:
        # About 20 waits per second keeps the rate smooth without busy looping.
        return max(1024, min(READ_SIZE, int(self.rate / 20)))

    async def consume(self, size: int) -> None:
        now = time.monotonic()
        self._next = max(self._next, now) + size / self.rate
        delay = self._next - now
        if delay > 0:
            await asyncio.sleep(delay)


class Crc64:
    """Running CRC-64/XZ, which OSS calls crc64ecma."""

    def __init__(self) -> None:
        self.value = 0
        self._started = False

    def update(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        self.value = fastcrc.crc64.xz(data, self.value if self._started else None)
        self._started = True


@dataclass(frozen=True, slots=True)
class ReceivedBody:
    path: Path
    size: int
    md5: bytes
    crc64: int

    @property
    def md5_hex(self) -> str:
        return self.md5.hex()


class _HashingWriter:
    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.md5 = hashlib.md5()  # noqa: S324 - OSS ETags and Content-MD5 are MD5 by definition
        self.crc = Crc64()
        self.size = 0

    def write(self, chunks: list[bytes]) -> None:
        for data in chunks:
            self.md5.update(data)
            self.crc.update(data)
            self.size += len(data)
        self.handle.writelines(chunks)


async def _chunks(
    request: web.Request,
    throttle: Throttle | None,
    counter: BodyCounter | None,
    idle_timeout: float,
) -> AsyncIterator[bytes]:
    size = throttle.chunk_size if throttle else READ_SIZE
    while True:
        try:
            async with asyncio.timeout(idle_timeout):
                chunk = await request.content.read(size)
        except TimeoutError:
            raise BodyTimeout from None
        if not chunk:
            return
        if counter is not None:
            counter.received += len(chunk)
        if throttle:
            await throttle.consume(len(chunk))
        yield chunk


async def receive_to_file(
    request: web.Request,
    path: Path,
    io: Executor,
    throttle: Throttle | None,
    *,
    counter: BodyCounter | None = None,
    idle_timeout: float = BODY_IDLE_TIMEOUT,
) -> ReceivedBody:
    """Stream the request body into ``path``; on any failure the file is removed.

    :class:`BodyTimeout` when the body stalls for ``idle_timeout`` seconds."""
    loop = asyncio.get_running_loop()
    handle = await loop.run_in_executor(io, _open_new, path)
    writer = _HashingWriter(handle)
    pending: asyncio.Future[None] | None = None
    # Chunks are handed over as a list (no copying into one buffer); about FLUSH_SIZE a batch.
    batch: list[bytes] = []
    batch_size = 0
    try:
        async for chunk in _chunks(request, throttle, counter, idle_timeout):
            batch.append(chunk)
            batch_size += len(chunk)
            if batch_size >= FLUSH_SIZE:
                if pending is not None:
                    await pending
                pending = loop.run_in_executor(io, writer.write, batch)
                batch, batch_size = [], 0
        if pending is not None:
            await pending
            pending = None
        if batch:
            await loop.run_in_executor(io, writer.write, batch)
        await loop.run_in_executor(io, handle.close)
    except BaseException:
        if pending is not None:
            with contextlib.suppress(BaseException):
                await asyncio.shield(pending)
        handle.close()
        _remove(path)
        raise
    return ReceivedBody(path, writer.size, writer.md5.digest(), writer.crc.value)


def _open_new(path: Path) -> BinaryIO:
    return open(path, "xb")


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


async def discard(
    request: web.Request, limit: int | None = None, idle_timeout: float = BODY_IDLE_TIMEOUT
) -> int:
    """Read and drop the body (or its first ``limit`` bytes) so the answer reaches the client;
    a body that stalls for ``idle_timeout`` seconds is given up (the answer goes out anyway)."""
    seen = 0
    with contextlib.suppress(BodyTimeout):
        async for chunk in _chunks(request, None, None, idle_timeout):
            seen += len(chunk)
            if limit is not None and seen >= limit:
                break
    return seen
