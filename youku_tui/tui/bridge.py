"""The bridge between the engine and the screen: events are buffered, painted in batches.

The engine calls :meth:`EngineBridge.sink` on the event loop for every event. Nothing is
painted there: the latest Progress per upload replaces the previous one, other events are
appended, and the dashboard drains the buffer a few times a second. A flood of progress
events thus costs a dict assignment each, and the screen is repainted once per tick.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from youku_tui.engine.events import (
    CredentialsRenewed,
    EngineEvent,
    LimitsChanged,
    Progress,
    Retrying,
    StateChanged,
    TokenRefreshed,
    UploadAdded,
    UploadDone,
    UploadFailed,
    UploadLog,
    watch_url,
)
from youku_tui.engine.states import FailureKind

LOG_LINES_PER_UPLOAD = 200


@dataclass(slots=True)
class Drained:
    """What arrived since the last paint."""

    progress: dict[str, Progress] = field(default_factory=dict)
    events: list[EngineEvent] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.progress or self.events)


def describe_event(event: EngineEvent) -> str | None:
    """One line for an upload's event log, or None for events that are not logged."""
    match event:
        case UploadAdded():
            return f"added ({event.state})"
        case StateChanged():
            reason = f": {event.reason}" if event.reason else ""
            return f"{event.old} → {event.new}{reason}"
        case Retrying():
            code = f" [{event.code}]" if event.code else ""
            part = f" part {event.part_number}" if event.part_number else ""
            return f"retry {event.attempt}{part} in {event.delay:.1f}s: {event.error}{code}"
        case CredentialsRenewed():
            reason = f" ({event.reason})" if event.reason else ""
            return f"STS credentials renewed{reason}, expire {event.expire_time}"
        case TokenRefreshed():
            return "access token refreshed"
        case UploadLog():
            return f"{event.level}: {event.message}"
        case UploadFailed():
            code = f"Youku {event.code}: " if event.code else ""
            return f"FAILED: {code}{event.error}"
        case UploadDone():
            return f"done: video_id {event.video_id} {event.url or watch_url(event.video_id)}"
        case LimitsChanged():
            return None
        case _:
            return None


class EngineBridge:
    """Buffers engine events for batched painting and keeps each upload's log."""

    def __init__(self) -> None:
        self._progress: dict[str, Progress] = {}
        self._events: list[EngineEvent] = []
        self.logs: dict[str, deque[str]] = {}
        self.speeds: dict[str, float] = {}  # latest smoothed speed per upload
        self.phases: dict[str, str] = {}
        self.video_ids: dict[str, str] = {}
        self.not_logged_in = False

    def sink(self, event: EngineEvent, /) -> None:
        """The engine's callback: O(1), never touches a widget."""
        if isinstance(event, Progress):
            self._progress[event.upload_id] = event
        else:
            self._events.append(event)

    def drain(self) -> Drained:
        drained = Drained(self._progress, self._events)
        self._progress, self._events = {}, []
        for upload_id, progress in drained.progress.items():
            self.speeds[upload_id] = progress.speed
            self.phases[upload_id] = progress.phase
        for event in drained.events:
            self._record(event)
        return drained

    def _record(self, event: EngineEvent) -> None:
        if isinstance(event, StateChanged) and not event.new.is_active:
            self.speeds.pop(event.upload_id, None)
        if isinstance(event, UploadDone):
            self.video_ids[event.upload_id] = event.video_id
        if isinstance(event, UploadFailed) and event.failure is FailureKind.NEEDS_LOGIN:
            self.not_logged_in = True
        line = describe_event(event)
        if line is None or not event.upload_id:
            return
        stamp = time.strftime("%H:%M:%S", time.localtime(event.at))
        log = self.logs.setdefault(event.upload_id, deque(maxlen=LOG_LINES_PER_UPLOAD))
        log.append(f"{stamp} {line}")

    def logged_in_again(self) -> None:
        """Forget the login failure (the engine retries what it failed)."""
        self.not_logged_in = False

    def log_lines(self, upload_id: str) -> Iterable[str]:
        return self.logs.get(upload_id, ())
