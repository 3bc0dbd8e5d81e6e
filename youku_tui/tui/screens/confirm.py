"""Small modal dialogs: a yes/no confirmation (default no) and a one-line prompt."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from youku_tui.textsafe import safe_text
from youku_tui.tui.widgets.inputs import SteadyInput

_DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 64; max-width: 95%; height: auto; padding: 1 2;
    border: thick $primary; background: $surface;
}}
{name} .hint {{ color: $text-muted; margin-top: 1; }}
"""


class ConfirmScreen(ModalScreen[bool]):
    """Ask a yes/no question. Only ``y`` confirms: Enter, Esc and ``n`` all answer no,
    because on a laggy link a split escape sequence reads as Esc."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="ConfirmScreen")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape,enter", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(safe_text(self.question), markup=False)
            yield Label("[b]y[/b] yes   [b]n[/b] / Esc: no (default)", classes="hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text; Esc gives ``None``."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="PromptScreen")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel")
    ]

    def __init__(self, question: str, value: str = "", *, password: bool = False) -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.password = password

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(safe_text(self.question), markup=False)
            yield SteadyInput(self.value, password=self.password, id="answer")
            yield Label("Enter: OK   Esc: cancel", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
