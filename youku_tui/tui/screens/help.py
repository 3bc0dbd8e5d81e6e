"""``?``: every key of the screen underneath, with what it does."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from youku_tui.textsafe import safe_markup


def format_key(key: str) -> str:
    names = {"question_mark": "?", "space": "space", "plus": "+", "minus": "-"}
    return names.get(key, key)


def _section(node: object, screen: Screen[object]) -> str:
    if node is screen:
        return "This screen"
    if node is screen.app:
        return "Everywhere"
    return f"In the {type(node).__name__}"


def bindings_table(screen: Screen[object]) -> str:
    """The active bindings of ``screen`` (focused widget, screen, app) that are ours (they
    have an ``id``, so they can be remapped), grouped by where they apply, each with its id:
    the name to use under ``[keys]`` in the config."""
    sections: dict[str, dict[tuple[str, str], list[str]]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description or binding.system or binding.id is None:
            continue
        rows = sections.setdefault(_section(active.node, screen), {})
        shown = format_key(screen.app.get_key_display(binding) or key)
        keys = rows.setdefault((binding.description, binding.id), [])
        if shown not in keys:
            keys.append(shown)
    order = ["This screen", *sorted(s for s in sections if s.startswith("In ")), "Everywhere"]
    lines: list[str] = []
    for name in order:
        if name not in sections:
            continue
        lines.append(f"[b $accent]{name}[/]")
        for (desc, binding_id), keys in sections[name].items():
            shown = ", ".join(keys)
            lines.append(
                f"  [b]{safe_markup(f'{shown:>16}')}[/b]  "
                f"{safe_markup(f'{desc:<24}')} [dim]{binding_id}[/]"
            )
    lines.append("[b $accent]Focus[/]")
    lines.append(f"  [b]{'tab, shift+tab':>16}[/b]  next / previous pane")
    lines.append(f"  [b]{'ctrl+p':>16}[/b]  every action and theme, by name")
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss_help", "Close help", id="help.close"),
    ]

    def __init__(self, title: str, table: str) -> None:
        super().__init__()
        self.title_text = title
        self.table = table

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = f"Keys: {self.title_text}"
            scroll.border_subtitle = "Esc/q/? close · ctrl+p: all commands"
            yield Static(self.table, markup=True)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
