"""The browser (filters, picks, a 10,000-file folder) and the form (live rules, templates,
per-file titles, password only for 'password', presets)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, Select, TextArea

from tests.tui.fake_engine import FakeEngine
from tests.tui.helpers import TODAY, AppFactory, current_screen, wait_listing
from youku_tui.config import load_config
from youku_tui.metadata import PublicType
from youku_tui.tui.screens import browser, metadata_form
from youku_tui.tui.screens.browser import BrowserScreen
from youku_tui.tui.screens.confirm import PromptScreen
from youku_tui.tui.screens.dashboard import DashboardScreen
from youku_tui.tui.screens.metadata_form import FormState, MetadataFormScreen, plan_batch
from youku_tui.tui.widgets.browser import listing
from youku_tui.tui.widgets.browser.file_list import FileList
from youku_tui.tui.widgets.browser.listing import Listing
from youku_tui.tui.widgets.form.fields import TitlePreview


def names(screen: BrowserScreen) -> list[str]:
    return [e.name for e in screen.query_one(FileList).entries]


async def test_filters_picks_and_totals(make_app: AppFactory, video_folder: Path) -> None:
    app = make_app(paths=[video_folder])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        await wait_listing(pilot, screen)
        assert names(screen) == ["archive", "beach-day.mp4", "city-walk.mov", "concert-encore.mkv"]
        await pilot.press("v")  # all files
        assert "notes.txt" in names(screen) and ".hidden-clip.mp4" not in names(screen)
        await pilot.press("full_stop")  # hidden too
        assert ".hidden-clip.mp4" in names(screen)
        await pilot.press("v", "full_stop")
        await pilot.press("A")  # all three videos
        assert len(app.picked) == 3
        await pilot.press("I")  # invert: none
        assert app.picked == {}
        await pilot.press("down", "space")
        assert list(app.picked) == [video_folder / "beach-day.mp4"]
        picked_line = str(screen.query_one("#picked").render())
        assert "picked: 1 files, 302.7 KiB" in picked_line


async def test_typed_path_jumps_and_backspace_goes_up(
    make_app: AppFactory, video_folder: Path
) -> None:
    app = make_app(paths=[video_folder])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        await wait_listing(pilot, screen)
        await pilot.press("ctrl+l", *str(video_folder / "archive"), "enter")
        await wait_listing(pilot, screen)
        assert screen.folder == video_folder / "archive"
        await pilot.press("backspace")
        await wait_listing(pilot, screen)
        assert screen.folder == video_folder
        # A file, relative to the folder shown (each key costs a Pilot round: a short name)
        await pilot.press("ctrl+l", *"city-walk.mov", "enter")
        await wait_listing(pilot, screen)
        assert video_folder / "city-walk.mov" in app.picked


async def test_files_in_the_engine_are_marked(make_app: AppFactory, video_folder: Path) -> None:
    engine = FakeEngine()
    from youku_tui.metadata import VideoMetadata

    engine.add_now(video_folder / "beach-day.mp4", VideoMetadata(title="b", tags=("aa",)))
    app = make_app(engine=engine, paths=[video_folder])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        await wait_listing(pilot, screen)
        entry = screen.query_one(FileList).entries[1]
        assert screen.mark_of(entry) == "queued"


async def test_ten_thousand_files_list_off_the_ui_thread(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big"
    big.mkdir()
    for i in range(10_000):
        (big / f"v{i:05d}.mp4").touch()
    listed_in: list[threading.Thread] = []
    real_list_folder = listing.list_folder

    def recording_list_folder(folder: Path) -> Listing:
        listed_in.append(threading.current_thread())
        return real_list_folder(folder)

    monkeypatch.setattr(browser, "list_folder", recording_list_folder)
    app = make_app(paths=[big])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        await wait_listing(pilot, screen)
        files = screen.query_one(FileList)
        assert len(files.entries) == 10_000
        await pilot.press("end")
        assert files.cursor == 9_999
    # The folder was read by a worker thread, never by the thread that runs the UI.
    assert listed_in
    assert threading.main_thread() not in listed_in


def test_plan_batch_renders_templates_and_overrides() -> None:
    paths = [Path("/v/a.mp4"), Path("/v/b.mov")]
    state = FormState(title="{stem} {index} {date}", tags="aa, bb")
    metas, problems = plan_batch(state, paths, TODAY)
    assert [m.title for m in metas] == ["a 1 2026-01-01", "b 2 2026-01-01"]
    assert problems == []
    state.overrides[paths[1]] = "Own title"
    metas, _ = plan_batch(state, paths, TODAY)
    assert metas[1].title == "Own title"
    state.title = "{nope}"
    _, problems = plan_batch(state, paths, TODAY)
    assert (
        problems and problems[0].field == "title" and "unknown placeholder" in problems[0].message
    )


async def open_form(pilot, app, folder: Path) -> MetadataFormScreen:  # type: ignore[no-untyped-def]
    await wait_listing(pilot, app.screen)
    await pilot.press("A", "n")
    await pilot.pause()
    assert isinstance(app.screen, MetadataFormScreen)
    return app.screen


async def test_form_checks_as_you_type_and_masks_the_password(
    make_app: AppFactory, video_folder: Path
) -> None:
    app = make_app(paths=[video_folder])
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot, app, video_folder)
        password_row = form.query_one("#row-watch_password")
        assert not password_row.display  # asked only for 'password' visibility
        form.query_one("#title", Input).value = "x" * 61
        await pilot.pause()
        assert "is 61 characters; at most 60 allowed" in str(
            form.query_one("#row-title .problem").render()
        )
        form.query_one("#title", Input).value = "{stem}"
        form.query_one("#public_type", Select).value = PublicType.PASSWORD.value
        await pilot.pause()
        assert form.query_one("#row-watch_password").display
        password = form.query_one("#watch_password", Input)
        assert password.password  # masked
        assert "required when visibility is 'password'" in str(
            form.query_one("#row-watch_password .problem").render()
        )
        password.value = "abc123"
        await pilot.pause()
        assert not [p for p in form.problems if p.severity == "error"]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
    engine = app.control
    assert isinstance(engine, FakeEngine)
    assert [m.watch_password for _, m in engine.added] == ["abc123"] * 3
    assert [m.title for _, m in engine.added] == ["beach-day", "city-walk", "concert-encore"]


async def test_per_file_title_and_presets(make_app: AppFactory, video_folder: Path) -> None:
    app = make_app(paths=[video_folder])
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot, app, video_folder)
        await pilot.press("ctrl+t", "down", "enter")  # the second file's own title
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"City at night", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)  # then its own tags
        await pilot.press(*"night, city", "enter")
        await pilot.pause()
        assert form.state.overrides == {video_folder / "city-walk.mov": "City at night"}
        assert form.state.tag_overrides == {video_folder / "city-walk.mov": "night, city"}
        preview = str(form.query_one("#preview", TitlePreview).get_option_at_index(1).prompt)
        assert "(own title)" in preview and "tags: night, city" in preview
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press(*"trips", "enter")
        await pilot.pause()
        assert "trips" in load_config().presets
        assert load_config().presets["trips"].tags == ("travel", "2026")
        await pilot.press("ctrl+s")
        await pilot.pause()
    engine = app.control
    assert isinstance(engine, FakeEngine)
    assert [m.title for _, m in engine.added][1] == "City at night"
    assert [m.tags for _, m in engine.added] == [
        ("travel", "2026"),
        ("night", "city"),
        ("travel", "2026"),
    ]


async def test_description_is_multiline_with_a_counter_and_the_warning(
    make_app: AppFactory, video_folder: Path
) -> None:
    app = make_app(paths=[video_folder])
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot, app, video_folder)
        area = form.query_one("#description", TextArea)
        area.focus()
        await pilot.press(*"line one", "enter", *"line two")
        await pilot.pause()
        assert form.state.description == "line one\nline two"
        hint = str(form.query_one("#row-description .problem").render())
        assert "17/2000 characters" in hint
        area.text = "x" * 250
        await pilot.pause()
        warning = str(form.query_one("#row-description .problem").render())
        assert "over 200 characters" in warning and "(250/2000)" in warning
        assert not [p for p in form.problems if p.severity == "error"]
        area.text = "x" * 2001
        await pilot.pause()
        assert any(p.field == "description" and p.severity == "error" for p in form.problems)


async def test_title_preview_counts_the_files_beyond_its_limit(
    make_app: AppFactory, video_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metadata_form, "PREVIEW_LIMIT", 2)
    app = make_app(paths=[video_folder])
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot, app, video_folder)
        preview = form.query_one("#preview", OptionList)
        assert preview.option_count == 3
        last = preview.get_option_at_index(2)
        assert str(last.prompt) == "…and 1 more" and last.disabled


def test_own_tags_replace_the_batch_tags_and_their_checks() -> None:
    paths = [Path("/v/a.mp4"), Path("/v/b.mov")]
    state = FormState(title="{stem}", tags="x")  # 'x' is too short for the batch
    state.tag_overrides[paths[1]] = "own, tags"
    metas, problems = plan_batch(state, paths, TODAY)
    assert metas[1].tags == ("own", "tags") and metas[0].tags == ("x",)
    assert not [p for p in problems if p.path == paths[1]]
    state.tag_overrides[paths[1]] = "y"
    _, problems = plan_batch(state, paths, TODAY)
    assert [p.field for p in problems if p.path == paths[1]] == ["tags"]


def test_a_file_with_its_own_title_keeps_its_own_tag_problems() -> None:
    """Own tags "x" then an own title: the form must not say ready (engine.add refuses)."""
    paths = [Path("/v/a.mp4"), Path("/v/b.mp4")]
    state = FormState(title="{stem}", tags="aa, bb")
    state.tag_overrides[paths[0]] = "x"
    state.overrides[paths[0]] = "My own title"
    _, problems = plan_batch(state, paths, TODAY)
    assert [(p.field, p.path) for p in problems if p.severity == "error"] == [("tags", paths[0])]
    assert "shorter than 2 characters (for a.mp4)" in problems[0].text


async def test_own_tags_x_with_an_own_title_keep_the_form_from_starting(
    make_app: AppFactory, video_folder: Path
) -> None:
    """Through the form: an own title must not hide the same file's own tag problem (the
    form said 'ready', then engine.add refused the upload)."""
    engine = FakeEngine()
    app = make_app(engine=engine, snapshots=False, paths=[video_folder])
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot, app, video_folder)
        await pilot.press("ctrl+t", "down", "enter")  # the second file: own title, own tags
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"City at night", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("x", "enter")
        await pilot.pause()
        assert form.state.tag_overrides == {video_folder / "city-walk.mov": "x"}
        summary = str(form.query_one("#summary").render())
        assert summary.startswith("✗ cannot start: fix tags"), summary
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert current_screen(app) is form  # not started
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors and "city-walk.mov" in errors[-1], errors
    assert engine.added == []


def test_files_with_the_same_name_in_two_folders_keep_their_own_problems() -> None:
    paths = [Path("/one/clip.mp4"), Path("/two/clip.mp4")]
    state = FormState(title="x" * 61, tags="aa, bb")  # too long for every file
    state.overrides[paths[0]] = "Fine title"
    _, problems = plan_batch(state, paths, TODAY)
    assert [(p.field, p.path) for p in problems] == [("title", paths[1])]
