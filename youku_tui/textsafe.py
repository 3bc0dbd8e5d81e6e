"""Text from file names, servers and checkpoints, made safe to show or to send.

One module for the one job, used by every view (CLI, JSON lines, TUI) and by the metadata
rules, so that nothing a file name, a server or a checkpoint carries can rewrite the user's
terminal (``\\x1b]0;PWNED\\x07``) or reach Youku unchecked.

- :func:`safe_text`: for a terminal. Control characters (C0, DEL, C1), bidi overrides and the
  surrogates that stand for undecodable file name bytes (``os.fsdecode`` with
  ``surrogateescape``) become visible escapes such as ``\\x1b`` or ``\\xff``; everything else,
  Chinese included, stays as it is.
- :func:`safe_markup`: the same, then escaped for Rich/Textual markup (``[red]``).
- :func:`json_safe`: a JSON text whose lone surrogates are written as ``\\udcff`` escapes, so
  it can always be encoded as UTF-8.
- :func:`clean_for_youku`: for text Youku is sent that the user did not type (a title made
  from a file's stem, the ``file_name``): controls dropped, undecodable bytes as U+FFFD.
- :func:`unsafe_characters`: what :mod:`youku_tui.metadata` refuses in typed fields.

Import-light on purpose (the CLI starts without Rich): Rich is imported only when
:func:`safe_markup` runs.
"""

from __future__ import annotations

import re

# C0 controls but tab, DEL, C1 controls; the bidi embeddings/overrides/isolates that can make
# a line read backwards; the surrogate range (undecodable bytes of a file name).
_UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_UNSAFE_WITH_TAB = re.compile(_UNSAFE.pattern.replace("\\x0a", "\\x09\\x0a"))
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the original byte
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def safe_text(text: object) -> str:
    """``text`` as a string that cannot control a terminal (tabs become ``\\x09`` too)."""
    return _UNSAFE_WITH_TAB.sub(lambda m: _escape(m.group()), str(text))


def safe_markup(text: object) -> str:
    """:func:`safe_text`, escaped for Rich/Textual markup."""
    from rich.markup import escape

    return escape(safe_text(text))


def json_safe(text: str) -> str:
    """A JSON document (``ensure_ascii=False``) with lone surrogates as ``\\uXXXX`` escapes."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def clean_for_youku(text: str) -> str:
    """Text derived from a file name, fit to send: no controls, undecodable bytes as U+FFFD."""
    without_bytes = _SURROGATE.sub("\ufffd", text)
    return _UNSAFE_WITH_TAB.sub("", without_bytes).strip()


def unsafe_characters(text: str, *, multiline: bool = False) -> list[str]:
    """The characters of ``text`` a typed field must not hold, each shown escaped.

    ``multiline`` (a description) allows line breaks and tabs.
    """
    pattern = _UNSAFE if multiline else _UNSAFE_WITH_TAB
    found = (c for c in pattern.findall(text) if not (multiline and c in "\r\n"))
    return sorted({_escape(c) for c in found})
