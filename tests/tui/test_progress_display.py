"""Progress shows what OSS confirmed; bytes sent but unanswered are a lighter run, never done."""

from __future__ import annotations

from dataclasses import replace

from tests.tui.fake_engine import FakeEngine, sample_snapshots
from tests.tui.helpers import AppFactory, painted_dashboard
from youku_tui.engine.states import UploadState
from youku_tui.tui.format import IN_FLIGHT_SHADE, progress_bar
from youku_tui.tui.widgets.dashboard.detail_pane import DetailPane
from youku_tui.tui.widgets.dashboard.header_stats import HeaderStats
from youku_tui.tui.widgets.dashboard.upload_list import UploadList


def test_bar_runs_confirmed_then_in_flight_then_rest() -> None:
    runs = progress_bar(0.3, 0.4, 10)
    assert runs.done == "███" and runs.in_flight == IN_FLIGHT_SHADE * 4 and runs.rest == "   "
    assert len(progress_bar(0.33, 0.5, 10).text) == 10
    nothing_confirmed = progress_bar(0.0, 1.0, 10)
    assert nothing_confirmed.done == "" and nothing_confirmed.in_flight == IN_FLIGHT_SHADE * 10
    tiny = progress_bar(0.0, 0.001, 10)  # a trickle in flight still shows
    assert tiny.in_flight == IN_FLIGHT_SHADE and len(tiny.text) == 10
    assert progress_bar(1.0, 0.5, 10).text == "█" * 10


async def test_a_row_with_everything_in_flight_shows_zero_percent(make_app: AppFactory) -> None:
    """The issue's `100.0% 0/3`: all bytes sent, none confirmed, must read 0.0%."""
    snaps = sample_snapshots()
    snaps[0] = replace(snaps[0], bytes_done=0, bytes_in_flight=snaps[0].size, parts_done=0)
    app = make_app(engine=FakeEngine(snaps))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await painted_dashboard(pilot)
        line = screen.query_one(UploadList).render_line(0).text
        assert "  0.0%" in line and "100.0%" not in line
        assert IN_FLIGHT_SHADE in line and "█" not in line
        assert "0/32" in line
        detail = str(screen.query_one(DetailPane)._body.render())
        assert "confirmed by OSS: 0 B of 400.0 MiB (+400.0 MiB in flight)" in detail
        totals = str(screen.query_one(HeaderStats).query_one("#totals").render())
        assert (
            "400.0 MB" not in totals.split(" of ", maxsplit=1)[0]
        )  # in-flight bytes are not in the total


async def test_a_speed_from_100_on_fits_its_column_at_80_columns(make_app: AppFactory) -> None:
    snaps = sample_snapshots()
    uploading = next(s for s in snaps if s.state is UploadState.UPLOADING)
    engine = FakeEngine(snaps)
    app = make_app(engine=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        app.bridge.speeds[uploading.upload_id] = 153.2 * 1024  # "153.2 KiB/s" is 11 cells
        screen = await painted_dashboard(pilot)
        [row] = [r for r in screen.query_one(UploadList).rows if r.upload_id == uploading.upload_id]
        assert row.speed == "153 KiB/s"
        line = screen.query_one(UploadList).render_line(snaps.index(uploading)).text
        assert " 153 KiB/s " in line and "…" not in line


async def test_a_cancelled_upload_shows_no_progress_kept(make_app: AppFactory) -> None:
    snaps = sample_snapshots()
    paused = next(s for s in snaps if s.state is UploadState.PAUSED)  # 100 of 300 MiB sent
    snaps[snaps.index(paused)] = replace(paused, state=UploadState.CANCELLED)
    app = make_app(engine=FakeEngine(snaps))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await painted_dashboard(pilot)
        rows = screen.query_one(UploadList).rows
        [row] = [r for r in rows if r.upload_id == paused.upload_id]
        assert (row.percent, row.fraction, row.parts) == ("-", 0.0, "-")
        line = screen.query_one(UploadList).render_line(rows.index(row)).text
        assert "cancelled" in line and "%" not in line and "█" not in line
        totals = screen.totals(snaps)
        kept = [s for s in snaps if s.upload_id != paused.upload_id]
        assert totals.bytes_total == sum(s.size for s in kept)
        screen.query_one(UploadList).move_cursor(rows.index(row))
        await pilot.pause()
        detail = str(screen.query_one(DetailPane)._body.render())
        assert "parts: -" in detail and "progress was thrown away" in detail
        assert "confirmed by OSS" not in detail


async def test_the_bar_is_visible_on_the_selected_row_in_the_light_theme(
    make_app: AppFactory,
) -> None:
    app = make_app("youku-light")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await painted_dashboard(pilot)
        upload_list = screen.query_one(UploadList)
        assert upload_list.cursor == 0 and upload_list.has_focus
        for segment in upload_list.render_line(0):
            if "█" in segment.text:
                style = segment.style
                assert style is not None and style.color != style.bgcolor
                assert style.color is not None and style.bgcolor is not None
                break
        else:
            raise AssertionError("no bar on the selected row")
