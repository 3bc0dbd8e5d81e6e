"""Upload ids: made here, shown short, and found again from what a user typed.

An id is ``YYYYMMDD-HHMMSS-xxxxxxxx`` (the time it was queued, then 8 random hex digits): the
checkpoint files sort by age, and the random tail tells apart the files of one batch, which
share the time. Views show the tail alone (:func:`short_id`), as ``git`` and ``docker`` show
short hashes; a user may give any unique prefix of the whole id or of its tail.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

from youku_tui.errors import UnknownUploadError

TAIL = 8  # random hex digits at the end of an id


def new_upload_id() -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:TAIL]}"


def short_id(upload_id: str) -> str:
    """The part of the id a person reads and types: its random tail."""
    head, sep, tail = upload_id.rpartition("-")
    return tail if sep and head and tail else upload_id


def matching_ids(text: str, known: Iterable[str]) -> list[str]:
    """Every known id that ``text`` starts, or whose short form it starts."""
    text = text.strip()
    if not text:
        return []
    known = list(known)
    if text in known:  # an exact id wins even when it also starts a longer one
        return [text]
    return [uid for uid in known if uid.startswith(text) or short_id(uid).startswith(text)]


def resolve_id(text: str, known: Iterable[str]) -> str:
    """The one id ``text`` names; :class:`UnknownUploadError` when none or several do."""
    found = matching_ids(text, known)
    if len(found) == 1:
        return found[0]
    if not found:
        raise UnknownUploadError(f"no upload {text!r} (`youku-tui list --all` shows them)")
    shown = ", ".join(short_id(uid) for uid in found[:5]) + (", ..." if len(found) > 5 else "")
    raise UnknownUploadError(f"{text!r} names {len(found)} uploads ({shown}): give more of it")
