"""Where youku-tui keeps its files (XDG base directories)."""

from __future__ import annotations

import os
from pathlib import Path

APP = "youku-tui"


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "").strip()
    # The spec says relative paths in these variables are invalid and must be ignored.
    base = Path(value) if value and os.path.isabs(value) else Path.home() / fallback
    return base / APP


def config_dir() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config")


def state_dir() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state")


def data_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share")


def config_file() -> Path:
    return config_dir() / "config.toml"


def uploads_dir(sandbox: bool = False) -> Path:
    """Checkpoints; sandbox uploads live apart so they never resume against production."""
    return state_dir() / ("sandbox-uploads" if sandbox else "uploads")


def user_themes_dir() -> Path:
    return config_dir() / "themes"


def sandbox_data_dir() -> Path:
    return data_dir() / "sandbox"


def log_file() -> Path:
    return state_dir() / "youku-tui.log"
