"""EngineHost: :class:`UploadControl` with the engine in this process.

The host owns the state folder (its :class:`OwnerLock`, taken before anything is read and held
until :meth:`EngineHost.close`), wraps one :class:`UploadEngine`, hands every event to each
subscriber, takes upload ids as unique prefixes, and keeps the limits changed live in the
folder's ``settings.toml`` so they apply again after any restart. The per-user service wraps
one; ``youku-tui --no-service`` and ``youku-tui upload`` without a service use one directly.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import tomli_w

from youku_tui.config import Credentials, EngineSettings
from youku_tui.engine.checkpoint import SETTINGS_NAME
from youku_tui.engine.events import EventSink, UploadLog
from youku_tui.engine.ids import matching_ids, resolve_id
from youku_tui.engine.manager import CheckpointProblem, UploadEngine, UploadSnapshot
from youku_tui.engine.owner import OwnerLock
from youku_tui.errors import UnknownUploadError, YoukuTuiError
from youku_tui.fsutil import atomic_write
from youku_tui.metadata import VideoMetadata
from youku_tui.runtime import Runtime
from youku_tui.service.control import OwnerInfo, Subscribers

log = logging.getLogger(__name__)

LIVE_KEYS = ("max_uploads", "max_parts", "bandwidth")
_LIVE_MINIMUM = {"max_uploads": 1, "max_parts": 0, "bandwidth": 0}  # max_parts 0: adaptive


# --- live settings ------------------------------------------------------------------------


def load_live_limits(folder: Path) -> dict[str, int]:
    """The limits changed live, as saved in the folder (a bad file is ignored and logged)."""
    path = folder / SETTINGS_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        log.warning("ignoring %s: %s", path, exc)
        return {}
    limits: dict[str, int] = {}
    for key in LIVE_KEYS:
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= _LIVE_MINIMUM[key]:
            limits[key] = value
        elif value is not None:
            log.warning("ignoring %s = %r in %s", key, value, path)
    return limits


def save_live_limits(folder: Path, limits: dict[str, int]) -> None:
    """Write the live limits atomically (0600); raises LocalFileError when it cannot."""
    header = (
        "# Limits changed live from youku-tui; they win over [engine] in config.toml.\n"
        "# Delete a line (or the file) to go back to the config's value.\n"
    )
    text = header + tomli_w.dumps({k: limits[k] for k in LIVE_KEYS if k in limits})
    atomic_write(folder / SETTINGS_NAME, text.encode("utf-8"), mode=0o600)


def apply_live_limits(settings: EngineSettings, limits: dict[str, int]) -> EngineSettings:
    return replace(settings, **{k: v for k, v in limits.items() if k in LIVE_KEYS})


# --- the host -----------------------------------------------------------------------------


class EngineHost:
    """The engine in this process, as an :class:`UploadControl`.

    Construction takes the owner lock (:class:`OwnerBusyError` when another process owns
    the folder: nothing is read or written then). Use as ``async with EngineHost(rt) as host``.
    """

    def __init__(
        self, rt: Runtime, *, sandbox: bool = False, in_service: bool = False, role: str = ""
    ) -> None:
        self._runtime = rt
        self._folder = rt.checkpoint_dir
        self._sandbox = sandbox
        self._in_service = in_service
        self._subscribers = Subscribers()
        self._lock = OwnerLock.acquire(
            self._folder, role=role or ("service" if in_service else "youku-tui, in-process")
        )
        try:
            self._live = load_live_limits(self._folder)
            settings = apply_live_limits(rt.config.engine, self._live)
            self._engine = UploadEngine(
                rt.client, self._folder, settings, self._subscribers, owner=self._lock
            )
        except BaseException:
            self._lock.release()
            raise
        self._closed = False

    async def __aenter__(self) -> EngineHost:
        await self._engine.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def engine(self) -> UploadEngine:
        """For the service and tests; views go through the UploadControl methods."""
        return self._engine

    # --- UploadControl: state -------------------------------------------------------------

    @property
    def owner(self) -> OwnerInfo:
        return OwnerInfo(
            pid=os.getpid(),
            in_service=self._in_service,
            sandbox=self._sandbox,
            state_dir=str(self._folder),
        )

    @property
    def limits(self) -> EngineSettings:
        return self._engine.settings

    @property
    def login_blocked(self) -> bool:
        return self._engine.login_blocked

    @property
    def connected(self) -> bool:
        return True  # the engine is in this process

    def subscribe(self, sink: EventSink) -> None:
        self._subscribers.add(sink)

    def unsubscribe(self, sink: EventSink) -> None:
        self._subscribers.remove(sink)

    def snapshots(self) -> list[UploadSnapshot]:
        return self._engine.snapshots()

    def resolve(self, upload_id: str) -> str:
        """The full id of the upload ``upload_id`` names (a unique prefix of it or its tail)."""
        return resolve_id(upload_id, (s.upload_id for s in self._engine.snapshots()))

    # --- commands with an answer ----------------------------------------------------------

    async def add(self, path: Path, metadata: VideoMetadata, *, start: bool = True) -> str:
        return self._engine.add(path, metadata, start=start)

    async def resume_unfinished(
        self, *, start: bool, watch_password: str = ""
    ) -> list[CheckpointProblem]:
        return self._engine.load_checkpoints(start=start, watch_password=watch_password)

    async def cancel(self, upload_id: str) -> None:
        await self._engine.cancel(self.resolve(upload_id))

    async def wait_idle(self) -> None:
        await self._engine.wait_idle()

    # --- fire-and-forget commands ---------------------------------------------------------

    def pause(self, upload_id: str) -> None:
        self._on_upload(upload_id, self._engine.pause)

    def resume(self, upload_id: str) -> None:
        self._on_upload(upload_id, self._engine.resume)

    def retry(self, upload_id: str, *, watch_password: str = "") -> None:
        self._on_upload(
            upload_id, lambda uid: self._engine.retry(uid, watch_password=watch_password)
        )

    def move(self, upload_id: str, delta: int) -> None:
        self._on_upload(upload_id, lambda uid: self._engine.move(uid, delta))

    def remove(self, upload_id: str) -> None:
        known = [s.upload_id for s in self._engine.snapshots()]
        if not matching_ids(upload_id, known):
            # A done or cancelled upload of an earlier run is not loaded: its full id names
            # its checkpoint, which the engine deletes (or says why not).
            try:
                self._engine.remove(upload_id.strip())
            except YoukuTuiError as exc:
                self._report(str(exc))
            return
        self._on_upload(upload_id, self._engine.remove)

    def pause_all(self) -> None:
        self._engine.pause_all()

    def resume_all(self) -> None:
        self._engine.resume_all()

    def set_limits(
        self,
        *,
        max_uploads: int | None = None,
        max_parts: int | None = None,
        bandwidth: int | None = None,
    ) -> None:
        self._engine.set_limits(max_uploads=max_uploads, max_parts=max_parts, bandwidth=bandwidth)
        current = self._engine.settings
        asked = {"max_uploads": max_uploads, "max_parts": max_parts, "bandwidth": bandwidth}
        self._live.update({k: getattr(current, k) for k, v in asked.items() if v is not None})
        try:
            save_live_limits(self._folder, self._live)
        except YoukuTuiError as exc:
            self._report(f"the new limits apply but were not saved: {exc}")

    def log_in(self, credentials: Credentials) -> None:
        self._runtime.client.log_in(credentials)
        self._engine.logged_in_again()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._engine.shutdown()
        finally:
            self._lock.release()

    # --- plumbing -------------------------------------------------------------------------

    def _on_upload(self, upload_id: str, action: Callable[[str], Any]) -> None:
        # A view racing another view (the upload was just removed) gets a log line, no error.
        try:
            resolved = self.resolve(upload_id)
        except UnknownUploadError as exc:
            self._report(str(exc))
            return
        try:
            action(resolved)
        except YoukuTuiError as exc:
            self._report(str(exc), resolved)

    def _report(self, message: str, upload_id: str = "") -> None:
        self._subscribers(UploadLog(upload_id=upload_id, level="error", message=message))
