"""Fixtures for the service tests: a short runtime folder and a service process."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service.service_helpers import service_env
from youku_tui import paths
from youku_tui.errors import ServiceError
from youku_tui.service.daemon import probe, stop_service


@pytest.fixture(autouse=True)
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """XDG_RUNTIME_DIR under /tmp: pytest's folders are too deep for a Unix socket path."""
    folder = Path(tempfile.mkdtemp(prefix="yt-run-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder
    # A service the test had a view start (attach-or-start, `upload --detach`) would outlive
    # it, with its socket gone, for [service] idle_exit: stop it while its socket answers.
    for sandbox_mode in (False, True):
        with contextlib.suppress(ServiceError):
            stop_service(sandbox_mode, timeout=20)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def start_service() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """`youku-tui service run` in a subprocess; returns once its socket answers."""
    started: list[subprocess.Popen[bytes]] = []

    def start(sandbox: Any = None, *, sandbox_mode: bool = False) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "youku_tui", "service", "run"]
        if sandbox_mode:
            command.append("--sandbox")
        proc = subprocess.Popen(command, env=service_env(sandbox))
        started.append(proc)
        deadline = time.monotonic() + 30
        socket_path = paths.service_socket(sandbox_mode)
        while (hello := probe(socket_path, timeout=1.0)) is None or hello["pid"] != proc.pid:
            assert proc.poll() is None, f"the service exited with {proc.returncode}"
            assert time.monotonic() < deadline, "the service did not answer"
            time.sleep(0.05)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    os.environ.get("XDG_RUNTIME_DIR")
