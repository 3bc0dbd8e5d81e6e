"""The TUI against the sandbox with the real engine: videos, an EngineHost, the app on it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.tui.helpers import wait_for
from youku_tui.api.client import YoukuClient
from youku_tui.api.retry import RetryPolicy
from youku_tui.config import Config, EngineSettings
from youku_tui.engine.states import UploadState
from youku_tui.runtime import Runtime
from youku_tui.sandbox import SandboxThread
from youku_tui.service.control import UploadControl
from youku_tui.service.host import EngineHost
from youku_tui.tui.app import YoukuApp
from youku_tui.tui.screens.browser import BrowserScreen
from youku_tui.tui.screens.dashboard import DashboardScreen
from youku_tui.tui.widgets.dashboard.rows import UploadRow
from youku_tui.tui.widgets.dashboard.upload_list import UploadList

KIB = 1024


def make_videos(folder: Path, sizes: dict[str, int]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, size in sizes.items():
        path = folder / name
        path.write_bytes(os.urandom(size))  # unique bytes: never a duplicate upload
        paths.append(path)
    return paths


@contextlib.asynccontextmanager
async def running_host(
    sandbox: SandboxThread, tmp_path: Path, config: Config, *, in_service: bool = False
) -> AsyncIterator[EngineHost]:
    """An EngineHost on the sandbox: in-process (``--no-service``), or playing the service
    (``in_service``) so that an app can quit and another attach while the uploads go on."""
    settings = EngineSettings(max_uploads=3, max_parts=4, part_size=100 * KIB)
    client = YoukuClient(
        sandbox.credentials,
        api_base=sandbox.api_base,
        retry=RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.2),
    )
    async with client:
        rt = Runtime(
            config=replace(config, engine=settings),
            client=client,
            checkpoint_dir=tmp_path / "checkpoints",
        )
        async with EngineHost(rt, sandbox=True, in_service=in_service) as host:
            yield host


@contextlib.asynccontextmanager
async def running_app(
    sandbox: SandboxThread, tmp_path: Path, config: Config, paths: list[Path]
) -> AsyncIterator[tuple[YoukuApp, Pilot[str], EngineHost]]:
    """The app over an in-process EngineHost (``--no-service``) on the sandbox."""
    async with (
        running_host(sandbox, tmp_path, config) as host,
        app_on(host, config, paths) as (app, pilot),
    ):
        yield app, pilot, host


@contextlib.asynccontextmanager
async def app_on(
    control: UploadControl, config: Config, paths: list[Path]
) -> AsyncIterator[tuple[YoukuApp, Pilot[str]]]:
    app = YoukuApp(
        control,
        config,
        paths=paths,
        save_login=False,  # as for the sandbox: the test's tokens stay out of the config
    )
    async with app.run_test(size=(80, 24)) as pilot:
        yield app, pilot


def states(engine: UploadControl) -> dict[str, UploadState]:
    return {Path(s.path).name: s.state for s in engine.snapshots()}


async def open_listing(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, BrowserScreen))
    await wait_for(
        pilot, lambda: isinstance(s := app.screen, BrowserScreen) and s.listing is not None
    )


def shown_rows(app: YoukuApp) -> list[UploadRow]:
    """The rows the dashboard shows now (none while another screen is on top)."""
    screen = app.screen
    return screen.query_one(UploadList).rows if isinstance(screen, DashboardScreen) else []


def header_text(app: YoukuApp) -> str:
    screen = app.screen
    return str(screen.query_one("#totals").render()) if isinstance(screen, DashboardScreen) else ""
