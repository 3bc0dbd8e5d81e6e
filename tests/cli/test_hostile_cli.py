"""Issue 9, item 9 on the CLI side: the watch password's options say that --password shows in
`ps` and offer the prompt, $YOUKU_WATCH_PASSWORD and --password-file; the log file is 0600."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from youku_tui import paths
from youku_tui.cli.main import main


@pytest.mark.parametrize("command", ["upload", "resume", "retry"])
def test_password_help_warns_about_ps_and_offers_safer_ways(command: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "youku_tui", command, "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    text = " ".join(result.stdout.split())
    assert "`ps`" in text
    assert "YOUKU_WATCH_PASSWORD" in text
    assert "--password-file" in text


def test_the_password_can_come_from_a_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x" * 1000)
    secret = tmp_path / "pw"
    secret.write_text("Bad Password!\n")
    args = ["upload", str(video), "--tags", "aa", "--public-type", "password"]
    # A wrong password from either source is checked like a typed one: refused, nothing sent.
    assert main([*args, "--password-file", str(secret)]) == 2
    assert "watch_password" in capsys.readouterr().err
    monkeypatch.setenv("YOUKU_WATCH_PASSWORD", "Bad Password!")
    assert main(args) == 2
    assert "watch_password" in capsys.readouterr().err


def test_the_log_file_is_private() -> None:
    log = paths.log_file()
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("an older log\n")
    log.chmod(0o644)
    subprocess.run([sys.executable, "-m", "youku_tui", "list"], capture_output=True, check=True)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    log.unlink()
    subprocess.run([sys.executable, "-m", "youku_tui", "list"], capture_output=True, check=True)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
