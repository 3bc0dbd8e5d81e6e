"""Nothing from a file name or a server's answer reaches the terminal raw (issue 9, item 4).

A file name and a server error carry a terminal title change (OSC 0), a colour change (CSI)
and Textual markup that is both valid (``[red]x``) and broken (``[/bad]``, which would stop
the app with a MarkupError). The app must not crash, and what it paints shows the escapes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.widgets import Static

from tests.tui.fake_engine import FakeEngine, sample_snapshots
from tests.tui.helpers import AppFactory, painted_dashboard, wait_for, wait_listing
from youku_tui.engine.events import Retrying, UploadFailed
from youku_tui.engine.states import UploadState
from youku_tui.tui.screens.browser import BrowserScreen
from youku_tui.tui.screens.metadata_form import MetadataFormScreen
from youku_tui.tui.widgets.dashboard.detail_pane import DetailPane
from youku_tui.tui.widgets.form.fields import FieldRow, TitlePreview

HOSTILE = "\x1b]0;PWNED\x07 \x1b[31mred [/bad] [red]x"
SHOWN = "\\x1b]0;PWNED\\x07 \\x1b[31mred [/bad] [red]x"  # what the user must read


def _painted(widget: Static | TitlePreview) -> str:
    """The text a widget paints, line by line (what reaches the terminal, minus styles)."""
    return "\n".join(strip.text for strip in widget.render_lines(widget.region.reset_offset))


def _assert_escaped(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text
    assert SHOWN in text, text


async def test_hostile_name_and_server_error_are_shown_escaped(make_app: AppFactory) -> None:
    hostile = replace(
        sample_snapshots()[3],  # u4, failed: its last error shows in the detail pane
        path=f"/srv/videos/{HOSTILE}.mp4",
        title=HOSTILE,
        last_error=HOSTILE,
        last_error_code="[/bad]",
        state=UploadState.FAILED,
    )
    app = make_app(engine=FakeEngine([replace(hostile, position=0)]))
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await painted_dashboard(pilot)
        app.bridge.sink(Retrying(upload_id="u4", attempt=1, delay=1.0, error=HOSTILE, code="[red]"))
        app.bridge.sink(UploadFailed(upload_id="u4", error=HOSTILE, error_class="ApiError"))
        app.tick()  # the event log, and a toast naming the error
        await painted_dashboard(pilot)
        await pilot.pause()

        pane = app.screen.query_one(DetailPane)
        body = _painted(pane.query_one(Static))
        _assert_escaped(body)
        assert body.count("PWNED") == 5  # title, path, last error, retry and failure lines
        # The toast is mounted on a later refresh.
        await wait_for(pilot, lambda: app.screen.query("Toast"), "a toast for the failure")
        toasts = app.screen.query("Toast")
        _assert_escaped(str(toasts.last().render()))
        screen = app.export_screenshot()
        assert "\x1b" not in screen and "\x07" not in screen


async def test_hostile_file_name_is_escaped_in_the_form(
    make_app: AppFactory, tmp_path: Path
) -> None:
    video = tmp_path / f"{HOSTILE.replace('/', '')}.mp4"  # a file name holds no "/"
    video.write_bytes(b"\0" * 2048)
    app = make_app(snapshots=False, paths=[video])
    async with app.run_test(size=(160, 40)) as pilot:
        browser = app.screen
        assert isinstance(browser, BrowserScreen)
        await wait_listing(pilot, browser)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, MetadataFormScreen)
        names = _painted(form.query_one(TitlePreview))  # the name, then the {stem} title
        assert "\x1b" not in names and "\x07" not in names
        assert "\\x1b]0;PWNED\\x07 \\x1b[31mred [bad] [red]x.mp4" in names, names
        title_row = next(r for r in form.query(FieldRow) if r.field == "title")
        preview = _painted(title_row.query_one(".problem", Static))  # "✓ <first title>"
        assert "\x1b" not in preview and "PWNED" in preview, preview
        assert "\x1b" not in app.export_screenshot()
