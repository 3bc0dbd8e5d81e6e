"""UploadControl: what a view (the TUI, a CLI command) may ask of the uploads' owner.

Two implementations, chosen by :func:`youku_tui.service.connect.open_control`:

- ``EngineHost`` (``service/host.py``): the engine in this process, holding the state folder's
  owner lock. ``youku-tui --no-service`` and ``youku-tui upload`` without a service use it,
  and the service itself wraps one.
- ``RemoteControl`` (``service/remote.py``): a client of the service's socket.

Screens and commands are written against this protocol only and cannot tell which they have.

Conventions:
- Commands that only change state (pause, resume, ...) are fire-and-forget: they return at
  once and their effect arrives as events. A command about an unknown upload is reported as an
  ``UploadLog`` event with level "error", never raised, so a view racing another view is safe.
- Commands whose caller needs an answer (``add``, ``cancel``, ``resume_unfinished``) are async
  and raise :class:`youku_tui.errors.YoukuTuiError` subclasses for bad input.
- ``snapshots()`` is synchronous: an in-process host asks its engine; a remote client answers
  from the mirror it keeps of the service's snapshot plus the events since.
- Upload ids may be given as a unique prefix wherever a view takes one from a user.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from youku_tui.config import Credentials, EngineSettings
from youku_tui.engine.events import EngineEvent, EventSink
from youku_tui.engine.manager import CheckpointProblem, UploadSnapshot
from youku_tui.metadata import VideoMetadata

log = logging.getLogger(__name__)


class Subscribers:
    """The views subscribed to an owner's events; called with an event, it gives it to each.

    One view's bug is logged and never keeps the event from the others (or from the engine).
    """

    def __init__(self) -> None:
        self._sinks: list[EventSink] = []

    def add(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    def remove(self, sink: EventSink) -> None:
        if sink in self._sinks:
            self._sinks.remove(sink)

    def __call__(self, event: EngineEvent) -> None:
        for sink in list(self._sinks):  # a view may leave while it is being told
            try:
                sink(event)
            except Exception:
                log.exception("subscriber %r failed on %s", sink, event.kind)


@dataclass(frozen=True, slots=True)
class OwnerInfo:
    """Who runs the uploads, for status lines ("service pid 4242" / "this process")."""

    pid: int
    in_service: bool
    sandbox: bool
    state_dir: str


class UploadControl(Protocol):
    """The uploads, as every view sees them."""

    @property
    def owner(self) -> OwnerInfo: ...

    @property
    def limits(self) -> EngineSettings:
        """The live limits (max_uploads, max_parts, bandwidth), as persisted."""
        ...

    @property
    def login_blocked(self) -> bool:
        """True while queued uploads wait for a new login."""
        ...

    @property
    def connected(self) -> bool:
        """False once a client lost its service (it died or was stopped): the snapshots are
        then the last ones it sent and commands fail. An in-process host is always connected.
        """
        ...

    def subscribe(self, sink: EventSink) -> None:
        """Deliver every later engine event to ``sink`` on this loop's thread."""
        ...

    def unsubscribe(self, sink: EventSink) -> None:
        """Stop delivering events to ``sink`` (a view closing while the owner goes on)."""
        ...

    def snapshots(self) -> list[UploadSnapshot]: ...

    # --- commands with an answer ---------------------------------------------------------

    async def add(self, path: Path, metadata: VideoMetadata, *, start: bool = True) -> str:
        """Queue one file; its upload id. MetadataError / LocalFileError before anything."""
        ...

    async def resume_unfinished(
        self, *, start: bool, watch_password: str = ""
    ) -> list[CheckpointProblem]:
        """Load the folder's checkpoints not loaded yet (queued if ``start``, else paused)."""
        ...

    async def cancel(self, upload_id: str) -> None: ...

    async def wait_idle(self) -> None:
        """Return once nothing is queued or running."""
        ...

    # --- fire-and-forget commands --------------------------------------------------------

    def pause(self, upload_id: str) -> None: ...
    def resume(self, upload_id: str) -> None: ...
    def retry(self, upload_id: str, *, watch_password: str = "") -> None: ...
    def move(self, upload_id: str, delta: int) -> None: ...
    def remove(self, upload_id: str) -> None:
        """Forget a done, failed or cancelled upload (its checkpoint goes too)."""
        ...

    def pause_all(self) -> None: ...
    def resume_all(self) -> None: ...
    def set_limits(
        self,
        *,
        max_uploads: int | None = None,
        max_parts: int | None = None,
        bandwidth: int | None = None,
    ) -> None: ...
    def log_in(self, credentials: Credentials) -> None:
        """New login tokens for the owner's API client; what waited for them goes on."""
        ...

    async def close(self) -> None:
        """Detach this view. For a host: pause what runs and save every checkpoint."""
        ...
