"""The README's examples work as written.

Every ```sh block preceded by ``<!-- runnable -->`` runs, in order, in one bash with a fresh
home (its own XDG folders) and a folder of small videos as its working directory, exactly
as a reader would paste it; the sandbox it starts in the background is stopped afterwards.
The TOML example must load with the real config loader, and its [keys] ids must exist.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.e2e.e2e_helpers import make_video
from youku_tui.config import load_config

README = Path(__file__).resolve().parents[2] / "README.md"
RUNNABLE = re.compile(r"<!-- runnable[^>]*-->\s*\n```sh\n(.*?)```", re.DOTALL)
TOML_BLOCK = re.compile(r"```toml\n(.*?)```", re.DOTALL)


def runnable_blocks() -> list[str]:
    return RUNNABLE.findall(README.read_text(encoding="utf-8"))


def test_the_readme_marks_its_runnable_blocks() -> None:
    blocks = runnable_blocks()
    assert len(blocks) >= 2
    assert any("sandbox --print-env" in block for block in blocks)


def test_runnable_readme_blocks_run_as_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    work = tmp_path / "videos"
    for name in ("clip.mp4", "trip-1.mp4", "trip-2.mp4"):
        make_video(work, name, 300_000)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("YOUKU_", "XDG_")) and key != "HOME"
    }
    env["HOME"] = str(home)
    for name in ("CONFIG", "STATE", "DATA", "CACHE"):
        env[f"XDG_{name}_HOME"] = str(home / name.lower())
    runtime = home / "run"  # the per-user service's socket: this reader's own
    runtime.mkdir(parents=True, mode=0o700)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    # The reader's shell finds `youku-tui` on its PATH: the one installed next to this Python.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    check = 'echo; curl -s "$YOUKU_API_BASE/sandbox/videos.json"'  # what the sandbox received
    script = "set -euo pipefail\n" + "\n".join(runnable_blocks()) + "\n" + check
    # Files, not pipes: the sandbox left in the background keeps them open after bash exits.
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    with out_path.open("w") as out_file, err_path.open("w") as err_file:
        proc = subprocess.Popen(
            ["bash", "-c", script],
            cwd=work,
            env=env,
            stdout=out_file,
            stderr=err_file,
            start_new_session=True,  # the sandbox the README starts in the background is ours
        )
        try:
            proc.wait(timeout=180)
        finally:
            with contextlib.suppress(ProcessLookupError):  # the sandbox it left running
                os.killpg(proc.pid, signal.SIGTERM)
    out, err = out_path.read_text(), err_path.read_text()
    assert proc.returncode == 0, f"README blocks failed:\n{out}\n{err}"
    assert "Traceback" not in err
    # What the blocks did: three uploads committed.
    assert '{"total": 3' in out.splitlines()[-1], out + err


def binding_ids() -> set[str]:
    """The id of every binding declared in youku_tui.tui (screens, widgets, the app)."""
    import youku_tui.tui

    ids: set[str] = set()
    for info in pkgutil.walk_packages(youku_tui.tui.__path__, "youku_tui.tui."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == info.name:
                ids.update(b.id for b in getattr(value, "BINDINGS", []) if getattr(b, "id", ""))
    return ids


def test_readme_config_example_loads_and_names_real_binding_ids(tmp_path: Path) -> None:
    (block,) = TOML_BLOCK.findall(README.read_text(encoding="utf-8"))
    path = tmp_path / "config.toml"
    path.write_text(block, encoding="utf-8")
    config = load_config(path)
    ids = binding_ids()
    assert "dashboard.pause" in ids and "browser.invert" in ids
    assert config.keys, "the example shows a key remap"
    assert set(config.keys) <= ids, set(config.keys) - ids
