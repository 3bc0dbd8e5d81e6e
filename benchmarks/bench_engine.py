"""Engine benchmark: prints measured figures, each ratio taken within this one run.

    BENCH_SIZE_MB=1024 python benchmarks/bench_engine.py

1. MD5 throughput of ``youku_tui.engine.hashing.md5_file`` against ``md5sum`` on the same
   file, page cache warm for both (best of 3 each). Target: ratio >= 0.95.
2. Transfer time of one file to a sandbox running in its own process: the engine against
   ``oss2.resumable_upload`` at its best ``num_threads`` (1, 2, 4, 8) with the same part size.
   Both are timed from the first OSS request to the completed object (the engine's time is
   UPLOADING -> COMMITTING; its MD5 and the API calls are not counted, nor are oss2's).
   Target: ratio <= 1.0.
3. Peak RSS of ``youku-tui upload`` sending four such files at once (psutil, whole process
   tree, polled every 20 ms). Target: < 150 MB.

Not a test: it asserts nothing. Data goes to ``bench-data/`` (gitignored). Environment:
BENCH_SIZE_MB (default 1024), BENCH_PART_MB (default 10), BENCH_SKIP (comma list of
md5,upload,memory).
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import oss2
import psutil

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench-data"
MIB = 1024 * 1024
SIZE_MB = int(os.environ.get("BENCH_SIZE_MB", "1024"))
PART_MB = int(os.environ.get("BENCH_PART_MB", "10"))
SKIP = set(filter(None, os.environ.get("BENCH_SKIP", "").split(",")))


def make_file(path: Path, size_mb: int) -> Path:
    """Random bytes (distinct per file: the sandbox refuses duplicate uploads)."""
    if path.exists() and path.stat().st_size == size_mb * MIB:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        for _ in range(size_mb):
            handle.write(os.urandom(MIB))
    return path


def warm(path: Path) -> None:
    with path.open("rb") as handle:
        while handle.read(8 * MIB):
            pass


def best_of(runs: int, fn: Any) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


# --- 1. MD5 -------------------------------------------------------------------------------


def bench_md5(path: Path) -> None:
    from youku_tui.engine.hashing import md5_file

    warm(path)
    size = path.stat().st_size
    # Interleaved rounds, best of each: a noisy neighbour then slows both alike. CPU time
    # (ours: this process; md5sum: its rusage) is reported too, as it barely depends on load.
    ours_runs, theirs_runs, ours_cpu, theirs_cpu = [], [], [], []
    for _ in range(5):
        cpu = time.process_time()
        ours_runs.append(best_of(1, lambda: md5_file(path)))
        ours_cpu.append(time.process_time() - cpu)
        child = resource.getrusage(resource.RUSAGE_CHILDREN)
        theirs_runs.append(
            best_of(
                1, lambda: subprocess.run(["md5sum", str(path)], check=True, capture_output=True)
            )
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        theirs_cpu.append(after.ru_utime + after.ru_stime - child.ru_utime - child.ru_stime)
    ours, theirs = min(ours_runs), min(theirs_runs)
    ours_mbs, theirs_mbs = size / ours / MIB, size / theirs / MIB
    print(
        f"MD5 (wall): youku-tui {ours_mbs:.0f} MiB/s, md5sum {theirs_mbs:.0f} MiB/s, "
        f"ratio {ours_mbs / theirs_mbs:.3f} (target >= 0.95)"
    )
    ours_c, theirs_c = size / min(ours_cpu) / MIB, size / min(theirs_cpu) / MIB
    print(
        f"MD5 (per CPU second): youku-tui {ours_c:.0f} MiB/s, md5sum {theirs_c:.0f} MiB/s, "
        f"ratio {ours_c / theirs_c:.3f}"
    )


# --- sandbox in its own process ------------------------------------------------------------


@contextmanager
def sandbox_process(
    data_dir: Path, *, prefix: tuple[str, ...] = (), host: str = "127.0.0.1"
) -> Iterator[dict[str, str]]:
    """A sandbox in its own process (run under ``prefix``, e.g. ``ip netns exec``); its env."""
    shutil.rmtree(data_dir, ignore_errors=True)
    command = [*prefix, sys.executable, "-m", "youku_tui", "sandbox", "--host", host]
    command += ["--data", str(data_dir), "--print-env"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    env: dict[str, str] = {}
    assert process.stdout is not None
    while len(env) < 4:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox did not start")
        name, _, value = line.removeprefix("export ").strip().partition("=")
        env[name] = value.strip("'")
    try:
        yield env
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(data_dir, ignore_errors=True)


def client_for(env: dict[str, str]) -> Any:
    from youku_tui.api.client import YoukuClient
    from youku_tui.config import Credentials

    return YoukuClient(
        Credentials(env["YOUKU_CLIENT_ID"], env["YOUKU_ACCESS_TOKEN"], env["YOUKU_REFRESH_TOKEN"]),
        api_base=env["YOUKU_API_BASE"],
    )


# --- 2. transfer time ------------------------------------------------------------------------


def oss2_baseline(env: dict[str, str], path: Path, md5: str, threads: int) -> float:
    from youku_tui.metadata import VideoMetadata

    size = path.stat().st_size

    async def create() -> Any:
        async with client_for(env) as client:
            return await client.create(
                file_name=path.name,
                file_md5=md5,
                file_size=size,
                metadata=VideoMetadata(title=f"oss2 x{threads}", tags=("bench", "oss2")),
            )

    created = asyncio.run(create())
    sts = created.sts
    auth = oss2.StsAuth(sts.access_key_id, sts.access_key_secret, sts.security_token)
    bucket = oss2.Bucket(auth, sts.endpoint_url, created.oss_bucket)
    store_dir = DATA / "oss2-store"
    shutil.rmtree(store_dir, ignore_errors=True)
    start = time.perf_counter()
    oss2.resumable_upload(
        bucket,
        created.oss_object,
        str(path),
        store=oss2.ResumableStore(root=str(store_dir)),
        multipart_threshold=PART_MB * MIB,
        part_size=PART_MB * MIB,
        num_threads=threads,
    )
    return time.perf_counter() - start


def engine_run(env: dict[str, str], path: Path, max_parts: int) -> tuple[float, float]:
    """(transfer seconds, total seconds) of one engine upload, MD5 and commit included."""
    from youku_tui.config import EngineSettings
    from youku_tui.engine.events import EngineEvent, StateChanged
    from youku_tui.engine.manager import UploadEngine
    from youku_tui.engine.states import UploadState
    from youku_tui.metadata import VideoMetadata

    marks: dict[str, float] = {}

    def sink(event: EngineEvent) -> None:
        if isinstance(event, StateChanged):
            marks[str(event.new)] = time.perf_counter()

    async def run() -> None:
        settings = EngineSettings(part_size=PART_MB * MIB, max_parts=max_parts)
        checkpoints = DATA / "engine-checkpoints"
        shutil.rmtree(checkpoints, ignore_errors=True)
        meta = VideoMetadata(title="engine", tags=("bench", "ytui"))
        async with (
            client_for(env) as client,
            UploadEngine(client, checkpoints, settings, sink) as engine,
        ):
            upload_id = engine.add(path, meta)
            await engine.wait_idle()
            snap = engine.snapshot(upload_id)
            if snap.state is not UploadState.DONE:
                raise RuntimeError(f"engine upload failed: {snap.last_error}")

    start = time.perf_counter()
    asyncio.run(run())
    total = time.perf_counter() - start
    return marks["committing"] - marks["uploading"], total


def bench_upload(path: Path) -> None:
    from youku_tui.engine.hashing import md5_file

    md5 = md5_file(path)
    warm(path)
    size = path.stat().st_size
    baseline: dict[int, float] = {}
    for threads in (1, 2, 4, 8):
        with sandbox_process(DATA / "sandbox-oss2") as env:
            baseline[threads] = oss2_baseline(env, path, md5, threads)
        print(
            f"  oss2.resumable_upload num_threads={threads}: {baseline[threads]:.2f} s "
            f"({size / baseline[threads] / MIB:.0f} MiB/s)"
        )
    best_threads = min(baseline, key=lambda t: baseline[t])
    ours: dict[int, tuple[float, float]] = {}
    for parts in sorted({8, best_threads}):
        with sandbox_process(DATA / "sandbox-engine") as env:
            ours[parts] = engine_run(env, path, parts)
        transfer, total = ours[parts]
        print(
            f"  youku-tui engine max_parts={parts}: transfer {transfer:.2f} s "
            f"({size / transfer / MIB:.0f} MiB/s), whole run with MD5/create/commit "
            f"{total:.2f} s"
        )
    best_ours = min(t for t, _ in ours.values())
    print(
        f"Upload {size // MIB} MiB, {PART_MB} MiB parts: engine {best_ours:.2f} s vs oss2 best "
        f"(num_threads={best_threads}) {baseline[best_threads]:.2f} s, ratio "
        f"{best_ours / baseline[best_threads]:.3f} (target <= 1.0)"
    )


# --- 3. memory -----------------------------------------------------------------------------


def bench_memory(files: list[Path]) -> None:
    with sandbox_process(DATA / "sandbox-memory") as env:
        command = [
            sys.executable,
            "-m",
            "youku_tui",
            "upload",
            *map(str, files),
            "--title",
            "{stem}",
            "--tags",
            "bench,memory",
            "--jobs",
            "4",
            "--json",
        ]
        state = DATA / "memory-state"
        shutil.rmtree(state, ignore_errors=True)
        process = subprocess.Popen(
            command,
            env={**os.environ, **env, "XDG_STATE_HOME": str(state)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        proc = psutil.Process(process.pid)
        peak = 0
        start = time.perf_counter()
        while process.poll() is None:
            try:
                tree = [proc, *proc.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.02)
        elapsed = time.perf_counter() - start
        _, err = process.communicate()
        total = sum(f.stat().st_size for f in files)
        status = "ok" if process.returncode == 0 else f"exit {process.returncode}: {err[-300:]!r}"
        print(
            f"Memory: `youku-tui upload` of 4 x {SIZE_MB} MiB at once: peak RSS "
            f"{peak / MIB:.1f} MiB (target < 150 MB) in {elapsed:.1f} s "
            f"({total / elapsed / MIB:.0f} MiB/s), {status}"
        )


def main() -> None:
    DATA.mkdir(exist_ok=True)
    print(
        f"bench: {SIZE_MB} MiB files, {PART_MB} MiB parts, {os.cpu_count()} CPUs, "
        f"python {sys.version.split()[0]}, oss2 {oss2.__version__}"
    )
    first = make_file(DATA / "bench-0.mp4", SIZE_MB)
    if "md5" not in SKIP:
        bench_md5(first)
    if "upload" not in SKIP:
        bench_upload(first)
    if "memory" not in SKIP:
        files = [make_file(DATA / f"bench-{i}.mp4", SIZE_MB) for i in range(4)]
        bench_memory(files)


if __name__ == "__main__":
    main()
