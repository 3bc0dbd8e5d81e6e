"""One owner per state folder: the flock on owner.lock, across threads and processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from youku_tui.engine.owner import LOCK_NAME, OwnerLock, current_owner
from youku_tui.errors import OwnerBusyError, YoukuTuiError

HOLD = """
import sys, time
from pathlib import Path
from youku_tui.engine.owner import OwnerLock
lock = OwnerLock.acquire(Path(sys.argv[1]), role="holder")
print("held", flush=True)
time.sleep(60)
"""


def _holder(folder: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_owner_is_refused_until_the_first_lets_go(tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    first = OwnerLock.acquire(folder, role="first")
    with pytest.raises(OwnerBusyError) as info:
        OwnerLock.acquire(folder, role="second")
    assert isinstance(info.value, YoukuTuiError)
    assert info.value.pid == os.getpid()
    assert f"pid {os.getpid()} (first" in str(info.value)
    first.release()
    second = OwnerLock.acquire(folder, role="second")
    assert second.held
    second.release()
    assert (folder / LOCK_NAME).exists()  # never deleted


def test_another_process_owning_the_folder_is_named_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "uploads"
    proc = _holder(folder)
    try:
        before = (folder / LOCK_NAME).read_bytes()
        with pytest.raises(OwnerBusyError, match=f"pid {proc.pid} \\(holder") as info:
            OwnerLock.acquire(folder, role="me")
        assert info.value.pid == proc.pid
        assert "youku-tui service stop" in str(info.value)
        assert (folder / LOCK_NAME).read_bytes() == before
        assert sorted(p.name for p in folder.iterdir()) == [LOCK_NAME]
        owner = current_owner(folder)
        assert owner is not None and owner.pid == proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # The kernel drops the lock of a killed owner: no stale lock to clean by hand.
    assert current_owner(folder) is None
    lock = OwnerLock.acquire(folder)
    lock.release()


def test_probing_the_owner_takes_and_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    assert current_owner(folder) is None
    assert not folder.exists()
    lock = OwnerLock.acquire(folder, role="owner")
    started = time.monotonic()
    for _ in range(20):  # probes never make the owner lose its lock
        probe = current_owner(folder)
        assert probe is not None and probe.role == "owner"
    assert time.monotonic() - started < 5
    lock.release()
