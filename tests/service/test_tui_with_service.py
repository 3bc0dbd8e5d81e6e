"""The TUI, through its Pilot, against the real service: `youku-tui service run` in a
subprocess, attached over its Unix socket (open_control -> RemoteControl), on the sandbox.

What the other TUI tests cannot show with an in-process host: the keys reach another process,
the uploads outlive the app that started them, a new app sees them done, and a service that
dies under the app is said so on screen instead of a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.polling import until
from tests.service.service_helpers import KIB, make_video, write_config
from tests.tui.helpers import make_config
from youku_tui import paths
from youku_tui.engine.states import UploadState
from youku_tui.sandbox import SandboxThread
from youku_tui.service.connect import open_control
from youku_tui.service.control import UploadControl
from youku_tui.service.remote import RemoteControl
from youku_tui.tui.app import YoukuApp
from youku_tui.tui.screens.browser import BrowserScreen
from youku_tui.tui.screens.confirm import ConfirmScreen, PromptScreen
from youku_tui.tui.screens.dashboard import DashboardScreen
from youku_tui.tui.screens.metadata_form import MetadataFormScreen
from youku_tui.tui.widgets.dashboard.rows import WAITING_FOR_CAP
from youku_tui.tui.widgets.dashboard.upload_list import UploadList

# Small parts, two at a time: a 768 KiB file is 3 parts, a few seconds at the sandbox's cap.
ENGINE = "[engine]\npart_size = 262144\nmax_uploads = 2\nmax_parts = 2\n"
SLOW = "oss.*=bandwidth:128KB"

StartService = Callable[..., subprocess.Popen[bytes]]


@contextlib.asynccontextmanager
async def attached_app(paths_: list[Path]) -> AsyncIterator[tuple[YoukuApp, Pilot[str]]]:
    """The app as `youku-tui` runs it: attached to the running service (never local)."""
    async with open_control(False, mode="attach-or-local", role="youku-tui") as control:
        assert isinstance(control, RemoteControl), "the test's service does not answer"
        app = YoukuApp(control, make_config(), paths=paths_, save_login=False)
        async with app.run_test(size=(80, 24)) as pilot:
            yield app, pilot


@contextlib.asynccontextmanager
async def observer() -> AsyncIterator[RemoteControl]:
    """A second client of the service: what it sees is the daemon's state, not the app's."""
    remote = await RemoteControl.connect(paths.service_socket(False), client="observer")
    assert remote is not None
    try:
        yield remote
    finally:
        await remote.close()


def states(control: UploadControl) -> dict[str, UploadState]:
    return {Path(s.path).name: s.state for s in control.snapshots()}


def rows(app: YoukuApp) -> dict[str, Any]:
    """The dashboard's rows by file name, as last painted."""
    return {row.name: row for row in app.screen.query_one(UploadList).rows}


def header(app: YoukuApp) -> str:
    return str(app.screen.query_one("#totals").render())


async def pick_all_and_start(app: YoukuApp, pilot: Pilot[str]) -> None:
    """Browser -> pick every video -> the form with the config's defaults -> start."""
    await until(lambda: isinstance(s := app.screen, BrowserScreen) and s.listing is not None)
    await pilot.press("A", "n")
    await until(lambda: isinstance(app.screen, MetadataFormScreen))
    await pilot.press("ctrl+s")
    await until(lambda: isinstance(app.screen, DashboardScreen))


async def test_upload_started_in_the_tui_goes_on_in_the_service_after_quit(
    make_sandbox: Callable[..., SandboxThread], start_service: StartService, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults=SLOW)
    write_config(ENGINE)
    service = start_service(sandbox)
    folder = tmp_path / "videos"
    make_video(folder, "trip.mp4", 768 * KIB)

    async with attached_app([folder]) as (app, pilot):
        assert app.control.owner.pid == service.pid and app.control.owner.in_service
        await pick_all_and_start(app, pilot)
        # Progress painted on the dashboard, as the service reports it.
        await until(lambda: "trip.mp4" in rows(app) and rows(app)["trip.mp4"].fraction > 0)
        assert rows(app)["trip.mp4"].state is UploadState.UPLOADING
        # What the sockets took beyond the confirmed parts reaches the mirror too.
        await until(lambda: app.control.snapshots()[0].bytes_in_flight > 0)
        assert sandbox.videos() == []
        await pilot.press("ctrl+q")  # no question asked: the service keeps the upload
    assert "1 upload(s) go on in the youku-tui service" in app.quit_note
    assert f"pid {service.pid}" in app.quit_note

    # No view attached: the service finishes the upload and Youku has the video.
    await until(lambda: len(sandbox.videos()) == 1, within=40)
    assert sandbox.videos()[0]["title"] == "trip"

    async with attached_app([]) as (again, pilot):
        await until(lambda: "trip.mp4" in rows(again))
        assert rows(again)["trip.mp4"].state is UploadState.DONE
        assert rows(again)["trip.mp4"].percent.strip() == "100.0%"
    assert service.poll() is None  # quitting a view never stops the service


async def test_pause_resume_and_cancel_keys_reach_the_service(
    make_sandbox: Callable[..., SandboxThread], start_service: StartService, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults=SLOW)
    write_config(ENGINE)
    start_service(sandbox)
    folder = tmp_path / "videos"
    make_video(folder, "one.mp4", 768 * KIB)

    async with observer() as daemon, attached_app([folder]) as (app, pilot):
        await pick_all_and_start(app, pilot)
        await until(lambda: states(daemon).get("one.mp4") is UploadState.UPLOADING)
        await until(lambda: "one.mp4" in rows(app))
        await pilot.press("p")
        await until(lambda: states(daemon)["one.mp4"] is UploadState.PAUSED)
        await until(lambda: rows(app)["one.mp4"].state is UploadState.PAUSED)
        await pilot.press("p")
        await until(lambda: states(daemon)["one.mp4"].is_active)
        await until(lambda: rows(app)["one.mp4"].fraction > 0)  # a part confirmed
        await pilot.press("c")
        await until(lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(lambda: states(daemon)["one.mp4"] is UploadState.CANCELLED)
        await until(lambda: rows(app)["one.mp4"].state is UploadState.CANCELLED)
        # A cancelled row does not keep the percentage it had: its progress was thrown away.
        row = rows(app)["one.mp4"]
        assert row.fraction == 0 and row.percent.strip() == "-"
    assert sandbox.videos() == []


async def test_a_cap_set_in_the_tui_reaches_the_service_and_the_row_left_waiting_says_so(
    sandbox: SandboxThread, start_service: StartService, tmp_path: Path
) -> None:
    write_config(ENGINE)
    start_service(sandbox)
    folder = tmp_path / "videos"
    for name in ("first.mp4", "second.mp4"):
        make_video(folder, name, 768 * KIB)

    async with observer() as daemon, attached_app([]) as (app, pilot):
        await pilot.press("b")
        await until(lambda: isinstance(app.screen, PromptScreen))
        await pilot.press("ctrl+u", *"64K", "enter")
        await until(lambda: daemon.limits.bandwidth == 64 * KIB)
        app.open_browser(folder)
        await pick_all_and_start(app, pilot)
        # The cap serves one upload; the other, "uploading" at 0 B/s, says why. The
        # flag travels in the service's Progress events (the snapshot alone would be stale).
        await until(lambda: any(r.note == WAITING_FOR_CAP for r in rows(app).values()))
        [waiting] = [r for r in rows(app).values() if r.note == WAITING_FOR_CAP]  # one only
        assert waiting.phase == "waiting" and waiting.state is UploadState.UPLOADING


async def test_a_service_killed_under_the_tui_is_said_on_screen_without_a_traceback(
    make_sandbox: Callable[..., SandboxThread], start_service: StartService, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.*=bandwidth:32KB")
    write_config(ENGINE)
    service = start_service(sandbox)
    folder = tmp_path / "videos"
    make_video(folder, "big.mp4", 768 * KIB)

    async with attached_app([folder]) as (app, pilot):
        await pick_all_and_start(app, pilot)
        await until(lambda: states(app.control).get("big.mp4") is UploadState.UPLOADING)
        os.kill(service.pid, signal.SIGKILL)
        await asyncio.to_thread(service.wait, 10)
        # A toast now, and the header says it for as long as the app runs.
        await until(lambda: any("lost the service" in n.message for n in app._notifications))
        await until(lambda: "Lost the" in header(app))
        assert isinstance(app.screen, DashboardScreen) and app.is_running
        # A key that needs the service says why nothing happens, instead of failing.
        await pilot.press("p")
        await until(lambda: any("the service is gone" in n.message for n in app._notifications))
        await pilot.press("ctrl+q")
    assert app.return_code in (None, 0)
    assert f"service (pid {service.pid}) is gone" in app.quit_note
