"""A list drawn one line per item with a cursor row: the base of the file list and the
upload list. Only the lines that change are repainted (the cursor's old and new rows)."""

from __future__ import annotations

from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.reactive import reactive
from textual.scroll_view import ScrollView


def cursor_bindings(prefix: str, page: int) -> list[BindingType]:
    """The movement keys, with ids ``{prefix}.up`` ... so users can remap them."""
    return [
        Binding("up,k", "cursor(-1)", "Up", show=False, id=f"{prefix}.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id=f"{prefix}.down"),
        Binding("pageup", f"cursor(-{page})", "Page up", show=False, id=f"{prefix}.page_up"),
        Binding("pagedown", f"cursor({page})", "Page down", show=False, id=f"{prefix}.page_down"),
        Binding("home", "cursor_to(0)", "First", show=False, id=f"{prefix}.first"),
        Binding("end", "cursor_to(-1)", "Last", show=False, id=f"{prefix}.last"),
    ]


class CursorLines(ScrollView, can_focus=True):
    """Subclasses say how many items there are and draw them in ``render_line``."""

    cursor: reactive[int] = reactive(0, repaint=False)

    @property
    def item_count(self) -> int:
        raise NotImplementedError

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old)
        self.refresh_line(new)
        self.scroll_to_region(Region(0, new, 1, 1), animate=False, force=True)

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor + delta)

    def action_cursor_to(self, index: int) -> None:
        self.move_cursor(index if index >= 0 else self.item_count - 1)

    def move_cursor(self, index: int) -> None:
        if self.item_count:
            self.cursor = min(max(index, 0), self.item_count - 1)
