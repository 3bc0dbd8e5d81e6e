"""Keys: every binding has an id and can be remapped; Esc is never destructive; cancel and
quit ask first; help and the command palette list the actions; repaints only changed rows."""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding

from tests.tui.fake_engine import FakeEngine, sample_snapshots
from tests.tui.helpers import OUR_CLASSES, AppFactory, make_config
from youku_tui.engine.states import UploadState
from youku_tui.tui.screens.confirm import ConfirmScreen, PromptScreen
from youku_tui.tui.screens.dashboard import DashboardScreen
from youku_tui.tui.screens.help import HelpScreen
from youku_tui.tui.widgets.dashboard.rows import build_row
from youku_tui.tui.widgets.dashboard.upload_list import UploadList


def test_every_binding_has_an_id() -> None:
    for cls in OUR_CLASSES:
        for binding in cls.BINDINGS:
            assert isinstance(binding, Binding)
            assert binding.id, f"{cls.__name__}: {binding.key} has no id"


def test_no_escape_binding_is_destructive() -> None:
    destructive = {"cancel_upload", "retry", "pause_all", "quit", "start"}
    for cls in OUR_CLASSES:
        for binding in cls.BINDINGS:
            assert isinstance(binding, Binding)
            if "escape" in binding.key.split(","):
                assert binding.action not in destructive
                assert binding.action != "answer(True)"


async def test_keys_remapped_from_the_config(make_app: AppFactory) -> None:
    engine = FakeEngine(sample_snapshots())
    app = make_app(engine=engine, config=make_config(keys={"dashboard.pause": "z"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("z")
        await pilot.pause()
        assert engine.calls.count(("pause", "u1")) == 1
        await pilot.press("p")  # no longer bound
        await pilot.pause()
    assert engine.calls.count(("pause", "u1")) == 1


async def test_unknown_key_ids_are_warned_with_the_valid_ones(make_app: AppFactory) -> None:
    app = make_app(config=make_config(keys={"pause": "z", "dashboard.retry": "t"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        warnings = [n.message for n in app._notifications if n.severity == "warning"]
    assert len(warnings) == 1
    assert "'pause' is not a binding id (did you mean 'dashboard.pause'?)" in warnings[0]
    assert "dashboard.retry" in warnings[0] and "form.start" in warnings[0]


async def test_help_shows_each_binding_id(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        for binding_id in ("dashboard.pause", "dashboard.bandwidth", "app.help"):
            assert binding_id in app.screen.table


async def test_cancel_asks_and_esc_or_enter_mean_no(make_app: AppFactory) -> None:
    engine = FakeEngine(sample_snapshots())
    app = make_app(engine=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("escape", "enter", "n"):
            await pilot.press("c")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, DashboardScreen)
        assert not [c for c in engine.calls if c[0] == "cancel"]
        await pilot.press("c", "y")
        await pilot.pause()
    assert ("cancel", "u1") in engine.calls


async def test_dashboard_commands_reach_the_engine(make_app: AppFactory) -> None:
    engine = FakeEngine(sample_snapshots())
    app = make_app(engine=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("right_square_bracket", "plus", "minus", "minus")
        await pilot.press("down", "down", "down", "r")  # u4 failed: retry
        await pilot.press("P", "R")
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"2MB", "enter")  # the current value is selected: typing replaces it
        await pilot.pause()
    assert ("move", ("u1", 1)) in engine.calls
    assert ("set_limits", (4, None, None)) in engine.calls
    assert ("set_limits", (2, None, None)) in engine.calls
    assert ("retry", "u4") in engine.calls
    assert ("pause_all", None) in engine.calls and ("resume_all", None) in engine.calls
    assert ("set_limits", (None, None, 2 * 1024 * 1024)) in engine.calls
    assert app.limits.bandwidth == 2 * 1024 * 1024


async def test_filter_by_state(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        upload_list = app.screen.query_one(UploadList)
        assert len(upload_list.rows) == 7
        await pilot.press("f")  # active
        await pilot.pause()
        assert {r.state for r in upload_list.rows} == {UploadState.UPLOADING, UploadState.HASHING}
        await pilot.press("f", "f", "f")  # queued, paused, failed
        await pilot.pause()
        assert [r.upload_id for r in upload_list.rows] == ["u4"]


async def test_quit_in_process_asks_first_and_leaves_the_pausing_to_the_owner(
    make_app: AppFactory,
) -> None:
    engine = FakeEngine(sample_snapshots())  # --no-service: the uploads live in this process
    app = make_app(engine=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "4 upload(s) run in this process" in app.screen.question
        await pilot.press("escape")
        await pilot.pause()
        assert app.return_code is None  # still running
        await pilot.press("ctrl+q", "y")
        await pilot.pause()
    assert not app.is_running
    # No waiting on the screen: the launcher closes the owner, which pauses and saves.
    assert ("pause_all", None) not in engine.calls
    assert app.quit_note == "Pausing 4 upload(s) (progress is saved); `youku-tui` resumes them."


async def test_quit_with_a_service_leaves_at_once_and_says_the_uploads_go_on(
    make_app: AppFactory,
) -> None:
    engine = FakeEngine(sample_snapshots(), in_service=True)
    app = make_app(engine=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert not app.is_running  # no question: nothing stops
    assert not [c for c in engine.calls if c[0] in ("pause", "pause_all", "close")]
    assert "4 upload(s) go on in the youku-tui service (pid 4242)" in app.quit_note


async def test_quit_with_nothing_running_just_quits(make_app: AppFactory) -> None:
    app = make_app(snapshots=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert not app.is_running


async def test_help_lists_the_keys_of_the_current_screen(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        for words in ("Pause/resume", "Cancel", "Bandwidth cap", "Move up", "Filter"):
            assert words in app.screen.table
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)


async def test_command_palette_offers_every_screen_action(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)):
        titles = {c.title for c in app.get_system_commands(app.screen)}
    for title in ("Add files", "Pause/resume", "Retry", "Cancel…", "Filter", "Move up",
                  "More at once", "Bandwidth cap", "Pause all", "Help", "Theme", "Quit"):  # fmt: skip
        assert title in titles


async def test_only_changed_rows_are_repainted(make_app: AppFactory) -> None:
    engine = FakeEngine(sample_snapshots())
    app = make_app(engine=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        upload_list = screen.query_one(UploadList)
        before = upload_list.lines_repainted
        screen.paint()  # nothing changed
        assert upload_list.lines_repainted == before
        snap = engine._snaps["u1"]
        engine._snaps["u1"] = replace(snap, bytes_done=snap.bytes_done + 1024 * 1024)
        screen.paint()
        assert upload_list.lines_repainted == before + 1
        await pilot.pause()


def test_row_model_shows_error_code_and_eta() -> None:
    snaps = {s.upload_id: s for s in sample_snapshots()}
    failed = build_row(snaps["u4"], speed=0)
    assert failed.error == "Expired upload token [120010223]"
    running = build_row(snaps["u1"], speed=1024 * 1024)
    assert running.eta == "4m10s" and running.speed == "1.0 MiB/s"
    assert build_row(snaps["u3"], speed=0).percent == "100.0%"
