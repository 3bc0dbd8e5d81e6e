"""Wide characters (CJK file names) take two cells: no column may shift because of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.fake_engine import CJK_NAME, FakeEngine, cjk_snapshots
from tests.tui.helpers import AppFactory, painted_dashboard, wait_listing
from youku_tui.textwidth import cells, clip, fit, fit_middle, fit_words
from youku_tui.tui.screens.browser import BrowserScreen
from youku_tui.tui.widgets.browser.file_list import FileList
from youku_tui.tui.widgets.dashboard.upload_list import UploadList


def test_cells_count_wide_and_zero_width_characters() -> None:
    assert cells(CJK_NAME) == 8
    assert cells("e\u0301") == 1  # e + combining acute: one cell
    assert cells("plain") == 5
    assert clip("旅行记录", 5) == "旅行"  # the third character would straddle the edge


@pytest.mark.parametrize("width", [1, 5, 8, 9, 12, 30])
def test_fitted_text_is_exactly_the_width_in_cells(width: int) -> None:
    for text in (
        "旅行.mp4",
        "很长的中文文件名称在这里.mp4",
        "ascii-name.mp4",
        "混合 mixed 名字 name",
    ):
        assert cells(fit(text, width)) == width
        assert cells(fit(text, width, align="right")) == width
        assert cells(fit_middle(text, width)) == width
        assert cells(fit_words(text, width)) == width
    assert fit("旅行", 6, align="right") == "  旅行"


def test_a_long_cjk_name_keeps_its_start_and_extension() -> None:
    fitted = fit_middle("二零二六年夏天的旅行记录第一部分.mp4", 20)
    assert cells(fitted) == 20
    assert fitted.startswith("二零二六") and fitted.rstrip().endswith(".mp4") and "…" in fitted


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (120, 40)])
async def test_dashboard_columns_line_up_with_a_cjk_name(
    make_app: AppFactory, size: tuple[int, int]
) -> None:
    app = make_app(engine=FakeEngine(cjk_snapshots()))
    async with app.run_test(size=size) as pilot:
        screen = await painted_dashboard(pilot)
        upload_list = screen.query_one(UploadList)
        cjk, ascii_row = (upload_list.render_line(y).text for y in (0, 1))
        assert CJK_NAME in cjk
        assert cells(cjk) == cells(ascii_row) == upload_list.scrollable_content_region.width
        # The state column starts at the same cell on both rows.
        assert cells(cjk[: cjk.index("uploading")]) == ascii_row.index("uploading")
        if size[0] >= 80:
            assert cjk.rstrip().endswith("2/2")  # the parts column is whole


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_browser_columns_line_up_with_a_cjk_name(
    make_app: AppFactory, cjk_folder: Path, size: tuple[int, int]
) -> None:
    app = make_app(paths=[cjk_folder])
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        await wait_listing(pilot, screen)
        file_list = screen.query_one(FileList)
        lines = {
            entry.name: file_list.render_line(y).text for y, entry in enumerate(file_list.entries)
        }
        cjk, ascii_line = lines[CJK_NAME], lines["beach.mp4"]
        assert cells(cjk) == cells(ascii_line) == file_list.scrollable_content_region.width
        assert cjk.rstrip().endswith(ascii_line.rstrip()[-len("2.0 KiB") :])  # size column whole
        assert cells(cjk[: cjk.index("2.0 KiB")]) == ascii_line.index("2.0 KiB")
