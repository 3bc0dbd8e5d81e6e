"""The dashboard at the widths it meets: columns adapt, nothing is cut in the middle of a word."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.tui.fake_engine import sample_snapshots
from tests.tui.helpers import AppFactory
from youku_tui.engine.states import UploadState
from youku_tui.textwidth import fit_middle, fit_words
from youku_tui.tui.screens.dashboard import DashboardScreen
from youku_tui.tui.widgets.dashboard.header_stats import HeaderStats, Totals
from youku_tui.tui.widgets.dashboard.upload_list import (
    ERROR_COLUMN_FROM,
    Columns,
    UploadList,
    header_text,
)
from youku_tui.tui.widgets.footer import PaletteFooter

LABELS = {"name", "state", "progress", "%", "speed", "eta", "parts", "retries", "last error"}


@pytest.mark.parametrize("width", [60, 78, 80, 100, 119, 120, 160, 200])
def test_column_header_fills_the_width_with_whole_labels(width: int) -> None:
    cols = Columns.for_width(width)
    text = header_text(cols)
    assert len(text) == width
    assert "…" not in text
    assert set(text.replace("last error", "last_error").split()) <= {
        label.replace(" ", "_") for label in LABELS
    }
    assert cols.name >= 22


def test_narrow_drops_retries_and_error_wide_shows_everything() -> None:
    narrow = Columns.for_width(80)
    assert narrow.retries == 0 and narrow.error == 0
    assert narrow.parts and narrow.eta and narrow.speed and narrow.bar
    wide = Columns.for_width(ERROR_COLUMN_FROM)
    assert wide.retries and wide.error >= 20
    assert "last error" in header_text(Columns.for_width(200))


def test_long_names_keep_their_start_and_extension() -> None:
    fitted = fit_middle("drone-over-the-lake-at-sunset-4k.mp4", 25)
    assert len(fitted) == 25
    assert fitted.startswith("drone-over-the") and fitted.endswith("4k.mp4") and "…" in fitted


def test_errors_are_cut_between_words() -> None:
    assert fit_words("[120010223] Expired upload token", 25) == "[120010223] Expired …".ljust(25)


def test_header_stats_choose_a_wording_that_fits() -> None:
    totals = Totals(
        count=57,
        by_state=Counter({UploadState.UPLOADING: 10, UploadState.QUEUED: 30}),
        bytes_done=1_234_567_890,
        bytes_total=9_876_543_210,
        speed=12_345_678,
        max_uploads=3,
        bandwidth=5_000_000,
        filter_label="failed",
    )
    wide = totals.text(200).splitlines()[1]
    assert "showing failed" in wide and " of " in wide
    narrow = totals.text(63).splitlines()[1]
    assert narrow.endswith("showing failed") and "cap 4.8 MiB/s" in narrow


async def test_dashboard_rows_at_80_columns_end_with_whole_words(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        screen.paint()
        await pilot.pause()
        header = str(screen.query_one("#columns").render())
        assert header.rstrip().endswith("parts")
        upload_list = screen.query_one(UploadList)
        lines = [upload_list.render_line(y).text for y in range(len(sample_snapshots()))]
        assert all(len(line) == 80 for line in lines)
        failed = next(line for line in lines if "failed" in line)
        assert "Expired upload" in failed
        totals = str(screen.query_one(HeaderStats).query_one("#totals").render())
        assert "showing all" in totals


@pytest.mark.parametrize(("width", "shown"), [(80, False), (120, True)])
async def test_footer_shows_the_palette_key_only_with_room(
    make_app: AppFactory, width: int, shown: bool
) -> None:
    app = make_app()
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(PaletteFooter)
        assert footer.show_command_palette is shown
        labels = [getattr(key, "description", "") for key in footer.query("FooterKey")]
        assert ("Commands" in labels) is shown
        assert "Help" in labels  # the screen's own keys are never pushed out
