"""What every upload job shares with the others: the engine's client, limits, threads, events.

Its own module so the pieces of a job (the STS session, the OSS calls, the object upload) can
take it without importing the job that composes them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TypeVar

import oss2

from youku_tui.api.client import YoukuClient
from youku_tui.api.retry import RetryPolicy
from youku_tui.config import EngineSettings
from youku_tui.engine.checkpoint import CheckpointStore
from youku_tui.engine.concurrency import ConcurrencyControl
from youku_tui.engine.events import EngineEvent
from youku_tui.engine.limits import AsyncSlots, Bandwidth

_T = TypeVar("_T")


@dataclass
class EngineContext:
    """What every job shares: the API client, limits, threads, where events go."""

    client: YoukuClient
    store: CheckpointStore
    settings: EngineSettings
    part_slots: AsyncSlots
    concurrency: ConcurrencyControl
    oss_session: oss2.Session  # one connection pool for every upload (reused, never per part)
    bandwidth: Bandwidth
    executor: Executor
    emit: Callable[[EngineEvent], None]
    retry: RetryPolicy
    # Set by the first upload that meets "not logged in": it fails with the login hint, the
    # others pause and wait for a new login instead of failing too (the contract's rule).
    login_blocked: bool = False

    async def in_thread(self, func: Callable[..., _T], *args: object, **kwargs: object) -> _T:
        """Blocking work (MD5, oss2 calls) on the engine's thread pool, awaited on the loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: func(*args, **kwargs))
