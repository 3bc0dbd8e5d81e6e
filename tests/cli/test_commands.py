"""The headless commands in-process: login, --sandbox, the terminal board, the runtime."""

from __future__ import annotations

import io
import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from youku_tui import paths
from youku_tui.cli.main import main
from youku_tui.cli.progress import JsonLines, TerminalBoard
from youku_tui.config import Config, load_config, save_config
from youku_tui.engine.events import (
    Progress,
    StateChanged,
    UploadAdded,
    UploadDone,
    event_from_dict,
)
from youku_tui.engine.states import UploadState
from youku_tui.errors import NotLoggedInError
from youku_tui.runtime import open_runtime


def test_login_saves_tokens_privately_and_never_prints_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "login",
            "--client-id",
            "cid123",
            "--access-token",
            "AT-secret-1",
            "--refresh-token",
            "RT-secret-2",
        ]
    )
    assert code == 0
    out = capsys.readouterr()
    assert "AT-secret-1" not in out.out + out.err
    assert "RT-secret-2" not in out.out + out.err
    config_path = paths.config_file()
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    creds = load_config().credentials
    assert (creds.client_id, creds.access_token, creds.refresh_token) == (
        "cid123",
        "AT-secret-1",
        "RT-secret-2",
    )


def test_login_prompts_with_getpass(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def fake_getpass(prompt: str) -> str:
        asked.append(prompt)
        return "from-prompt-" + str(len(asked))

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert main(["login", "--client-id", "cid"]) == 0
    assert asked == ["Access token: ", "Refresh token (empty if none): "]
    assert load_config().credentials.access_token == "from-prompt-1"


def test_login_refuses_plain_http_to_a_remote_host(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["login", "--client-id", "c", "--access-token", "a", "--api-base", "http://example.com"]
    )
    assert code == 2
    assert "loopback" in capsys.readouterr().err


def test_upload_without_login_says_how_to_log_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x" * 1000)
    assert main(["upload", str(video), "--tags", "ok"]) == 2
    assert "youku-tui login" in capsys.readouterr().err


def test_upload_with_in_process_sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"sandbox video " * 20_000)
    code = main(["upload", "--sandbox", str(video), "--tags", "ok,fine", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    records = [json.loads(line) for line in out.out.splitlines()]
    assert records[-1]["event"] == "result"
    assert records[-1]["video_id"]
    # Sandbox uploads keep their checkpoints apart from real ones.
    assert list(paths.uploads_dir(sandbox=True).glob("*.toml"))
    assert not paths.uploads_dir().exists()


async def test_runtime_requires_credentials() -> None:
    with pytest.raises(NotLoggedInError, match="youku-tui login"):
        async with open_runtime(config=Config()):
            pass


async def test_refreshed_tokens_are_saved_to_the_config(sandbox: Any, tmp_path: Path) -> None:
    creds = sandbox.credentials
    save_config(Config(api_base=sandbox.api_base, credentials=creds))
    sandbox.expire_access_tokens()
    async with open_runtime() as rt:
        await rt.client.refresh(creds.access_token)
    saved = load_config().credentials
    assert saved.access_token != creds.access_token
    assert saved.access_token == rt.client.credentials.access_token
    assert stat.S_IMODE(paths.config_file().stat().st_mode) == 0o600


def test_events_round_trip_through_json() -> None:
    event = StateChanged(upload_id="u", old=UploadState.QUEUED, new=UploadState.HASHING)
    line = io.StringIO()
    JsonLines(line)(event)
    assert event_from_dict(json.loads(line.getvalue())) == event


def test_terminal_board_draws_in_place() -> None:
    out = io.StringIO()
    board = TerminalBoard(out, tty=True)
    board(
        UploadAdded(upload_id="u", path="/v.mp4", title="Clip", size=1000, state=UploadState.QUEUED)
    )
    board(StateChanged(upload_id="u", old=UploadState.QUEUED, new=UploadState.UPLOADING))
    board(Progress(upload_id="u", phase="uploading", done=500, total=1000, speed=2048.0))
    board(UploadDone(upload_id="u", video_id="XM1", url="https://v/XM1"))
    board.close()
    text = out.getvalue()
    assert "\x1b[1F" in text  # redrawn in place, not scrolled
    assert "done Clip: video id XM1" in text
    assert "[########################]" in text  # full once done


def test_board_without_terminal_prints_plain_lines() -> None:
    out = io.StringIO()
    board = TerminalBoard(out, tty=False)
    board(
        UploadAdded(upload_id="u", path="/v.mp4", title="Clip", size=10, state=UploadState.QUEUED)
    )
    board(StateChanged(upload_id="u", old=UploadState.QUEUED, new=UploadState.HASHING))
    board.close()
    assert "\x1b" not in out.getvalue()
    assert "Clip: hashing" in out.getvalue()
