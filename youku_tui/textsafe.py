"""Text from file names, servers and checkpoints, made safe to show or to send.

Built on :func:`youku_tui.textwidth.printable` (one escaping rule for every view), so that
nothing a file name, a server or a checkpoint carries can rewrite the user's terminal
(``\\x1b]0;PWNED\\x07``) or reach Youku unchecked.

- :func:`safe_text`: for a terminal, any object: control characters, bidi overrides and the
  surrogates that stand for undecodable file name bytes become visible escapes.
- :func:`safe_markup`: the same, then escaped for Textual content markup (``[red]``).
- :func:`json_safe`: a JSON text whose lone surrogates are written as ``\\udcff`` escapes, so
  it can always be encoded as UTF-8.
- :func:`clean_for_youku`: for text Youku is sent that the user did not type (a title made
  from a file's stem, the ``file_name``): controls dropped, undecodable bytes as U+FFFD.
- :func:`unsafe_characters`: what :mod:`youku_tui.metadata` refuses in typed fields.

Import-light on purpose: the CLI imports this and starts without Rich or Textual.
"""

from __future__ import annotations

import re

from youku_tui.textwidth import escape_char, is_unprintable, printable

_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_text(text: object) -> str:
    """``str(text)`` as a string that cannot control a terminal."""
    return printable(str(text))


def safe_markup(text: object) -> str:
    """:func:`safe_text`, escaped for Textual content markup.

    Every ``[`` is escaped: Textual's own ``escape`` leaves one alone when what follows does
    not look like a tag (``"[, shift+up"``), yet such a bracket still confuses the parser when
    a real tag follows it on the line. Textual has no escape for a backslash, so a trailing one
    (it would escape the caller's next tag) is followed by a zero-width space.
    """
    shown = safe_text(text).replace("[", "\\[")
    return shown + "\u200b" if shown.endswith("\\") else shown


def json_safe(text: str) -> str:
    """A JSON document (``ensure_ascii=False``) with lone surrogates as ``\\uXXXX`` escapes."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def clean_for_youku(text: str) -> str:
    """Text derived from a file name, fit to send: no controls, undecodable bytes as U+FFFD."""
    without_bytes = _SURROGATE.sub("\ufffd", text)
    return "".join(c for c in without_bytes if not is_unprintable(c)).strip()


def unsafe_characters(text: str, *, multiline: bool = False) -> list[str]:
    """The characters of ``text`` a typed field must not hold, each shown escaped.

    ``multiline`` (a description) allows line breaks and tabs.
    """
    allowed = "\r\n\t" if multiline else ""
    return sorted({escape_char(c) for c in text if is_unprintable(c) and c not in allowed})
