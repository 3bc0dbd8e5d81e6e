"""A row waiting for its share of the bandwidth cap says so; a cancelled upload can be
retried from the dashboard."""

from __future__ import annotations

from dataclasses import replace

from tests.tui.fake_engine import FakeEngine, sample_snapshots
from tests.tui.helpers import AppFactory, painted_dashboard, select_row
from youku_tui.engine.states import UploadState
from youku_tui.tui.widgets.dashboard.detail_pane import DetailPane
from youku_tui.tui.widgets.dashboard.upload_list import UploadList


async def test_a_row_waiting_for_the_cap_says_so(make_app: AppFactory) -> None:
    snaps = sample_snapshots()
    snaps[1] = replace(snaps[1], bytes_done=0, parts_done=0, waiting_for_bandwidth=True)
    app = make_app(engine=FakeEngine(snaps))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await painted_dashboard(pilot)
        await pilot.press("down")
        screen.paint()
        await pilot.pause()
        upload_list = screen.query_one(UploadList)
        waiting, running = upload_list.render_line(1).text, upload_list.render_line(0).text
        assert "waiting" in waiting and "for the bandwidth cap" in waiting
        assert "uploading" not in waiting
        assert "uploading" in running and "bandwidth cap" not in running
        detail = str(screen.query_one(DetailPane)._body.render())
        assert "waiting for its share of the bandwidth cap" in detail


async def test_a_cancelled_upload_can_be_retried(make_app: AppFactory) -> None:
    snaps = [replace(s, state=UploadState.CANCELLED) if s.upload_id == "u5" else s
             for s in sample_snapshots()]  # fmt: skip
    engine = FakeEngine(snaps)
    app = make_app(engine=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await painted_dashboard(pilot)
        await select_row(pilot, screen, "u5")
        await pilot.press("r")
        await pilot.pause()
        assert ("retry", "u5") in engine.calls
        await select_row(pilot, screen, "u3")  # done: nothing to retry
        await pilot.press("r")
        await pilot.pause()
        assert ("retry", "u3") not in engine.calls
