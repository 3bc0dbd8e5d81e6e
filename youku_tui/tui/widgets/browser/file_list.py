"""The browser's file list: line-based (10,000 entries cost nothing until they scroll in)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from rich.segment import Segment
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from youku_tui.textwidth import fit
from youku_tui.tui.widgets.browser.listing import Entry
from youku_tui.tui.widgets.cursor_lines import CursorLines, cursor_bindings
from youku_tui.units import format_size

SIZE_WIDTH = 10
DATE_WIDTH = 17


def format_date(mtime: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(mtime))


class FileList(CursorLines):
    """Entries of one folder; ``picked`` is owned by the screen and read here."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *cursor_bindings("files", page=20),
        Binding("enter", "open", "Open", show=False, id="files.open"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "file-list--cursor",
        "file-list--picked",
        "file-list--dir",
        "file-list--marked",
    }
    DEFAULT_CSS = """
    FileList { height: 1fr; overflow-x: hidden; }
    FileList > .file-list--cursor { background: $block-cursor-blurred-background; }
    FileList:focus > .file-list--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
    }
    FileList > .file-list--picked { color: $accent; text-style: bold; }
    FileList > .file-list--dir { color: $primary; text-style: bold; }
    FileList > .file-list--marked { color: $secondary; }
    """

    class Opened(Message):
        """Enter on an entry (a folder opens, a file toggles)."""

        def __init__(self, entry: Entry) -> None:
            super().__init__()
            self.entry = entry

    def __init__(
        self,
        is_picked: Callable[[Entry], bool],
        mark_of: Callable[[Entry], str],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.entries: list[Entry] = []
        self.is_picked = is_picked
        self.mark_of = mark_of
        self.empty_text = ""

    @property
    def current(self) -> Entry | None:
        if 0 <= self.cursor < len(self.entries):
            return self.entries[self.cursor]
        return None

    def set_entries(self, entries: list[Entry], empty_text: str = "") -> None:
        self.entries = entries
        self.empty_text = empty_text
        self.virtual_size = Size(self.scrollable_content_region.width, len(entries))
        self.cursor = 0
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def refresh_entry(self, index: int) -> None:
        self.refresh_line(index)

    @property
    def item_count(self) -> int:
        return len(self.entries)

    def action_open(self) -> None:
        if self.current is not None:
            self.post_message(self.Opened(self.current))

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.entries))

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self.entries):
            if index == 0 and self.empty_text:
                muted = base + self.get_component_rich_style("file-list--marked", partial=True)
                return Strip([Segment(" " + self.empty_text, muted)]).crop_extend(0, width, base)
            return Strip.blank(width, base)
        entry = self.entries[index]
        picked = self.is_picked(entry)
        mark = self.mark_of(entry)
        style = base
        if entry.is_dir:
            style += self.get_component_rich_style("file-list--dir", partial=True)
        elif picked:
            style += self.get_component_rich_style("file-list--picked", partial=True)
        elif mark:
            style += self.get_component_rich_style("file-list--marked", partial=True)
        if index == self.cursor:
            style += self.get_component_rich_style("file-list--cursor", partial=True)
        box = "   " if entry.is_dir else ("[x]" if picked else "[ ]")
        name = entry.name + ("/" if entry.is_dir else "")
        if mark:
            name = f"{name}  ({mark})"
        show_date = width >= 50
        name_width = width - 4 - SIZE_WIDTH - (DATE_WIDTH + 1 if show_date else 0) - 1
        size = "" if entry.is_dir else format_size(entry.size)
        size_cell = fit(size, SIZE_WIDTH, align="right")
        text = f"{box} {fit(name, name_width)} {size_cell}"
        if show_date:
            text += " " + fit(format_date(entry.mtime), DATE_WIDTH, align="right")
        return Strip([Segment(text, style)]).crop_extend(0, width, style)
