"""Media awareness: the probe (ffprobe or hachoir), its cache, and what the browser and the
form show - duration, resolution and codec, and a flag on a picked file that is no video."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from tests.tui.fake_engine import FakeEngine
from tests.tui.helpers import AppFactory, wait_for, wait_listing
from tests.tui.media_files import write_mp4
from youku_tui import media as media_module
from youku_tui.media import MediaInfo, MediaProbe, probe
from youku_tui.tui.screens.browser import BrowserScreen
from youku_tui.tui.screens.metadata_form import MetadataFormScreen
from youku_tui.tui.widgets.browser.file_list import FileList
from youku_tui.tui.widgets.form.fields import TitlePreview


@pytest.fixture
def media_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    write_mp4(folder / "旅行.mp4", 1920, 1080, 65.2)
    write_mp4(folder / "b-roll.mov", 1280, 720, 7.0)
    (folder / "notes.txt").write_text("shot list\n1. harbour\n2. market\n", encoding="utf-8")
    (folder / "fake.mp4").write_text("not a video at all\n", encoding="utf-8")
    return folder


@pytest.fixture
def no_ffprobe(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback path: as on a machine without FFmpeg."""
    monkeypatch.setattr(shutil, "which", lambda _name: None)


def test_the_pure_python_probe_reads_an_mp4(media_folder: Path, no_ffprobe: None) -> None:
    info = probe(media_folder / "旅行.mp4")
    assert info == MediaInfo("video", duration=65.2, width=1920, height=1080, codec="h264")
    assert info.summary() == "1:05 1920x1080 h264"


def test_text_is_not_a_video_whatever_its_name(media_folder: Path, no_ffprobe: None) -> None:
    for name in ("notes.txt", "fake.mp4"):
        info = probe(media_folder / name)
        assert info.kind == "not-video" and info.summary() == "not a video (text)"
    (media_folder / "zeros.mp4").write_bytes(b"\0" * 5000)
    assert probe(media_folder / "zeros.mp4").kind == "unknown"  # not a claim it is fine


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is not installed here")
def test_ffprobe_agrees_when_installed(media_folder: Path) -> None:
    info = probe(media_folder / "b-roll.mov")
    assert info.kind == "video" and (info.width, info.height) == (1280, 720)
    assert probe(media_folder / "notes.txt").kind == "not-video"


def test_answers_are_cached_per_path_size_and_mtime(
    media_folder: Path, no_ffprobe: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    real = media_module.probe

    def counting_probe(p: Path) -> MediaInfo:
        calls.append(p)
        return real(p)

    monkeypatch.setattr(media_module, "probe", counting_probe)
    cache = MediaProbe()
    path = media_folder / "b-roll.mov"
    assert cache.cached(path) is None
    first = cache.probe(path)
    assert cache.probe(path) is first and len(calls) == 1
    write_mp4(path, 640, 360, 3.0)  # changed in place: size and mtime differ
    os.utime(path, ns=(1, 1))
    assert cache.probe(path).width == 640 and len(calls) == 2


async def test_browser_shows_media_and_flags_a_text_file(
    make_app: AppFactory, media_folder: Path, no_ffprobe: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []
    real = MediaProbe.probe

    def spy(self: MediaProbe, path: Path) -> MediaInfo:
        threads.append(threading.current_thread())
        return real(self, path)

    monkeypatch.setattr(MediaProbe, "probe", spy)
    app = make_app(paths=[media_folder], media=MediaProbe())
    async with app.run_test(size=(100, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        await wait_listing(pilot, screen)
        await pilot.press("v")  # all files: notes.txt too
        file_list = screen.query_one(FileList)

        def lines() -> dict[str, str]:
            return {e.name: file_list.render_line(y).text for y, e in enumerate(file_list.entries)}

        await wait_for(pilot, lambda: "…" not in "".join(lines().values()), "every file probed")
        shown = lines()
        assert "1:05 1920x1080 h264" in shown["旅行.mp4"]
        assert "0:07 1280x720 h264" in shown["b-roll.mov"]
        assert "not a video (text)" in shown["notes.txt"]
        assert "not a video (text)" in shown["fake.mp4"]
        assert threads and threading.main_thread() not in threads  # never on the UI thread
        names = [e.name for e in file_list.entries]
        await pilot.press(*["down"] * names.index("notes.txt"), "space")
        await pilot.pause()
        assert "1 not a video" in str(screen.query_one("#picked").render())


async def test_the_form_shows_media_and_refuses_a_text_file(
    make_app: AppFactory, media_folder: Path, no_ffprobe: None
) -> None:
    engine = FakeEngine()
    app = make_app(engine=engine, media=MediaProbe())
    paths = [media_folder / "旅行.mp4", media_folder / "notes.txt"]
    async with app.run_test(size=(100, 30)) as pilot:
        form = MetadataFormScreen(paths, app.form_state)
        await app.push_screen(form)

        def flagged() -> bool:
            return any("notes.txt is not a video" in p.message for p in form.problems)

        await wait_for(pilot, flagged, "notes.txt flagged")
        problem = next(p for p in form.problems if "notes.txt" in p.message)
        assert problem.severity == "error" and problem.field == "file"
        preview = form.query_one(TitlePreview)
        lines = [str(preview.get_option_at_index(i).prompt) for i in range(preview.option_count)]
        assert "[1:05 1920x1080 h264]" in lines[0]
        assert "[not a video (text)]" in lines[1]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert engine.added == []  # nothing was sent
