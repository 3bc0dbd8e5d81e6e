"""Against the sandbox: under a bandwidth cap the uploads waiting for their share say so."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.e2e.e2e_helpers import MIB, make_video
from tests.polling import until
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

        def first_sends_and_the_others_wait() -> bool:
            snaps = [engine.snapshot(i) for i in ids]
            return all(s.state is UploadState.UPLOADING for s in snaps) and [
                s.waiting_for_bandwidth for s in snaps
            ] == [False, True, True]

        await until(
            first_sends_and_the_others_wait, "the first to send, the others to wait", within=30
        )
        engine.set_limits(bandwidth=0)  # no cap: nobody waits any more
        await asyncio.wait_for(engine.wait_idle(), 60)
        snaps = [engine.snapshot(i) for i in ids]
        assert all(s.state is UploadState.DONE for s in snaps)
        assert not any(s.waiting_for_bandwidth for s in snaps)
