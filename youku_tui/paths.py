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


def runtime_dir() -> Path:
    """Where the service's socket lives: ``$XDG_RUNTIME_DIR/youku-tui``, else the state folder."""
    value = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    return Path(value) / APP if value and os.path.isabs(value) else state_dir()


def service_socket(sandbox: bool = False) -> Path:
    """The per-user service's socket; a sandbox service has its own."""
    return runtime_dir() / ("sandbox-service.sock" if sandbox else "service.sock")


def service_log(sandbox: bool = False) -> Path:
    return state_dir() / ("sandbox-service.log" if sandbox else "service.log")


def log_file() -> Path:
    return state_dir() / "youku-tui.log"
