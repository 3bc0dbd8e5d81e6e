"""How a file is cut into OSS parts.

OSS wants parts of at least 100 KiB (except the last) and at most 10,000 of them. On a long,
lossy path each connection carries little, so many parts must be in flight at once, and a file
must have several parts per connection or the last ones finish alone. The chosen size gives a
file about ``PARTS_PER_CONNECTION`` parts for each connection the engine may open (never under
``MIN_AUTO_PART_SIZE``: a part costs a round trip of its own), at most ``DEFAULT_PART_SIZE``
unless the file needs bigger parts to fit in 10,000. We stream, so memory does not grow with the
part size. The size is kept in the checkpoint, so a resumed upload keeps its plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from youku_tui.config import DEFAULT_CONNECTIONS

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
MIN_PART_SIZE = 100 * KIB
MAX_PART_SIZE = 5 * GIB  # OSS's limit for one part
MAX_PARTS = 10_000
DEFAULT_PART_SIZE = 10 * MIB  # the largest chosen size unless 10,000 parts need more
MIN_AUTO_PART_SIZE = 256 * KIB  # a part costs a round trip: smaller ones waste the path
PARTS_PER_CONNECTION = 4  # so the file's last parts do not leave most connections idle
AUTO_GRAIN = 64 * KIB  # chosen sizes are whole multiples of this


@dataclass(frozen=True, slots=True)
class PartPlan:
    file_size: int
    part_size: int

    @property
    def count(self) -> int:
        return max(1, -(-self.file_size // self.part_size))

    @property
    def multipart(self) -> bool:
        """One PutObject when the file fits in a single part; multipart otherwise."""
        return self.file_size > self.part_size

    def part_range(self, number: int) -> tuple[int, int]:
        """``(offset, size)`` of part ``number`` (1-based)."""
        if not 1 <= number <= self.count:
            raise ValueError(f"part {number} is outside 1..{self.count}")
        offset = (number - 1) * self.part_size
        return offset, min(self.part_size, self.file_size - offset)


def choose_part_size(file_size: int, preferred: int = 0, connections: int = 0) -> int:
    """The part size for ``file_size``: ``preferred`` if given, else chosen for the file and up
    to ``connections`` parts in flight; grown in any case to fit 10,000 parts."""
    if preferred:
        size = min(max(preferred, MIN_PART_SIZE), MAX_PART_SIZE)
    else:
        wanted = -(-file_size // (PARTS_PER_CONNECTION * (connections or DEFAULT_CONNECTIONS)))
        size = min(DEFAULT_PART_SIZE, max(MIN_AUTO_PART_SIZE, _round_up(wanted, AUTO_GRAIN)))
    if file_size > size * MAX_PARTS:
        # Round up to whole MiB so the plan is easy to read in a checkpoint.
        size = _round_up(-(-file_size // MAX_PARTS), MIB)
    return size


def _round_up(value: int, grain: int) -> int:
    return -(-value // grain) * grain


def plan_parts(file_size: int, preferred: int = 0, connections: int = 0) -> PartPlan:
    if file_size <= 0:
        raise ValueError("an empty file cannot be uploaded")
    return PartPlan(
        file_size=file_size, part_size=choose_part_size(file_size, preferred, connections)
    )
