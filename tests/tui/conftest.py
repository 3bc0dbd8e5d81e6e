"""Fixtures for the TUI tests: a fixed folder of videos, apps on a fake or a real engine."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fake_engine import FakeEngine, sample_snapshots
from textual.pilot import Pilot

from youku_tui.config import Config, MetadataDefaults, TuiSettings
from youku_tui.tui.app import YoukuApp
from youku_tui.tui.screens.browser import BrowserScreen
from youku_tui.tui.screens.dashboard import DashboardScreen

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


@pytest.fixture(autouse=True)
def utc_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dates on screen in UTC, whatever the machine's zone (snapshots must not vary)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def video_folder() -> Path:
    """``/tmp/youku-tui-test-fixture/videos`` with fixed names, sizes and dates."""
    folder = FIXTURE_ROOT / "videos"
    # Idempotent and atomic: parallel test workers (pytest -n) share this fixed path.
    (folder / "archive").mkdir(parents=True, exist_ok=True)
    for name, size in FIXTURE_FILES.items():
        path = folder / name
        if not path.exists() or path.stat().st_size != size:
            scratch = folder / f".tmp-{os.getpid()}-{name}"
            scratch.write_bytes(bytes([len(name) % 251]) * size)
            os.replace(scratch, path)
        os.utime(path, (FIXED_MTIME, FIXED_MTIME))
    os.utime(folder / "archive", (FIXED_MTIME, FIXED_MTIME))
    return folder


def make_config(theme: str = "youku-dark", **changes: Any) -> Config:
    return Config(
        tui=TuiSettings(theme=theme),
        defaults=MetadataDefaults(tags=("travel", "2026")),
        **changes,
    )


AppFactory = Callable[..., YoukuApp]


@pytest.fixture
def make_app() -> AppFactory:
    """A YoukuApp over a FakeEngine (an UploadControl), painted on demand (no timers) for stable screenshots."""

    def factory(
        theme: str = "youku-dark",
        snapshots: bool = True,
        engine: FakeEngine | None = None,
        config: Config | None = None,
        **kwargs: Any,
    ) -> YoukuApp:
        engine = engine or FakeEngine(sample_snapshots() if snapshots else [])
        return YoukuApp(
            engine,
            config or make_config(theme),
            live=kwargs.pop("live", False),
            today=TODAY,
            **kwargs,
        )

    return factory


async def wait_listing(pilot: Pilot[Any], screen: BrowserScreen) -> None:
    """Until the browser shows its folder's listing (read in a thread)."""
    for _ in range(750):  # up to 15 s on a loaded machine
        if screen.listing is not None and screen.listing.folder == screen.folder:
            return
        await pilot.pause(0.02)
    raise AssertionError("listing never arrived")


async def painted_dashboard(pilot: Pilot[Any]) -> DashboardScreen:
    """The dashboard, painted from the engine's snapshots (apps here have no paint timer)."""
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    screen.paint()
    await pilot.pause()
    return screen


@pytest.fixture
def cjk_folder() -> Path:
    """``/tmp/youku-tui-test-fixture/cjk``: a CJK-named video beside an ASCII one."""
    folder = FIXTURE_ROOT / "cjk"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("旅行.mp4", "beach.mp4"):
        path = folder / name
        if not path.exists():
            scratch = folder / f".tmp-{os.getpid()}-{name}"
            scratch.write_bytes(b"\0" * 2048)
            os.replace(scratch, path)
        os.utime(path, (FIXED_MTIME, FIXED_MTIME))
    return folder
