"""A text input whose cursor does not blink.

A blinking cursor repaints twice a second for as long as an input has focus: bytes over a
slow SSH link for nothing, and screenshots that differ with the moment they are taken.
"""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Input, TextArea


class SteadyInput(Input):
    cursor_blink = reactive(False, init=False)


class SteadyTextArea(TextArea):
    """A multi-line field with a steady cursor (same reasons as :class:`SteadyInput`)."""

    cursor_blink = reactive(False, init=False)
