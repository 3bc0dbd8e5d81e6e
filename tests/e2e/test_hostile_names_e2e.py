"""Hostile file names and metadata through `youku-tui upload` (issue 9, items 1 and 4):
a non-UTF-8 name or one carrying terminal escapes uploads once, is never echoed raw, and a
typed title with control characters is refused before anything is sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from youku_tui.metadata import VideoMetadata, batch_metadata, check_metadata


def _run(sandbox: Any, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "youku_tui", *args],
        env={**os.environ, **sandbox.env()},
        capture_output=True,
        timeout=90,
        check=False,
    )


def _video(folder: bytes, name: bytes, size: int = 4000) -> str:
    raw = folder + b"/" + name
    with open(raw, "wb") as handle:
        handle.write(os.urandom(size))
    return os.fsdecode(raw)


TERMINAL_CONTROL = (b"\x1b]", b"\x07", b"\x1b[")


def test_a_non_utf8_name_with_escapes_uploads_once_and_is_never_echoed_raw(
    sandbox: Any, tmp_path: Path
) -> None:
    folder = os.fsencode(tmp_path)
    files = [
        _video(folder, b"first.mp4"),
        _video(folder, b"caf\xe9-\x1b]0;PWNED\x07.mp4"),  # Latin-1 byte + an OSC title escape
        _video(folder, b"last.mp4"),
    ]
    for output in ("--json", None):
        result = _run(sandbox, "upload", *files, "--tags", "aa,bb", *([output] if output else []))
        assert result.returncode == 0, result.stderr
        for stream in (result.stdout, result.stderr):
            for control in TERMINAL_CONTROL:
                assert control not in stream
            stream.decode("utf-8")  # valid UTF-8 throughout
        if output:
            for line in result.stdout.splitlines():
                json.loads(line)
        files = [_video(folder, name) for name in (b"a.mp4", b"\xff\xfe.mp4", b"z.mp4")]
    videos = sandbox.videos()
    assert len(videos) == 6  # each file once
    titles = sorted(v["title"] for v in videos)
    assert "caf\ufffd-]0;PWNED.mp4".removesuffix(".mp4") in titles
    for video in videos:
        assert not any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in video["title"])
    resumed = _run(sandbox, "resume")
    assert resumed.returncode == 0
    assert len(sandbox.videos()) == 6  # nothing left queued to be uploaded twice


def test_a_title_with_terminal_escapes_is_refused_before_anything_is_sent(
    sandbox: Any, tmp_path: Path
) -> None:
    video = _video(os.fsencode(tmp_path), b"clip.mp4")
    result = _run(sandbox, "upload", video, "--title", "a\x07b\x1b[31mRED", "--tags", "aa")
    assert result.returncode == 2
    assert b"title" in result.stderr and b"\\x1b" in result.stderr
    for control in TERMINAL_CONTROL:
        assert control not in result.stderr + result.stdout
    assert sandbox.videos() == []


def test_metadata_rules_refuse_controls_in_every_typed_field() -> None:
    good = VideoMetadata(title="ok", tags=("aa",), description="line one\nline two\ttab")
    assert [p for p in check_metadata(good) if p.severity == "error"] == []
    for bad in (
        VideoMetadata(title="a\x1b[31m", tags=("aa",)),
        VideoMetadata(title="ok", tags=("a\x07a",)),
        VideoMetadata(title="ok", tags=("aa",), description="x\x1b]0;t\x07"),
        VideoMetadata(title="rtl\u202eevil", tags=("aa",)),
        VideoMetadata(title="bytes\udcff", tags=("aa",)),
    ):
        errors = [p for p in check_metadata(bad) if p.severity == "error"]
        assert errors and "control characters" in errors[0].message
    # A title made from a file name is cleaned, not refused.
    [meta] = batch_metadata(
        VideoMetadata(title="{stem}", tags=("aa",)), [Path("/v/x\x1b]0;t\x07\udcff.mp4")]
    )
    assert meta.title == "x]0;t\ufffd"
