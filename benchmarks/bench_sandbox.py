"""How fast the sandbox receives, next to the ceiling, and how much memory it needs.

Runs ``youku-tui sandbox`` as a separate process and measures, in this run:

1. a plain ``curl -T`` PUT of the file to a signed URL (the ceiling: no client work),
2. oss2 ``put_object_from_file`` and ``resumable_upload`` (4 threads, 16 MiB parts),
3. the sandbox process's peak RSS while four uploads of the file arrive at once.

Usage: ``python benchmarks/bench_sandbox.py [SIZE]`` with SIZE like ``1GiB`` (the default),
``256MiB``, or ``--quick`` (64 MiB). ``BENCH_SIZE`` works too. Data goes to ``bench-data/``.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import oss2
import psutil

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench-data" / "sandbox"
CURL = "/usr/bin/curl"
MIB = 1024 * 1024
UNITS = {
    "": 1,
    "b": 1,
    "kib": 1024,
    "mib": MIB,
    "gib": 1024 * MIB,
    "kb": 1000,
    "mb": 10**6,
    "gb": 10**9,
}


def parse_size(text: str) -> int:
    number = text.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return int(float(number) * UNITS[text[len(number) :].lower()])


def make_file(path: Path, size: int) -> str:
    if path.exists() and path.stat().st_size == size and path.with_suffix(".md5").exists():
        return path.with_suffix(".md5").read_text()
    digest = hashlib.md5()
    block = os.urandom(MIB)
    with path.open("wb") as out:
        for index in range(0, size, MIB):
            chunk = (index.to_bytes(8, "big") + block)[: min(MIB, size - index)]
            out.write(chunk)
            digest.update(chunk)
    path.with_suffix(".md5").write_text(digest.hexdigest())
    return digest.hexdigest()


class SandboxProcess:
    def __init__(self, data_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "youku_tui", "sandbox", "--print-env", "--data", str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.env: dict[str, str] = {}
        for _ in range(4):
            name, _eq, value = self.proc.stdout.readline()[7:].strip().partition("=")
            self.env[name] = shlex.split(value)[0]
        self.ps = psutil.Process(self.proc.pid)

    def create(self, md5: str, size: int, n: int) -> dict[str, Any]:
        answer = httpx.post(
            f"{self.env['YOUKU_API_BASE']}/uploads/create.json",
            data={
                "client_id": self.env["YOUKU_CLIENT_ID"],
                "access_token": self.env["YOUKU_ACCESS_TOKEN"],
                "file_name": f"bench{n}.mp4",
                "file_md5": md5,
                "file_size": str(size),
                "title": f"bench {n}",
                "tags": "bench",
                "isnew": "1",
            },
        )
        answer.raise_for_status()
        return dict(answer.json())

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


def bucket_for(answer: dict[str, Any]) -> oss2.Bucket:
    auth = oss2.StsAuth(
        answer["temp_access_id"], answer["temp_access_secret"], answer["security_token"]
    )
    return oss2.Bucket(auth, answer["endpoint"], answer["oss_bucket"])


def curl_put(answer: dict[str, Any], path: Path) -> None:
    url = bucket_for(answer).sign_url("PUT", answer["oss_object"], 3600)
    subprocess.run([CURL, "-sSf", "-T", str(path), "-o", "/dev/null", url], check=True)


def oss2_put(answer: dict[str, Any], path: Path) -> None:
    bucket_for(answer).put_object_from_file(answer["oss_object"], str(path))


def oss2_multipart(answer: dict[str, Any], path: Path) -> None:
    oss2.resumable_upload(
        bucket_for(answer),
        answer["oss_object"],
        str(path),
        store=oss2.ResumableStore(root=str(DATA / "ckpt")),
        multipart_threshold=16 * MIB,
        part_size=16 * MIB,
        num_threads=4,
    )


def timed(fn: Callable[[], None]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


class PeakRss:
    def __init__(self, ps: psutil.Process) -> None:
        self.ps = ps
        self.peak = ps.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.ps.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main(argv: list[str]) -> int:
    if "--quick" in argv:
        size = 64 * MIB
    elif len(argv) > 1:
        size = parse_size(argv[1])
    else:
        size = parse_size(os.environ.get("BENCH_SIZE", "1GiB"))
    DATA.mkdir(parents=True, exist_ok=True)
    source = DATA / f"bench-{size}.bin"
    print(f"file: {size / MIB:.0f} MiB ({source})", flush=True)
    md5 = make_file(source, size)
    data_dir = DATA / f"sandbox-{os.getpid()}"
    sandbox = SandboxProcess(data_dir)
    try:
        idle = sandbox.ps.memory_info().rss
        results: list[tuple[str, float]] = []
        for n, (label, upload) in enumerate(
            [
                ("curl -T (ceiling)", curl_put),
                ("oss2 put_object", oss2_put),
                ("oss2 resumable_upload 4x16MiB", oss2_multipart),
            ]
        ):
            answer = sandbox.create(md5, size, n)
            cpu_before = sandbox.cpu_seconds()
            seconds = timed(lambda a=answer, u=upload: u(a, source))  # type: ignore[misc]
            cpu = sandbox.cpu_seconds() - cpu_before
            results.append((label, seconds))
            # Sandbox CPU per wall second well under its cores means the client set the pace.
            print(
                f"  {label:32s} {size / MIB / seconds:8.0f} MiB/s  ({seconds:.2f} s; sandbox "
                f"CPU {cpu:.2f} s = {cpu / seconds * 100:.0f}% of one core)",
                flush=True,
            )
        print(f"  (load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        ceiling = results[0][1]
        for label, seconds in results[1:]:
            print(f"  {label:32s} {ceiling / seconds * 100:7.0f} % of the curl ceiling")
        for label, upload in (("curl -T", curl_put), ("oss2 resumable_upload", oss2_multipart)):
            answers = [sandbox.create(md5, size, 10 + i) for i in range(4)]
            with PeakRss(sandbox.ps) as rss:
                threads = [threading.Thread(target=upload, args=(a, source)) for a in answers]
                started = time.perf_counter()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                seconds = time.perf_counter() - started
            total = 4 * size / MIB / seconds
            print(
                f"4 x {size / MIB:.0f} MiB at once via {label}: {total:.0f} MiB/s total; "
                f"sandbox RSS idle {idle / MIB:.0f} MiB, peak {rss.peak / MIB:.0f} MiB",
                flush=True,
            )
    finally:
        sandbox.stop()
        subprocess.run(["rm", "-rf", str(data_dir), str(DATA / "ckpt")], check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
