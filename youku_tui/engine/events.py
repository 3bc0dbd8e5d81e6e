"""Typed events: everything the engine reports, through one interface.

The TUI and the CLI both consume these. Each event is a frozen dataclass that turns into a
plain JSON-safe dict (:meth:`EngineEvent.to_dict`) and back (:func:`event_from_dict`), so the
stream can be printed as JSON lines or carried to another process. Events never hold secrets.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from youku_tui.config import EngineSettings
from youku_tui.engine.states import FailureKind, UploadState


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineEvent:
    """Base of all engine events. ``upload_id`` is the local id (checkpoint name)."""

    kind: ClassVar[str] = "event"
    upload_id: str = ""
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        data = {"event": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            data[f.name] = str(value) if isinstance(value, StrEnum) else value
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadAdded(EngineEvent):
    """A new upload entered the engine (queued, or loaded from a checkpoint)."""

    kind: ClassVar[str] = "added"
    path: str
    title: str
    size: int
    state: UploadState
    position: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class StateChanged(EngineEvent):
    kind: ClassVar[str] = "state"
    old: UploadState
    new: UploadState
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress(EngineEvent):
    """Bytes hashed or uploaded so far; sent at a bounded rate, never per chunk.

    While uploading, ``done`` counts only what OSS confirmed (parts answered OK): that is what
    survives a stop. ``in_flight`` is what the sockets took beyond it, not yet answered (a
    lighter segment for views; a pause or a crash may lose it).
    """

    kind: ClassVar[str] = "progress"
    phase: str  # "hashing" or "uploading"
    done: int
    total: int
    in_flight: int = 0
    speed: float = 0.0  # bytes per second over the last seconds (engine/speed.py)
    parts_done: int = 0
    parts_total: int = 0
    # Uploading, but every byte waits while the bandwidth cap serves uploads earlier in the
    # queue (UploadSnapshot.waiting_for_bandwidth, carried to views in other processes).
    waiting_for_bandwidth: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Retrying(EngineEvent):
    kind: ClassVar[str] = "retry"
    attempt: int
    delay: float
    error: str
    code: str = ""  # Youku's numeric code or OSS's error code, as text
    part_number: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialsRenewed(EngineEvent):
    kind: ClassVar[str] = "sts_renewed"
    expire_time: str
    reason: str = ""  # "before expiry" or the OSS error code that forced it


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRefreshed(EngineEvent):
    """The access token was refreshed (one refresh shared by every upload)."""

    kind: ClassVar[str] = "token_refreshed"
    expires_in: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadLog(EngineEvent):
    """A line for the upload's event log (warnings, notes)."""

    kind: ClassVar[str] = "log"
    level: str  # "info", "warning" or "error"
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadFailed(EngineEvent):
    kind: ClassVar[str] = "failed"
    error: str
    error_class: str  # the exception's class name: for people and logs, never for decisions
    failure: FailureKind = FailureKind.OTHER  # what views and the engine act on
    code: str = ""
    field: str = ""  # the metadata field the error concerns, when one does


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadDone(EngineEvent):
    """The final event of a committed upload."""

    kind: ClassVar[str] = "done"
    video_id: str
    path: str = ""
    url: str = ""
    # Committed (unconfirmed): a repeated commit met "session gone" after an answer was lost.
    unconfirmed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitsChanged(EngineEvent):
    kind: ClassVar[str] = "limits"
    max_uploads: int
    max_parts: int
    bandwidth: int  # bytes per second, 0 = unlimited

    def applied_to(self, settings: EngineSettings) -> EngineSettings:
        """``settings`` as the owner now runs them (what a view mirrors)."""
        return replace(
            settings,
            max_uploads=self.max_uploads,
            max_parts=self.max_parts,
            bandwidth=self.bandwidth,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueOrder(EngineEvent):
    """The queue was reordered: every upload id, first to last."""

    kind: ClassVar[str] = "order"
    order: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadRemoved(EngineEvent):
    """A finished upload was forgotten (its checkpoint deleted)."""

    kind: ClassVar[str] = "removed"


EVENT_TYPES: dict[str, type[EngineEvent]] = {
    cls.kind: cls
    for cls in (
        UploadAdded,
        StateChanged,
        Progress,
        Retrying,
        CredentialsRenewed,
        TokenRefreshed,
        UploadLog,
        UploadFailed,
        UploadDone,
        LimitsChanged,
        QueueOrder,
        UploadRemoved,
    )
}


_ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "old": UploadState,
    "new": UploadState,
    "state": UploadState,
    "failure": FailureKind,
}


def event_from_dict(data: dict[str, Any]) -> EngineEvent:
    """Inverse of :meth:`EngineEvent.to_dict` (for a consumer in another process)."""
    data = dict(data)
    cls = EVENT_TYPES[data.pop("event")]
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            value = data[f.name]
            enum = _ENUM_FIELDS.get(f.name)
            kwargs[f.name] = value if enum is None else enum(value)
    return cls(**kwargs)


def watch_url(video_id: str) -> str:
    return f"https://v.youku.com/v_show/id_{video_id}.html"


class EventSink(Protocol):
    """Where the engine sends events. Called on the engine's event-loop thread."""

    def __call__(self, event: EngineEvent, /) -> None: ...
