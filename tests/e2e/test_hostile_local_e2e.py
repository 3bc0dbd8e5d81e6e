"""Hostile local conditions against the sandbox (issue 9, items 5 and 8): a full disk, on a
real small tmpfs where this machine lets us mount one and simulated (ENOSPC) everywhere, and a
video file modified while it is being sent."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.e2e_helpers import MIB, make_video, wait_for_parts
from youku_tui import fsutil
from youku_tui.engine import checkpoint as checkpoint_module
from youku_tui.engine.states import UploadState
from youku_tui.errors import LocalFileError
from youku_tui.logfile import QuietFileHandler
from youku_tui.metadata import VideoMetadata

META = VideoMetadata(title="Clip", tags=("test", "hostile"))


@dataclass
class FullDisk:
    folder: Path
    fill: Callable[[], None]
    free: Callable[[], None]


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[FullDisk]:
    """A 2 MiB tmpfs, or a skip saying why (the simulated test covers the same path)."""
    folder = tmp_path / "tmpfs"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root here; the simulated ENOSPC test covers this")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()})")
    filler = folder / "filler"

    def fill() -> None:
        with contextlib.suppress(OSError), filler.open("ab") as handle:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()

    try:
        yield FullDisk(folder, fill, lambda: filler.unlink(missing_ok=True))
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def simulated_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FullDisk:
    """Every checkpoint save fails with ENOSPC while ``full`` is set."""
    full = False
    real = fsutil.atomic_write

    def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
        if full:
            raise LocalFileError(f"disk full: could not save {path}")
        real(path, data, mode)

    def set_full(value: bool) -> None:
        nonlocal full
        full = value

    monkeypatch.setattr(checkpoint_module, "atomic_write", atomic_write)
    folder = tmp_path / "state"
    folder.mkdir()
    return FullDisk(folder, lambda: set_full(True), lambda: set_full(False))


async def _full_disk_mid_upload(disk: FullDisk, make_sandbox: Any, harness: Any) -> int:
    """The disk fills after a few parts: nothing floods stderr, the upload fails saying so;
    once space is freed, resume finds the completed object instead of sending it again."""
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:2MB")
    path, md5 = make_video(disk.folder.parent / "videos", "big.mp4", 6 * MIB)
    log = logging.getLogger("youku_tui")
    handler = QuietFileHandler(disk.folder / "youku-tui.log", retry_after=0.2)
    log.addHandler(handler)
    try:
        first = harness(sandbox, part_size=256 * 1024, max_parts=2)
        first.checkpoint_dir = disk.folder / "uploads"
        async with first as engine:
            upload_id = engine.add(path, META)
            await wait_for_parts(engine, upload_id, 3, within=30)
            disk.fill()
            # More than a page (4 KiB) of lines: the log file's last page may still have room.
            for _ in range(200):
                log.warning("filling the log on a full disk")
            await asyncio.wait_for(engine.wait_idle(), 60)
            failed = engine.snapshot(upload_id)
        assert failed.state is UploadState.FAILED
        assert "disk full" in failed.last_error or "No space" in failed.last_error
        dropped = handler.dropped  # log lines a full disk could not take
        parts_sent = sandbox.stats()["oss.upload_part"]
        assert parts_sent == 24  # the whole object reached OSS before the save failed
        disk.free()
        second = harness(sandbox, part_size=256 * 1024, max_parts=2)
        second.checkpoint_dir = first.checkpoint_dir
        async with second as engine:
            assert engine.load_checkpoints(start=True) == []
            await asyncio.wait_for(engine.wait_idle(), 60)
            done = engine.snapshot(upload_id)
        assert done.state is UploadState.DONE, done.last_error
        assert sandbox.stats()["oss.upload_part"] == parts_sent  # nothing sent again
        assert [v["md5"] for v in sandbox.videos()] == [md5]
        assert any(
            "already holds the whole file" in getattr(e, "message", "") for e in second.events
        )
        return dropped
    finally:
        log.removeHandler(handler)
        handler.close()


async def test_full_disk_on_a_real_tmpfs(
    small_tmpfs: FullDisk, make_sandbox: Any, harness: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    dropped = await _full_disk_mid_upload(small_tmpfs, make_sandbox, harness)
    assert dropped > 0  # the log shares the full disk: lines were dropped...
    assert "Logging error" not in capfd.readouterr().err  # ...quietly


async def test_full_disk_simulated(
    simulated_full_disk: FullDisk, make_sandbox: Any, harness: Any
) -> None:
    await _full_disk_mid_upload(simulated_full_disk, make_sandbox, harness)


def test_a_log_that_cannot_be_written_stays_quiet_and_says_later_what_it_lost(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    class FullStream:
        def write(self, _text: str) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

    path = tmp_path / "state" / "youku-tui.log"
    path.parent.mkdir()
    path.write_text("old\n")
    path.chmod(0o644)
    handler = QuietFileHandler(path, retry_after=0.0)
    assert path.stat().st_mode & 0o777 == 0o600  # an older 0644 log is made private
    logger = logging.getLogger("test.quiet")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        handler.stream = FullStream()  # type: ignore[assignment]
        for index in range(200):
            logger.error("line %d", index)
        assert "Logging error" not in capfd.readouterr().err
        handler.retry_after = 0.0
        logger.error("space again")  # reopens the file
    finally:
        logger.removeHandler(handler)
        handler.close()
    text = path.read_text()
    assert "log line(s) were lost" in text and "space again" in text


async def test_a_file_modified_during_its_upload_stops_it_early_and_blames_the_file(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB")
    path, _md5 = make_video(tmp_path / "videos", "growing.mp4", 8 * MIB)
    h = harness(sandbox, part_size=256 * 1024, max_parts=2)
    async with h as engine:
        upload_id = engine.add(path, META)
        await wait_for_parts(engine, upload_id, 2, within=30)
        with path.open("ab") as handle:  # a recording still being written
            handle.write(b"more frames")
        await asyncio.wait_for(engine.wait_idle(), 30)
        snap = engine.snapshot(upload_id)
    assert snap.state is UploadState.FAILED
    assert "modified during its upload" in snap.last_error
    assert "not a Youku problem" in snap.last_error
    failed = h.of_kind("failed")[-1]
    assert failed.error_class == "FileChangedError"
    assert sandbox.stats()["oss.upload_part"] < 32  # stopped early, not after all 32 parts
    assert sandbox.stats()["api.commit"] == 0


async def test_a_part_whose_answer_never_comes_is_given_up_and_sent_again(
    make_sandbox: Any, harness: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9 item 6 on the OSS side: oss2's timeouts bound each read, not the answer; once
    a part's body is sent, OSS gets ANSWER_DEADLINE seconds to answer, then the part is
    tried again (here the first answer would take 60 s)."""
    from youku_tui.engine import oss_calls

    monkeypatch.setattr(oss_calls, "ANSWER_DEADLINE", 1.0)
    sandbox = make_sandbox(faults="oss.upload_part=latency:60000#1")
    path, md5 = make_video(tmp_path / "videos", "slow.mp4", 1 * MIB)
    h = harness(sandbox, part_size=256 * 1024, max_parts=2)
    async with h as engine:
        upload_id = engine.add(path, META)
        await asyncio.wait_for(engine.wait_idle(), 30)
        snap = engine.snapshot(upload_id)
    assert snap.state is UploadState.DONE, snap.last_error
    assert any("did not answer within 1s" in e.error for e in h.of_kind("retry"))
    assert [v["md5"] for v in sandbox.videos()] == [md5]
