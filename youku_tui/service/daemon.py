"""The per-user service's life: run (foreground), start (detached), stop, probe.

``run_service`` owns the state folder (an :class:`EngineHost` holding its lock), resumes every
unfinished upload from its checkpoints (so a SIGKILL or a reboot loses nothing), serves the
socket, logs, runs the hooks, and exits on ``stop``, SIGTERM / SIGINT, or after ``[service]
idle_exit`` seconds with nothing queued and no client attached (``auto_idle_exit`` for a
service that a view started by itself, ``service run --idle-exit``). Exiting pauses what runs
and saves every checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from youku_tui import paths
from youku_tui.config import Config, load_config
from youku_tui.engine.states import ACTIVE_STATES, UploadState
from youku_tui.errors import ServiceError
from youku_tui.runtime import open_runtime
from youku_tui.service import protocol
from youku_tui.service.hooks import HookRunner
from youku_tui.service.host import EngineHost
from youku_tui.service.journal import EventJournal, setup_service_log
from youku_tui.service.server import MAX_SOCKET_PATH, ServiceServer

log = logging.getLogger("youku_tui.service")

START_TIMEOUT = 30.0  # seconds `service start` waits for the socket to answer
IDLE_CHECK = 1.0  # seconds between idle checks


def probe(socket_path: Path, timeout: float = 2.0) -> dict[str, Any] | None:
    """The service's hello when one answers at ``socket_path``, else None (blocking, short)."""
    if len(os.fsencode(socket_path)) > MAX_SOCKET_PATH:
        return None  # no service can listen at a path this long
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(socket_path))
            data = b""
            while not data.endswith(b"\n") and len(data) < protocol.MAX_LINE:
                chunk = sock.recv(65536)
                if not chunk:
                    return None
                data += chunk
        except (FileNotFoundError, ConnectionRefusedError, TimeoutError):
            return None
        except OSError as exc:
            raise ServiceError(f"cannot reach the service at {socket_path}: {exc}") from exc
    first = data.split(b"\n", 1)[0]
    try:
        hello = protocol.decode(first)
    except protocol.ProtocolError:
        return None
    if hello["type"] == "error":
        raise ServiceError(f"the service refused: {hello.get('message', '')}")
    return hello if hello["type"] == "hello" else None


# --- run ------------------------------------------------------------------------------------


async def serve(sandbox: bool, config: Config | None = None, idle_exit: float | None = None) -> int:
    """Run the service until it is asked to stop; the exit status. ``idle_exit`` replaces
    ``[service] idle_exit`` (seconds idle with no client before exiting; 0 never)."""
    config = config or load_config()
    idle_limit = config.service.idle_exit if idle_exit is None else idle_exit
    socket_path = paths.service_socket(sandbox)
    stop = asyncio.Event()
    async with open_runtime(sandbox, config) as rt:
        host = EngineHost(rt, sandbox=sandbox, in_service=True, role="service")
        journal = EventJournal()
        host.subscribe(journal)
        hooks = HookRunner(config.hooks, lambda uid: _lookup(host, uid))
        host.subscribe(hooks)
        server = ServiceServer(host, socket_path, stop.set)
        loop = asyncio.get_running_loop()
        try:
            async with host:
                await server.start()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, stop.set)
                # A lost terminal must not end the uploads (`service run` in a shell).
                loop.add_signal_handler(signal.SIGHUP, lambda: log.info("SIGHUP ignored"))
                log.info(
                    "service started: pid %d, %s, socket %s, state %s, %s",
                    os.getpid(),
                    "sandbox" if sandbox else "production",
                    socket_path,
                    rt.checkpoint_dir,
                    f"exits after {idle_limit:g} s idle" if idle_limit > 0 else "never idles out",
                )
                problems = await host.resume_unfinished(start=True)
                for problem in problems:
                    log.warning("%s", problem.message)
                idle = asyncio.create_task(_idle_watch(host, server, idle_limit, stop))
                await stop.wait()
                idle.cancel()
                running = sum(1 for s in host.snapshots() if s.state in ACTIVE_STATES)
                log.info("stopping: pausing %d running upload(s), saving checkpoints", running)
                await host.close()  # the clients still attached see the uploads pause
                await server.close()
                await hooks.drain()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            await server.close()
    log.info("service stopped")
    return 0


def _lookup(host: EngineHost, upload_id: str) -> Any:
    return next((s for s in host.snapshots() if s.upload_id == upload_id), None)


async def _idle_watch(
    host: EngineHost, server: ServiceServer, limit: float, stop: asyncio.Event
) -> None:
    if limit <= 0:
        return
    idle_since: float | None = None
    while True:
        await asyncio.sleep(min(IDLE_CHECK, limit))
        busy = server.clients or any(
            s.state is UploadState.QUEUED or s.state in ACTIVE_STATES for s in host.snapshots()
        )
        if busy:
            idle_since = None
            continue
        now = time.monotonic()
        idle_since = idle_since if idle_since is not None else now
        if now - idle_since >= limit:
            log.info("idle for %g s with no client: exiting", limit)
            stop.set()
            return


def run_service(sandbox: bool, idle_exit: float | None = None) -> int:
    """``youku-tui service run``: the foreground service (systemd, tests)."""
    setup_service_log(paths.service_log(sandbox))
    return asyncio.run(serve(sandbox, idle_exit=idle_exit))


# --- start / stop -----------------------------------------------------------------------------


def start_service(
    sandbox: bool, *, timeout: float = START_TIMEOUT, idle_exit: float | None = None
) -> tuple[int, bool]:
    """Start the service detached from this terminal; (its pid, whether it was started now).

    Its own session, standard streams to its log, working folder ``/``; returns once its
    socket answers. Raises :class:`ServiceError` with the log's last lines when it does not.
    ``idle_exit`` replaces ``[service] idle_exit`` in the service started (views that start
    one by themselves pass ``auto_idle_exit``).
    """
    socket_path = paths.service_socket(sandbox)
    hello = probe(socket_path)
    if hello is not None:
        return int(hello["pid"]), False
    log_path = paths.service_log(sandbox)
    log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    command = [sys.executable, "-m", "youku_tui", "service", "run"]
    if sandbox:
        command.append("--sandbox")
    if idle_exit is not None:
        command += ["--idle-exit", f"{idle_exit:g}"]
    try:
        proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            command,
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            start_new_session=True,
            close_fds=True,
            cwd="/",
        )
    finally:
        os.close(fd)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hello = probe(socket_path, timeout=1.0)
        if hello is not None:
            return int(hello["pid"]), True
        code = proc.poll()
        if code is not None:
            hello = probe(socket_path)  # another start won the race
            if hello is not None:
                return int(hello["pid"]), False
            raise ServiceError(f"the service exited at once (status {code}): {_log_tail(log_path)}")
        time.sleep(0.05)
    raise ServiceError(f"the service did not answer within {timeout:.0f} s; see {log_path}")


def _log_tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"see {path}"
    return " | ".join(text.strip().splitlines()[-lines:]) or f"see {path}"


def stop_service(sandbox: bool, *, timeout: float = 60.0) -> int | None:
    """Ask the service to pause everything and exit; its pid once it is gone, None if none ran."""
    socket_path = paths.service_socket(sandbox)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(socket_path))
        except (FileNotFoundError, ConnectionRefusedError):
            return None
        reader = sock.makefile("rb")
        hello = protocol.decode(reader.readline() or b"{}")
        if hello.get("type") != "hello":
            raise ServiceError(f"the service refused: {hello.get('message', hello)}")
        pid = int(hello["pid"])
        sock.sendall(protocol.encode({"type": "hello", "version": protocol.VERSION}))
        request = {"type": "request", "id": 1, "cmd": "stop", "args": {}}
        sock.sendall(protocol.encode(request))
        with contextlib.suppress(OSError, TimeoutError):
            while reader.readline():  # events until the service closes the connection
                pass
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            raise ServiceError(f"the service (pid {pid}) did not exit within {timeout:.0f} s")
        time.sleep(0.05)
    return pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (tests start the service themselves) counts as gone.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[-1].split()[0] != "Z"
    return True


def status_record(sandbox: bool) -> dict[str, Any] | None:
    """What ``service status --json`` prints; None when no service runs."""

    async def fetch() -> dict[str, Any] | None:
        from youku_tui.service.remote import RemoteControl

        remote = await RemoteControl.connect(paths.service_socket(sandbox), client="status")
        if remote is None:
            return None
        try:
            counts: dict[str, int] = {}
            for snap in remote.snapshots():
                counts[str(snap.state)] = counts.get(str(snap.state), 0) + 1
            limits = remote.limits
            return {
                "pid": remote.owner.pid,
                "sandbox": remote.owner.sandbox,
                "state_dir": remote.owner.state_dir,
                "socket": str(paths.service_socket(sandbox)),
                "log": str(paths.service_log(sandbox)),
                "uploads": counts,
                "limits": {
                    "max_uploads": limits.max_uploads,
                    "max_parts": limits.max_parts,
                    "bandwidth": limits.bandwidth,
                },
                "login_blocked": remote.login_blocked,
            }
        finally:
            await remote.close()

    return asyncio.run(fetch())


def status_json(sandbox: bool) -> str:
    return json.dumps(status_record(sandbox))
