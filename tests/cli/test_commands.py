"""The headless commands in-process: login, --sandbox, the terminal board, the runtime."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from youku_tui import paths
from youku_tui.cli.main import main
from youku_tui.cli.progress import JsonLines, TerminalBoard
from youku_tui.config import Config, Credentials, load_config, save_config
from youku_tui.engine.events import (
    Progress,
    StateChanged,
    UploadAdded,
    UploadDone,
    event_from_dict,
)
from youku_tui.engine.snapshot import UploadSnapshot
from youku_tui.engine.states import UploadState
from youku_tui.errors import NotLoggedInError
from youku_tui.runtime import open_runtime
from youku_tui.textwidth import cells


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
    assert "[##########]" in text  # full once done


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


# --- the progress board: cells, ETA, waiting rows, piped and quiet output ---------------------


def _uploading(
    board: TerminalBoard,
    upload_id: str,
    title: str,
    done: int,
    speed: float,
    *,
    waiting: bool = False,
) -> None:
    size = 100 * 1024 * 1024
    board(
        UploadAdded(
            upload_id=upload_id, path="/v", title=title, size=size, state=UploadState.QUEUED
        )
    )
    board(StateChanged(upload_id=upload_id, old=UploadState.QUEUED, new=UploadState.UPLOADING))
    board(
        Progress(
            upload_id=upload_id,
            phase="uploading",
            done=done,
            in_flight=12 * 1024 * 1024,
            total=size,
            speed=speed,
            parts_done=3,
            parts_total=10,
            waiting_for_bandwidth=waiting,
        )
    )


def test_board_fits_80_columns_in_cells_with_speed_and_eta() -> None:
    board = TerminalBoard(io.StringIO(), tty=True, width=80)
    _uploading(
        board,
        "a",
        "旅行的第一天和第二天和第三天的视频剪辑版.mp4",
        30 * 1024 * 1024,
        3 * 1024 * 1024,
    )
    _uploading(board, "b", "plain.mp4", 60 * 1024 * 1024, 1024 * 1024)
    lines = board.lines()
    assert all(cells(line) <= 79 for line in lines), [cells(line) for line in lines]
    cjk, plain = lines
    assert "3.0 MiB/s" in cjk and "ETA 19s" in cjk  # (100 - 30 - 12 in flight) MiB at 3 MiB/s
    assert " 30.0%" in cjk and " 60.0%" in plain
    # The bars line up although one title is wide characters: columns counted in cells.
    assert cells(cjk[: cjk.index("[")]) == cells(plain[: plain.index("[")])
    assert "[###=------]" in cjk  # confirmed, then the lighter in-flight segment


def test_a_cancelled_row_keeps_no_bar() -> None:
    board = TerminalBoard(io.StringIO(), tty=True, width=80)
    _uploading(board, "a", "gone", 30 * 1024 * 1024, 0.0)
    assert "[###" in board.lines()[0]
    board(StateChanged(upload_id="a", old=UploadState.UPLOADING, new=UploadState.CANCELLED))
    [line] = board.lines()
    assert "#" not in line and "=" not in line
    assert line.rstrip().endswith("[----------] cancelled")


def test_a_row_waiting_for_its_share_of_the_cap_says_so_when_the_engine_does() -> None:
    board = TerminalBoard(io.StringIO(), tty=True, width=80)
    _uploading(board, "a", "first", 10 * 1024 * 1024, 3 * 1024 * 1024)
    _uploading(board, "b", "second", 0, 0.0, waiting=True)
    _uploading(board, "c", "third", 0, 0.0)  # at 0 B/s too, but not for the cap: stalled
    first, second, third = board.lines()
    assert "waiting for bandwidth (cap)" in second
    assert "waiting" not in first and "waiting" not in third
    board(StateChanged(upload_id="b", old=UploadState.UPLOADING, new=UploadState.PAUSED))
    assert "waiting" not in board.lines()[1]
    # Attaching to a service: the snapshot's flag, before any event.
    attached = TerminalBoard(io.StringIO(), tty=True, width=80)
    attached.load(
        [UploadSnapshot("x", "/v/x", "x", 100, UploadState.UPLOADING, waiting_for_bandwidth=True)]
    )
    assert "waiting for bandwidth (cap)" in attached.lines()[0]


def test_piped_board_prints_a_progress_line_per_upload_at_most_every_interval() -> None:
    out = io.StringIO()
    board = TerminalBoard(out, tty=False, piped_interval=3600)
    _uploading(board, "a", "clip", 10 * 1024 * 1024, 1024 * 1024)
    board(
        Progress(upload_id="a", phase="uploading", done=20 * 1024 * 1024, total=100 * 1024 * 1024)
    )
    progress_lines = [line for line in out.getvalue().splitlines() if "confirmed" in line]
    assert progress_lines == [
        "clip:  10.0%   1.0 MiB/s ETA 1m18s (10.0 MiB of 100.0 MiB confirmed, part 3/10)"
    ]
    often = io.StringIO()
    board = TerminalBoard(often, tty=False, piped_interval=0)
    _uploading(board, "a", "clip", 10 * 1024 * 1024, 1024 * 1024)
    board(
        Progress(upload_id="a", phase="uploading", done=20 * 1024 * 1024, total=100 * 1024 * 1024)
    )
    assert often.getvalue().count("confirmed") == 2
    assert "\x1b" not in often.getvalue()


def test_quiet_board_prints_nothing() -> None:
    out = io.StringIO()
    board = TerminalBoard(out, tty=False, quiet=True, piped_interval=0)
    _uploading(board, "a", "clip", 10, 1.0)
    board(UploadDone(upload_id="a", video_id="XM1", url="https://v/XM1"))
    board.close()
    assert out.getvalue() == ""


def test_a_name_that_is_not_utf8_never_stops_the_output() -> None:
    name = b"caf\xe9\x1b[2J.mp4".decode("utf-8", "surrogateescape")
    raw = io.BytesIO()
    strict = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", write_through=True)
    board = TerminalBoard(strict, tty=False, piped_interval=0)
    _uploading(board, "a", name, 10, 1.0)
    board(UploadDone(upload_id="a", video_id="XM1", url="https://v/XM1"))
    text = raw.getvalue().decode("utf-8")
    assert "done caf\\xe9\\x1b[2J.mp4: video id XM1" in text
    raw_json = io.BytesIO()
    lines = JsonLines(io.TextIOWrapper(raw_json, encoding="utf-8", write_through=True))
    lines(
        UploadAdded(upload_id="a", path="/v/" + name, title=name, size=1, state=UploadState.QUEUED)
    )
    record = json.loads(raw_json.getvalue())
    assert os.fsencode(record["path"]) == b"/v/caf\xe9\x1b[2J.mp4"  # the very bytes, back


def test_upload_with_a_preset_of_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from youku_tui.config import MetadataDefaults

    save_config(
        Config(presets={"travel": MetadataDefaults(title="Trip {index}", tags=("travel", "vlog"))})
    )
    video = tmp_path / "v.mp4"
    video.write_bytes(b"sandbox video " * 20_000)
    code = main(["upload", "--sandbox", str(video), "--preset", "travel", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out.splitlines()[-1])["title"] == "Trip 1"
    assert main(["upload", "--sandbox", str(video), "--preset", "nope"]) == 2
    assert "no preset 'nope' in the config; presets: travel" in capsys.readouterr().err


LOGIN_FILE = """\
# my settings
[youku]
client_id = "file-cid"

[engine]
max_uploads = 2
"""


def test_login_saves_the_login_and_none_of_the_environments_overrides(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """YOUKU_* in the environment are for this run: `login` writes what the file had plus the
    new login, never the env's API base, CA bundle or tokens."""
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LOGIN_FILE)
    before = load_config(use_env=False)
    env = {
        "YOUKU_API_BASE": "http://127.0.0.1:9",
        "YOUKU_CA_BUNDLE": str(tmp_path / "env-ca.pem"),
        "YOUKU_CLIENT_ID": "env-cid",
        "YOUKU_ACCESS_TOKEN": "env-token",
        "YOUKU_REFRESH_TOKEN": "env-refresh",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["login", "--access-token", "AT-new"]) == 0
    text = path.read_text()
    for value in env.values():
        assert value not in text
    assert text.startswith("# my settings\n[youku]\n")
    expected = Credentials(client_id="file-cid", access_token="AT-new")
    assert load_config(use_env=False) == replace(before, credentials=expected)
