"""The issue's race: an `upload` running while `resume` is started again and again.

Before the state folder had one owner, a `resume` read the checkpoints before locking them
and wrote an old copy over a finished upload's, which then created its upload again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.service.service_helpers import KIB, make_video
from youku_tui import paths
from youku_tui.engine.checkpoint import CheckpointStore
from youku_tui.engine.owner import current_owner
from youku_tui.engine.states import UploadState


def _cli(sandbox: Any, *args: str) -> list[str]:
    return [sys.executable, "-m", "youku_tui", *args]


def test_upload_racing_repeated_resumes_commits_each_file_once(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.*=bandwidth:256KB")
    files = [make_video(tmp_path / "v", f"r{i}.mp4", 300 * KIB) for i in range(6)]
    env = {**os.environ, **sandbox.env()}
    upload = subprocess.Popen(
        _cli(sandbox, "upload", *map(str, files), "--tags", "race", "--jobs", "2", "--json"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while (owner := current_owner(paths.uploads_dir())) is None or owner.pid != upload.pid:
        assert upload.poll() is None and time.monotonic() < deadline, upload.communicate()
        time.sleep(0.02)
    refused = 0
    resumes = 0
    while upload.poll() is None and time.monotonic() < deadline:
        resume = subprocess.run(
            _cli(sandbox, "resume", "--json"),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        resumes += 1
        if resume.returncode == 2:
            assert f"pid {upload.pid}" in resume.stderr, resume.stderr
            refused += 1
        else:
            assert resume.returncode == 0, resume.stderr
    _out, err = upload.communicate(timeout=60)
    assert upload.returncode == 0, err
    for _ in range(2):  # and again once it is over: nothing left to resume
        after = subprocess.run(
            _cli(sandbox, "resume"),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert after.returncode == 0, after.stderr
    assert refused >= 1, f"no resume ran while the upload did ({resumes} tried)"
    loaded, problems = CheckpointStore(paths.uploads_dir()).load_all()
    assert problems == []
    assert len(loaded) == len(files)
    assert all(cp.state is UploadState.DONE and cp.video_id for cp in loaded)
    assert len(sandbox.videos()) == len(files)
    assert sandbox.stats()["api.create"] == len(files)
    assert sandbox.stats()["api.commit"] == len(files)
