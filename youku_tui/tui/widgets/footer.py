"""A footer that keeps Quit and Help in sight and shows the palette key when there is room.

Textual's Footer lays the screen's keys out first and the app's (Help, Quit) last, so on a
narrow terminal (60 columns) the keys every screen needs are the ones cut off. Here the
screen's keys are dropped from the end until Quit and Help fit; the command palette's key
(``^p Commands``) is shown only when everything else fits beside it. Both are re-decided
on every resize and binding change.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from youku_tui.textwidth import cells

# Cells around a footer key's text: one space before the key, one on either side of the
# description (Footer's default padding).
KEY_PADDING = 3
# Bindings the footer never drops, whatever the width: a way out and a way to learn the keys.
ESSENTIAL_BINDINGS = frozenset({"app.quit", "app.help"})


class PaletteFooter(Footer):
    def __init__(self) -> None:
        super().__init__(show_command_palette=False)
        self._laid_out_for = -1  # the width the keys were chosen for

    def compose(self) -> ComposeResult:
        self.set_reactive(Footer.show_command_palette, self.palette_key_fits())
        self._laid_out_for = self.size.width
        yield from self.fitting(list(super().compose()), self.size.width)

    def on_resize(self) -> None:
        if self.size.width != self._laid_out_for:
            self.refresh(recompose=True)

    def fitting(self, widgets: list[Widget], width: int) -> list[Widget]:
        """``widgets`` less the screen's last keys until the essential ones fit ``width``."""
        if width <= 0:
            return widgets
        essential = {
            binding.action
            for _node, binding, _enabled, _tooltip in self.screen.active_bindings.values()
            if binding.id in ESSENTIAL_BINDINGS
        }
        kept = list(widgets)
        for widget in reversed(widgets):
            if sum(_key_cells(w) for w in kept) <= width:
                break
            if isinstance(widget, FooterKey) and widget.action not in essential:
                kept.remove(widget)
        return kept

    def palette_key_fits(self) -> bool:
        width = self.size.width
        if width <= 0 or not self.app.ENABLE_COMMAND_PALETTE:
            return False
        active = self.screen.active_bindings
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        if palette is None:
            return False
        shown: dict[str, int] = {}  # one key per action, as the footer shows them
        for _node, binding, _enabled, _tooltip in active.values():
            if binding.show and binding.action not in shown:
                text = self.app.get_key_display(binding) + binding.description
                shown[binding.action] = len(text) + KEY_PADDING
        palette_width = (
            len(self.app.get_key_display(palette.binding))
            + len(palette.binding.description)
            + KEY_PADDING
            + 2  # the palette key's own margin on the right-hand side
        )
        return sum(shown.values()) + palette_width <= width


def _key_cells(widget: Widget) -> int:
    if isinstance(widget, FooterKey):
        return cells(widget.key_display) + cells(widget.description) + KEY_PADDING
    return 0
