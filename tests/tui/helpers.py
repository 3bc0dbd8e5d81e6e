"""Helpers of the TUI tests (fixtures are in conftest.py): the fixed folder's names and dates,
a config with test defaults, and waiting for the browser's listing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from textual.app import App
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.screen import Screen

from tests.polling import until
from youku_tui.config import Config, MetadataDefaults, TuiSettings
from youku_tui.tui.app import YoukuApp
from youku_tui.tui.screens.browser import BrowserScreen
from youku_tui.tui.screens.confirm import ConfirmScreen, PromptScreen
from youku_tui.tui.screens.dashboard import DashboardScreen
from youku_tui.tui.screens.help import HelpScreen
from youku_tui.tui.screens.login import LoginScreen
from youku_tui.tui.screens.metadata_form import MetadataFormScreen
from youku_tui.tui.widgets.browser.file_list import FileList
from youku_tui.tui.widgets.dashboard.upload_list import UploadList

# Snapshots show the folder path, so it must not depend on pytest's tmp_path.
FIXTURE_ROOT = Path("/tmp/youku-tui-test-fixture")
FIXED_MTIME = 1767225600.0  # 2026-01-01 00:00 UTC
TODAY = date(2026, 1, 1)
FIXTURE_FILES = {
    "beach-day.mp4": 310_000,
    "city-walk.mov": 520_000,
    "concert-encore.mkv": 150_000,
    "notes.txt": 1_200,
    "poster.jpg": 40_000,
    ".hidden-clip.mp4": 100_000,
}


def make_config(theme: str = "youku-dark", **changes: Any) -> Config:
    return Config(
        tui=TuiSettings(theme=theme),
        defaults=MetadataDefaults(tags=("travel", "2026")),
        **changes,
    )


AppFactory = Callable[..., YoukuApp]

# The app's classes that declare key bindings (the key tests check each one's bindings).
OUR_CLASSES: list[type[DOMNode]] = [
    YoukuApp, DashboardScreen, BrowserScreen, MetadataFormScreen, LoginScreen, HelpScreen,
    ConfirmScreen, PromptScreen, UploadList, FileList,
]  # fmt: skip


async def wait_for(
    pilot: Pilot[Any] | None, check: Callable[[], object], what: str = "", within: float = 30.0
) -> None:
    """:func:`tests.polling.until` through the app's pilot, so the app keeps processing its
    messages while the test waits (or on the bare loop, ``pilot=None``, once no app runs)."""
    await until(check, what, within=within, pause=asyncio.sleep if pilot is None else pilot.pause)


async def wait_listing(pilot: Pilot[Any], screen: BrowserScreen) -> None:
    """Until the browser shows its folder's listing (read in a thread)."""
    await wait_for(
        pilot,
        lambda: screen.listing is not None and screen.listing.folder == screen.folder,
        f"the listing of {screen.folder}",
    )


async def painted_dashboard(pilot: Pilot[Any]) -> DashboardScreen:
    """The dashboard, painted from the engine's snapshots (apps here have no paint timer)."""
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    screen.paint()
    await pilot.pause()
    return screen


async def select_row(pilot: Pilot[Any], screen: DashboardScreen, upload_id: str) -> None:
    """Move the dashboard's cursor to ``upload_id``'s row with the arrow keys, as a user does."""
    upload_list = screen.query_one(UploadList)
    steps = [row.upload_id for row in upload_list.rows].index(upload_id) - upload_list.cursor
    if steps:
        await pilot.press(*["down" if steps > 0 else "up"] * abs(steps))
    await pilot.pause()
    assert upload_list.rows[upload_list.cursor].upload_id == upload_id


def current_screen(app: App[Any]) -> Screen[Any]:
    """``app.screen`` read afresh: mypy keeps an ``isinstance`` narrowing of ``app.screen``
    across ``await pilot.pause()``, although the screen may have changed."""
    return app.screen
