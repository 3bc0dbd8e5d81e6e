"""The speed views show: bytes over the moments they moved, not over a fixed tick.

Under a bandwidth cap bytes arrive in chunks (128 KiB every 1.3 s at 100 KiB/s), so a speed
taken tick by tick alternates between 0 and a burst figure. The meter keeps the moments the
byte count changed over the last few seconds and divides the bytes by the time between the
first and the last of them: steady at any cadence. When the count stops moving for longer than
its usual interval the figure decays with the time since the window began, and once nothing
moved for a whole window (or three usual intervals, if longer) it is 0: a real stall.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

WINDOW = 5.0  # seconds of change points the speed is taken over
LATE_FACTOR = 1.5  # a change this many usual intervals late starts the decay
STALL_INTERVALS = 3.0  # no change for this many usual intervals (and a window) is a stall


@dataclass
class SpeedMeter:
    """Bytes per second of a growing count, sampled at irregular moments."""

    _changes: deque[tuple[float, int]] = field(default_factory=deque)

    def reset(self) -> None:
        self._changes.clear()

    def sample(self, now: float, count: int) -> None:
        """Note the count at ``now``; only a change (or the first sample) is kept."""
        if self._changes and self._changes[-1][1] == count:
            return
        if self._changes and count < self._changes[-1][1]:
            self._changes.clear()  # bytes given back (a part sent again): start over
        self._changes.append((now, count))
        # Keep two points at least: a slow cadence (a low cap) still has an interval.
        while len(self._changes) > 2 and now - self._changes[0][0] > WINDOW:
            self._changes.popleft()

    def speed(self, now: float) -> float:
        if len(self._changes) < 2:
            return 0.0
        (first_t, first_n), (last_t, last_n) = self._changes[0], self._changes[-1]
        span = last_t - first_t
        if span <= 0:
            return 0.0
        interval = span / (len(self._changes) - 1)
        quiet = now - last_t
        if quiet > max(WINDOW, STALL_INTERVALS * interval):
            return 0.0
        if quiet > LATE_FACTOR * interval:
            span = now - first_t  # slower than it was: say so as time passes
        return (last_n - first_n) / span
