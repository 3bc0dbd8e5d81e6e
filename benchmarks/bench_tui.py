"""Benchmark: the dashboard with 50 uploads in flight, in a real pseudo-terminal.

    python benchmarks/bench_tui.py [--uploads 50] [--seconds 20] [--bandwidth 64KB]

Starts ``youku-tui sandbox`` with a per-connection bandwidth cap, then ``youku-tui --start
FILE...`` (50 files queued at once with the config's default metadata) in a pty of 120x40,
and measures, over a window while all uploads run:

* the app process's CPU use (psutil; the engine runs in the same process, so its OSS
  threads are counted too), as a share of one core;
* the bytes the app writes to the terminal per second (read from the pty master);
* key-press-to-screen latency: ``f`` cycles the state filter, which changes the header text
  ("showing active"); the time from writing the key until those bytes arrive.

Targets: CPU < 10% of a core, < 60 KB/s to the terminal, key latency < 100 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

import psutil

FILTER_CYCLE = ["active", "queued", "paused", "failed", "done", "all"]


class PtyReader(threading.Thread):
    """Drains the pty master continuously (a full pty would block the app) and keeps a
    rolling tail of the output so a test can wait for a string to appear."""

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


def start_sandbox(data: Path, bandwidth: str) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
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
    folder.mkdir(parents=True)
    paths = []
    for index in range(count):
        path = folder / f"clip-{index:02d}.mp4"
        path.write_bytes(os.urandom(size))
        paths.append(path)
    return paths


def write_config(config_home: Path, uploads: int) -> None:
    folder = config_home / "youku-tui"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text(
        "[engine]\n"
        f"max_uploads = {uploads}\n"
        f"max_parts = {uploads}\n"
        "part_size = 1048576\n"
        "[tui]\n"
        'theme = "youku-dark"\n'
        "[defaults]\n"
        'title = "{stem}"\n'
        'tags = ["bench"]\n'
    )


def spawn_app(files: list[Path], env: dict[str, str], cols: int, rows: int) -> tuple[int, int]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "youku_tui", "--start", *map(str, files)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
        close_fds=True,
    )
    os.close(slave)
    return proc.pid, master


def checkpoint_states(state_home: Path) -> dict[str, int]:
    """How many uploads are in each state, from the engine's checkpoint files."""
    counts: dict[str, int] = {}
    for path in (state_home / "youku-tui" / "uploads").glob("*.toml"):
        match = re.search(r'^state = "(\w+)"', path.read_text(), re.M)
        if match:
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=8.0)
    # 64KB x 50 connections keeps every row moving for the whole window (at 32KB the bars
    # only jump when a socket buffer drains, which flatters the figures).
    parser.add_argument("--bandwidth", default="64KB", help="per connection, sandbox side")
    parser.add_argument("--file-size", type=int, default=16 * 1024 * 1024)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="youku-bench-"))
    sandbox_proc: subprocess.Popen[bytes] | None = None
    app_pid = 0
    try:
        env = dict(os.environ)
        for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_STATE_HOME", "state"),
                         ("XDG_DATA_HOME", "data")):  # fmt: skip
            env[var] = str(tmp / sub)
        write_config(tmp / "config", args.uploads)
        files = make_files(tmp / "videos", args.uploads, args.file_size)
        sandbox_proc, sandbox_env = start_sandbox(tmp / "sandbox", args.bandwidth)
        env.update(sandbox_env)
        env.update({"TERM": "xterm-256color", "COLORTERM": "truecolor", "LANG": "C.UTF-8"})
        env.pop("TEXTUAL", None)

        app_pid, master = spawn_app(files, env, 120, 40)
        reader = PtyReader(master)
        reader.start()
        app = psutil.Process(app_pid)
        print(
            f"app pid {app_pid}; {args.uploads} files of {args.file_size // 1024} KiB; "
            f"sandbox bandwidth {args.bandwidth} per connection; warm-up {args.warmup}s"
        )
        time.sleep(args.warmup)

        cpu_before = app.cpu_times()
        bytes_before = reader.total
        wall_before = time.perf_counter()
        time.sleep(args.seconds)
        cpu_after = app.cpu_times()
        bytes_after = reader.total
        wall = time.perf_counter() - wall_before
        in_flight = checkpoint_states(tmp / "state")

        cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
        cpu_share = cpu / wall * 100
        rate = (bytes_after - bytes_before) / wall

        latencies: list[float] = []
        for label in FILTER_CYCLE:
            start = reader.mark()
            os.write(master, b"f")
            took = reader.wait_for(rf"showing {label}".encode(), start, 5.0)
            if took is not None:
                latencies.append(took * 1000)
            time.sleep(0.7)

        states = ", ".join(f"{n} {s}" for s, n in sorted(in_flight.items()))
        print(f"window: {wall:.1f} s; checkpoint states at its end: {states}")
        print(f"app CPU:          {cpu_share:.1f}% of one core (target < 10%)")
        print(f"terminal output:  {rate / 1024:.1f} KB/s (target < 60 KB/s)")
        if latencies:
            print(
                f"key to screen:    median {statistics.median(latencies):.0f} ms, "
                f"max {max(latencies):.0f} ms over {len(latencies)} presses (target < 100 ms)"
            )
        else:
            print("key to screen:    no answer seen (the filter label never appeared)")
        print("(CPU counts the whole app process: the engine and its OSS threads run in it)")
        return 0
    finally:
        if app_pid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(app_pid, signal.SIGTERM)
        if sandbox_proc is not None:
            sandbox_proc.terminate()
            sandbox_proc.wait(5)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
