"""SVG snapshots of every screen at 80x24 and 120x40 in a dark and a light theme.

Regenerate with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the
SVGs (``tests/tui/__snapshots__``) before committing them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DirectoryTree
from textual.worker import WorkerCancelled, WorkerFailed

from tests.tui.fake_engine import FakeEngine, cjk_snapshots
from tests.tui.helpers import AppFactory, wait_for
from youku_tui.tui.screens.dashboard import DashboardScreen
from youku_tui.tui.screens.login import LoginScreen

SIZES = [(80, 24), (120, 40)]
THEMES = ["youku-dark", "youku-light"]
SnapCompare = Callable[..., bool]  # pytest-textual-snapshot's fixture
matrix = pytest.mark.parametrize(
    ("theme", "size"),
    [(t, s) for t in THEMES for s in SIZES],
    ids=[f"{t}-{s[0]}x{s[1]}" for t in THEMES for s in SIZES],
)


async def settle(pilot: Pilot[object]) -> None:
    """Let folder listings and repaints finish (a cancelled listing is not an error)."""
    for _ in range(3):
        for worker in list(pilot.app.workers):
            if worker.group == "listing":  # DirectoryTree's own loader never ends
                with contextlib.suppress(WorkerCancelled, WorkerFailed):
                    await worker.wait()
        await pilot.pause()
    trees = pilot.app.screen.query(DirectoryTree)
    await wait_for(pilot, lambda: all(map(_listed, trees)), "the folder trees' listings")
    await pilot.pause()


def _listed(tree: DirectoryTree) -> bool:
    """The tree shows every folder its filter keeps (a folder may have none to show)."""
    shown = tree.filter_paths(Path(tree.path).iterdir())
    return len(tree.root.children) == len(list(shown))


async def paint_dashboard(pilot: Pilot[object]) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    screen.paint()
    await settle(pilot)


@matrix
def test_dashboard(
    snap_compare: SnapCompare, make_app: AppFactory, theme: str, size: tuple[int, int]
) -> None:
    app = make_app(theme)
    assert snap_compare(app, terminal_size=size, press=["down"], run_before=paint_dashboard)


@matrix
def test_help(
    snap_compare: SnapCompare, make_app: AppFactory, theme: str, size: tuple[int, int]
) -> None:
    app = make_app(theme)
    assert snap_compare(app, terminal_size=size, press=["question_mark"], run_before=settle)


@matrix
def test_browser(
    snap_compare: SnapCompare,
    make_app: AppFactory,
    video_folder: Path,
    theme: str,
    size: tuple[int, int],
) -> None:
    app = make_app(theme, paths=[video_folder])

    async def pick_two(pilot: Pilot[object]) -> None:
        await settle(pilot)
        await pilot.press("down", "space", "space")  # past "archive/", pick the first two
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=pick_two)


@matrix
def test_metadata_form(
    snap_compare: SnapCompare,
    make_app: AppFactory,
    video_folder: Path,
    theme: str,
    size: tuple[int, int],
) -> None:
    app = make_app(theme, paths=[video_folder])

    async def fill(pilot: Pilot[object]) -> None:
        await settle(pilot)
        await pilot.press("A", "n")
        await settle(pilot)
        # A broken rule: a one-letter tag is shown next to the field.
        await pilot.press("tab", "end", *", x")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=fill)


@matrix
def test_login(
    snap_compare: SnapCompare, make_app: AppFactory, theme: str, size: tuple[int, int]
) -> None:
    app = make_app(theme, snapshots=False)

    async def open_login(pilot: Pilot[object]) -> None:
        await pilot.app.push_screen(LoginScreen(pilot.app.config))  # type: ignore[attr-defined]
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=open_login)


def test_dashboard_ansi_theme(snap_compare: SnapCompare, make_app: AppFactory) -> None:
    """The 16-colour theme for plain terminals."""
    app = make_app("youku-ansi")
    assert snap_compare(app, terminal_size=(80, 24), run_before=paint_dashboard)


def test_dashboard_60x20_cjk_sandbox(snap_compare: SnapCompare, make_app: AppFactory) -> None:
    """The smallest layout: a CJK name in its columns, the totals, Quit and Help, the mark."""
    app = make_app(engine=FakeEngine(cjk_snapshots()), sandbox=True)
    assert snap_compare(app, terminal_size=(60, 20), run_before=paint_dashboard)


def test_browser_60x20_cjk(
    snap_compare: SnapCompare, make_app: AppFactory, cjk_folder: Path
) -> None:
    app = make_app(paths=[cjk_folder])
    assert snap_compare(app, terminal_size=(60, 20), run_before=settle)
