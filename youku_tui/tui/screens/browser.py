"""The file browser: folders on the left, the folder's files on the right, picks at the bottom.

Folders are listed in a thread worker (``os.scandir``), so a folder of 10,000 files never
freezes the screen. The picks live in the app, so leaving and coming back keeps them; this
screen only reads them and asks for changes with a :class:`BrowserScreen.PicksChanged`
message, and repaints when the app's ``picks_changed_signal`` says they changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DirectoryTree, Input, Static
from textual.worker import get_current_worker

from youku_tui.engine.checkpoint import CheckpointStore
from youku_tui.engine.states import UploadState
from youku_tui.errors import YoukuTuiError
from youku_tui.media import MediaInfo
from youku_tui.tui.widgets.browser.file_list import FileList
from youku_tui.tui.widgets.browser.listing import Entry, Listing, list_folder, visible_entries
from youku_tui.tui.widgets.footer import PaletteFooter
from youku_tui.tui.widgets.inputs import SteadyInput
from youku_tui.units import format_size

if TYPE_CHECKING:
    from youku_tui.tui.app import YoukuApp


class FolderTree(DirectoryTree):
    """Only folders: files are in the list beside it. Plain icons: emoji are double width
    or missing on many server terminals."""

    ICON_NODE = "▸ "
    ICON_NODE_EXPANDED = "▾ "
    ICON_FILE = "  "

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        show_hidden = cast("BrowserScreen", self.screen).show_hidden
        return [p for p in paths if p.is_dir() and (show_hidden or not p.name.startswith("."))]


class BrowserScreen(Screen[None]):
    """Pick files; the picks are the app's (``app.picked``), changed only through messages."""

    class PicksChanged(Message):
        """Ask the app to pick ``pick`` and to flip ``toggle`` (both path -> size).

        Flips are resolved by the app against its current picks, so keys typed faster than
        the messages are handled never act on a stale copy."""

        def __init__(
            self, pick: Mapping[Path, int] | None = None, toggle: Mapping[Path, int] | None = None
        ) -> None:
            super().__init__()
            self.pick: dict[Path, int] = dict(pick or {})
            self.toggle: dict[Path, int] = dict(toggle or {})

    TITLE = "Pick videos"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_pick", "Pick", id="browser.pick"),
        Binding("ctrl+a,A", "pick_all", "All", id="browser.pick_all"),
        # Not ctrl+i: terminals send it as Tab (which moves the focus).
        Binding("I", "invert", "Invert", show=False, id="browser.invert"),
        Binding("backspace,h", "parent", "Up a folder", show=False, id="browser.parent"),
        Binding("ctrl+l,slash", "jump", "Path", id="browser.jump"),
        Binding("v", "toggle_all_files", "All files", id="browser.all_files"),
        Binding("full_stop", "toggle_hidden", "Hidden", show=False, id="browser.hidden"),
        Binding("ctrl+t", "focus_tree", "Folders", show=False, id="browser.tree"),
        Binding("n,ctrl+n", "next", "Next", id="browser.next"),
        Binding("escape", "back", "Back", id="browser.back"),
    ]
    DEFAULT_CSS = """
    BrowserScreen #path { height: 3; }
    BrowserScreen #panes { height: 1fr; }
    BrowserScreen FolderTree { width: 28%; min-width: 18; border-right: solid $panel; }
    BrowserScreen FileList { width: 1fr; }
    BrowserScreen #picked { height: 1; background: $panel; padding: 0 1; }
    """

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.listing: Listing | None = None
        self.show_all = False
        self.show_hidden = False
        self._marks: dict[Path, str] = {}
        self._uploaded_before: dict[Path, str] = {}  # done in earlier runs (checkpoints)
        self._to_probe: list[Path] = []  # files shown whose media info is not known yet
        self._probe_queued: set[Path] = set()

    @property
    def youku(self) -> YoukuApp:
        return cast("YoukuApp", self.app)

    def compose(self) -> ComposeResult:
        yield SteadyInput(
            str(self.folder), placeholder="type or paste a folder or file path", id="path"
        )
        with Horizontal(id="panes"):
            yield FolderTree(self.folder, id="tree")
            media_of = self.media_of if self.youku.media is not None else None
            yield FileList(self.is_picked, self.mark_of, media_of, id="files")
        yield Static("", id="picked")
        yield PaletteFooter()

    def on_mount(self) -> None:
        settings = self.youku.config.tui
        self.show_all = settings.show_all_files
        self.show_hidden = settings.show_hidden
        self.query_one(FileList).focus()
        self.open_folder(self.folder)
        self.load_history()
        self.youku.picks_changed_signal.subscribe(self, self.picks_changed)

    def on_screen_resume(self) -> None:
        self.refresh_marks()
        self.query_one(FileList).refresh()
        self.update_picked()

    def picks_changed(self, _: object = None) -> None:
        """The app changed the picks: show the boxes and the total again."""
        self.query_one(FileList).refresh()
        self.update_picked()

    # --- listing --------------------------------------------------------------------------

    def open_folder(self, folder: Path) -> None:
        self.folder = folder
        self.query_one("#path", Input).value = str(folder)
        self.query_one(FileList).set_entries([], "reading…")
        self.refresh_marks()
        self.load(folder)

    @work(thread=True, exclusive=True, group="listing")
    def load(self, folder: Path) -> None:
        listing = list_folder(folder)
        self.app.call_from_thread(self.show_listing, listing)

    def show_listing(self, listing: Listing) -> None:
        if listing.folder != self.folder:
            return  # an older folder's answer arriving late
        self.listing = listing
        self.apply_filter()
        if listing.error:
            self.notify(listing.error, severity="error")
        tree = self.query_one(FolderTree)
        if tree.path != listing.folder:
            tree.path = listing.folder

    def apply_filter(self) -> None:
        if self.listing is None:
            return
        entries = visible_entries(
            self.listing.entries, show_all=self.show_all, show_hidden=self.show_hidden
        )
        kind = "files" if self.show_all else "videos"
        empty = self.listing.error or f"no {kind} here (v: show all files, .: hidden)"
        self.query_one(FileList).set_entries(entries, empty)
        self.update_picked()

    @work(thread=True, exclusive=True, group="history")
    def load_history(self) -> None:
        """Files uploaded in earlier runs: their checkpoints stay, marked done."""
        folder = Path(self.youku.control.owner.state_dir)
        if not folder.is_dir():
            return
        try:
            checkpoints, _ = CheckpointStore(folder).load_all()
        except (OSError, YoukuTuiError):
            return
        done = {cp.path: "uploaded" for cp in checkpoints if cp.state is UploadState.DONE}
        self.app.call_from_thread(self._history_loaded, done)

    def _history_loaded(self, done: dict[Path, str]) -> None:
        self._uploaded_before = done
        self.refresh_marks()
        self.query_one(FileList).refresh()

    def refresh_marks(self) -> None:
        marks: dict[Path, str] = dict(self._uploaded_before)
        for snap in self.youku.control.snapshots():
            if snap.state is UploadState.CANCELLED:
                continue
            marks[Path(snap.path)] = "uploaded" if snap.state is UploadState.DONE else "queued"
        self._marks = marks

    def is_picked(self, entry: Entry) -> bool:
        return entry.path in self.youku.picked

    def mark_of(self, entry: Entry) -> str:
        return self._marks.get(entry.path, "")

    def update_picked(self) -> None:
        picked = self.youku.picked
        total = sum(picked.values())
        shown = len(self.query_one(FileList).entries)
        kind = "all files" if self.show_all else "videos"
        hidden = " +hidden" if self.show_hidden else ""
        flagged = self.not_videos(picked)
        warning = f"   ·   [$error]{len(flagged)} not a video[/]" if flagged else ""
        self.query_one("#picked", Static).update(
            f"picked: {len(picked)} files, {format_size(total)}{warning}   ·   {shown} entries "
            f"({kind}{hidden})"
        )

    def not_videos(self, paths: Iterable[Path]) -> list[Path]:
        media = self.youku.media
        if media is None:
            return []
        infos = {path: media.cached(path) for path in paths}
        return [path for path, info in infos.items() if info is not None and not info.is_video]

    # --- media ----------------------------------------------------------------------------

    def media_of(self, entry: Entry) -> MediaInfo | None:
        """What the file holds if known; otherwise None, and it is probed (off this thread)."""
        media = self.youku.media
        if media is None or entry.is_dir:
            return None
        info = media.cached(entry.path)
        if info is None and entry.path not in self._probe_queued:
            self._probe_queued.add(entry.path)
            self._to_probe.append(entry.path)
            self.call_after_refresh(self.probe_shown)
        return info

    @work(thread=True, exclusive=True, group="probe")
    def probe_shown(self) -> None:
        """Probe the files the list asked about, newest request first (what is on screen)."""
        media = self.youku.media
        worker = get_current_worker()
        while self._to_probe and media is not None and not worker.is_cancelled:
            path = self._to_probe.pop()
            media.probe(path)
            self.app.call_from_thread(self.media_known)

    def media_known(self) -> None:
        self.query_one(FileList).refresh()
        self.update_picked()

    # --- events ---------------------------------------------------------------------------

    @on(FileList.Opened)
    def entry_opened(self, event: FileList.Opened) -> None:
        if event.entry.is_dir:
            self.open_folder(event.entry.path)
        else:
            self.action_toggle_pick()

    @on(DirectoryTree.DirectorySelected)
    def folder_selected(self, event: DirectoryTree.DirectorySelected) -> None:
        event.stop()
        if event.path != self.folder:
            self.open_folder(event.path)
            self.query_one(FileList).focus()

    @on(Input.Submitted, "#path")
    def path_submitted(self, event: Input.Submitted) -> None:
        raw = event.value.strip().strip("'\"")
        target = Path(raw).expanduser()
        if not target.is_absolute():
            target = self.folder / target
        if target.is_dir():
            self.open_folder(target.resolve())
        elif target.is_file():
            self.post_message(self.PicksChanged({target.resolve(): target.stat().st_size}))
            self.open_folder(target.resolve().parent)
        else:
            self.notify(f"No such folder or file: {raw}", severity="error")
            return
        self.query_one(FileList).focus()

    # --- actions --------------------------------------------------------------------------

    def action_toggle_pick(self) -> None:
        files = self.query_one(FileList)
        entry = files.current
        if entry is None or entry.is_dir:
            return
        self.post_message(self.PicksChanged(toggle={entry.path: entry.size}))
        files.move_cursor(files.cursor + 1)

    def _files(self) -> list[Entry]:
        return [e for e in self.query_one(FileList).entries if not e.is_dir]

    def action_pick_all(self) -> None:
        self.post_message(self.PicksChanged({e.path: e.size for e in self._files()}))

    def action_invert(self) -> None:
        self.post_message(self.PicksChanged(toggle={e.path: e.size for e in self._files()}))

    def action_parent(self) -> None:
        if self.folder.parent != self.folder:
            self.open_folder(self.folder.parent)

    def action_jump(self) -> None:
        path_input = self.query_one("#path", Input)
        path_input.focus()
        path_input.select_all()

    def action_focus_tree(self) -> None:
        self.query_one(FolderTree).focus()

    def action_toggle_all_files(self) -> None:
        self.show_all = not self.show_all
        self.apply_filter()

    def action_toggle_hidden(self) -> None:
        self.show_hidden = not self.show_hidden
        self.apply_filter()
        self.query_one(FolderTree).reload()

    def action_next(self) -> None:
        if not self.youku.picked:
            self.notify("Pick at least one file first (space)", severity="warning")
            return
        self.youku.open_form()

    def action_back(self) -> None:
        self.app.pop_screen()
