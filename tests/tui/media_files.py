"""Small real media files for the tests: a minimal MP4 (ISO BMFF) built by hand - what a
camera writes, less the frames - so no ffmpeg is needed to test the probe."""

from __future__ import annotations

import struct
from pathlib import Path


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _full(kind: bytes, payload: bytes, flags: int = 0) -> bytes:
    return _box(kind, struct.pack(">I", flags) + payload)


_IDENTITY = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def mp4_bytes(width: int, height: int, seconds: float, codec: bytes = b"avc1") -> bytes:
    """ftyp + moov (mvhd, one video trak: tkhd, mdia/hdlr 'vide', stsd with ``codec``) +
    a small mdat."""
    scale = 1000
    duration = int(seconds * scale)
    mvhd = _full(
        b"mvhd",
        struct.pack(">IIII", 0, 0, scale, duration)
        + struct.pack(">IH", 0x00010000, 0x0100)
        + b"\0" * 10
        + _IDENTITY
        + b"\0" * 24
        + struct.pack(">I", 2),
    )
    tkhd = _full(
        b"tkhd",
        struct.pack(">IIIII", 0, 0, 1, 0, duration)
        + b"\0" * 8
        + struct.pack(">hhhH", 0, 0, 0, 0)
        + _IDENTITY
        + struct.pack(">II", width << 16, height << 16),
        flags=3,
    )
    mdhd = _full(b"mdhd", struct.pack(">IIIIHH", 0, 0, scale, duration, 0x55C4, 0))
    hdlr = _full(b"hdlr", struct.pack(">I4s", 0, b"vide") + b"\0" * 12 + b"VideoHandler\0")
    entry = (
        b"\0" * 6
        + struct.pack(">H", 1)
        + b"\0" * 16
        + struct.pack(">HH", width, height)
        + struct.pack(">II", 0x00480000, 0x00480000)
        + b"\0" * 4
        + struct.pack(">H", 1)
        + b"\0" * 32
        + struct.pack(">Hh", 0x18, -1)
    )
    stsd = _full(b"stsd", struct.pack(">I", 1) + _box(codec, entry))
    empty_tables = (
        _full(b"stts", struct.pack(">I", 0))
        + _full(b"stsc", struct.pack(">I", 0))
        + _full(b"stsz", struct.pack(">II", 0, 0))
        + _full(b"stco", struct.pack(">I", 0))
    )
    minf = _box(b"minf", _full(b"vmhd", b"\0" * 8, flags=1) + _box(b"stbl", stsd + empty_tables))
    trak = _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr + minf))
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    return ftyp + _box(b"moov", mvhd + trak) + _box(b"mdat", b"\x17" * 4096)


def write_mp4(path: Path, width: int = 1280, height: int = 720, seconds: float = 42.5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(mp4_bytes(width, height, seconds))
    return path
