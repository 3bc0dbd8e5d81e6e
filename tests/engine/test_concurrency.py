"""ConcurrencyControl against a simulated path: a fake clock, real AsyncSlots kept busy."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from youku_tui.engine import concurrency
from youku_tui.engine.concurrency import ConcurrencyControl
from youku_tui.engine.limits import AsyncSlots

TICK = 0.25


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def drive(
    control: ConcurrencyControl,
    clock: Clock,
    seconds: float,
    goodput: Callable[[int], float],
    demand: int = 1000,
) -> list[int]:
    """Run ``seconds`` of ticks with ``demand`` parts wanting a slot; the path carries
    ``goodput(parts in flight)`` bytes a second. Returns the parts allowed after each tick."""
    slots = control._slots
    holders = [asyncio.ensure_future(slots.acquire()) for _ in range(demand)]
    seen = []
    try:
        for _ in range(int(seconds / TICK)):
            await asyncio.sleep(0)  # let granted waiters take their slots
            clock.now += TICK
            control.count(int(goodput(min(slots.used, demand)) * TICK))
            control.tick()
            seen.append(control.parts)
    finally:
        for task in holders:
            task.cancel()
        await asyncio.gather(*holders, return_exceptions=True)
    return seen


def lossy_link(per_connection: float, link: float) -> Callable[[int], float]:
    """Each connection carries ``per_connection`` until the link is full."""
    return lambda parts: min(parts * per_connection, link)


async def test_parts_grow_to_the_ceiling_while_goodput_grows_with_them() -> None:
    clock = Clock()
    control = ConcurrencyControl(AsyncSlots(1), ceiling=256, clock=clock)
    start = control.parts
    assert start == 64
    seen = await drive(control, clock, 30, lossy_link(300_000, 100e6))
    assert max(seen) == 256
    assert seen[-1] == 256
    # It doubled, one measured window after another (not all at once).
    assert seen.index(128) > seen.index(64) and seen.index(256) > seen.index(128)


async def test_growth_stops_where_more_connections_stop_helping() -> None:
    clock = Clock()
    control = ConcurrencyControl(AsyncSlots(1), ceiling=256, clock=clock)
    # 67 connections fill the link: 128 bring less than a tenth of their share more.
    path = lossy_link(300_000, 20e6)
    seen = await drive(control, clock, 8, path)
    assert 128 in seen
    assert seen[-1] == 91  # between 64 (paid) and 128 (did not)
    # Held, then compared with what paid: it closes in on it, never below it.
    later = await drive(control, clock, 3 * concurrency.PROBE_EVERY, path)
    assert later[:4] == [91] * 4
    assert max(later) <= 91 and min(later) >= 64
    assert later[-1] < 91


async def test_throttling_halves_the_parts_once_per_burst_and_holds() -> None:
    clock = Clock()
    control = ConcurrencyControl(AsyncSlots(1), ceiling=256, clock=clock)
    await drive(control, clock, 4, lossy_link(300_000, 100e6))
    before = control.parts
    for _ in range(5):  # several parts meet the 503 together
        control.throttled()
    assert control.parts == before // 2
    seen = await drive(control, clock, concurrency.THROTTLE_HOLD - 1, lossy_link(300_000, 100e6))
    assert set(seen) == {before // 2}  # no growth while held, though the path would reward it
    clock.now += concurrency.BACK_OFF_GAP
    control.throttled()
    assert control.parts == before // 4
    control.failed()  # within the gap: the same burst
    assert control.parts == before // 4


async def test_transient_errors_take_a_quarter_off() -> None:
    clock = Clock()
    control = ConcurrencyControl(AsyncSlots(1), ceiling=100, clock=clock)
    control.failed()
    assert control.parts == 18  # 25 * 0.75


async def test_a_window_without_waiting_parts_is_not_judged() -> None:
    clock = Clock()
    control = ConcurrencyControl(AsyncSlots(1), ceiling=256, clock=clock)
    # Only 10 parts want to go (a small file or a tail): nothing to learn about the path.
    seen = await drive(control, clock, 10, lossy_link(300_000, 100e6), demand=10)
    assert set(seen) == {64}


async def test_fixed_parts_never_change() -> None:
    clock = Clock()
    control = ConcurrencyControl(AsyncSlots(1), ceiling=256, fixed=8, clock=clock)
    seen = await drive(control, clock, 10, lossy_link(300_000, 100e6))
    control.throttled()
    assert set(seen) == {8} and control.parts == 8
    control.set_fixed(1000)
    assert control.parts == 256  # the ceiling holds for fixed settings too
    control.set_fixed(0)
    assert control.adaptive and control.parts == 64
