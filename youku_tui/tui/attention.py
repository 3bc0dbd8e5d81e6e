"""Getting the user's attention when an upload ends: the bell and a terminal notification.

Textual 8 offers ``App.bell()`` (a BEL through its driver) and nothing for desktop
notifications, so the OSC sequences are built here and written through the same driver (as
Textual's own ``copy_to_clipboard`` writes OSC 52). Both travel inside the terminal stream, so
they reach the user's desktop through SSH with no daemon or D-Bus on the server:

- OSC 9 (iTerm2, WezTerm, Windows Terminal, Ghostty, kitty, ...): ``ESC ] 9 ; text ST``
- OSC 777 (VTE terminals such as GNOME Terminal, foot, urxvt): ``ESC ] 777 ; notify ; title ;
  body ST``

Inside tmux an OSC sequence reaches the outer terminal only wrapped in tmux's passthrough
(``ESC P tmux; ... ESC \\``, with ``set -g allow-passthrough on``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

ST = "\x1b\\"  # string terminator: terminals that ignore the OSC stop reading there
MAX_TEXT = 200  # characters: a notification is a line, not a log


def clean(text: str) -> str:
    """Text that cannot end or break out of an escape sequence (no controls, no ';')."""
    printable = "".join(" " if not ch.isprintable() else ch for ch in text)
    return printable.replace(";", ",")[:MAX_TEXT]


def resolve_style(style: str, environ: Mapping[str, str] | None = None) -> str:
    """``auto``: OSC 777 where the terminal is known to speak it (VTE, foot, urxvt), else 9."""
    if style != "auto":
        return style
    env = os.environ if environ is None else environ
    term = env.get("TERM", "")
    if env.get("VTE_VERSION") or term.startswith(("foot", "rxvt")):
        return "osc777"
    return "osc9"


def notification_sequence(
    title: str, body: str, style: str, environ: Mapping[str, str] | None = None
) -> str:
    """The escape sequence for one notification ("" for ``bell``: the bell is separate)."""
    env = os.environ if environ is None else environ
    match resolve_style(style, env):
        case "osc9":
            sequence = f"\x1b]9;{clean(f'{title}: {body}')}{ST}"
        case "osc777":
            sequence = f"\x1b]777;notify;{clean(title)};{clean(body)}{ST}"
        case _:
            return ""
    if env.get("TMUX"):
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + ST
    return sequence
