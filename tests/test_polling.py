"""The tests' one way to wait: true at once returns at once, a timeout says what it waited for."""

from __future__ import annotations

import time

import pytest

from tests.polling import until, wait_until


def test_wait_until_returns_once_true_and_names_what_timed_out() -> None:
    calls = iter([False, False, True])
    wait_until(lambda: next(calls), "the third call")
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"after 0.1 s waiting for the moon"):
        wait_until(lambda: False, "the moon", within=0.1)
    assert time.monotonic() - started < 5


async def test_until_awaits_the_given_pause_between_checks() -> None:
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    calls = iter([False, False, True])
    await until(lambda: next(calls), "the third call", pause=pause)
    assert len(pauses) == 2
    with pytest.raises(AssertionError, match="waiting for a tide"):
        await until(lambda: False, "a tide", within=0.05)
    low_tide = False
    with pytest.raises(AssertionError, match=r"waiting for .*lambda: low_tide"):
        await until(lambda: low_tide, within=0.05)  # unnamed: its source line names it
