"""Text measured in terminal cells, for every column the TUI and the CLI draw.

``len()`` counts code points, but a terminal gives ``旅`` two cells, a combining accent none
and an emoji with a skin tone (several code points) two: columns padded with ``ljust`` shift
by one cell per wide character. The widths come from ``wcwidth`` (the Unicode tables that
terminals follow, kept up to date with each Unicode release); cuts fall between grapheme
clusters, never inside one, and a wide character that does not fit is left out whole.

:func:`printable` comes first for anything that came from outside (a file name, a server's
message): control characters and undecodable bytes become visible escapes, so they can
neither move the cursor nor stop ``print`` with a ``UnicodeEncodeError``.

Headless: the CLI imports this, so nothing here loads Textual or rich.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from typing import Literal

ELLIPSIS = "…"
Align = Literal["left", "right"]

# Characters that would act on the terminal (or break a line) instead of showing.
_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
# Bidi embeddings, overrides and isolates: they make a line read backwards (a name ending in
# "\u202emp4.exe" shows as "exe.4pm"). Other format characters (ZWJ in emoji) stay.
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """``text`` with control characters and undecodable bytes shown as escapes.

    A file name with bytes that are not UTF-8 reaches Python with each such byte as a lone
    surrogate (``surrogateescape``); it is shown as the byte, ``\\xff``, which is also how
    ``ls -b`` shows it. Control characters show as ``\\x1b``-style escapes.
    """
    if text.isascii() and text.isprintable():
        return text
    return "".join(escape_char(char) if is_unprintable(char) else char for char in text)


def is_unprintable(char: str) -> bool:
    """True for a character that must not reach a terminal (or Youku) as it is."""
    return unicodedata.category(char) in _UNPRINTABLE_CATEGORIES or char in _BIDI_CONTROLS


def escape_char(char: str) -> str:
    """The visible escape of one character: the original byte for an undecodable one."""
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte surrogateescape could not decode
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def cells(text: str) -> int:
    """How many terminal cells ``text`` takes (unprintable characters count as their escape)."""
    if text.isascii() and text.isprintable():
        return len(text)
    return sum(_grapheme_cells(g) for g in _graphemes(printable(text)))


def clip(text: str, width: int) -> str:
    """The longest start of ``text`` that fits in ``width`` cells (whole graphemes only)."""
    if width <= 0:
        return ""
    if text.isascii() and text.isprintable():
        return text[:width]
    return "".join(_take(_graphemes(printable(text)), width))


def fit(text: str, width: int, align: Align = "left") -> str:
    """``text`` in exactly ``width`` cells: cut with an ellipsis when too long, else padded."""
    if width <= 0:
        return ""
    text = printable(text)
    size = cells(text)
    if size > width:
        text = clip(text, width - 1) + ELLIPSIS
        size = cells(text)
    padding = " " * (width - size)  # a wide character left out may leave one cell
    return padding + text if align == "right" else text + padding


def fit_middle(text: str, width: int) -> str:
    """Like :func:`fit`, but a long text loses its middle: a file name keeps its extension."""
    text = printable(text)
    size = cells(text)
    if size <= width or width < 8:
        return fit(text, width)
    tail_width = max(4, (width - 1) // 3)
    tail = _clip_end(text, tail_width)
    head = clip(text, width - 1 - cells(tail))
    return fit(head + ELLIPSIS + tail, width)


def _clip_end(text: str, width: int) -> str:
    """The longest end of ``text`` that fits in ``width`` cells."""
    return "".join(reversed(_take(reversed(_graphemes(text)), width)))


def _take(graphemes: Iterable[str], width: int) -> list[str]:
    """Graphemes from the start of ``graphemes`` while they fit in ``width`` cells."""
    kept: list[str] = []
    used = 0
    for grapheme in graphemes:
        size = _grapheme_cells(grapheme)
        if used + size > width:
            break
        kept.append(grapheme)
        used += size
    return kept


def _graphemes(text: str) -> list[str]:
    from wcwidth import iter_graphemes

    return list(iter_graphemes(text))


@functools.lru_cache(maxsize=4096)
def _grapheme_cells(grapheme: str) -> int:
    from wcwidth import wcswidth

    return max(0, wcswidth(grapheme))


def fit_words(text: str, width: int) -> str:
    """Like :func:`fit`, but a cut falls between words when one is near (an error message
    stays readable); one long word is cut where it must be."""
    text = printable(text)
    if cells(text) <= width:
        return fit(text, width)
    head = clip(text, width - 2)
    cut = head.rfind(" ")
    if cut < len(head) // 2:
        return fit(text, width)
    return fit(head[:cut] + " " + ELLIPSIS, width)
