"""Chaos: many uploads through faults, short credentials and SIGKILLs; nothing may be lost.

    python benchmarks/chaos.py            # the long form (run by hand; figures in the README)
    python benchmarks/chaos.py --short    # the short form (tests/e2e/test_chaos.py runs it)

A sandbox runs in this process with faults on every route and short STS and access-token
lifetimes. ``youku-tui upload`` / ``youku-tui resume`` run as child processes (the real CLI,
real httpx and oss2) and are killed with SIGKILL at random moments, then started again, until
every file is committed or the time limit passes. At the end every file must be committed
exactly once, with its source's MD5.

Printed: uploads, upload sessions, kills, faults fired, STS renewals, token refreshes,
retries, bytes sent to OSS, bytes re-sent (sent beyond the files' sizes), bytes lost (of files
not committed with their MD5) and double commits.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KIB = 1024
MIB = 1024 * KIB

DEFAULT_FAULTS = (
    "api.create=503@0.08,api.create=drop@0.04,api.get_sts=503@0.1,api.get_sts=drop@0.05,"
    "api.commit=503@0.1,api.commit=drop@0.08,api.token=503@0.1,"
    "oss.upload_part=503@0.04,oss.upload_part=drop@0.03,oss.put_object=503@0.05,"
    "oss.put_object=drop@0.03,oss.initiate=503@0.1,oss.complete=503@0.1,oss.complete=drop@0.05,"
    "oss.list_parts=503@0.1,oss.head=503@0.1,oss.*=latency:30@0.05"
)


@dataclass
class ChaosConfig:
    files: int = 200
    typical_size: int = 32 * MIB  # sizes spread log-uniformly from 1 KiB up to this
    max_size: int = 300 * MIB  # and ``big_files`` files this big
    big_files: int = 2
    part_size: int = 1 * MIB
    kills: int = 24
    kill_after: tuple[float, float] = (1.0, 8.0)  # seconds a run lives before its SIGKILL
    sts_ttl: float = 6.0
    token_ttl: float = 8.0
    faults: str = DEFAULT_FAULTS
    seed: int = 1
    time_limit: float = 15 * 60
    jobs: int = 4
    parts: int = 8


SHORT = ChaosConfig(
    files=12,
    typical_size=2 * MIB,
    max_size=4 * MIB,
    big_files=1,
    part_size=128 * KIB,
    kills=8,
    kill_after=(0.8, 2.5),
    sts_ttl=3.0,
    token_ttl=4.0,
    # Slow OSS down so the kills land in the middle of transfers, not only at start-up.
    faults=DEFAULT_FAULTS + ",oss.upload_part=bandwidth:128KB,oss.put_object=bandwidth:128KB",
    time_limit=50.0,
    jobs=4,
    parts=8,
)


@dataclass
class ChaosReport:
    uploads: int = 0
    sessions: int = 0
    kills: int = 0
    runs: int = 0
    faults: int = 0
    renewals: int = 0
    refreshes: int = 0
    retries: int = 0
    bytes_total: int = 0
    bytes_sent: int = 0
    committed: int = 0
    double_commits: int = 0
    bytes_lost: int = 0
    failed_retried: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def bytes_resent(self) -> int:
        return max(0, self.bytes_sent - self.bytes_total)

    def lines(self) -> list[str]:
        mib = MIB
        return [
            f"uploads {self.uploads} ({self.bytes_total / mib:.1f} MiB), upload sessions "
            f"{self.sessions}, runs {self.runs}, kills {self.kills}, {self.seconds:.0f} s",
            f"faults fired {self.faults}, STS fetches (get_sts_inf) {self.renewals}, "
            f"token refreshes {self.refreshes}, retries {self.retries}",
            f"bytes sent {self.bytes_sent / mib:.1f} MiB, re-sent {self.bytes_resent / mib:.1f} "
            f"MiB ({100 * self.bytes_resent / max(1, self.bytes_total):.1f}%), "
            f"bytes lost {self.bytes_lost}",
            f"committed {self.committed}/{self.uploads}, double commits {self.double_commits}",
            f"failed uploads retried {self.failed_retried} ({dict(self.failures)})",
            *(f"problem: {p}" for p in self.problems),
        ]


def file_sizes(config: ChaosConfig, rng: random.Random) -> list[int]:
    """The edge cases first (1 byte, one part exactly, one part plus one), then random sizes
    spread over orders of magnitude up to ``max_size``."""
    part = config.part_size
    edges = [1, part, part + 1, 2 * part, 3 * part - 1]
    sizes = edges[: config.files]
    top = max(11.0, float(config.typical_size.bit_length() - 1))
    while len(sizes) < config.files - config.big_files:
        sizes.append(int(2 ** rng.uniform(10, top)))
    while len(sizes) < config.files:
        sizes.append(config.max_size)
    return sizes


def write_file(path: Path, size: int, rng: random.Random) -> str:
    """Unique pseudo-random bytes (no two files alike); returns the MD5."""
    digest = hashlib.md5()
    block = rng.randbytes(min(size, 4 * MIB))
    with path.open("wb") as handle:
        written = 0
        counter = 0
        while written < size:
            chunk = (counter.to_bytes(8, "big") + block)[: min(len(block) + 8, size - written)]
            handle.write(chunk)
            digest.update(chunk)
            written += len(chunk)
            counter += 1
    return digest.hexdigest()


def _count_events(output: bytes, counts: Counter[str]) -> None:
    for line in output.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the line a SIGKILL cut short
        if isinstance(record, dict):
            counts[str(record.get("event", ""))] += 1


def run(config: ChaosConfig, workdir: Path, *, log: Any = print) -> ChaosReport:
    from youku_tui.engine.checkpoint import CheckpointStore
    from youku_tui.engine.states import UploadState
    from youku_tui.sandbox import SandboxThread

    rng = random.Random(config.seed)
    report = ChaosReport()
    videos_dir = workdir / "videos"
    videos_dir.mkdir(parents=True)
    home = workdir / "home"
    env_dirs = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / "config",
        "XDG_STATE_HOME": home / "state",
        "XDG_DATA_HOME": home / "data",
        "XDG_CACHE_HOME": home / "cache",
    }
    for folder in env_dirs.values():
        folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, tuple[int, str]] = {}  # path -> (size, md5)
    for index, size in enumerate(file_sizes(config, rng)):
        path = videos_dir / f"chaos-{index:03d}.mp4"
        files[str(path)] = (size, write_file(path, size, rng))
    report.uploads = len(files)
    report.bytes_total = sum(size for size, _ in files.values())
    log(f"chaos: {len(files)} files, {report.bytes_total / MIB:.1f} MiB, seed {config.seed}")

    store = CheckpointStore(env_dirs["XDG_STATE_HOME"] / "youku-tui" / "uploads")
    events: Counter[str] = Counter()
    started = time.monotonic()
    with SandboxThread(
        data_dir=workdir / "sandbox",
        sts_ttl=config.sts_ttl,
        token_ttl=config.token_ttl,
        faults=config.faults,
        seed=config.seed,
    ) as sandbox:
        env = {
            **os.environ,
            **{k: str(v) for k, v in env_dirs.items()},
            **sandbox.env(),
            "PYTHONUNBUFFERED": "1",
        }
        common = ["--json", "--jobs", str(config.jobs), "--parts", str(config.parts)]
        while time.monotonic() - started < config.time_limit:
            committed_md5s = Counter(v["md5"] for v in sandbox.videos())
            if all(committed_md5s[md5] for _, md5 in files.values()):
                break
            checkpoints, _problems = store.load_all()
            known = {cp.identity.path for cp in checkpoints}
            new = [p for p in files if p not in known]
            failed = [cp.upload_id for cp in checkpoints if cp.state is UploadState.FAILED]
            if new:
                command = ["upload", *new, "--tags", "chaos,test"]
                command += ["--part-size", str(config.part_size), *common]
            elif failed:  # `resume` leaves failed uploads alone; a user would `retry` them
                command = ["retry", *failed, *common]
                report.failed_retried += len(failed)
                report.failures.update(
                    cp.last_error_class for cp in checkpoints if cp.state is UploadState.FAILED
                )
            else:
                command = ["resume", *common]
            process = subprocess.Popen(
                [sys.executable, "-m", "youku_tui", *command],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            report.runs += 1
            kill = report.kills < config.kills
            limit = rng.uniform(*config.kill_after) if kill else config.time_limit
            try:
                out, err = process.communicate(timeout=limit)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                out, err = process.communicate()
                report.kills += 1
            _count_events(out, events)
            if process.returncode not in (0, 1, -signal.SIGKILL):
                tail = err.decode(errors="replace")[-300:]
                report.problems.append(f"{command[0]} exited {process.returncode}: {tail}")
        report.seconds = time.monotonic() - started
        committed = Counter(v["md5"] for v in sandbox.videos())
        stats = sandbox.stats()
        log(f"requests per route: {dict(sorted(stats.items()))}")
        report.faults = sum(rule.fired for rule in sandbox.sandbox.faults.rules)
        report.bytes_sent = stats["oss.bytes_received"] + stats["oss.bytes_discarded"]
        state = json.loads((workdir / "sandbox" / "state.json").read_bytes())
        report.sessions = len(state.get("sessions", {}))
    report.renewals = stats["api.get_sts"]
    report.refreshes = events["token_refreshed"]
    report.retries = events["retry"]
    for name, (size, md5) in files.items():
        count = committed[md5]
        report.committed += 1 if count else 0
        if count > 1:
            report.double_commits += 1
            report.problems.append(f"{Path(name).name} committed {count} times")
        if count == 0:
            report.bytes_lost += size
            report.problems.append(f"{Path(name).name} ({size} bytes) never committed")
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the short form CI runs")
    parser.add_argument("--files", type=int)
    parser.add_argument("--max-mb", type=int)
    parser.add_argument("--kills", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--minutes", type=float)
    args = parser.parse_args()
    config = SHORT if args.short else ChaosConfig()
    if args.files is not None:
        config.files = args.files
    if args.max_mb is not None:
        config.max_size = args.max_mb * MIB
        config.typical_size = min(config.typical_size, config.max_size)
    if args.kills is not None:
        config.kills = args.kills
    if args.seed is not None:
        config.seed = args.seed
    if args.minutes is not None:
        config.time_limit = args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="youku-chaos-") as workdir:
        report = run(config, Path(workdir))
    for line in report.lines():
        print(line)
    ok = report.bytes_lost == 0 and report.double_commits == 0 and not report.problems
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
