"""Against the sandbox: under a bandwidth cap the uploads waiting for their share say so;
a cancelled upload can be retried, as a new Youku upload."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from e2e_helpers import MIB, make_video, wait_for_parts

from youku_tui.engine.manager import UploadEngine
from youku_tui.engine.states import UploadState
from youku_tui.metadata import VideoMetadata

META = VideoMetadata(title="Clip", tags=("test", "sandbox"))


async def test_uploads_waiting_for_the_cap_say_so(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox()
    paths = [make_video(tmp_path / "videos", f"k{n}.mp4", 3 * MIB)[0] for n in (1, 2, 3)]
    h = harness(sandbox, max_uploads=3, max_parts=6, bandwidth=1 * MIB)
    async with h as engine:
        ids = [engine.add(path, META) for path in paths]

        async def first_sends_and_the_others_wait() -> None:
            while True:
                snaps = [engine.snapshot(i) for i in ids]
                if all(s.state is UploadState.UPLOADING for s in snaps) and [
                    s.waiting_for_bandwidth for s in snaps
                ] == [False, True, True]:
                    return
                await asyncio.sleep(0.05)

        await asyncio.wait_for(first_sends_and_the_others_wait(), 30)
        engine.set_limits(bandwidth=0)  # no cap: nobody waits any more
        await asyncio.wait_for(engine.wait_idle(), 60)
        snaps = [engine.snapshot(i) for i in ids]
        assert all(s.state is UploadState.DONE for s in snaps)
        assert not any(s.waiting_for_bandwidth for s in snaps)


async def wait_state(engine: UploadEngine, upload_id: str, state: UploadState) -> None:
    while engine.snapshot(upload_id).state is not state:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


async def test_a_cancelled_upload_can_be_retried_as_a_new_upload(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB")
    path, md5 = make_video(tmp_path / "videos", "again.mp4", 8 * MIB)
    h = harness(sandbox, max_parts=2)
    async with h as engine:
        upload_id = engine.add(path, META)
        await asyncio.wait_for(wait_for_parts(engine, upload_id, 2), 20)
        await asyncio.wait_for(engine.cancel(upload_id), 10)
        assert engine.snapshot(upload_id).state is UploadState.CANCELLED
        assert engine.load_checkpoints(start=True) == []  # resume leaves it alone
        assert engine.snapshot(upload_id).state is UploadState.CANCELLED
        sandbox.set_faults("")
        engine.retry(upload_id)
        await asyncio.wait_for(wait_state(engine, upload_id, UploadState.DONE), 60)
    assert sandbox.stats()["oss.abort"] == 1
    assert sandbox.stats()["api.create"] == 2  # a new upload session, not the aborted one
    videos = sandbox.videos()
    assert len(videos) == 1 and videos[0]["md5"] == md5
