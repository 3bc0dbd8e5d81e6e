"""Parts in flight follow the path (issue 12), connections are reused, against the sandbox."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

from tests.e2e.e2e_helpers import KIB, MIB, make_video
from youku_tui.engine import transfer
from youku_tui.engine.connections import congestion_option
from youku_tui.engine.manager import UploadEngine
from youku_tui.engine.states import UploadState
from youku_tui.metadata import VideoMetadata

META = VideoMetadata(title="Clip", tags=("test", "sandbox"))


async def watch_limit(engine: UploadEngine, upload_id: str) -> list[int]:
    """The parts-in-flight limit, polled until the upload settles."""
    seen = [engine.parts_in_flight_limit]
    while (state := engine.snapshot(upload_id).state).is_active or state is UploadState.QUEUED:
        seen.append(engine.parts_in_flight_limit)
        await asyncio.sleep(0.05)
    return seen


async def upload_watching_limit(
    sandbox: Any, harness: Any, tmp_path: Path, size: int, ceiling: int
) -> list[int]:
    """Upload one file with adaptive parts of 100 KiB; the limits seen, first to last."""
    path, md5 = make_video(tmp_path / "videos", "w.mp4", size)
    h = harness(sandbox, max_parts=0, max_connections=ceiling, part_size=100 * KIB)
    async with h as engine:
        upload_id = engine.add(path, META)
        seen = await asyncio.wait_for(watch_limit(engine, upload_id), 60)
        snap = engine.snapshot(upload_id)
    assert snap.state is UploadState.DONE, snap.last_error
    assert sandbox.videos()[0]["md5"] == md5
    return seen


async def test_parts_in_flight_grow_where_each_connection_is_slow(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    # Each connection carries 100 KB/s: more connections, more goodput (a long, lossy path).
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:100KB")
    seen = await upload_watching_limit(sandbox, harness, tmp_path, 6 * MIB, ceiling=16)
    assert seen[0] == 4  # a quarter of the ceiling to start with
    assert max(seen) == 16  # doubled to the ceiling as goodput grew


async def test_parts_in_flight_shrink_on_throttling_answers(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.upload_part=503#3")
    seen = await upload_watching_limit(sandbox, harness, tmp_path, 4 * MIB, ceiling=32)
    assert seen[0] == 8
    assert min(seen) == 4  # halved once for the burst of 503 answers
    assert sandbox.stats()["oss.upload_part"] > 41  # the refused parts were sent again


async def test_connections_are_reused_across_parts_and_renewals(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    # 3 x 1.5 MiB/s: 6 MiB take 1.3 s, past the planned renewal 1 s into 1.5 s credentials.
    sandbox = make_sandbox(sts_ttl=1.5, faults="oss.upload_part=bandwidth:1.5MiB")
    path, _ = make_video(tmp_path / "videos", "r.mp4", 6 * MIB)
    h = harness(sandbox, max_parts=3)  # 24 parts of 256 KiB, 3 at a time
    async with h as engine:
        upload_id = engine.add(path, META)
        await asyncio.wait_for(engine.wait_idle(), 60)
        assert engine.snapshot(upload_id).state is UploadState.DONE
        adapter = engine._ctx.oss_session.session.get_adapter(sandbox.api_base)
        manager = adapter.poolmanager
        pools = [manager.pools[key] for key in manager.pools.keys()]  # noqa: SIM118
        opened = sum(pool.num_connections for pool in pools)
        idle = [conn for pool in pools for conn in list(pool.pool.queue) if conn is not None]
    assert h.of_kind("sts_renewed"), "the credentials were not renewed during the upload"
    assert sandbox.stats()["oss.upload_part"] == 24
    # One connection per part in flight, kept for every later part, renewal and call.
    assert opened <= 3
    option = congestion_option()
    if option is not None:  # where the kernel lets us pick BBR, the connections use it
        cc = idle[0].sock.getsockopt(socket.IPPROTO_TCP, option[1], 16)
        assert cc.rstrip(b"\0") == option[2]


async def test_a_complete_that_times_out_while_oss_assembles_is_waited_for(
    make_sandbox: Any, harness: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """Complete of many parts may outlast the read timeout; the retry then meets NoSuchUpload
    while the object is not there yet. The upload waits for it instead of failing."""
    sandbox = make_sandbox()
    multipart = sandbox.sandbox._oss.multipart
    finish = multipart._finish

    async def slow_finish(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(2.0)  # assembling a big object on a busy disk
        return await finish(*args, **kwargs)

    monkeypatch.setattr(multipart, "_finish", slow_finish)
    monkeypatch.setattr(transfer, "CONNECT_TIMEOUT", 0.5)  # oss2's read timeout too
    path, md5 = make_video(tmp_path / "videos", "c.mp4", 2 * MIB)
    h = harness(sandbox, max_parts=4)
    async with h as engine:
        upload_id = engine.add(path, META)
        await asyncio.wait_for(engine.wait_idle(), 60)
        snap = engine.snapshot(upload_id)
    assert snap.state is UploadState.DONE, snap.last_error
    assert sandbox.videos()[0]["md5"] == md5
    assert sandbox.stats()["oss.complete"] >= 2  # the first answer was lost to the timeout
