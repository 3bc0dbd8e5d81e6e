"""``youku-tui service install``: a systemd user unit that runs ``youku-tui service run``."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from youku_tui.fsutil import atomic_write


def unit_dir() -> Path:
    value = os.environ.get("XDG_CONFIG_HOME", "").strip()
    base = Path(value) if value and os.path.isabs(value) else Path.home() / ".config"
    return base / "systemd" / "user"


def unit_text(sandbox: bool) -> str:
    command = [sys.executable, "-m", "youku_tui", "service", "run"]
    if sandbox:
        command.append("--sandbox")
    return (
        "[Unit]\n"
        f"Description=youku-tui upload service{' (sandbox)' if sandbox else ''}\n"
        "After=network-online.target\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={shlex.join(command)}\n"
        # A stop pauses every upload and saves its checkpoint: give it time.
        "TimeoutStopSec=60\n"
        "Restart=on-failure\n"
        "RestartSec=5\n"
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )


def install_unit(sandbox: bool) -> tuple[Path, str]:
    """Write the unit; its path and name."""
    name = "youku-tui-sandbox.service" if sandbox else "youku-tui.service"
    path = unit_dir() / name
    atomic_write(path, unit_text(sandbox).encode("utf-8"), mode=0o644)
    return path, name
