"""A deterministic stand-in for the uploads' owner (UploadControl): fixed snapshots,
commands recorded.

Used for snapshot tests (which must not depend on clocks or speeds) and for widget tests;
the end-to-end tests drive the real engine against the sandbox.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from youku_tui.config import Credentials, EngineSettings
from youku_tui.engine.events import EngineEvent, EventSink
from youku_tui.engine.manager import CheckpointProblem, UploadSnapshot
from youku_tui.engine.states import UploadState
from youku_tui.metadata import VideoMetadata
from youku_tui.service.control import OwnerInfo, UploadControl

MB = 1024 * 1024


def sample_snapshots() -> list[UploadSnapshot]:
    S = UploadState
    rows = [
        ("u1", "holiday-2026-beach.mp4", S.UPLOADING, 400 * MB, 150 * MB, 12, 32, 0, "", ""),
        ("u2", "conference-keynote.mov", S.UPLOADING, 1200 * MB, 900 * MB, 58, 75, 2,
         "connection reset", ""),
        ("u3", "cat.mkv", S.DONE, 80 * MB, 80 * MB, 8, 8, 0, "", ""),
        ("u4", "drone-over-the-lake-at-sunset-4k.mp4", S.FAILED, 2048 * MB, 512 * MB, 32, 128,
         6, "Expired upload token", "120010223"),
        ("u5", "birthday.avi", S.PAUSED, 300 * MB, 100 * MB, 10, 30, 0, "", ""),
        ("u6", "lecture-01.mp4", S.HASHING, 700 * MB, 0, 0, 0, 0, "", ""),
        ("u7", "lecture-02.mp4", S.QUEUED, 650 * MB, 0, 0, 0, 0, "", ""),
    ]  # fmt: skip
    snaps = []
    for pos, (uid, name, state, size, done, pd, pt, retries, err, code) in enumerate(rows):
        snaps.append(
            UploadSnapshot(
                upload_id=uid,
                path=f"/srv/videos/{name}",
                title=Path(name).stem,
                size=size,
                state=state,
                bytes_done=done,
                hashed=size // 3 if state is S.HASHING else size,
                parts_done=pd,
                parts_total=pt,
                retries=retries,
                last_error=err,
                last_error_code=code,
                video_id="XNjA1MjY0NDQ4MA==" if state is S.DONE else "",
                position=pos,
            )
        )
    return snaps


CJK_NAME = "旅行.mp4"


def cjk_snapshots() -> list[UploadSnapshot]:
    """The sample uploads after a first one with a CJK name (two cells a character)."""
    snaps = sample_snapshots()
    first = snaps[0]
    return [
        replace(
            first,
            upload_id="u0",
            path=f"/srv/videos/{CJK_NAME}",
            title="旅行",
            parts_done=2,
            parts_total=2,
        ),
        *[replace(s, position=s.position + 1) for s in snaps],
    ]


class FakeEngine:
    """An :class:`~youku_tui.service.control.UploadControl` with fixed snapshots; every
    command is recorded in ``calls``. ``in_service`` plays the per-user service's client."""

    def __init__(
        self, snapshots: list[UploadSnapshot] | None = None, *, in_service: bool = False
    ) -> None:
        self._snaps = {s.upload_id: s for s in (snapshots or [])}
        self.calls: list[tuple[str, object]] = []
        self.added: list[tuple[Path, VideoMetadata]] = []
        self.sinks: list[EventSink] = []
        self.login_blocked = False
        self.connected = True  # a client that lost its service: False
        self.limits = EngineSettings()
        self.owner = OwnerInfo(
            pid=4242, in_service=in_service, sandbox=False, state_dir="/nonexistent/uploads"
        )

    def _set(self, upload_id: str, state: UploadState) -> None:
        if upload_id in self._snaps:
            self._snaps[upload_id] = replace(self._snaps[upload_id], state=state)

    def subscribe(self, sink: EventSink) -> None:
        self.sinks.append(sink)

    def unsubscribe(self, sink: EventSink) -> None:
        self.sinks.remove(sink)

    def emit(self, event: EngineEvent) -> None:
        """Play the owner: deliver ``event`` to every subscribed view."""
        for sink in self.sinks:
            sink(event)

    def snapshots(self) -> list[UploadSnapshot]:
        return list(self._snaps.values())

    async def add(self, path: Path, metadata: VideoMetadata, *, start: bool = True) -> str:
        return self.add_now(path, metadata)

    def add_now(self, path: Path, metadata: VideoMetadata) -> str:
        """``add`` for a test's set-up, outside any event loop."""
        upload_id = f"n{len(self.added) + 1}"
        self.added.append((path, metadata))
        self._snaps[upload_id] = UploadSnapshot(
            upload_id=upload_id,
            path=str(path),
            title=metadata.title,
            size=path.stat().st_size,
            state=UploadState.QUEUED,
            position=len(self._snaps),
        )
        return upload_id

    async def resume_unfinished(
        self, *, start: bool, watch_password: str = ""
    ) -> list[CheckpointProblem]:
        self.calls.append(("resume_unfinished", start))
        return []

    async def cancel(self, upload_id: str) -> None:
        self.calls.append(("cancel", upload_id))
        self._set(upload_id, UploadState.CANCELLED)

    async def wait_idle(self) -> None:
        return None

    def pause(self, upload_id: str) -> None:
        self.calls.append(("pause", upload_id))
        self._set(upload_id, UploadState.PAUSED)

    def resume(self, upload_id: str) -> None:
        self.calls.append(("resume", upload_id))
        self._set(upload_id, UploadState.QUEUED)

    def retry(self, upload_id: str, *, watch_password: str = "") -> None:
        self.calls.append(("retry", (upload_id, watch_password) if watch_password else upload_id))
        self._set(upload_id, UploadState.QUEUED)

    def move(self, upload_id: str, delta: int) -> None:
        self.calls.append(("move", (upload_id, delta)))

    def remove(self, upload_id: str) -> None:
        self.calls.append(("remove", upload_id))
        self._snaps.pop(upload_id, None)

    def pause_all(self) -> None:
        self.calls.append(("pause_all", None))
        for uid, snap in self._snaps.items():
            if snap.state.is_active or snap.state is UploadState.QUEUED:
                self._set(uid, UploadState.PAUSED)

    def resume_all(self) -> None:
        self.calls.append(("resume_all", None))

    def set_limits(
        self,
        *,
        max_uploads: int | None = None,
        max_parts: int | None = None,
        bandwidth: int | None = None,
    ) -> None:
        self.calls.append(("set_limits", (max_uploads, max_parts, bandwidth)))

    def log_in(self, credentials: Credentials) -> None:
        self.calls.append(("log_in", credentials))

    async def close(self) -> None:
        self.calls.append(("close", None))


def as_control(engine: FakeEngine) -> UploadControl:
    """The fake, checked by mypy against the protocol it stands in for."""
    return engine
