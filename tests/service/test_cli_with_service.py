"""The headless CLI with the per-user service: --detach, following, Ctrl-C leaves uploads running."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.service.service_helpers import make_video, service_env

MIB = 1024 * 1024


def cli(sandbox: Any, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "youku_tui", *args],
        env=service_env(sandbox),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_for_states(sandbox: Any, wanted: set[str], count: int, within: float = 60) -> list[Any]:
    deadline = time.monotonic() + within
    while True:
        records = [
            json.loads(line) for line in cli(sandbox, "status", "--json").stdout.splitlines()
        ]
        if len(records) == count and {r["state"] for r in records} <= wanted:
            return records
        assert time.monotonic() < deadline, records
        time.sleep(0.2)


def test_upload_detach_starts_the_service_returns_the_ids_and_the_service_finishes(
    sandbox: Any, tmp_path: Path
) -> None:
    files = [make_video(tmp_path / "v", f"d{i}.mp4", 600 * 1024) for i in range(2)]
    try:
        result = cli(sandbox, "upload", *map(str, files), "--tags", "ok,fine", "--detach")
        assert result.returncode == 0, result.stderr
        ids = result.stdout.split()
        assert len(ids) == 2 and all(len(i) == 24 for i in ids)
        assert "queued in the service" in result.stderr
        records = wait_for_states(sandbox, {"done"}, 2)
        assert sorted(r["upload_id"] for r in records) == sorted(ids)
        assert len(sandbox.videos()) == 2
    finally:
        cli(sandbox, "service", "stop")


def test_following_in_the_service_and_ctrl_c_leaves_the_upload_running(
    make_sandbox: Any, start_service: Callable[..., subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB")
    start_service(sandbox)
    path = make_video(tmp_path / "v", "follow.mp4", 6 * MIB)
    process = subprocess.Popen(
        [sys.executable, "-m", "youku_tui", "upload", str(path), "--tags", "ok,fine"],
        env=service_env(sandbox),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:  # piped: state lines as they happen
        if "uploading" in line:
            break
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 130, stderr
    assert "stopped following; the uploads go on in the service" in stderr
    assert "Traceback" not in stderr
    [record] = wait_for_states(sandbox, {"done"}, 1)
    assert record["path"] == str(path)
    [video] = sandbox.videos()
    assert video["size"] == 6 * MIB
