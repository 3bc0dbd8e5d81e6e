"""WAN benchmark: goodput as a share of a shaped link, youku-tui against oss2, in one run.

    sudo python benchmarks/bench_wan.py          # needs root, `ip` and the link script

Builds the link itself with ``link up DELAY_MS_EACH_WAY LOSS_PCT RATE_MBIT cubic`` (default
``/work/shared/wan/link``, or ``BENCH_WAN_LINK``): a network namespace "wan" holding
10.200.0.2, reached from 10.200.0.1 through a userspace forwarder that applies delay, random
loss and the rate, with CUBIC locked on the route (a socket's own choice of BBR cannot apply).
The sandbox runs inside the namespace, bound to 10.200.0.2; every client runs outside, so all
OSS traffic crosses the link. ``link down`` runs at the end, also after an error or Ctrl-C.

For each path (RTT 80 ms / 0.5 % loss and 150 ms / 1 % loss, 200 Mbit/s) and each file size
it runs, one after another, each against a fresh sandbox:

- youku-tui with its defaults (parts in flight adapt, part size chosen for the file);
- youku-tui with fixed settings (8 and 32 parts in flight of 10 MiB: the old default and the
  issue's best fixed figure);
- ``oss2.resumable_upload`` with 1, 4 and 8 threads (its default part size).

Goodput = bytes OSS confirmed (parts answered OK) / seconds from the client's first OSS
request to its last part's answer, over the whole file or a window of ``BENCH_WAN_WINDOW``
seconds (default 60), whichever ends first: a slow client would take an hour for 2 GiB.
CompleteMultipartUpload is outside (the sandbox assembles the object on this machine's disk,
which measures the disk, not the path); the share with it is printed beside. MD5 and the
Youku API calls are outside the window. A fraction of the link counts payload only (TCP/IP
headers take about 3.5 % of a 1500-byte packet). The forwarder's counters (tail drops show the
queue, not the configured loss, dropped packets) are printed after each path.

Not a test: it asserts nothing. Environment: BENCH_WAN_SIZES_MB (default "256,2048"),
BENCH_WAN_PATHS (default "40:0.5,75:1" = delay each way in ms : loss %), BENCH_WAN_RATE
(Mbit/s, default 200), BENCH_WAN_WINDOW, BENCH_WAN_CLIENTS (default
"defaults,fixed8,fixed32,oss2x1,oss2x4,oss2x8").
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_engine import make_file, sandbox_process  # run as a script: benchmarks/ is on the path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench-data" / "wan"
MIB = 1024 * 1024
SERVER = "10.200.0.2"
LINK = os.environ.get("BENCH_WAN_LINK", "/work/shared/wan/link")
WANEM_LOG = Path("/tmp/wanem.log")
SIZES_MB = [int(s) for s in os.environ.get("BENCH_WAN_SIZES_MB", "256,2048").split(",")]
PATHS = [
    (int(d), float(loss))
    for d, loss in (
        p.split(":") for p in os.environ.get("BENCH_WAN_PATHS", "40:0.5,75:1").split(",")
    )
]
RATE_MBIT = int(os.environ.get("BENCH_WAN_RATE", "200"))
WINDOW = float(os.environ.get("BENCH_WAN_WINDOW", "60"))
CLIENTS = os.environ.get("BENCH_WAN_CLIENTS", "defaults,fixed8,fixed32,oss2x1,oss2x4,oss2x8")


@dataclass(frozen=True)
class Result:
    confirmed: int  # bytes
    seconds: float  # to the last part confirmed (or the window's end)
    complete: bool
    note: str = ""
    with_complete: float = 0.0  # seconds to CompleteMultipartUpload's answer, when it came
    received: int = 0  # bytes on the sandbox's disk when the window ended (parts in flight too)

    def share(self) -> float:
        return share(self.confirmed, self.seconds)

    def cell(self) -> str:
        if self.complete:
            return f"{100 * self.share():.1f} %"
        return (
            f"{100 * self.share():.1f} % ({100 * share(self.received, self.seconds):.1f} % recv.)"
        )


def share(size: int, seconds: float) -> float:
    return size * 8 / seconds / (RATE_MBIT * 1e6) if seconds else 0.0


# --- the link and the sandbox --------------------------------------------------------------


@contextmanager
def shaped_link(delay_ms: int, loss: float) -> Iterator[None]:
    log_start = WANEM_LOG.stat().st_size if WANEM_LOG.exists() else 0
    try:
        subprocess.run([LINK, "up", str(delay_ms), str(loss), str(RATE_MBIT), "cubic"], check=True)
        yield
    finally:
        subprocess.run([LINK, "down"], check=False)
        time.sleep(0.3)  # the forwarder writes its counters as it exits
        if WANEM_LOG.exists():
            with WANEM_LOG.open() as handle:
                handle.seek(log_start)
                for line in handle.read().splitlines():
                    print(f"    wanem: {line.strip()}")


def sandbox_in_namespace(data_dir: Path) -> AbstractContextManager[dict[str, str]]:
    return sandbox_process(data_dir, prefix=("ip", "netns", "exec", "wan"), host=SERVER)


# --- the clients, each in a child process ------------------------------------------------------


def run_client(client: str, env: dict[str, str], path: Path, md5: str) -> Result:
    spec = {"client": client, "env": env, "path": str(path), "md5": md5, "window": WINDOW}
    spec["data"] = str(DATA / "sandbox")
    process = subprocess.run(  # the spec (with the sandbox's tokens) on stdin, not in argv
        [sys.executable, __file__, "--child"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=WINDOW + 600,
        check=False,
    )
    lines = [line for line in process.stdout.splitlines() if line.startswith("{")]
    if os.environ.get("BENCH_WAN_TRACE"):
        sys.stderr.write(process.stderr)
    if not lines:
        return Result(0, 0.0, False, f"exit {process.returncode}: {process.stderr[-300:]!r}")
    data = json.loads(lines[-1])
    return Result(
        data["confirmed"],
        data["seconds"],
        data["complete"],
        data["note"],
        data["with_complete"],
        data["received"],
    )


def open_api(env: dict[str, str]) -> Any:
    """A YoukuClient for the sandbox on 10.200.0.2 (plain http beyond loopback is refused to
    users: this benchmark's link is a private namespace of this machine)."""
    import youku_tui.api.client as api_client
    from youku_tui.config import Credentials

    api_client.check_api_base = lambda url: url.strip().rstrip("/")  # type: ignore[attr-defined]
    return api_client.YoukuClient(
        Credentials(env["YOUKU_CLIENT_ID"], env["YOUKU_ACCESS_TOKEN"], env["YOUKU_REFRESH_TOKEN"]),
        api_base=env["YOUKU_API_BASE"],
    )


def report(
    confirmed: int,
    seconds: float,
    complete: bool,
    note: str = "",
    with_complete: float = 0.0,
    received: int = 0,
) -> None:
    record = {"confirmed": confirmed, "seconds": seconds, "complete": complete, "note": note}
    record.update(with_complete=with_complete, received=received)
    print(json.dumps(record), flush=True)
    os._exit(0)  # the window ended: leave the threads still sending behind


def received_bytes(spec: dict[str, Any]) -> int:
    """What the sandbox holds on disk: stored parts and the bodies still streaming in. With
    10 MiB parts at 1 Mbit/s a connection, no part is confirmed within a minute; this still
    tells how much crossed the link."""
    files = Path(spec["data"]).rglob("*")
    return sum(f.stat().st_size for f in files if f.is_file() and f.suffix != ".json")


def child_engine(spec: dict[str, Any]) -> None:
    if os.environ.get("BENCH_WAN_TRACE"):  # the concurrency decisions, on stderr
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(relativeCreated)7.0f %(message)s")
        logging.getLogger("youku_tui.engine.concurrency").setLevel(logging.DEBUG)
        for noisy in ("urllib3", "oss2", "httpx", "httpcore", "asyncio"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    from youku_tui.config import EngineSettings
    from youku_tui.engine.events import EngineEvent, StateChanged
    from youku_tui.engine.manager import UploadEngine
    from youku_tui.engine.states import UploadState
    from youku_tui.metadata import VideoMetadata

    client_name = spec["client"]
    if client_name.startswith("fixed"):  # fixedN or fixedN:PART_KIB
        parts, _, part_kib = client_name[5:].partition(":")
        part_size = int(part_kib) * 1024 if part_kib else 10 * MIB
        settings = EngineSettings(max_parts=int(parts), part_size=part_size)
    else:
        settings = EngineSettings()
    path = Path(spec["path"])
    size = path.stat().st_size
    started: list[float] = []
    ended: list[float] = []

    def sink(event: EngineEvent) -> None:
        if isinstance(event, StateChanged):
            if event.new is UploadState.UPLOADING:
                started.append(time.monotonic())
            elif event.new is UploadState.COMMITTING:
                ended.append(time.monotonic())

    async def run() -> None:
        checkpoints = DATA / "engine-checkpoints"
        shutil.rmtree(checkpoints, ignore_errors=True)
        async with (
            open_api(spec["env"]) as client,
            UploadEngine(client, checkpoints, settings, sink) as engine,
        ):
            upload_id = engine.add(path, VideoMetadata(title="wan", tags=("bench", "wan")))
            while not started:  # noqa: ASYNC110 - the sink runs on this loop; a poll is simplest
                await asyncio.sleep(0.01)
            deadline = started[0] + spec["window"]
            peak = 0
            parts_at = 0.0  # when OSS had confirmed every part (Complete comes next)
            while not ended and (parts_at or time.monotonic() < deadline):
                await asyncio.sleep(0.02)
                peak = max(peak, engine.parts_in_flight_limit)
                snap = engine.snapshot(upload_id)
                if snap.state is UploadState.FAILED:
                    raise RuntimeError(snap.last_error)
                if not parts_at and snap.bytes_done >= size:
                    parts_at = time.monotonic()
            snap = engine.snapshot(upload_id)
            note = f"parts {snap.parts_total}, in flight up to {peak}"
            if ended:
                start = started[0]
                report(size, (parts_at or ended[0]) - start, True, note, ended[0] - start)
            seconds = time.monotonic() - started[0]
            report(snap.bytes_done, seconds, False, note, received=received_bytes(spec))

    asyncio.run(run())


def child_oss2(spec: dict[str, Any]) -> None:
    import oss2

    from youku_tui.metadata import VideoMetadata

    threads = int(spec["client"].removeprefix("oss2x"))
    path = Path(spec["path"])
    size = path.stat().st_size

    async def create() -> Any:
        async with open_api(spec["env"]) as client:
            return await client.create(
                file_name=path.name,
                file_md5=spec["md5"],
                file_size=size,
                metadata=VideoMetadata(title="wan oss2", tags=("bench", "oss2")),
            )

    created = asyncio.run(create())
    sts = created.sts
    auth = oss2.StsAuth(sts.access_key_id, sts.access_key_secret, sts.security_token)
    bucket = oss2.Bucket(auth, sts.endpoint_url, created.oss_bucket)
    key = created.oss_object
    store = DATA / "oss2-store"
    shutil.rmtree(store, ignore_errors=True)
    start = time.monotonic()

    def at_deadline() -> None:
        # Bytes OSS holds in parts of the unfinished multipart upload (its own ListParts).
        confirmed = 0
        for upload in oss2.ObjectUploadIterator(bucket, key):
            confirmed += sum(p.size for p in oss2.PartIterator(bucket, key, upload.upload_id))
        report(confirmed, time.monotonic() - start, False, received=received_bytes(spec))

    parts_at: list[float] = []

    def progress(consumed: int, total: int | None) -> None:
        if total and consumed >= total and not parts_at:  # said once every part is stored
            parts_at.append(time.monotonic())
            timer.cancel()

    timer = threading.Timer(spec["window"], at_deadline)
    timer.daemon = True
    timer.start()
    oss2.resumable_upload(
        bucket,
        key,
        str(path),
        store=oss2.ResumableStore(root=str(store)),
        num_threads=threads,
        progress_callback=progress,
    )
    ended = time.monotonic()
    timer.cancel()
    report(size, (parts_at[0] if parts_at else ended) - start, True, "", ended - start)


# --- the run ---------------------------------------------------------------------------------


def label(client: str) -> str:
    if client == "defaults":
        return "youku-tui defaults"
    if client.startswith("fixed"):
        parts, _, part_kib = client[5:].partition(":")
        return f"youku-tui fixed {parts} x {f'{part_kib} KiB' if part_kib else '10 MiB'}"
    return f"oss2.resumable_upload {client.removeprefix('oss2x')} thr"


def main() -> int:
    if sys.argv[1:] == ["--child"]:
        spec = json.loads(sys.stdin.read())
        (child_oss2 if spec["client"].startswith("oss2") else child_engine)(spec)
        return 0
    if os.geteuid() != 0 or not os.access(LINK, os.X_OK) or shutil.which("ip") is None:
        print(f"bench_wan needs root, `ip` and the link script ({LINK}): skipped")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `link down` still runs
    from youku_tui.engine.connections import congestion_option
    from youku_tui.engine.hashing import md5_file

    clients = [c.strip() for c in CLIENTS.split(",") if c.strip()]
    files = {size: make_file(DATA / f"wan-{size}.mp4", size) for size in SIZES_MB}
    md5s = {size: md5_file(path) for size, path in files.items()}
    bbr = "asked for (the route's lock wins)" if congestion_option() else "not available"
    print(
        f"bench_wan: {RATE_MBIT} Mbit/s, CUBIC locked on the route, BBR {bbr}; goodput over "
        f"the whole file or the first {WINDOW:.0f} s of sending, whichever ends first; "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    table: dict[tuple[str, int], dict[tuple[int, float], Result]] = {}
    for delay, loss in PATHS:
        print(f"RTT {2 * delay} ms, {loss} % loss each way:")
        with shaped_link(delay, loss):
            for size in SIZES_MB:
                for client in clients:
                    with sandbox_in_namespace(DATA / "sandbox") as env:  # spec["data"]
                        result = run_client(client, env, files[size], md5s[size])
                    table.setdefault((client, size), {})[(delay, loss)] = result
                    how = "whole file" if result.complete else f"first {result.seconds:.0f} s"
                    if not result.complete:
                        how += f"; {100 * share(result.received, result.seconds):.1f} % received"
                    if result.with_complete:
                        with_complete = result.confirmed * 8 / result.with_complete / 1e6
                        how += f"; {100 * with_complete / RATE_MBIT:.1f} % with Complete"
                    print(
                        f"  {size:>5} MiB  {label(client):<34} {100 * result.share():5.1f} % "
                        f"({result.confirmed * 8 / max(result.seconds, 1e-9) / 1e6:6.1f} Mbit/s, "
                        f"{result.confirmed // MIB} MiB in {result.seconds:.1f} s, {how})"
                        + (f"  [{result.note}]" if result.note else ""),
                        flush=True,
                    )
    print()
    heads = [f"RTT {2 * d} ms, {loss} % loss" for d, loss in PATHS]
    print("| client | file | " + " | ".join(heads) + " |")
    print("|---|---|" + "---|" * len(heads))
    for (client, size), results in table.items():
        cells = [results[p].cell() for p in PATHS if p in results]
        print(f"| {label(client)} | {size} MiB | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
