"""Checksums at C speed: streaming MD5 for ``uploads/create``, CRC-64/XZ for OSS parts.

MD5 runs in a worker thread (hashlib releases the GIL on large buffers) with 1 MiB reads into
one reused buffer, so it keeps pace with ``md5sum``. CRC-64 comes from ``fastcrc`` (a prebuilt
wheel) rather than crcmod, whose pure-Python fallback runs at about 13 MB/s; whole-object CRCs
are combined from part CRCs in GF(2) instead of re-reading the file.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from fastcrc import crc64 as _fastcrc64

from youku_tui.errors import LocalFileError

HASH_CHUNK = 1024 * 1024  # large enough to amortise calls, small enough to stay in L2 cache
CRC64_POLY_REFLECTED = 0xC96C5795D7870F42  # ECMA-182, bit-reversed (CRC-64/XZ)
_MASK64 = 0xFFFFFFFFFFFFFFFF


class HashingStopped(Exception):
    """The caller asked the hashing to stop (pause or cancel)."""


def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-64/XZ of ``data``, continuing from ``crc`` (the CRC of the bytes before it)."""
    return int(_fastcrc64.xz(bytes(data) if isinstance(data, memoryview) else data, crc))


def md5_file(
    path: Path,
    *,
    progress: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
    chunk_size: int = HASH_CHUNK,
) -> str:
    """Lower-case hex MD5 of the whole file. Blocking: run it in a thread.

    ``progress`` receives the byte count hashed so far after every chunk; ``stop`` being set
    raises :class:`HashingStopped` within one chunk.
    """
    digest = hashlib.md5()  # noqa: S324 - Youku's protocol asks for MD5, not for security
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    done = 0
    try:
        with open(path, "rb", buffering=0) as handle:
            while True:
                if stop is not None and stop.is_set():
                    raise HashingStopped
                count = handle.readinto(view)
                if not count:
                    break
                digest.update(view[:count])
                done += count
                if progress is not None:
                    progress(done)
    except OSError as exc:
        raise LocalFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def slice_checksums(
    fd: int, offset: int, size: int, chunk_size: int = HASH_CHUNK
) -> tuple[int, str]:
    """CRC-64 and MD5 (hex) of ``size`` bytes at ``offset`` of an open file (for resume checks)."""
    crc = 0
    digest = hashlib.md5()  # noqa: S324 - OSS part ETags are MD5s
    remaining = size
    position = offset
    while remaining > 0:
        data = os.pread(fd, min(chunk_size, remaining), position)
        if not data:
            raise LocalFileError("the file is shorter than its checkpoint says")
        crc = crc64(data, crc)
        digest.update(data)
        position += len(data)
        remaining -= len(data)
    return crc, digest.hexdigest()


# --- CRC combination (zlib's crc32_combine, widened to 64 bits) -----------------------------


def _gf2_times(matrix: list[int] | tuple[int, ...], vector: int) -> int:
    total = 0
    index = 0
    while vector:
        if vector & 1:
            total ^= matrix[index]
        vector >>= 1
        index += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, row) for row in matrix]


@functools.lru_cache(maxsize=64)
def _zeros_operator(length: int) -> tuple[int, ...]:
    """The GF(2) matrix that appends ``length`` zero bytes to a CRC register.

    Cached: the parts of one upload share a size, so combining 10,000 part CRCs costs one
    matrix build and 10,000 cheap matrix-vector products.
    """
    result: list[int] | None = None
    power = [CRC64_POLY_REFLECTED] + [1 << i for i in range(63)]  # one zero bit
    for _ in range(3):  # one zero bit -> one zero byte
        power = _gf2_square(power)
    while length:
        if length & 1:
            result = power if result is None else [_gf2_times(power, row) for row in result]
        length >>= 1
        if length:
            power = _gf2_square(power)
    return tuple(result or [1 << i for i in range(64)])


def crc64_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-64/XZ of ``A + B`` from ``crc(A)``, ``crc(B)`` and ``len(B)``, without the bytes.

    zlib's crc32_combine widened to 64 bits: appending ``len2`` zero bytes to A is a linear
    map on the (xor-ed) register, applied as a GF(2) matrix.
    """
    if len2 <= 0:
        return crc1 & _MASK64
    return (_gf2_times(list(_zeros_operator(len2)), crc1 & _MASK64) ^ crc2) & _MASK64


def combine_part_crcs(parts: list[tuple[int, int]]) -> int:
    """Whole-object CRC from ``(crc, size)`` of each part, in part order."""
    total = 0  # the CRC-64/XZ of no bytes
    for crc, size in parts:
        total = crc64_combine(total, crc, size)
    return total


def crcmod_has_c_extension() -> bool:
    """False when crcmod (oss2's CRC) fell back to pure Python (about 13 MB/s).

    We compute our own CRCs with fastcrc and run oss2 with ``enable_crc=False``, so this only
    matters for code that uses oss2's CRC directly; the engine logs a note when it is False.
    """
    try:
        import crcmod.crcmod as impl  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return False
    return bool(getattr(impl, "_usingExtension", False))
