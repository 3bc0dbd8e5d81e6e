from __future__ import annotations

import asyncio
import threading
import time

import pytest

from youku_tui.engine.limits import AsyncSlots, Bandwidth


async def test_slots_limit_and_grow_live() -> None:
    slots = AsyncSlots(2)
    running = 0
    peak = 0
    release = asyncio.Event()

    async def worker() -> None:
        nonlocal running, peak
        async with slots:
            running += 1
            peak = max(peak, running)
            await release.wait()
            running -= 1

    tasks = [asyncio.create_task(worker()) for _ in range(5)]
    await asyncio.sleep(0.01)
    assert running == 2
    slots.set_capacity(4)
    await asyncio.sleep(0.01)
    assert running == 4
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 4
    assert slots.used == 0


async def test_slots_shrink_waits_for_holders() -> None:
    slots = AsyncSlots(3)
    for _ in range(3):
        await slots.acquire()
    slots.set_capacity(1)
    waiter = asyncio.create_task(slots.acquire())
    slots.release()
    slots.release()
    await asyncio.sleep(0.01)
    assert not waiter.done()  # 1 still held, capacity 1
    slots.release()
    await asyncio.wait_for(waiter, 1)
    assert slots.used == 1


async def test_cancelled_waiter_does_not_leak_a_slot() -> None:
    slots = AsyncSlots(1)
    await slots.acquire()
    waiter = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    slots.release()
    assert slots.used == 0
    await asyncio.wait_for(slots.acquire(), 1)


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any sleep inside the limiter a test failure."""

    def refuse(seconds: float) -> None:
        raise AssertionError(f"the limiter slept {seconds} s")

    monkeypatch.setattr(time, "sleep", refuse)


@pytest.mark.usefixtures("no_sleep")
def test_bandwidth_unlimited_never_waits() -> None:
    bucket = Bandwidth(0)
    for _ in range(1000):
        assert bucket.take(10 * 1024 * 1024)


def test_bandwidth_cap_holds_across_threads() -> None:
    rate = 4 * 1024 * 1024
    bucket = Bandwidth(rate)
    chunk = 64 * 1024
    total = 0
    lock = threading.Lock()

    def sender() -> None:
        nonlocal total
        for _ in range(16):
            bucket.take(chunk)
            with lock:
                total += chunk

    start = time.monotonic()
    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    # 4 MiB at 4 MiB/s, minus the first burst's allowance: well over half a second.
    assert total == 4 * 16 * chunk
    assert elapsed > 0.6


def test_bandwidth_wait_can_be_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = Bandwidth(1024)
    assert bucket.take(1024 * 1024)  # deep debt now: 1,000 s of waiting
    monkeypatch.setattr(time, "sleep", lambda s: pytest.fail(f"slept {s} s"))
    assert not bucket.take(1024, should_stop=lambda: True)


def test_bandwidth_rate_change_applies_live(monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = Bandwidth(1024)
    bucket.take(10 * 1024)  # 10 s of debt at the old rate
    bucket.set_rate(0)
    monkeypatch.setattr(time, "sleep", lambda s: pytest.fail(f"slept {s} s"))
    assert bucket.take(1024)


async def test_waiter_cancelled_just_before_a_release_stays_cancelled() -> None:
    """Regression: _wake drops a cancelled waiter; its own cleanup must not fail on it."""
    slots = AsyncSlots(1)
    await slots.acquire()
    waiter = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    waiter.cancel()  # its future is cancelled now; its cleanup runs on a later turn
    slots.release()  # _wake meets the cancelled future first
    [outcome] = await asyncio.gather(waiter, return_exceptions=True)
    assert isinstance(outcome, asyncio.CancelledError)
    assert slots.used == 0


def test_capped_bandwidth_goes_to_the_lowest_priority_key_first() -> None:
    """Parts finish one after another under a cap, instead of all crawling together."""
    bandwidth = Bandwidth(rate=400_000)
    finished: list[int] = []
    start = threading.Barrier(3)

    def send(part: int) -> None:
        start.wait()
        for _ in range(10):  # 10 chunks of 20 kB: 0.5 s of the cap per part
            assert bandwidth.take(20_000, priority=(0, part))
        finished.append(part)

    threads = [threading.Thread(target=send, args=(n,)) for n in (3, 1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert finished == [1, 2, 3]
