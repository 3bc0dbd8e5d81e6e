"""Fixtures for the TUI tests: a fixed folder of videos, apps on a fake or a real engine."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.tui.fake_engine import FakeEngine, sample_snapshots
from tests.tui.helpers import (
    FIXED_MTIME,
    FIXTURE_FILES,
    FIXTURE_ROOT,
    TODAY,
    AppFactory,
    make_config,
)
from youku_tui.config import Config
from youku_tui.tui.app import YoukuApp


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
