"""Global limits shared by every upload, all changeable while uploads run.

- :class:`AsyncSlots`: an asyncio semaphore whose capacity can change (parts in flight).
- :class:`Bandwidth`: a thread-safe token bucket shared by every transfer thread; rate 0
  means no cap. Waiting threads wake every few tens of milliseconds to check for a stop, so a
  pause is never stuck behind a slow cap. Under a cap the allowance goes to the waiting
  thread with the lowest priority key (queue position, part number): parts then finish one
  after another instead of all crawling together, so a pause or a crash loses at most the
  part or two in flight, not every part's partial bytes.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Callable


class AsyncSlots:
    """Like ``asyncio.Semaphore``, but ``capacity`` may be changed at any moment.

    Lowering it never interrupts holders; new acquirers wait until usage is under the new cap.
    Waiters are served first in, first out. Use on one event loop only.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = max(1, capacity)
        self._used = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def used(self) -> int:
        return self._used

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def set_capacity(self, capacity: int) -> None:
        self._capacity = max(1, capacity)
        self._wake()

    async def acquire(self) -> None:
        if self._used < self._capacity and not self._waiters:
            self._used += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._used -= 1  # granted just as we were cancelled: give it back
                self._wake()
            elif future in self._waiters:  # _wake may already have dropped a cancelled one
                self._waiters.remove(future)
            raise

    def release(self) -> None:
        self._used -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self._used < self._capacity:
            future = self._waiters.popleft()
            if not future.done():
                self._used += 1
                future.set_result(None)

    async def __aenter__(self) -> AsyncSlots:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()


class Bandwidth:
    """Token bucket in bytes per second; ``rate == 0`` lets everything through at once."""

    BURST_SECONDS = 0.25  # how much unused allowance may pile up
    POLL = 0.05  # longest sleep between stop checks

    def __init__(self, rate: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._rate = max(0, rate)
        self._tokens = 0.0
        self._stamp = clock()
        self._waiting: list[tuple[int, ...]] = []  # priority keys of blocked takers
        # When each upload (a priority key's first number) last got bytes through.
        self._last_grant: dict[int, float] = {}

    @property
    def rate(self) -> int:
        return self._rate

    def set_rate(self, rate: int) -> None:
        with self._lock:
            self._refill()
            self._rate = max(0, rate)
            self._tokens = min(self._tokens, self._burst())

    def _burst(self) -> float:
        return max(self._rate * self.BURST_SECONDS, 64 * 1024)

    def _refill(self) -> None:
        now = self._clock()
        if self._rate:
            self._tokens = min(self._burst(), self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now

    def starved(self, key: int, within: float = 1.0) -> bool:
        """True while the cap serves other uploads and upload ``key`` (the first number of
        its priority keys) got nothing through for ``within`` seconds: it waits for its share
        (the lowest keys go first, and their parts may hold every part slot meanwhile)."""
        with self._lock:
            if not self._rate:
                return False
            now = self._clock()
            if now - self._last_grant.get(key, float("-inf")) <= within:
                return False
            return any(k != key and now - t <= within for k, t in self._last_grant.items())

    def take(
        self,
        amount: int,
        should_stop: Callable[[], bool] | None = None,
        priority: tuple[int, ...] = (),
    ) -> bool:
        """Block until ``amount`` bytes may go; False if ``should_stop`` said so meanwhile.

        Tokens may go negative (a debt): a large chunk waits once for the whole of it, and
        the next taker waits for the debt to be paid, so the average rate holds. While others
        wait, only the one with the lowest ``priority`` may take.
        """
        registered = False
        try:
            while True:
                with self._lock:
                    if not self._rate:
                        return True
                    self._refill()
                    first = not self._waiting or priority <= min(self._waiting)
                    if self._tokens >= 0 and first:
                        self._tokens -= amount
                        if priority:
                            self._last_grant[priority[0]] = self._stamp
                        return True
                    if not registered:
                        self._waiting.append(priority)
                        registered = True
                    wait = -self._tokens / self._rate if self._tokens < 0 else self.POLL
                if should_stop is not None and should_stop():
                    return False
                time.sleep(min(wait, self.POLL))
        finally:
            if registered:
                with self._lock:
                    self._waiting.remove(priority)
