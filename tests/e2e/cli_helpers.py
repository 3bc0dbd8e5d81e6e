"""Helpers for the CLI's end-to-end tests: the command, its environment, its checkpoints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.polling import wait_until
from youku_tui import paths
from youku_tui.engine.checkpoint import Checkpoint, CheckpointStore
from youku_tui.errors import CheckpointError


def cli(sandbox: Any, *args: str) -> list[str]:
    return [sys.executable, "-m", "youku_tui", *args]


def cli_env(sandbox: Any) -> dict[str, str]:
    return {**os.environ, **sandbox.env()}


def run_cli(sandbox: Any, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli(sandbox, *args),
        env=cli_env(sandbox),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def checkpoints() -> list[Checkpoint]:
    loaded, problems = CheckpointStore(paths.uploads_dir()).load_all()
    assert problems == []
    return loaded


def start_slow_upload(sandbox: Any, path: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cli(
            sandbox,
            "upload",
            str(path),
            "--tags",
            "test,kill",
            "--part-size",
            "256K",
            "--parts",
            "2",
            "--json",
            *extra,
        ),
        env=cli_env(sandbox),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_stored_parts(
    count: int, process: subprocess.Popen[str], *, name: str = "", within: float = 30
) -> Checkpoint:
    """The checkpoint of the upload (of the file ``name``, or the first) once it records
    ``count`` stored parts; ``process``, the CLI uploading it, must still be running."""
    found: list[Checkpoint] = []

    def stored() -> bool:
        assert process.poll() is None, process.communicate()
        try:
            loaded, _problems = CheckpointStore(paths.uploads_dir()).load_all()
        except CheckpointError:  # read while being replaced
            return False
        found[:] = [c for c in loaded if not name or c.path.name == name]
        return bool(found) and len(found[0].parts) >= count

    wait_until(stored, f"{count} parts of {name or 'the upload'} stored", within=within)
    return found[0]
