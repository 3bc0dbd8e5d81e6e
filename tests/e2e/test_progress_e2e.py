"""Progress tells the truth: only what OSS confirmed counts as done (issue 10, item 1)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.e2e.e2e_helpers import MIB, SMALL_PARTS, make_video, wait_for_parts
from youku_tui.engine.events import Progress
from youku_tui.engine.states import UploadState
from youku_tui.metadata import VideoMetadata

META = VideoMetadata(title="Clip", tags=("test", "sandbox"))


async def test_done_counts_confirmed_parts_and_in_flight_is_apart(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    # Slow parts: each takes about 0.25 s to send, so progress ticks land mid-part.
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB")
    path, _ = make_video(tmp_path / "videos", "p.mp4", 4 * MIB)
    h = harness(sandbox, max_parts=2)
    async with h as engine:
        upload_id = engine.add(path, META)
        await wait_for_parts(engine, upload_id, 3, within=20)
        engine.pause(upload_id)
        await asyncio.wait_for(engine.wait_idle(), 10)
        paused = engine.snapshot(upload_id)
    assert paused.state is UploadState.PAUSED
    # What a pause keeps is exactly what was shown as done; nothing is in flight any more.
    assert paused.bytes_done == paused.parts_done * SMALL_PARTS
    assert paused.bytes_in_flight == 0
    uploading = [e for e in h.events if isinstance(e, Progress) and e.phase == "uploading"]
    assert uploading
    for event in uploading:
        assert event.done == event.parts_done * SMALL_PARTS, event
        assert event.done + event.in_flight <= event.total
    # Bytes on their way were reported, apart from the confirmed ones.
    assert any(e.in_flight > 0 for e in uploading)
    assert uploading[-1].in_flight == 0
