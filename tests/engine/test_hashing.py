from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from youku_tui.engine.hashing import (
    HashingStopped,
    combine_part_crcs,
    crc64,
    crc64_combine,
    md5_file,
    slice_checksums,
)
from youku_tui.errors import LocalFileError


def test_crc64_known_vector() -> None:
    assert crc64(b"123456789") == 0x995DC9BBDF1939FA
    assert crc64(b"") == 0


def test_crc64_continues_from_a_previous_value() -> None:
    assert crc64(b"6789", crc64(b"12345")) == 0x995DC9BBDF1939FA


@pytest.mark.parametrize("split", [0, 1, 4, 5, 9])
def test_combine_matches_whole(split: int) -> None:
    data = b"123456789"
    a, b = data[:split], data[split:]
    assert crc64_combine(crc64(a), crc64(b), len(b)) == 0x995DC9BBDF1939FA


def test_combine_random_parts() -> None:
    blobs = [os.urandom(n) for n in (1, 100, 4096, 65537, 3)]
    parts = [(crc64(b), len(b)) for b in blobs]
    assert combine_part_crcs(parts) == crc64(b"".join(blobs))


def test_md5_file_matches_hashlib_and_reports_progress(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = tmp_path / "v.mp4"
    path.write_bytes(data)
    seen: list[int] = []
    digest = md5_file(path, progress=seen.append, chunk_size=1024 * 1024)
    assert digest == hashlib.md5(data).hexdigest()
    assert seen[-1] == len(data)
    assert seen == sorted(seen) and len(seen) == 4


def test_md5_file_stops_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "v.mp4"
    path.write_bytes(b"x" * 10)
    stop = threading.Event()
    stop.set()
    with pytest.raises(HashingStopped):
        md5_file(path, stop=stop)


def test_md5_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LocalFileError, match="cannot read"):
        md5_file(tmp_path / "nope.mp4")


def test_slice_checksums(tmp_path: Path) -> None:
    data = os.urandom(50_000)
    path = tmp_path / "v.mp4"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        crc, md5 = slice_checksums(fd, 1000, 20_000, chunk_size=4096)
    finally:
        os.close(fd)
    assert crc == crc64(data[1000:21_000])
    assert md5 == hashlib.md5(data[1000:21_000]).hexdigest()
