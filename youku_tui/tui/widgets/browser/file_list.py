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

from youku_tui.media import MediaInfo
from youku_tui.textwidth import fit
from youku_tui.tui.widgets.browser.listing import Entry
from youku_tui.tui.widgets.cursor_lines import CursorLines, cursor_bindings
from youku_tui.units import format_size

SIZE_WIDTH = 10
DATE_WIDTH = 17
MEDIA_WIDTH = 20  # "12:34 1920x1080 h264", or "not a video (text)"
MEDIA_FROM = 50  # list widths from which the media column shows (before the date)


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
        "file-list--not-video",
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
    FileList > .file-list--not-video { color: $error; }
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
        media_of: Callable[[Entry], MediaInfo | None] | None = None,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.entries: list[Entry] = []
        self.is_picked = is_picked
        self.mark_of = mark_of
        self.media_of = media_of  # None: no media column (nothing probes)
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
        show_media = self.media_of is not None and width >= MEDIA_FROM
        show_date = width >= (MEDIA_FROM + MEDIA_WIDTH + 1 if show_media else MEDIA_FROM)
        name_width = width - 4 - SIZE_WIDTH - 1
        name_width -= (MEDIA_WIDTH + 1 if show_media else 0) + (DATE_WIDTH + 1 if show_date else 0)
        size = "" if entry.is_dir else format_size(entry.size)
        size_cell = fit(size, SIZE_WIDTH, align="right")
        segments = [Segment(f"{box} {fit(name, name_width)} {size_cell}", style)]
        if show_media:
            info = None if entry.is_dir or self.media_of is None else self.media_of(entry)
            text = "" if entry.is_dir else ("…" if info is None else info.summary())
            media_style = style
            if info is not None and not info.is_video and index != self.cursor:
                media_style += self.get_component_rich_style("file-list--not-video", partial=True)
            segments.append(Segment(" " + fit(text, MEDIA_WIDTH), media_style))
        if show_date:
            date = " " + fit(format_date(entry.mtime), DATE_WIDTH, align="right")
            segments.append(Segment(date, style))
        return Strip(segments).crop_extend(0, width, style)
