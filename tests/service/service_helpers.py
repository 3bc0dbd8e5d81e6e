"""Helpers for the service tests: videos, a sandbox-backed config, the service's environment."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from youku_tui import paths
from youku_tui.config import Config, EngineSettings
from youku_tui.metadata import VideoMetadata
from youku_tui.sandbox import SandboxThread

KIB = 1024
MIB = 1024 * 1024
META = VideoMetadata(title="Clip", tags=("test",))


def make_video(folder: Path, name: str, size: int) -> Path:
    """A file of random bytes (unique, so the sandbox never sees a duplicate upload)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(os.urandom(size))
    return path


def sandbox_config(sandbox: SandboxThread, **engine: int) -> Config:
    """A config that talks to ``sandbox`` (its production-style folder, not sandbox-uploads)."""
    engine.setdefault("part_size", 256 * KIB)
    return replace(
        Config(),
        api_base=sandbox.api_base,
        credentials=sandbox.credentials,
        engine=replace(EngineSettings(), **engine),
    )


def service_env(sandbox: SandboxThread | None = None) -> dict[str, str]:
    """This process's environment (the test's XDG folders) plus the sandbox's login."""
    env = dict(os.environ)
    if sandbox is not None:
        env.update(sandbox.env())
    return env


def write_config(text: str) -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
