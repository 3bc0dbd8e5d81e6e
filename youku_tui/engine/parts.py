"""How a file is cut into OSS parts.

OSS wants parts of at least 100 KiB (except the last) and at most 10,000 of them. We start from
a part size that keeps many parts in flight without much memory (we stream, so memory does not
grow with it) and grow it in MiB steps until the file fits in 10,000 parts.
"""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
MIN_PART_SIZE = 100 * KIB
MAX_PART_SIZE = 5 * GIB  # OSS's limit for one part
MAX_PARTS = 10_000
DEFAULT_PART_SIZE = 10 * MIB  # oss2.resumable_upload's default too, so benchmarks compare


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


def choose_part_size(file_size: int, preferred: int = 0) -> int:
    """The part size for ``file_size``: ``preferred`` (or the default), grown to fit 10,000."""
    size = min(max(preferred or DEFAULT_PART_SIZE, MIN_PART_SIZE), MAX_PART_SIZE)
    if file_size > size * MAX_PARTS:
        # Round up to whole MiB so the plan is easy to read in a checkpoint.
        needed = -(-file_size // MAX_PARTS)
        size = -(-needed // MIB) * MIB
    return size


def plan_parts(file_size: int, preferred: int = 0) -> PartPlan:
    if file_size <= 0:
        raise ValueError("an empty file cannot be uploaded")
    return PartPlan(file_size=file_size, part_size=choose_part_size(file_size, preferred))
