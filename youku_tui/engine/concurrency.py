"""How many parts are in flight: a fixed number, or as many as the path rewards.

On a long, lossy path one TCP connection carries little (with CUBIC at 80 ms and 0.5 % loss,
about 2.5 Mbit/s, whatever the link's capacity), so goodput grows with the number of
connections until the link or the server is the limit. :class:`ConcurrencyControl` finds that
number while uploads run, the way TCP finds its window:

- **start-up**: from a quarter of the ceiling it doubles the count after each measurement
  window while goodput grows with it: the added connections must carry at least ``KEEP_GAIN``
  of the share the old ones had (a count that misses gets a second window before it is given
  up: one window is noisy). A window is taken ``SETTLE`` seconds after a change (a new
  connection's slow start carries more than it will keep, and would look like a gain);
- **when more stops helping** it goes back between the last count that paid and the one that
  did not (their geometric mean, so repeated misses converge on the count that paid), holds
  that, and probes ``PROBE_STEP`` higher every ``PROBE_EVERY`` seconds;
- **throttling answers** (OSS 503 / 429) halve the count and hold it for ``THROTTLE_HOLD``;
  other transient errors (resets, timeouts, 5xx) take a quarter off;
- never above the ceiling (``engine.max_connections``); a window in which parts did not wait
  for a slot (a cap, a tail, a small file) says nothing about the path and is not judged.

The count is the capacity of the engine's :class:`~youku_tui.engine.limits.AsyncSlots`, which
serves waiting parts first in, first out, so running uploads share it fairly. Goodput is counted
from the bytes part readers hand to the sockets (any thread), sampled on the event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from youku_tui.engine.limits import AsyncSlots

log = logging.getLogger(__name__)

START_SHARE = 4  # parts in flight before anything was measured: the ceiling / this
SETTLE = 1.0  # seconds after a change before measuring: new connections start fast, then settle
WINDOW = 1.5  # seconds of sending per measurement
BUSY_SHARE = 0.75  # a window counts only if parts waited for a slot this share of its ticks
KEEP_GAIN = 0.1  # added connections must bring this share of the old per-connection goodput
PROBE_EVERY = 10.0  # seconds at a steady count before trying a little more
PROBE_STEP = 1.25
THROTTLE_HOLD = 5.0  # seconds without growth after a throttling answer
ERROR_HOLD = 2.0
BACK_OFF_GAP = 1.0  # one back-off per burst of failures (parts fail together)


@dataclass(frozen=True, slots=True)
class Measure:
    """Goodput seen at one count of parts in flight."""

    parts: int
    goodput: float  # bytes per second


class ConcurrencyControl:
    """Sets ``slots``' capacity: ``fixed`` parts in flight, or adaptive when ``fixed`` is 0."""

    def __init__(
        self,
        slots: AsyncSlots,
        *,
        ceiling: int,
        fixed: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._slots = slots
        self._clock = clock
        self._lock = threading.Lock()
        self._sent = 0  # bytes handed to sockets since the window started (any thread)
        self.ceiling = max(1, ceiling)
        self.fixed = 0
        self._base: Measure | None = None  # the last count that paid, and its goodput
        self._growing = True  # start-up: double while it pays
        self._misses = 0  # start-up windows in a row that did not pay
        self._hold_until = 0.0
        self._last_back_off = -BACK_OFF_GAP
        self._window_start = clock()
        self._ticks = 0
        self._busy_ticks = 0
        self.set_fixed(fixed)

    # --- inputs ---------------------------------------------------------------------------

    @property
    def adaptive(self) -> bool:
        return not self.fixed

    @property
    def parts(self) -> int:
        """Parts allowed in flight now."""
        return self._slots.capacity

    def set_fixed(self, fixed: int) -> None:
        """``fixed`` parts in flight (clamped to the ceiling), or 0 to adapt."""
        self.fixed = min(max(0, fixed), self.ceiling)
        self._base = None
        self._growing = True
        self._set(
            self.fixed or max(1, self.ceiling // START_SHARE), "fixed" if self.fixed else "auto"
        )
        # All connections start at once and overfill the path for a while: settle longer.
        self._restart_window(settle=2 * SETTLE)

    def count(self, sent: int) -> None:
        """Bytes a part reader handed to its socket (called from transfer threads)."""
        with self._lock:
            self._sent += sent

    def throttled(self) -> None:
        """OSS answered 503 SlowDown or 429: fewer connections, and no growth for a while."""
        self._back_off(0.5, THROTTLE_HOLD, "throttled by OSS")

    def failed(self) -> None:
        """A transient failure (reset, timeout, 5xx): a little fewer connections."""
        self._back_off(0.75, ERROR_HOLD, "transient error")

    # --- the loop -------------------------------------------------------------------------

    def tick(self) -> None:
        """Called a few times a second on the event loop: judge a finished window."""
        if not self.adaptive:
            return
        busy_now = bool(self._slots.waiting) or self._slots.used >= self._slots.capacity
        now = self._clock()
        elapsed = now - self._window_start
        if elapsed < 0:  # settling after a change: what is sent now does not count
            with self._lock:
                self._sent = 0
            return
        self._ticks += 1
        self._busy_ticks += busy_now
        if elapsed < WINDOW:
            return
        with self._lock:
            sent, self._sent = self._sent, 0
        busy = self._busy_ticks >= BUSY_SHARE * self._ticks
        self._restart_window()
        if not busy or now < self._hold_until:
            return
        self._judge(Measure(self.parts, sent / elapsed), now)

    def _judge(self, current: Measure, now: float) -> None:
        base = self._base
        if base is None or current.parts == base.parts:  # (re)starting, or a hold ended
            self._base = current
            self._grow(2.0 if self._growing else PROBE_STEP, current)
            return
        if current.parts < base.parts:  # shrunk by an error: start again from here
            self._base = current
            return
        added = current.parts / base.parts - 1
        gain = (current.goodput / base.goodput - 1) / added if base.goodput > 0 else 1.0
        if gain >= KEEP_GAIN:
            self._base = current
            self._misses = 0
            self._grow(2.0 if self._growing else PROBE_STEP, current)
        elif self._growing and not self._misses:
            # One window is noisy (other processes, a burst of losses): measure this count
            # once more before giving up on it. Too many connections for a moment costs little.
            self._misses = 1
        else:
            # More stopped helping: the best count lies between; hold, probe again later.
            self._growing = False
            self._misses = 0
            self._hold_until = now + PROBE_EVERY
            middle = max(base.parts, round((base.parts * current.parts) ** 0.5))
            self._set(middle, f"more did not help ({gain:.2f} of the share)")

    def _grow(self, factor: float, current: Measure) -> None:
        if current.parts >= self.ceiling:
            self._growing = False
            self._hold_until = self._clock() + PROBE_EVERY
            return
        parts = min(self.ceiling, max(current.parts + 1, int(current.parts * factor)))
        self._set(parts, f"goodput {current.goodput / 1e6:.1f} MB/s at {current.parts}")

    def _back_off(self, factor: float, hold: float, why: str) -> None:
        now = self._clock()
        if not self.adaptive or now - self._last_back_off < BACK_OFF_GAP:
            return
        self._last_back_off = now
        self._growing = False
        self._misses = 0
        self._hold_until = max(self._hold_until, now + hold)
        self._base = None
        self._set(max(1, int(self.parts * factor)), why)

    def _set(self, parts: int, why: str) -> None:
        if parts != self._slots.capacity:
            log.debug("parts in flight %d -> %d: %s", self._slots.capacity, parts, why)
            self._restart_window(settle=SETTLE)
        self._slots.set_capacity(parts)

    def _restart_window(self, settle: float = 0.0) -> None:
        """Start a measurement window ``settle`` seconds from now."""
        self._window_start = self._clock() + settle
        self._ticks = self._busy_ticks = 0
        with self._lock:
            self._sent = 0
