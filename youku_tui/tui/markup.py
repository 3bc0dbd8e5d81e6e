"""Escaping text for Textual content markup.

Textual's own ``escape`` leaves a ``[`` alone when what follows does not look like a tag
(``"[, shift+up"``), yet such a bracket still confuses the parser when a real tag follows it
on the line. Escaping every ``[`` is always safe.
"""

from __future__ import annotations


def escape(text: str) -> str:
    return text.replace("[", "\\[")
