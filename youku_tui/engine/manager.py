"""UploadEngine: the one object the TUI and the CLI drive. (Interface; engine agent fills in.)

Runs on an asyncio event loop (the Textual app's, or ``asyncio.run`` in the CLI). Blocking work
(hashing, oss2 calls) runs in threads; events are delivered to ``sink`` on the loop thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from youku_tui.api.client import YoukuClient
from youku_tui.config import EngineSettings
from youku_tui.engine.events import EventSink
from youku_tui.engine.states import UploadState
from youku_tui.metadata import VideoMetadata


@dataclass(frozen=True, slots=True)
class UploadSnapshot:
    """Everything a view shows about one upload, at one moment."""

    upload_id: str
    path: str
    title: str
    size: int
    state: UploadState
    bytes_done: int = 0
    hashed: int = 0
    parts_done: int = 0
    parts_total: int = 0
    retries: int = 0
    last_error: str = ""
    last_error_code: str = ""
    video_id: str = ""
    position: int = 0  # order in the queue


@dataclass(frozen=True, slots=True)
class CheckpointProblem:
    """A checkpoint that could not be loaded (set aside) or whose file changed."""

    path: Path
    message: str


class UploadEngine:
    def __init__(
        self,
        client: YoukuClient,
        checkpoint_dir: Path,
        settings: EngineSettings,
        sink: EventSink,
    ) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> UploadEngine:
        raise NotImplementedError

    async def __aexit__(self, *exc: object) -> None:
        """Pause what runs, save every checkpoint, close the OSS sessions."""
        raise NotImplementedError

    def add(self, path: Path, metadata: VideoMetadata, *, start: bool = True) -> str:
        """Queue a file; return its upload id. Raises MetadataError / LocalFileError first."""
        raise NotImplementedError

    def load_checkpoints(self, *, start: bool) -> list[CheckpointProblem]:
        """Load unfinished uploads from checkpoints (queued if ``start``, else paused)."""
        raise NotImplementedError

    def pause(self, upload_id: str) -> None: ...
    def resume(self, upload_id: str) -> None: ...
    def retry(self, upload_id: str) -> None: ...
    async def cancel(self, upload_id: str) -> None: ...
    def move(self, upload_id: str, delta: int) -> None: ...
    def pause_all(self) -> None: ...
    def resume_all(self) -> None: ...
    def set_limits(
        self,
        *,
        max_uploads: int | None = None,
        max_parts: int | None = None,
        bandwidth: int | None = None,
    ) -> None: ...
    def snapshots(self) -> list[UploadSnapshot]:
        raise NotImplementedError

    async def wait_idle(self) -> None:
        """Return once nothing is queued or running (done, failed, paused or cancelled)."""
        raise NotImplementedError
