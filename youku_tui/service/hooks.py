"""``[hooks] on_done / on_failed``: a user's command run when an upload ends.

Run by ``sh -c`` in its own session with the upload in its environment (YOUKU_UPLOAD_ID,
YOUKU_VIDEO_ID, YOUKU_WATCH_URL, YOUKU_FILE, YOUKU_TITLE, YOUKU_STATE, and YOUKU_ERROR for a
failure), never with the login tokens. A hook runs as a task: the event loop and the uploads
never wait for it; one that outlives ``timeout`` is killed; a failure is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable

from youku_tui.config import ENV_ACCESS_TOKEN, ENV_REFRESH_TOKEN, HooksSettings
from youku_tui.engine.events import EngineEvent, UploadDone, UploadFailed, watch_url
from youku_tui.engine.manager import UploadSnapshot

log = logging.getLogger(__name__)

OUTPUT_SHOWN = 300  # characters of a failed hook's output kept in the log


class HookRunner:
    """An event sink that starts the configured hooks."""

    def __init__(
        self, settings: HooksSettings, lookup: Callable[[str], UploadSnapshot | None]
    ) -> None:
        self.settings = settings
        self._lookup = lookup
        self._tasks: set[asyncio.Task[None]] = set()

    def __call__(self, event: EngineEvent) -> None:
        if isinstance(event, UploadDone) and self.settings.on_done:
            env = self._environment(event.upload_id, "done")
            env["YOUKU_VIDEO_ID"] = event.video_id
            env["YOUKU_WATCH_URL"] = event.url or watch_url(event.video_id)
            env["YOUKU_FILE"] = event.path or env["YOUKU_FILE"]
            self._start("on_done", self.settings.on_done, env)
        elif isinstance(event, UploadFailed) and self.settings.on_failed:
            env = self._environment(event.upload_id, "failed")
            env["YOUKU_ERROR"] = event.error
            self._start("on_failed", self.settings.on_failed, env)

    def _environment(self, upload_id: str, state: str) -> dict[str, str]:
        snap = self._lookup(upload_id)
        return {
            "YOUKU_UPLOAD_ID": upload_id,
            "YOUKU_STATE": state,
            "YOUKU_VIDEO_ID": snap.video_id if snap else "",
            "YOUKU_WATCH_URL": watch_url(snap.video_id) if snap and snap.video_id else "",
            "YOUKU_FILE": snap.path if snap else "",
            "YOUKU_TITLE": snap.title if snap else "",
            "YOUKU_ERROR": "",
        }

    def _start(self, name: str, command: str, env: dict[str, str]) -> None:
        task = asyncio.create_task(self._run(name, command, env), name=f"hook-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, name: str, command: str, extra: dict[str, str]) -> None:
        upload_id = extra["YOUKU_UPLOAD_ID"]
        env = {
            k: v for k, v in os.environ.items() if k not in (ENV_ACCESS_TOKEN, ENV_REFRESH_TOKEN)
        }
        env.update(extra)
        try:
            proc = await asyncio.create_subprocess_exec(
                "/bin/sh",
                "-c",
                command,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own group: a timeout kills its children too
            )
        except OSError as exc:
            log.error("hook %s for %s could not start: %s", name, upload_id, exc)
            return
        try:
            async with asyncio.timeout(self.settings.timeout or None):
                output, _ = await proc.communicate()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            log.error("hook %s for %s killed after %.0f s", name, upload_id, self.settings.timeout)
            return
        text = output.decode("utf-8", "replace").strip()
        if proc.returncode:
            log.error(
                "hook %s for %s failed (exit %s): %s",
                name,
                upload_id,
                proc.returncode,
                text[-OUTPUT_SHOWN:],
            )
        else:
            log.info("hook %s for %s ran", name, upload_id)

    async def drain(self, within: float = 5.0) -> None:
        """Give running hooks ``within`` seconds at shutdown, then leave them."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=within)
