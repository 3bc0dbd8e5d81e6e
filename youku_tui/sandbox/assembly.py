"""Multipart objects assembled while their parts arrive, not all at once at the end.

CompleteMultipartUpload must hand back the whole object's CRC64, and ``commit`` needs its
MD5; neither can be combined from the parts' MD5s, so the bytes must be read again in order.
Doing that only at Complete would make a 1 GiB upload wait seconds at its very end. Instead,
each time the next part in sequence is stored, a disk thread appends it to an assembly file
and feeds the running hashes. Complete then only folds what is left (usually nothing), or
starts over if the listed parts are not the ones folded (a re-uploaded part, a gap, a restart).
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from youku_tui.sandbox.bodies import Crc64
from youku_tui.sandbox.store import PartInfo

COPY_CHUNK = 1024 * 1024


class Assembly:
    """The object being built from one multipart upload's parts, with its running hashes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = asyncio.Lock()  # one fold at a time: background or Complete
        self._reset_state()

    def _reset_state(self) -> None:
        self.md5 = hashlib.md5()  # noqa: S324 - commit compares the object's MD5
        self.crc = Crc64()
        self.size = 0
        self.folded: list[tuple[int, str]] = []  # (part number, part MD5) in object order
        self.broken = False

    def next_number(self) -> int:
        return self.folded[-1][0] + 1 if self.folded else 1

    def matches_prefix(self, parts: list[PartInfo]) -> bool:
        """True if what is folded so far is exactly the first parts of ``parts``."""
        if self.broken or len(self.folded) > len(parts):
            return False
        return all(
            folded == (part.number, part.md5_hex)
            for folded, part in zip(self.folded, parts, strict=False)
        )

    # The methods below run on a disk thread.

    def reset(self) -> None:
        self._reset_state()
        self.path.write_bytes(b"")

    def append(self, part: PartInfo, source: Path) -> None:
        try:
            with open(self.path, "ab") as out, open(source, "rb") as src:
                while chunk := src.read(COPY_CHUNK):
                    self.md5.update(chunk)
                    self.crc.update(chunk)
                    out.write(chunk)
                    self.size += len(chunk)
        except BaseException:
            self.broken = True  # half a part may be in the file: start over at Complete
            raise
        self.folded.append((part.number, part.md5_hex))
