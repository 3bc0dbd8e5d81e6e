"""A footer that also shows the command palette's key (``^p Commands``) when there is room.

Textual's Footer shows that key always or never; at 80 columns the screens' own keys fill the
line, and the palette key would push them out of sight. Here it is shown only when the
screen's keys and it fit side by side; it is re-decided on every resize and binding change.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

# Cells around a footer key's text: one space before the key, one on either side of the
# description (Footer's default padding).
KEY_PADDING = 3


class PaletteFooter(Footer):
    def __init__(self) -> None:
        super().__init__(show_command_palette=False)

    def compose(self) -> ComposeResult:
        self.set_reactive(Footer.show_command_palette, self.palette_key_fits())
        yield from super().compose()

    def on_resize(self) -> None:
        if self.palette_key_fits() != self.show_command_palette:
            self.refresh(recompose=True)

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
