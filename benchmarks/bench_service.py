"""Benchmark: 50 uploads in the per-user service with 3 clients attached.

    python benchmarks/bench_service.py [--uploads 50] [--seconds 15] [--bandwidth 64KB]

Starts ``youku-tui sandbox`` (a per-connection bandwidth cap keeps every upload running) and
``youku-tui service run`` against it, queues the files through the socket, attaches three
clients (each its own process, a ``RemoteControl`` counting what it reads), and prints over a
window while all uploads run:

* the service's CPU use (psutil, the whole process: engine, OSS threads, socket), as a share
  of one core, and for comparison the same with no client attached;
* each client's bytes per second read from the socket;
* the time from starting ``youku-tui`` (the TUI, in a 120x40 pseudo-terminal) to the first
  dashboard painted with the uploads on it, attached to the busy service.

Figures only, no assertion: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from harness import make_files, spawn_in_pty, start_sandbox, stop_group

CLIENT = """
import asyncio, json, sys, time
from pathlib import Path
from youku_tui.service.remote import RemoteControl

async def main(socket_path, warmup, seconds):
    remote = await RemoteControl.connect(Path(socket_path), client="bench")
    events = 0
    def count(event):
        nonlocal events
        events += 1
    remote.subscribe(count)
    await asyncio.sleep(warmup)
    start_bytes, start_events, began = remote.received_bytes, events, time.perf_counter()
    await asyncio.sleep(seconds)
    wall = time.perf_counter() - began
    print(json.dumps({
        "bytes_per_s": (remote.received_bytes - start_bytes) / wall,
        "events_per_s": (events - start_events) / wall,
        "uploads": len(remote.snapshots()),
    }), flush=True)
    await remote.close()

asyncio.run(main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3])))
"""

QUEUE = """
import asyncio, sys
from pathlib import Path
from youku_tui.metadata import VideoMetadata
from youku_tui.service.remote import RemoteControl

async def main(socket_path, files):
    remote = await RemoteControl.connect(Path(socket_path), client="bench-queue")
    for index, name in enumerate(files):
        await remote.add(Path(name), VideoMetadata(title=f"clip {index}", tags=("bench",)))
    await remote.close()

asyncio.run(main(sys.argv[1], sys.argv[2:]))
"""


def cpu_share(process: psutil.Process, seconds: float) -> float:
    before = process.cpu_times()
    began = time.perf_counter()
    time.sleep(seconds)
    after = process.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    return used / (time.perf_counter() - began) * 100


def wait_for_socket(socket_path: Path, service: subprocess.Popen[bytes]) -> None:
    from youku_tui.service.daemon import probe

    deadline = time.monotonic() + 60
    while probe(socket_path, timeout=1.0) is None:
        if service.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the service did not start")
        time.sleep(0.05)


def first_paint(env: dict[str, str]) -> float | None:
    """Seconds from starting `youku-tui` in a pty to the dashboard showing the uploads."""
    began = time.perf_counter()
    proc, reader = spawn_in_pty([], env, 120, 40)
    try:
        took = reader.wait_for(rb"clip \d", 0, 30.0)
        return None if took is None else time.perf_counter() - began
    finally:
        stop_group(proc, signal.SIGKILL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=6.0)
    parser.add_argument("--bandwidth", default="128KB", help="per connection, sandbox side")
    parser.add_argument("--file-size", type=int, default=8 * 1024 * 1024)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ytb-", dir="/tmp"))  # short: a socket path lives here
    sandbox_proc: subprocess.Popen[bytes] | None = None
    service: subprocess.Popen[bytes] | None = None
    clients: list[subprocess.Popen[str]] = []
    try:
        env = dict(os.environ)
        for var, sub in (("XDG_CONFIG_HOME", "c"), ("XDG_STATE_HOME", "s"),
                         ("XDG_DATA_HOME", "d"), ("XDG_RUNTIME_DIR", "r")):  # fmt: skip
            env[var] = str(tmp / sub)
            (tmp / sub).mkdir()
        (tmp / "c" / "youku-tui").mkdir()
        (tmp / "c" / "youku-tui" / "config.toml").write_text(
            f"[engine]\nmax_uploads = {args.uploads}\nmax_parts = {args.uploads}\n"
            "part_size = 262144\n[service]\nidle_exit = 0\n"
            '[defaults]\ntags = ["bench"]\n'
        )
        files = make_files(tmp / "videos", args.uploads, args.file_size)
        sandbox_proc, sandbox_env = start_sandbox(tmp / "sandbox", args.bandwidth)
        env.update(sandbox_env)
        env.update({"TERM": "xterm-256color", "LANG": "C.UTF-8"})
        env.pop("TEXTUAL", None)
        socket_path = tmp / "r" / "youku-tui" / "service.sock"

        service = subprocess.Popen([sys.executable, "-m", "youku_tui", "service", "run"], env=env)
        wait_for_socket(socket_path, service)
        subprocess.run(
            [sys.executable, "-c", QUEUE, str(socket_path), *map(str, files)],
            env=env,
            check=True,
        )
        process = psutil.Process(service.pid)
        print(
            f"service pid {service.pid}; {args.uploads} files of {args.file_size // 1024} KiB; "
            f"sandbox bandwidth {args.bandwidth} per connection; warm-up {args.warmup} s"
        )
        time.sleep(args.warmup)
        alone = cpu_share(process, args.seconds / 2)

        for _ in range(args.clients):
            clients.append(
                subprocess.Popen(
                    [sys.executable, "-c", CLIENT, str(socket_path), "2", str(args.seconds)],
                    env=env,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        time.sleep(2)  # the clients' warm-up
        with_clients = cpu_share(process, args.seconds)
        results = []
        for client in clients:
            out, _ = client.communicate(timeout=args.seconds + 60)
            results.append(json.loads(out.strip().splitlines()[-1]))

        paint = first_paint(env)
        states: dict[str, int] = {}
        for path in (tmp / "s" / "youku-tui" / "uploads").glob("*.toml"):
            for line in path.read_text().splitlines():
                if line.startswith("state = "):
                    state = line.split('"')[1]
                    states[state] = states.get(state, 0) + 1
        print("checkpoint states at the end:", ", ".join(f"{n} {s}" for s, n in states.items()))
        if os.environ.get("BENCH_LOG"):
            print((tmp / "s" / "youku-tui" / "service.log").read_text()[-3000:])
        print(f"service CPU, no client:     {alone:.1f}% of one core")
        print(f"service CPU, {args.clients} clients:    {with_clients:.1f}% of one core")
        for index, result in enumerate(results, 1):
            print(
                f"client {index}: {result['bytes_per_s'] / 1024:.1f} KB/s from the socket, "
                f"{result['events_per_s']:.0f} events/s, {result['uploads']} uploads mirrored"
            )
        if paint is None:
            print("youku-tui start to first painted dashboard: not seen within 30 s")
        else:
            print(f"youku-tui start to first painted dashboard: {paint:.2f} s (busy service)")
        return 0
    finally:
        for client in clients:
            if client.poll() is None:
                client.kill()
        if service is not None and service.poll() is None:
            service.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.wait(30)
            if service.poll() is None:
                service.kill()
        if sandbox_proc is not None:
            sandbox_proc.terminate()
            sandbox_proc.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
