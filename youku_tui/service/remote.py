"""RemoteControl: :class:`UploadControl` over the service's socket.

It keeps a mirror of the service's uploads: the snapshot sent on connect, then every event
applied to it, so ``snapshots()`` answers at once without a round trip and matches what the
subscribers were told. Commands are requests; those with an answer await their reply.
Closing detaches this view only: the uploads go on in the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from youku_tui import errors
from youku_tui.config import Credentials, EngineSettings
from youku_tui.engine.events import (
    EngineEvent,
    EventSink,
    LimitsChanged,
    Progress,
    QueueOrder,
    Retrying,
    StateChanged,
    UploadAdded,
    UploadDone,
    UploadFailed,
    UploadLog,
    UploadRemoved,
    event_from_dict,
)
from youku_tui.engine.manager import CheckpointProblem, UploadSnapshot
from youku_tui.engine.states import UploadState
from youku_tui.errors import FieldProblem, MetadataError, ServiceError, YoukuTuiError
from youku_tui.metadata import VideoMetadata
from youku_tui.service import protocol
from youku_tui.service.control import OwnerInfo, Subscribers
from youku_tui.service.server import MAX_SOCKET_PATH

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0


class RemoteControl:
    """A view attached to the service. Build with :meth:`connect`."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        hello: dict[str, Any],
        snapshot: dict[str, Any],
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._owner = protocol.owner_from_dict(hello)
        self._subscribers = Subscribers()
        self._uploads: dict[str, UploadSnapshot] = {}
        self._limits = EngineSettings()
        self._login_blocked = False
        self._apply_snapshot(snapshot)
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._closed = False
        self._lost = asyncio.Event()
        self.received_bytes = 0
        self._task = asyncio.create_task(self._read_loop(), name="service-reader")

    @classmethod
    async def connect(
        cls, socket_path: Path, *, client: str = "", within: float = CONNECT_TIMEOUT
    ) -> RemoteControl | None:
        """Attach to the service at ``socket_path``; None when no service answers there."""
        if len(os.fsencode(socket_path)) > MAX_SOCKET_PATH:
            return None  # no service can listen at a path this long
        try:
            async with asyncio.timeout(within):
                reader, writer = await asyncio.open_unix_connection(
                    str(socket_path), limit=protocol.MAX_LINE
                )
        except (FileNotFoundError, ConnectionRefusedError, TimeoutError):
            return None
        except OSError as exc:
            raise ServiceError(f"cannot reach the service at {socket_path}: {exc}") from exc
        try:
            async with asyncio.timeout(within):
                hello = await _read_message(reader)
                if hello["type"] == "error":
                    raise ServiceError(f"the service refused: {hello.get('message', '')}")
                if hello["type"] != "hello" or hello.get("version") != protocol.VERSION:
                    raise ServiceError(
                        f"the service speaks protocol {hello.get('version')!r}, this youku-tui "
                        f"{protocol.VERSION}: restart it (`youku-tui service stop`)"
                    )
                writer.write(
                    protocol.encode(
                        {"type": "hello", "version": protocol.VERSION, "client": client}
                    )
                )
                snapshot = await _read_message(reader)
                if snapshot["type"] != "snapshot":
                    raise ServiceError(f"expected the snapshot, got {snapshot['type']!r}")
        except TimeoutError:
            writer.close()
            return None  # a dying service: treat as none
        except (ServiceError, protocol.ProtocolError, ConnectionError):
            writer.close()
            raise
        return cls(reader, writer, hello, snapshot)

    # --- UploadControl: state -------------------------------------------------------------

    @property
    def owner(self) -> OwnerInfo:
        return self._owner

    @property
    def limits(self) -> EngineSettings:
        return self._limits

    @property
    def login_blocked(self) -> bool:
        return self._login_blocked

    @property
    def connected(self) -> bool:
        return not self._lost.is_set()

    async def wait_lost(self) -> None:
        """Return once the connection to the service is gone."""
        await self._lost.wait()

    def subscribe(self, sink: EventSink) -> None:
        self._subscribers.add(sink)

    def unsubscribe(self, sink: EventSink) -> None:
        self._subscribers.remove(sink)

    def snapshots(self) -> list[UploadSnapshot]:
        return sorted(self._uploads.values(), key=lambda s: s.position)

    # --- commands with an answer ----------------------------------------------------------

    async def add(self, path: Path, metadata: VideoMetadata, *, start: bool = True) -> str:
        result = await self._request(
            "add",
            path=_absolute(path),  # the service's working folder is /
            metadata=metadata.to_record(),
            watch_password=metadata.watch_password,
            start=start,
        )
        return str(result)

    async def resume_unfinished(
        self, *, start: bool, watch_password: str = ""
    ) -> list[CheckpointProblem]:
        result = await self._request(
            "resume_unfinished", start=start, watch_password=watch_password
        )
        return [CheckpointProblem(Path(p["path"]), str(p["message"])) for p in result]

    async def cancel(self, upload_id: str) -> None:
        await self._request("cancel", upload_id=upload_id)

    async def wait_idle(self) -> None:
        await self._request("wait_idle")

    async def stop_service(self) -> None:
        """Ask the service to pause every upload (checkpoints saved) and exit."""
        await self._request("stop")

    # --- fire-and-forget commands ---------------------------------------------------------

    def pause(self, upload_id: str) -> None:
        self._tell("pause", upload_id=upload_id)

    def resume(self, upload_id: str) -> None:
        self._tell("resume", upload_id=upload_id)

    def retry(self, upload_id: str, *, watch_password: str = "") -> None:
        self._tell("retry", upload_id=upload_id, watch_password=watch_password)

    def move(self, upload_id: str, delta: int) -> None:
        self._tell("move", upload_id=upload_id, delta=delta)

    def remove(self, upload_id: str) -> None:
        self._tell("remove", upload_id=upload_id)

    def pause_all(self) -> None:
        self._tell("pause_all")

    def resume_all(self) -> None:
        self._tell("resume_all")

    def set_limits(
        self,
        *,
        max_uploads: int | None = None,
        max_parts: int | None = None,
        bandwidth: int | None = None,
    ) -> None:
        self._tell("set_limits", max_uploads=max_uploads, max_parts=max_parts, bandwidth=bandwidth)

    def log_in(self, credentials: Credentials) -> None:
        self._tell("log_in", credentials=protocol.credentials_to_dict(credentials))

    async def close(self) -> None:
        """Detach; the uploads go on in the service."""
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    # --- requests ---------------------------------------------------------------------------

    def _send(self, command: str, args: dict[str, Any]) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._lost.is_set():
            future.set_exception(ServiceError("the service is gone; nothing was sent"))
            return future
        request_id = next(self._ids)
        self._waiting[request_id] = future
        message = {"type": "request", "id": request_id, "cmd": command, "args": args}
        self._writer.write(protocol.encode(message))
        return future

    async def _request(self, command: str, **args: Any) -> Any:
        return await self._send(command, args)

    def _tell(self, command: str, **args: Any) -> None:
        future = self._send(command, args)
        future.add_done_callback(self._report_failure)

    def _report_failure(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            self._subscribers(UploadLog(level="error", message=str(exc)))

    # --- the stream from the service ------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                self.received_bytes += len(line)
                self._on_message(protocol.decode(line))
        except (ConnectionError, OSError, ValueError, protocol.ProtocolError) as exc:
            log.warning("connection to the service broken: %s", exc)
        finally:
            self._on_lost()

    def _on_lost(self) -> None:
        self._lost.set()
        gone = ServiceError("the service stopped before it answered")
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(gone)
        self._waiting.clear()
        if not self._closed:
            flag = " --sandbox" if self._owner.sandbox else ""
            self._subscribers(
                UploadLog(
                    level="error",
                    message=f"lost the service (pid {self._owner.pid}); its uploads are saved "
                    f"and go on when it runs again (`youku-tui service start{flag}`)",
                )
            )

    def _on_message(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "event":
            body = {k: v for k, v in message.items() if k != "type"}
            try:
                event = event_from_dict(body)
            except (KeyError, TypeError, ValueError):
                log.warning("ignoring an event this version does not know: %.200s", body)
                return
            self._apply(event)
            self._subscribers(event)
        elif kind == "reply":
            future = self._waiting.pop(int(message.get("id", 0)), None)
            if future is None or future.done():
                return
            if message.get("ok"):
                future.set_result(message.get("result"))
            else:
                future.set_exception(_error_from_reply(message))
        elif kind == "status":
            self._login_blocked = bool(message.get("login_blocked"))
        elif kind == "snapshot":
            self._apply_snapshot(message)
        elif kind == "error":
            log.warning("the service said: %s", message.get("message"))

    # --- the mirror -------------------------------------------------------------------------

    def _apply_snapshot(self, message: dict[str, Any]) -> None:
        uploads = [protocol.snapshot_from_dict(u) for u in message["uploads"]]
        self._uploads = {s.upload_id: s for s in uploads}
        self._limits = protocol.limits_from_dict(message["limits"])
        self._login_blocked = bool(message.get("login_blocked"))

    def _apply(self, event: EngineEvent) -> None:
        uploads = self._uploads
        current = uploads.get(event.upload_id)
        if isinstance(event, UploadAdded):
            uploads[event.upload_id] = UploadSnapshot(
                upload_id=event.upload_id,
                path=event.path,
                title=event.title,
                size=event.size,
                state=event.state,
                position=event.position,
            )
        elif isinstance(event, UploadRemoved):
            uploads.pop(event.upload_id, None)
            for index, snap in enumerate(self.snapshots()):
                uploads[snap.upload_id] = replace(snap, position=index)
        elif isinstance(event, QueueOrder):
            for index, upload_id in enumerate(event.order):
                if upload_id in uploads:
                    uploads[upload_id] = replace(uploads[upload_id], position=index)
        elif isinstance(event, LimitsChanged):
            self._limits = event.applied_to(self._limits)
        elif current is None:
            return
        elif isinstance(event, StateChanged):
            changes: dict[str, Any] = {"state": event.new}
            if event.new in (UploadState.QUEUED, UploadState.HASHING):
                changes.update(last_error="", last_error_code="")
            if event.new is not UploadState.DONE:
                changes["video_id"] = ""
            if event.new not in (UploadState.HASHING, UploadState.UPLOADING):
                changes["speed"] = 0.0
            if event.new is not UploadState.UPLOADING:
                changes["waiting_for_bandwidth"] = False
            if event.new not in (UploadState.UPLOADING, UploadState.COMMITTING):
                changes["bytes_in_flight"] = 0
            uploads[event.upload_id] = replace(current, **changes)
        elif isinstance(event, Progress):
            progress: dict[str, Any] = {
                "speed": event.speed,
                "parts_done": event.parts_done,
                "parts_total": event.parts_total,
                "waiting_for_bandwidth": event.waiting_for_bandwidth,
            }
            if event.phase == "hashing":
                progress["hashed"] = event.done
            else:
                progress.update(bytes_done=event.done, bytes_in_flight=event.in_flight)
            uploads[event.upload_id] = replace(current, **progress)
        elif isinstance(event, UploadDone):
            uploads[event.upload_id] = replace(
                current, video_id=event.video_id, state=UploadState.DONE
            )
        elif isinstance(event, UploadFailed):
            uploads[event.upload_id] = replace(
                current, last_error=event.error, last_error_code=event.code
            )
        elif isinstance(event, Retrying):
            uploads[event.upload_id] = replace(current, retries=current.retries + 1)


def _absolute(path: Path) -> str:
    return os.path.abspath(os.path.expanduser(path))


async def _read_message(reader: asyncio.StreamReader) -> dict[str, Any]:
    line = await reader.readline()
    if not line:
        raise ConnectionResetError("the service closed the connection")
    return protocol.decode(line)


def _error_from_reply(message: dict[str, Any]) -> YoukuTuiError:
    text = str(message.get("error", "the service refused"))
    name = str(message.get("error_class", ""))
    if name == "MetadataError":
        problems = [
            FieldProblem(str(p["field"]), str(p["message"]), str(p.get("severity", "error")))
            for p in message.get("problems", [])
        ]
        return MetadataError(problems or [FieldProblem("metadata", text)])
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, YoukuTuiError):
        try:
            return cls(text)
        except TypeError:
            pass
    return YoukuTuiError(text)
