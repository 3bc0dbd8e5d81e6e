"""The app owns shared state and the paint timer; screens post messages (issue 11).

The browser never writes the picks: it posts ``BrowserScreen.PicksChanged`` and the app
applies it. The app's tick drains the engine's events for app-wide notifications wherever
the user is, and paints the dashboard only while it is on screen.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.message import Message

from tests.tui.fake_engine import FakeEngine, sample_snapshots
from tests.tui.helpers import AppFactory, make_config, painted_dashboard, wait_for, wait_listing
from youku_tui.config import TuiSettings
from youku_tui.engine.events import Progress, UploadDone, UploadFailed
from youku_tui.tui.app import YoukuApp
from youku_tui.tui.screens.browser import BrowserScreen
from youku_tui.tui.screens.dashboard import DashboardScreen
from youku_tui.tui.screens.metadata_form import MetadataFormScreen
from youku_tui.tui.widgets.browser.file_list import FileList
from youku_tui.tui.widgets.dashboard.upload_list import UploadList


async def test_browser_asks_the_app_for_picks_by_message(
    make_app: AppFactory, video_folder: Path
) -> None:
    seen: list[Message] = []
    app = make_app(paths=[video_folder])
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        await wait_listing(pilot, screen)
        with pytest.raises(TypeError):
            app.picked[video_folder / "x.mp4"] = 1  # type: ignore[index]  # a read-only view
        await pilot.press("down", "space")  # beach-day.mp4
        await pilot.press("A")
        await pilot.press("I", "I")  # invert twice, faster than the app answers: no stale copy
        # Each message is seen twice: by the screen, then bubbling up to the app.
        requests = list(
            {id(m): m for m in seen if isinstance(m, BrowserScreen.PicksChanged)}.values()
        )
        assert len(requests) == 4
        assert requests[0].toggle == {video_folder / "beach-day.mp4": 310_000}
        assert len(app.picked) == 3
        assert "picked: 3 files" in str(screen.query_one("#picked").render())
        assert screen.query_one(FileList).is_picked(screen.query_one(FileList).entries[2])


async def test_form_asks_the_app_to_start(make_app: AppFactory, video_folder: Path) -> None:
    seen: list[Message] = []
    engine = FakeEngine()
    app = make_app(engine=engine, snapshots=False, paths=[video_folder / "beach-day.mp4"])
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await wait_listing(pilot, app.screen)  # type: ignore[arg-type]
        await pilot.press("n")
        assert isinstance(app.screen, MetadataFormScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        [start] = {
            id(m): m for m in seen if isinstance(m, MetadataFormScreen.StartRequested)
        }.values()
        assert [path.name for path, _ in start.batch] == ["beach-day.mp4"]
        assert [path.name for path, _ in engine.added] == ["beach-day.mp4"]
        assert isinstance(app.screen, DashboardScreen)
        assert dict(app.picked) == {}


async def test_dashboard_paints_only_while_shown_and_toasts_arrive_anywhere(
    make_app: AppFactory, video_folder: Path
) -> None:
    app = make_app(live=True)
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        paints: list[int] = []
        real_paint = dashboard.paint

        def counting_paint() -> None:
            paints.append(1)
            real_paint()

        dashboard.paint = counting_paint  # type: ignore[method-assign]
        app.bridge.sink(Progress(upload_id="u1", phase="uploading", done=1, total=2))
        await wait_for(pilot, lambda: paints, "the app's timer to paint the dashboard it shows")

        app.open_browser(video_folder)
        await pilot.pause()
        paints.clear()
        for done in range(2, 20):  # events keep coming while the browser is on screen
            app.bridge.sink(Progress(upload_id="u1", phase="uploading", done=done, total=40))
            await pilot.pause(0.05)
        app.bridge.sink(UploadDone(upload_id="u3", video_id="XNDONE"))
        # The timer drains the events and tells the user ...
        await wait_for(pilot, lambda: any("XNDONE" in n.message for n in app._notifications))
        assert paints == []  # ... but never paints the hidden dashboard

        await pilot.press("escape")
        await wait_for(pilot, lambda: paints, "a paint once the dashboard is back on screen")


async def test_an_ending_rings_the_bell_and_notifies_the_terminal(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("VTE_VERSION", raising=False)
    app = make_app()
    written: list[str] = []
    app.write_to_terminal = written.append
    async with app.run_test(size=(80, 24)):
        app.bridge.sink(UploadFailed(upload_id="u4", error="refused", error_class="ApiError"))
        app.bridge.sink(UploadDone(upload_id="u3", video_id="XNDONE"))
        app.tick()
        assert len(written) == 1  # one alert per batch of endings
        assert written[0].startswith("\a\x1b]9;youku-tui: 1 failed, 1 done: ")
        assert "drone-over-the-lake-at-sunset-4k, cat" in written[0]
        assert written[0].endswith("\x1b\\")

        written.clear()
        app.tick()
        assert written == []  # nothing new, nothing rung


async def test_done_alert_can_be_turned_off(make_app: AppFactory) -> None:
    config = make_config()
    config = type(config)(tui=TuiSettings(notify_done=False, notification="osc777"))
    app = make_app(engine=FakeEngine(sample_snapshots()), config=config)
    written: list[str] = []
    app.write_to_terminal = written.append
    async with app.run_test(size=(80, 24)):
        app.bridge.sink(UploadDone(upload_id="u3", video_id="XNDONE"))
        app.tick()
        assert written == []
        app.bridge.sink(UploadFailed(upload_id="u4", error="refused", error_class="ApiError"))
        app.tick()
        assert written == [
            "\a\x1b]777;notify;youku-tui: 1 failed;drone-over-the-lake-at-sunset-4k\x1b\\"
        ]


async def test_a_tick_while_the_app_shuts_down_paints_nothing(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a loaded machine the paint timer fired while quitting took the dashboard's widgets
    away: NoMatches for UploadList / HeaderStats ended the e2e tests. The tick as it happens
    then: the dashboard's widgets gone, the screen itself not yet unmounted, events to show."""
    ticked: list[bool] = []
    unmount = DashboardScreen.on_unmount

    def tick_first(screen: DashboardScreen) -> None:
        app = screen.app
        assert isinstance(app, YoukuApp)
        assert not screen.query(UploadList)  # the moment: its widgets are taken away
        app.bridge.sink(UploadDone(upload_id="u3", video_id="XNDONE"))
        app.tick()
        ticked.append(True)
        unmount(screen)

    monkeypatch.setattr(DashboardScreen, "on_unmount", tick_first)
    app = make_app(live=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await painted_dashboard(pilot)
    assert ticked == [True]
