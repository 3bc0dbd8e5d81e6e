"""Waiting with a bound: how every test waits for a condition (never a fixed sleep).

``wait_until`` blocks (threads, subprocesses, the sandbox's thread); ``until`` awaits, by
default with ``asyncio.sleep`` and in a Textual test with ``pilot.pause`` so the app keeps
processing its messages. Either fails the test with an ``AssertionError`` naming what it
waited for (``what``, or else the check's source line), never with an error from whatever the
caller would have read next.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

INTERVAL = 0.02
BOUND = 20.0  # seconds: generous for a loaded 2-core machine, short for a broken build

Pause = Callable[[float], Awaitable[object]]


def _timed_out(check: Callable[[], object], what: str, within: float) -> AssertionError:
    if not what:  # the check's own source line says what it waited for
        try:
            what = inspect.getsource(check).strip()
        except (OSError, TypeError):
            what = repr(check)
    return AssertionError(f"timed out after {within:g} s waiting for {what}")


def wait_until(check: Callable[[], object], what: str = "", *, within: float = BOUND) -> None:
    """Return as soon as ``check()`` is true; fail the test after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise _timed_out(check, what, within)
        time.sleep(INTERVAL)


async def until(
    check: Callable[[], object],
    what: str = "",
    *,
    within: float = BOUND,
    pause: Pause = asyncio.sleep,
) -> None:
    """Return as soon as ``check()`` is true; fail the test after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise _timed_out(check, what, within)
        await pause(INTERVAL)
