"""Shared fixtures. Every test runs with its own XDG folders: no test touches ~."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        folder = home / sub
        folder.mkdir(parents=True)
        monkeypatch.setenv(var, str(folder))
    monkeypatch.setenv("HOME", str(home))
    for var in ("YOUKU_API_BASE", "YOUKU_CLIENT_ID", "YOUKU_ACCESS_TOKEN", "YOUKU_REFRESH_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    yield home
