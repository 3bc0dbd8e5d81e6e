"""Form building blocks: a labelled field with its rule's verdict beside it, tag chips,
and the title preview with per-file overrides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from youku_tui.errors import FieldProblem
from youku_tui.media import MediaProbe
from youku_tui.textsafe import safe_markup, safe_text

LABEL_WIDTH = 13


class FieldRow(Vertical):
    """``label  [widget]`` and, under it, what the field's rule says (or nothing)."""

    DEFAULT_CSS = f"""
    FieldRow {{ height: auto; }}
    FieldRow > Horizontal {{ height: auto; }}
    FieldRow > Horizontal > Label {{ width: {LABEL_WIDTH}; padding-right: 1; }}
    FieldRow > Horizontal > .field-widget {{ width: 1fr; }}
    FieldRow > .problem {{ height: auto; padding-left: {LABEL_WIDTH}; color: $error; }}
    FieldRow > .problem.-warning {{ color: $warning; }}
    FieldRow > .problem.-hint {{ color: $text-muted; }}
    """

    def __init__(self, field: str, label: str, widget: Widget, hint: str = "") -> None:
        super().__init__(id=f"row-{field}")
        self.field = field
        self.label = label
        self.widget = widget
        self.hint = hint
        widget.add_class("field-widget")

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self.label)
            yield self.widget
        hint = Static(safe_markup(self.hint), classes="problem -hint", markup=True)
        hint.display = bool(self.hint)
        yield hint

    def show_problems(self, problems: Sequence[FieldProblem], extra: str = "") -> None:
        """Show this field's problems (or the hint / ``extra`` text when there are none)."""
        problem = self.query_one(".problem", Static)
        mine = [p for p in problems if p.field == self.field]
        errors = [p for p in mine if p.severity == "error"]
        problem.set_class(bool(errors), "-error")
        problem.set_class(bool(mine) and not errors, "-warning")
        problem.set_class(not mine, "-hint")
        if mine:
            icon = "✗" if errors else "!"
            text = "\n".join(f"{icon} {safe_markup(p.text)}" for p in mine)
        else:
            text = extra or safe_markup(self.hint)  # ``extra`` is markup built by the caller
        problem.update(text)
        problem.display = bool(text)


def tag_chips(tags: Sequence[str]) -> str:
    if not tags:
        return "comma-separated, 1 to 10 tags of 2 to 12 characters"
    return (
        "  ".join(f"[reverse] {safe_markup(t)} [/reverse]" for t in tags) + f"   ({len(tags)}/10)"
    )


class TitlePreview(OptionList):
    """What each file will be called; Enter on a file sets (or clears) its own title."""

    DEFAULT_CSS = """
    TitlePreview { height: auto; max-height: 12; border: round $panel; }
    TitlePreview:focus { border: round $primary; }
    """

    def show(
        self,
        paths: Sequence[Path],
        titles: Sequence[str],
        overrides: Mapping[Path, str],
        own_tags: Mapping[Path, str] | None = None,
        *,
        hidden: int = 0,
        media: MediaProbe | None = None,
    ) -> None:
        """One line per file; ``own_tags`` are shown where a file has its own; ``hidden``
        files beyond the preview's limit are counted on a last line."""
        own_tags = own_tags or {}
        highlighted = self.highlighted
        self.clear_options()
        options = []
        for index, (path, title) in enumerate(zip(paths, titles, strict=True)):
            text = Text()
            text.append(safe_text(path.name), style="bold")
            text.append("  →  ")
            text.append(safe_text(title) or "(empty)", style="italic" if path in overrides else "")
            if path in overrides:
                text.append("  (own title)", style="dim")
            if path in own_tags:
                text.append(f"  tags: {safe_text(own_tags[path])}", style="dim italic")
            info = media.cached(path) if media is not None else None
            if info is not None:  # how people tell takes apart: length, size, codec
                style = "dim" if info.is_video else "bold red"
                text.append(f"  [{info.summary()}]", style=style)
            options.append(Option(text, id=str(index)))
        if hidden:
            options.append(Option(Text(f"…and {hidden} more", style="dim"), disabled=True))
        self.add_options(options)
        if highlighted is not None and options:
            self.highlighted = min(highlighted, len(options) - 1)
