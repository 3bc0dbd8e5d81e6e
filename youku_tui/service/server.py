"""The service's socket: any number of clients see one EngineHost (docs/protocol.md).

Each client gets the ``hello`` and a ``snapshot`` on connect, then every engine event. What a
client has not read yet waits in its own bounded queue, where a newer Progress of an upload
replaces the one still waiting (so a slow reader costs little memory); a client whose queue
still overflows is dropped. The engine never waits for a client: events are queued and
written by one writer task per client.

Only the user running the service may connect: the socket's folder is 0700, the socket 0600,
and every peer's uid is checked (``SO_PEERCRED``) before it gets a byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import stat
import struct
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from youku_tui.engine.events import EngineEvent
from youku_tui.errors import MetadataError, ServiceError, YoukuTuiError
from youku_tui.metadata import VideoMetadata
from youku_tui.service import protocol
from youku_tui.service.host import EngineHost

log = logging.getLogger(__name__)

SEND_QUEUE_LIMIT = 5000  # messages waiting for one client (progress coalesced) before a drop
MAX_SOCKET_PATH = 107  # bytes; sun_path is 108 with its NUL


# --- who may connect ------------------------------------------------------------------------


def peer_credentials(sock: socket.socket) -> tuple[int, int, int]:
    """(pid, uid, gid) of the process at the other end of a Unix socket."""
    data = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", data)
    return pid, uid, gid


def peer_allowed(uid: int) -> bool:
    """Only the service's own user; root is no exception (it can read the files anyway)."""
    return uid == os.getuid()


def prepare_socket_dir(folder: Path) -> None:
    """Create the socket's folder 0700, or make it so; refuse one another user owns."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = folder.stat()
    if info.st_uid != os.getuid():
        raise ServiceError(f"{folder} belongs to uid {info.st_uid}, not to you: refusing it")
    if stat.S_IMODE(info.st_mode) != 0o700:
        folder.chmod(0o700)


def check_socket_path(path: Path) -> None:
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise ServiceError(
            f"the socket path {path} is too long for a Unix socket; set XDG_RUNTIME_DIR "
            "to a shorter folder"
        )


# --- one client -----------------------------------------------------------------------------


class ClientConnection:
    """One attached view: its queue of messages to send and its writer task."""

    def __init__(
        self, writer: asyncio.StreamWriter, pid: int, on_drop: Callable[[str], None]
    ) -> None:
        self.writer = writer
        self.pid = pid
        self._pending: deque[dict[str, Any]] = deque()
        self._progress: dict[str, dict[str, Any]] = {}  # upload id -> its queued Progress
        self._wakeup = asyncio.Event()
        self.flushed = asyncio.Event()  # set while nothing waits to be written
        self.flushed.set()
        self._on_drop = on_drop
        self.closed = False
        self.sent_bytes = 0
        self.task: asyncio.Task[None] | None = None

    def send(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        if message.get("event") == "progress":
            upload_id = str(message.get("upload_id", ""))
            queued = self._progress.get(upload_id)
            if queued is not None:  # still unread: the newer figures replace it in place
                queued.clear()
                queued.update(message)
                return
            message = dict(message)  # its own copy, so a later one can replace it
            self._progress[upload_id] = message
        self._pending.append(message)
        self.flushed.clear()
        if len(self._pending) > SEND_QUEUE_LIMIT:
            self._on_drop(f"client pid {self.pid} reads too slowly; dropped")
            self.close()
            return
        self._wakeup.set()

    async def write_loop(self) -> None:
        try:
            while not self.closed:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._pending and not self.closed:
                    chunk = bytearray()
                    while self._pending and len(chunk) < 256 * 1024:
                        message = self._pending.popleft()
                        if message.get("event") == "progress":
                            self._progress.pop(str(message.get("upload_id", "")), None)
                        chunk += protocol.encode(message)
                    self.writer.write(chunk)
                    self.sent_bytes += len(chunk)
                    await self.writer.drain()  # only this client waits
                if not self._pending:
                    self.flushed.set()
        except (ConnectionError, OSError):
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._pending.clear()
        self._progress.clear()
        self._wakeup.set()
        self.flushed.set()
        with contextlib.suppress(Exception):
            self.writer.close()


# --- the server -----------------------------------------------------------------------------


class ServiceServer:
    """Serves ``host`` on ``socket_path`` until :meth:`close`; ``on_stop`` asks to exit."""

    def __init__(self, host: EngineHost, socket_path: Path, on_stop: Callable[[], None]) -> None:
        self.host = host
        self.socket_path = socket_path
        self._on_stop = on_stop
        self.clients: set[ClientConnection] = set()
        self._server: asyncio.base_events.Server | None = None
        self._login_blocked = host.login_blocked
        self._tasks: set[asyncio.Task[Any]] = set()
        host.subscribe(self._on_event)

    async def start(self) -> None:
        check_socket_path(self.socket_path)
        prepare_socket_dir(self.socket_path.parent)
        # This process owns the state folder (EngineHost took its lock): a socket left at
        # this path is a dead service's, never a live one's.
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        old_umask = os.umask(0o177)  # the socket is born 0600
        try:
            self._server = await asyncio.start_unix_server(
                self._accept, path=str(self.socket_path), limit=protocol.MAX_LINE
            )
        finally:
            os.umask(old_umask)
        self.socket_path.chmod(0o600)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for client in list(self.clients):
            await self._flush(client)
            client.close()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    async def _flush(self, client: ClientConnection, within: float = 1.0) -> None:
        """Give a client a moment to receive what is queued (the last states, a stop reply)."""
        with contextlib.suppress(TimeoutError, ConnectionError, OSError):
            async with asyncio.timeout(within):
                await client.flushed.wait()
                await client.writer.drain()

    # --- events -----------------------------------------------------------------------------

    def _on_event(self, event: EngineEvent) -> None:
        message = {"type": "event", **event.to_dict()}
        for client in list(self.clients):
            client.send(message)
        blocked = self.host.login_blocked
        if blocked != self._login_blocked:
            self._login_blocked = blocked
            self.broadcast({"type": "status", "login_blocked": blocked})

    def broadcast(self, message: dict[str, Any]) -> None:
        for client in list(self.clients):
            client.send(message)

    def snapshot_message(self) -> dict[str, Any]:
        host = self.host
        return {
            "type": "snapshot",
            "uploads": [protocol.snapshot_to_dict(s) for s in host.snapshots()],
            "limits": protocol.limits_to_dict(host.limits),
            "login_blocked": host.login_blocked,
            "owner": protocol.owner_to_dict(host.owner),
        }

    # --- connections ------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        pid, uid, _gid = peer_credentials(sock)
        if not peer_allowed(uid):
            log.warning("refused a connection from uid %d (pid %d)", uid, pid)
            writer.write(protocol.encode({"type": "error", "message": "refused: not your service"}))
            with contextlib.suppress(ConnectionError, OSError):
                await writer.drain()
            writer.close()
            return
        client = ClientConnection(writer, pid, lambda why: log.warning("%s", why))
        # hello + snapshot + registration in one loop step: no event is lost or doubled.
        client.send(
            {
                "type": "hello",
                "version": protocol.VERSION,
                "service": "youku-tui",
                **protocol.owner_to_dict(self.host.owner),
            }
        )
        client.send(self.snapshot_message())
        self.clients.add(client)
        client.task = asyncio.create_task(client.write_loop(), name=f"client-{pid}-writer")
        log.info("client pid %d attached (%d now)", pid, len(self.clients))
        try:
            await self._read_loop(reader, client)
        finally:
            self.clients.discard(client)
            client.close()
            log.info("client pid %d detached (%d now)", pid, len(self.clients))

    async def _read_loop(self, reader: asyncio.StreamReader, client: ClientConnection) -> None:
        greeted = False
        while not client.closed:
            try:
                line = await reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                client.send({"type": "error", "message": "line too long"})
                return
            except (ConnectionError, OSError):
                return
            if not line:
                return
            try:
                message = protocol.decode(line)
            except protocol.ProtocolError as exc:
                client.send({"type": "error", "message": str(exc)})
                return
            if not greeted:
                if message["type"] != "hello" or message.get("version") != protocol.VERSION:
                    client.send(
                        {
                            "type": "error",
                            "message": f"this service speaks protocol {protocol.VERSION}; "
                            "restart it with the same youku-tui (`youku-tui service stop`)",
                        }
                    )
                    await self._flush(client)
                    return
                greeted = True
                continue
            if message["type"] == "request":
                task = asyncio.create_task(self._handle(client, message))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _handle(self, client: ClientConnection, message: dict[str, Any]) -> None:
        request_id = message.get("id")
        command = str(message.get("cmd", ""))
        args = message.get("args") or {}
        reply: dict[str, Any] = {"type": "reply", "id": request_id, "ok": True}
        try:
            if command not in protocol.COMMANDS or not isinstance(args, dict):
                raise protocol.ProtocolError(f"unknown command {command!r}")
            reply["result"] = await self._run(command, args)
        except MetadataError as exc:
            reply.update(ok=False, error=exc.message, error_class="MetadataError")
            reply["problems"] = [
                {"field": p.field, "message": p.message, "severity": p.severity}
                for p in exc.problems
            ]
        except YoukuTuiError as exc:
            reply.update(ok=False, error=exc.message, error_class=type(exc).__name__)
        except (KeyError, TypeError, ValueError) as exc:
            reply.update(
                ok=False, error=f"bad {command} request: {exc!r}", error_class="ProtocolError"
            )
        client.send(reply)
        if command == "stop" and reply["ok"]:
            log.info("stop asked by client pid %d", client.pid)
            self._on_stop()

    async def _run(self, command: str, args: dict[str, Any]) -> Any:
        host = self.host
        if command == "add":
            metadata = VideoMetadata.from_record(
                args["metadata"], watch_password=str(args.get("watch_password", ""))
            )
            return await host.add(Path(args["path"]), metadata, start=bool(args.get("start", True)))
        if command == "resume_unfinished":
            problems = await host.resume_unfinished(
                start=bool(args["start"]), watch_password=str(args.get("watch_password", ""))
            )
            return [protocol.problem_to_dict(p) for p in problems]
        if command == "cancel":
            await host.cancel(str(args["upload_id"]))
        elif command == "wait_idle":
            await host.wait_idle()
        elif command in ("pause", "resume", "remove"):
            getattr(host, command)(str(args["upload_id"]))
        elif command == "retry":
            host.retry(str(args["upload_id"]), watch_password=str(args.get("watch_password", "")))
        elif command == "move":
            host.move(str(args["upload_id"]), int(args["delta"]))
        elif command == "pause_all":
            host.pause_all()
        elif command == "resume_all":
            host.resume_all()
        elif command == "set_limits":
            host.set_limits(**{k: _optional_int(args.get(k)) for k in _LIMIT_KEYS})
        elif command == "log_in":
            host.log_in(protocol.credentials_from_dict(args["credentials"]))
        elif command == "snapshot":
            return self.snapshot_message()
        return None


_LIMIT_KEYS = ("max_uploads", "max_parts", "bandwidth")


def _optional_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"a limit must be an integer, not {value!r}")
    return value
