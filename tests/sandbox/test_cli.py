"""`youku-tui sandbox --print-env`: the printed lines are all a client needs."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.sandbox.helpers import make_file, start_process


def stop_process(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "Traceback" not in err
    return err


def test_print_env_then_upload_with_the_product(tmp_path: Path) -> None:
    proc, env = start_process(tmp_path / "sb")
    try:
        assert set(env) == {
            "YOUKU_API_BASE",
            "YOUKU_CLIENT_ID",
            "YOUKU_ACCESS_TOKEN",
            "YOUKU_REFRESH_TOKEN",
        }
        video = tmp_path / "holiday.mp4"
        md5 = make_file(video, 600_000)
        upload = subprocess.run(
            [sys.executable, "-m", "youku_tui", "upload", str(video), "--tags", "holiday,sea"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert upload.returncode == 0, upload.stdout + upload.stderr
        videos = httpx.get(f"{env['YOUKU_API_BASE']}/sandbox/videos.json").json()["videos"]
        assert [(v["title"], v["md5"]) for v in videos] == [("holiday", md5)]
    finally:
        err = stop_process(proc)
    assert "listening on" in err
    for name in ("YOUKU_ACCESS_TOKEN", "YOUKU_REFRESH_TOKEN"):
        assert env[name] not in err  # tokens only ever go to stdout, with --print-env


def test_bad_fault_spec_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "youku_tui",
            "sandbox",
            "--data",
            str(tmp_path),
            "--faults",
            "oss.get=teapot",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "teapot" in result.stderr
    assert "Traceback" not in result.stderr


def test_eval_print_env_in_background_returns(tmp_path: Path) -> None:
    """`eval "$(youku-tui sandbox --print-env &)"` must not wait for the server to end."""
    import psutil

    data_dir = tmp_path / "eval-sb"
    script = (
        f'eval "$({shlex.quote(sys.executable)} -m youku_tui sandbox --print-env '
        f'--data {shlex.quote(str(data_dir))} 2>/dev/null &)"; '
        'curl -s "$YOUKU_API_BASE/sandbox/videos.json"'
    )
    try:
        result = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=30, check=False
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith('{"total": 0')
    finally:
        for proc in psutil.process_iter(["pid", "cmdline"]):
            if str(data_dir) in (proc.info["cmdline"] or []):
                proc.terminate()
                proc.wait(timeout=20)


def test_unreadable_state_is_a_clear_error(tmp_path: Path) -> None:
    data_dir = tmp_path / "sb"
    data_dir.mkdir()
    (data_dir / "state.json").write_text("{not json")
    result = subprocess.run(
        [sys.executable, "-m", "youku_tui", "sandbox", "--data", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "state.json is unreadable" in result.stderr
    assert "Traceback" not in result.stderr
