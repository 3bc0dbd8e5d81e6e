"""Small terminals and what every screen must keep: at 60x20 the header stays two lines with
its totals, the footer keeps Quit and Help, toasts stay off the upload list; the sandbox is
marked; no key is bound that a terminal cannot send."""

from __future__ import annotations

from typing import Any

import pytest
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import Static
from textual.widgets._footer import FooterKey
from textual.widgets._toast import Toast

from tests.tui.helpers import OUR_CLASSES, AppFactory, painted_dashboard, wait_for
from youku_tui.tui.widgets.dashboard.header_stats import HeaderStats
from youku_tui.tui.widgets.dashboard.upload_list import UploadList
from youku_tui.tui.widgets.footer import PaletteFooter

# Keys a terminal sends as something else: ctrl+i is Tab, ctrl+m Enter, ctrl+h Backspace (on
# many terminals), ctrl+[ Escape; a binding on them never fires or fires by accident.
UNSENDABLE = {"ctrl+i", "ctrl+m", "ctrl+h", "ctrl+left_square_bracket", "ctrl+j"}


def test_no_binding_on_a_key_a_terminal_cannot_send() -> None:
    for cls in OUR_CLASSES:
        for binding in cls.BINDINGS:
            assert isinstance(binding, Binding)
            keys = set(binding.key.split(","))
            assert not keys & UNSENDABLE, f"{cls.__name__}: {binding.id} on {keys & UNSENDABLE}"


def footer_labels(app: object) -> list[str]:
    footer = app.screen.query_one(PaletteFooter)  # type: ignore[attr-defined]
    return [key.description for key in footer.query(FooterKey)]


@pytest.mark.parametrize("size", [(60, 20), (80, 24)])
async def test_header_totals_and_footer_survive_a_small_terminal(
    make_app: AppFactory, size: tuple[int, int]
) -> None:
    app = make_app(sandbox=True)
    async with app.run_test(size=size) as pilot:
        screen = await painted_dashboard(pilot)
        header = screen.query_one(HeaderStats)
        totals = header.query_one("#totals", Static)
        lines = str(totals.render()).splitlines()
        assert len(lines) == 2, lines  # no wrapped third line pushing the totals away
        assert lines[0].startswith("7:") or lines[0].startswith("7 uploads")
        assert "1.7 GiB/5.3 GiB" in lines[1]  # the byte totals are there
        assert all(len(line) <= totals.content_region.width for line in lines)
        mode = header.query_one("#mode", Static)
        assert mode.display and "SANDBOX" in str(mode.render())
        assert mode.region.y == 0
        labels = footer_labels(app)
        assert "Quit" in labels and "Help" in labels
        footer = screen.query_one(PaletteFooter)
        for key in footer.query(FooterKey):
            assert key.region.right <= size[0], f"{key.description} is off screen"


async def test_no_sandbox_mark_against_youku(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app.screen.query_one(HeaderStats).query_one("#mode").display


async def test_browser_footer_keeps_quit_and_help_at_60_columns(
    make_app: AppFactory, video_folder: object
) -> None:
    app = make_app(paths=[video_folder])
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_for_label(pilot, "Pick")
        labels = footer_labels(app)
        assert "Quit" in labels and "Help" in labels
        assert "Back" not in labels  # dropped for them (Esc still works)
        await pilot.resize_terminal(120, 30)
        await wait_for_label(pilot, "Back")  # with room, the screen's keys come back
        assert "Quit" in footer_labels(app)


async def wait_for_label(pilot: Pilot[Any], label: str) -> None:
    # The footer recomposes after a resize.
    await wait_for(pilot, lambda: label in footer_labels(pilot.app), f"{label!r} in the footer")


async def test_stacked_toasts_stay_off_the_upload_list(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(60, 20), notifications=True) as pilot:
        screen = await painted_dashboard(pilot)
        for n in range(6):
            app.notify(f"upload {n} finished: a message of some length", timeout=30)
        for _ in range(5):
            await pilot.pause()
        toasts = list(app.screen.query(Toast))
        assert 0 < len(toasts) <= 3
        assert "upload 5" in str(toasts[-1].render())  # the newest stay
        upload_list = screen.query_one(UploadList).region
        for toast in toasts:
            assert not toast.region.overlaps(upload_list), (toast.region, upload_list)


async def test_the_column_header_follows_a_resize(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        screen = await painted_dashboard(pilot)
        assert "progress" in str(screen.query_one("#columns").render())
        await pilot.resize_terminal(60, 20)  # no engine event follows: nothing else repaints
        await wait_for(
            pilot,
            lambda: "progress" not in str(screen.query_one("#columns").render()),
            "the column header to drop 'progress'",
        )
        header = str(screen.query_one("#columns").render())
        assert header.split() == ["name", "state", "%", "speed"], header
