"""The upload list: a line-based view (Textual's Line API) that repaints only changed rows.

A DataTable repaints whole on any cell change and one ProgressBar widget per upload costs a
widget tree each; with 50 uploads at several updates a second both cost a large share of a
core and flood a slow SSH link. Here each upload is one line rendered from an
:class:`UploadRow`; :meth:`UploadList.set_rows` compares the new rows with the old ones and
refreshes just the lines that differ.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from youku_tui.engine.states import UploadState
from youku_tui.textwidth import fit, fit_middle, fit_words
from youku_tui.tui.format import progress_bar
from youku_tui.tui.widgets.cursor_lines import CursorLines, cursor_bindings
from youku_tui.tui.widgets.dashboard.rows import UploadRow

_STATE_CLASS = {
    UploadState.DONE: "upload-list--done",
    UploadState.FAILED: "upload-list--failed",
    UploadState.PAUSED: "upload-list--paused",
    UploadState.CANCELLED: "upload-list--paused",
}


# Below this many cells the name column is squeezed by dropping the least useful columns.
MIN_NAME_WIDTH = 22
# From this width on, the last error gets a column of its own (narrower: the detail pane).
ERROR_COLUMN_FROM = 120
MIN_ERROR_WIDTH = 20


@dataclass(frozen=True, slots=True)
class Columns:
    """Cell widths for a given width; 0 hides a column. The name takes what is left, except
    from ``ERROR_COLUMN_FROM`` on, where the last error does."""

    name: int
    state: int = 10
    bar: int = 10
    percent: int = 6
    speed: int = 10
    eta: int = 6
    parts: int = 7
    retries: int = 7
    error: int = 0

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    @property
    def stopped_room(self) -> int:
        """Cells from speed to the end: where a stopped upload shows its error instead."""
        tail = (self.speed, self.eta, self.parts, self.retries, self.error)
        return sum(tail) + sum(1 for w in tail if w) - 1

    @classmethod
    def for_width(cls, width: int) -> Columns:
        return _columns_for_width(width)


# The columns given up first when the width runs short (retries and the error are in the
# detail pane anyway; the bar repeats the percentage).
_DROP_ORDER = ("retries", "parts", "eta", "bar", "speed")


@lru_cache(maxsize=8)
def _columns_for_width(width: int) -> Columns:
    if width >= ERROR_COLUMN_FROM:
        wide = Columns(name=0, state=11, bar=24 if width >= 150 else 16, speed=11, eta=7, parts=8)
        name = min(48, max(26, width // 5))
        error = max(MIN_ERROR_WIDTH, width - _used(wide) - name - 1)
        return replace(wide, name=name, error=error)
    cols = Columns(name=0)
    for column in _DROP_ORDER:
        if width - _used(cols) >= MIN_NAME_WIDTH:
            break
        cols = replace(cols, **{column: 0})
    return replace(cols, name=max(1, width - _used(cols)))


def _used(cols: Columns) -> int:
    """Cells taken by the visible columns other than the name, with their separators."""
    shown = [w for w in cols.widths[1:] if w]
    return sum(shown) + len(shown)


def header_text(cols: Columns) -> str:
    labels = (
        ("name", cols.name, False),
        ("state", cols.state, False),
        ("progress", cols.bar, False),
        ("%", cols.percent, True),
        ("speed", cols.speed, True),
        ("eta", cols.eta, True),
        ("parts", cols.parts, True),
        ("retries", cols.retries, True),
        ("last error", cols.error, False),
    )
    return " ".join(
        fit(label, width, align="right" if right else "left")
        for label, width, right in labels
        if width
    )


class UploadList(CursorLines):
    """One line per upload, a cursor, and repaints limited to the rows that changed."""

    BINDINGS: ClassVar[list[BindingType]] = cursor_bindings("list", page=10)
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "upload-list--cursor",
        "upload-list--done",
        "upload-list--failed",
        "upload-list--paused",
        "upload-list--bar",
        "upload-list--in-flight",
        "upload-list--error",
    }
    DEFAULT_CSS = """
    UploadList { height: 2fr; overflow-x: hidden; }
    UploadList > .upload-list--cursor { background: $block-cursor-blurred-background; }
    UploadList:focus > .upload-list--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
        text-style: bold;
    }
    UploadList > .upload-list--done { color: $success; }
    UploadList > .upload-list--failed { color: $error; }
    UploadList > .upload-list--paused { color: $warning; }
    UploadList > .upload-list--bar { color: $primary; }
    UploadList > .upload-list--in-flight { color: $primary 55%; }
    UploadList > .upload-list--error { color: $error; }
    """

    class Selected(Message):
        """The cursor moved to another upload (or the list became empty: ``None``)."""

        def __init__(self, upload_id: str | None) -> None:
            super().__init__()
            self.upload_id = upload_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[UploadRow] = []
        self.lines_repainted = 0  # for tests and the benchmark: rows actually refreshed

    @property
    def selected(self) -> UploadRow | None:
        if 0 <= self.cursor < len(self.rows):
            return self.rows[self.cursor]
        return None

    def set_rows(self, rows: list[UploadRow]) -> None:
        """Show ``rows``; refresh only the lines whose content changed."""
        old = self.rows
        selected_id = self.selected.upload_id if self.selected else None
        self.rows = rows
        if len(rows) != len(old):
            self.virtual_size = Size(self.scrollable_content_region.width, len(rows))
        if [r.upload_id for r in rows] != [r.upload_id for r in old]:
            # Order or membership changed: keep the cursor on the same upload, repaint all.
            ids = [r.upload_id for r in rows]
            new_cursor = ids.index(selected_id) if selected_id in ids else self.cursor
            self.cursor = min(max(new_cursor, 0), max(len(rows) - 1, 0))
            self.refresh()
            self.lines_repainted += len(rows)
            self.post_message(self.Selected(self.selected.upload_id if self.selected else None))
            return
        for index, (before, after) in enumerate(zip(old, rows, strict=True)):
            if before != after:
                self.refresh_line(index)
                self.lines_repainted += 1

    @property
    def item_count(self) -> int:
        return len(self.rows)

    def move_cursor(self, index: int) -> None:
        before = self.cursor
        super().move_cursor(index)
        if self.cursor != before:
            self.post_message(self.Selected(self.rows[self.cursor].upload_id))

    def on_click(self, event: object) -> None:
        offset = getattr(event, "y", None)
        if isinstance(offset, int):
            self.move_cursor(offset + self.scroll_offset.y)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.rows))
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        base = self.rich_style
        if row.state in _STATE_CLASS:
            base = base + self.get_component_rich_style(_STATE_CLASS[row.state], partial=True)
        if index == self.cursor:
            base = base + self.get_component_rich_style("upload-list--cursor", partial=True)
        return Strip(
            self._segments(row, Columns.for_width(width), base, index == self.cursor), width
        ).crop_extend(0, width, base)

    def _segments(
        self, row: UploadRow, cols: Columns, base: Style, selected: bool = False
    ) -> list[Segment]:
        bar_style = in_flight_style = base
        if not selected:
            # On the cursor row the bar keeps the row's own colours: a theme whose cursor
            # background is its primary colour would hide a primary-coloured bar there.
            bar_style += self.get_component_rich_style("upload-list--bar", partial=True)
            in_flight_style += self.get_component_rich_style("upload-list--in-flight", partial=True)
        error_style = base + self.get_component_rich_style("upload-list--error", partial=True)
        state = row.state.value if not row.phase or row.phase == row.state else row.phase
        head = [Segment(fit_middle(row.name, cols.name), base)]
        head.append(Segment(" " + fit(state, cols.state), base))
        if cols.bar:
            runs = progress_bar(row.fraction, row.in_flight, cols.bar)
            head.append(Segment(" " + runs.done, bar_style))
            head.append(Segment(runs.in_flight, in_flight_style))
            head.append(Segment(runs.rest, base))
        head.append(Segment(" " + fit(row.percent, cols.percent, align="right"), base))
        if row.note:  # speed and ETA are empty while it waits: say why instead
            return [*head, Segment(" " + fit_words(row.note, cols.stopped_room), base)]
        if row.error and not row.state.is_active:
            # Speed and ETA mean nothing for a stopped upload: give its error the room.
            # Without a retries column the count waits in the detail pane: the message matters.
            retries = f"({row.retries} retries) " if row.retries and cols.retries else ""
            room = cols.stopped_room
            return [*head, Segment(" " + fit_words(retries + row.error, room), error_style)]
        tail = [
            (row.speed, cols.speed, True, base),
            (row.eta, cols.eta, True, base),
            (row.parts, cols.parts, True, base),
            (str(row.retries or ""), cols.retries, True, base),
            (row.error, cols.error, False, error_style),
        ]
        return head + [
            Segment(" " + fit(text, width, align="right" if right else "left"), style)
            for text, width, right, style in tail
            if width
        ]
