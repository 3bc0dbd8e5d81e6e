"""open_control: the one way a view gets an :class:`UploadControl`.

    async with open_control(sandbox, mode="attach-or-local") as control:
        control.subscribe(sink)
        ...

Modes (what to do when no service answers on the socket):

- ``"attach-or-local"``: run the engine in this process (an :class:`EngineHost`, which takes
  the folder's owner lock). ``youku-tui upload`` without ``--detach`` uses it, so scripts
  keep working without a service.
- ``"attach-or-start"``: start the per-user service, then attach to it (``upload --detach``,
  the TUI with ``[service] auto_start = true``). A service started so exits after
  ``[service] auto_idle_exit`` seconds with nothing queued and no view attached.
- ``"local-only"``: never attach; the engine in this process (``youku-tui --no-service``).

Leaving the block detaches; for a local host it also pauses what runs (checkpoints saved).
Raises :class:`OwnerBusyError` when the engine is to run here but another process owns the
state folder, :class:`NotLoggedInError` when it is to run here without a login, and
:class:`ServiceError` when a service cannot be started or reached.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Literal

from youku_tui.config import Config
from youku_tui.errors import ServiceError
from youku_tui.service.control import UploadControl

ControlMode = Literal["attach-or-local", "attach-or-start", "local-only"]
MODES: tuple[ControlMode, ...] = ("attach-or-local", "attach-or-start", "local-only")


@contextlib.asynccontextmanager
async def open_control(
    sandbox: bool,
    *,
    config: Config | None = None,
    mode: ControlMode = "attach-or-local",
    role: str = "",
) -> AsyncIterator[UploadControl]:
    """An UploadControl for the production (or ``sandbox``) state folder; see the module doc.

    ``role`` names this process in the owner lock when the engine runs here, for the
    message another would-be owner gets (e.g. "youku-tui upload").
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (one of {', '.join(MODES)})")
    from youku_tui import paths
    from youku_tui.service.remote import RemoteControl

    remote: RemoteControl | None = None
    if mode != "local-only":
        socket_path = paths.service_socket(sandbox)
        remote = await RemoteControl.connect(socket_path, client=role)
        if remote is None and mode == "attach-or-start":
            from youku_tui.config import load_config
            from youku_tui.service.daemon import start_service

            # Started for this view's work: it goes soon after that is done and no view is left.
            idle_exit = (config or load_config()).service.auto_idle_exit
            await asyncio.to_thread(start_service, sandbox, idle_exit=idle_exit)
            remote = await RemoteControl.connect(socket_path, client=role)
            if remote is None:
                raise ServiceError(f"the service started but does not answer at {socket_path}")
    if remote is not None:
        try:
            yield remote
        finally:
            await remote.close()
        return
    from youku_tui.runtime import open_runtime
    from youku_tui.service.host import EngineHost

    async with (
        open_runtime(sandbox, config) as rt,
        EngineHost(rt, sandbox=sandbox, role=role) as host,
    ):
        yield host
