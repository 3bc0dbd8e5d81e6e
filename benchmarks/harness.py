"""What the benchmarks that run youku-tui as a user does share: the sandbox in a subprocess,
files of random bytes, and a youku-tui process in a pseudo-terminal whose output is drained
(and kept, so a benchmark can wait for a string to appear)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path


class PtyReader(threading.Thread):
    """Drains the pty master continuously (a full pty would block the app) and keeps a
    rolling tail of the output so a benchmark can wait for a string to appear."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.total = 0
        self.buffer = bytearray()
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)

    def run(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            with self.changed:
                self.total += len(data)
                self.buffer += data
                if len(self.buffer) > 4_000_000:
                    del self.buffer[:2_000_000]
                self.changed.notify_all()

    def mark(self) -> int:
        with self.lock:
            return len(self.buffer)

    def wait_for(self, pattern: bytes, start: int, timeout: float) -> float | None:
        """Seconds until ``pattern`` appears after offset ``start`` (None on timeout)."""
        began = time.perf_counter()
        deadline = began + timeout
        with self.changed:
            while True:
                if re.search(pattern, bytes(self.buffer[start:])):
                    return time.perf_counter() - began
                left = deadline - time.perf_counter()
                if left <= 0:
                    return None
                self.changed.wait(left)

    def screen_text(self) -> str:
        with self.lock:
            tail = bytes(self.buffer[-200_000:])
        return re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", tail).decode("utf-8", "replace")


def spawn_in_pty(
    arguments: list[str], env: dict[str, str], cols: int, rows: int
) -> tuple[subprocess.Popen[bytes], PtyReader]:
    """``python -m youku_tui ARGUMENTS`` in a pty of ``cols`` x ``rows``, in its own session
    (:func:`stop_group` ends it and what it started in that session), its output drained."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "youku_tui", *arguments],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
        close_fds=True,
    )
    os.close(slave)
    reader = PtyReader(master)
    reader.start()
    return proc, reader


def stop_group(proc: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM) -> None:
    """Signal the process group of a :func:`spawn_in_pty` process and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)


def start_sandbox(data: Path, bandwidth: str) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """``youku-tui sandbox`` with a per-connection cap; its process and its login's env."""
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "youku_tui", "sandbox", "--port", "0", "--data", str(data),
            "--faults", f"oss.*=bandwidth:{bandwidth}", "--print-env",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    env: dict[str, str] = {}
    assert proc.stdout is not None
    while len(env) < 4:
        line = proc.stdout.readline().decode()
        if not line:
            raise SystemExit("the sandbox did not start")
        match = re.match(r"export (\w+)=(.*)", line.strip())
        if match:
            env[match.group(1)] = match.group(2).strip("'\"")
    return proc, env


def make_files(folder: Path, count: int, size: int) -> list[Path]:
    """``clip-NN.mp4`` of random bytes (never a duplicate upload)."""
    folder.mkdir(parents=True)
    paths = []
    for index in range(count):
        path = folder / f"clip-{index:02d}.mp4"
        path.write_bytes(os.urandom(size))
        paths.append(path)
    return paths
