"""Benchmark: the dashboard with 50 uploads in flight, in a real pseudo-terminal.

    python benchmarks/bench_tui.py [--uploads 50] [--seconds 20] [--bandwidth 64KB]

Starts ``youku-tui sandbox`` with a per-connection bandwidth cap, then ``youku-tui --start
FILE...`` (50 files queued at once with the config's default metadata) in a pty of 120x40,
and measures, over a window while all uploads run:

* the app process's CPU use (psutil), as a share of one core, and the service's;
* the bytes the app writes to the terminal per second (read from the pty master);
* key-press-to-screen latency: ``f`` cycles the state filter, which changes the header text
  ("showing active"); the time from writing the key until those bytes arrive.

The app is a view: it starts the per-user service (``[service] auto_start``), where the
engine and its OSS threads run. Their CPU is printed apart; the service is stopped at the end.

Targets: CPU < 10% of a core, < 60 KB/s to the terminal, key latency < 100 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
from harness import make_files, spawn_in_pty, start_sandbox, stop_group

FILTER_CYCLE = ["active", "queued", "paused", "failed", "done", "all"]


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


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def service_process(socket_path: Path) -> psutil.Process | None:
    """The service the app started (its own session: stopping the app leaves it running)."""
    from youku_tui.service.daemon import probe

    hello = probe(socket_path)
    return None if hello is None else psutil.Process(int(hello["pid"]))


def stop_service(service: psutil.Process) -> None:
    """SIGTERM: it pauses the uploads and exits; a benchmark must not leave it behind."""
    with contextlib.suppress(psutil.NoSuchProcess):
        service.terminate()
        try:
            service.wait(30)
        except psutil.TimeoutExpired:
            service.kill()


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
    app_proc: subprocess.Popen[bytes] | None = None
    service: psutil.Process | None = None
    try:
        env = dict(os.environ)
        for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_STATE_HOME", "state"),
                         ("XDG_DATA_HOME", "data"), ("XDG_RUNTIME_DIR", "run")):  # fmt: skip
            env[var] = str(tmp / sub)
        (tmp / "run").mkdir(mode=0o700)
        write_config(tmp / "config", args.uploads)
        files = make_files(tmp / "videos", args.uploads, args.file_size)
        sandbox_proc, sandbox_env = start_sandbox(tmp / "sandbox", args.bandwidth)
        env.update(sandbox_env)
        env.update({"TERM": "xterm-256color", "COLORTERM": "truecolor", "LANG": "C.UTF-8"})
        env.pop("TEXTUAL", None)

        app_proc, reader = spawn_in_pty(["--start", *map(str, files)], env, 120, 40)
        app = psutil.Process(app_proc.pid)
        print(
            f"app pid {app_proc.pid}; {args.uploads} files of {args.file_size // 1024} KiB; "
            f"sandbox bandwidth {args.bandwidth} per connection; warm-up {args.warmup}s"
        )
        time.sleep(args.warmup)
        service = service_process(tmp / "run" / "youku-tui" / "service.sock")

        cpu_before = cpu_seconds(app)
        service_before = cpu_seconds(service) if service else 0.0
        bytes_before = reader.total
        wall_before = time.perf_counter()
        time.sleep(args.seconds)
        cpu_after = cpu_seconds(app)
        service_after = cpu_seconds(service) if service else 0.0
        bytes_after = reader.total
        wall = time.perf_counter() - wall_before
        in_flight = checkpoint_states(tmp / "state")

        cpu_share = (cpu_after - cpu_before) / wall * 100
        service_share = (service_after - service_before) / wall * 100
        rate = (bytes_after - bytes_before) / wall

        latencies: list[float] = []
        for label in FILTER_CYCLE:
            start = reader.mark()
            os.write(reader.fd, b"f")
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
        if service is None:
            print("service CPU:      no service answered (did the app run the engine itself?)")
        else:
            print(f"service CPU:      {service_share:.1f}% of one core (the engine, OSS threads)")
        print("(app CPU is the view alone: the app started the service, where the uploads run)")
        return 0
    finally:
        if app_proc is not None:
            stop_group(app_proc)
        if service is not None:
            stop_service(service)
        if sandbox_proc is not None:
            sandbox_proc.terminate()
            sandbox_proc.wait(5)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
