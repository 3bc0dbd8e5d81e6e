"""One upload's OSS requests, made from the event loop and seen through to an answer.

- :class:`OssCalls` runs a call in a worker thread until it succeeds: it renews the STS
  credentials when OSS refuses them, backs off and tries again on transient errors (telling
  the concurrency control when OSS asks for fewer requests), and gives up after the
  configured counts.
- :class:`PartSender` sends one part of a transfer that way: within a part slot, streamed
  from the shared file (checked unchanged first), paying the bandwidth cap, its bytes counted
  in flight until OSS answers - which it must within :data:`ANSWER_DEADLINE` of the last byte.

The blocking oss2 calls themselves are in :mod:`youku_tui.engine.transfer`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from youku_tui.engine.checkpoint import Checkpoint
from youku_tui.engine.context import EngineContext
from youku_tui.engine.events import Retrying
from youku_tui.engine.parts import PartPlan
from youku_tui.engine.source import SharedFile, check_fd_unchanged
from youku_tui.engine.sts import StsSession
from youku_tui.engine.transfer import SliceReader, StoredPart, chunk_for
from youku_tui.errors import (
    OssCredentialsError,
    OssError,
    OssIntegrityError,
    OssTransientError,
)

_T = TypeVar("_T")
THROTTLING_STATUSES = frozenset({429, 503})  # OSS asks for fewer requests: fewer parts
MAX_CREDENTIAL_RENEWALS = 8  # per call: OSS refusing fresh credentials again and again is fatal
ANSWER_DEADLINE = 120.0  # seconds OSS gets to answer a part once its body was sent
ANSWER_WATCH_INTERVAL = 0.5


class OssCalls:
    """The retry and renewal rules every OSS call of one upload goes through.

    ``on_retry`` gets each :class:`Retrying` (the job counts and emits it).
    """

    def __init__(
        self,
        ctx: EngineContext,
        sts: StsSession,
        *,
        upload_id: str,
        on_retry: Callable[[Retrying], None],
    ) -> None:
        self._ctx = ctx
        self._sts = sts
        self._upload_id = upload_id
        self._on_retry = on_retry

    async def call(self, func: Callable[[], _T]) -> _T:
        """A non-part OSS call, with the same retries and renewals as parts."""
        return await self.recovering(lambda: self._ctx.in_thread(func), (OssTransientError,))

    async def recovering(
        self,
        attempt: Callable[[], Awaitable[_T]],
        retry_on: tuple[type[OssError], ...],
        part_number: int = 0,
    ) -> _T:
        """Run ``attempt`` until it succeeds: renew STS when OSS refuses the credentials, back
        off and try again on ``retry_on`` errors; give up after the configured counts."""
        ctx = self._ctx
        tries = 0
        renewals = 0
        while True:
            generation = self._sts.generation
            try:
                return await attempt()
            except OssCredentialsError as exc:
                renewals += 1
                if renewals > MAX_CREDENTIAL_RENEWALS:
                    raise
                await self._sts.renew(exc.code or "refused by OSS", generation)
            except retry_on as exc:
                if exc.status in THROTTLING_STATUSES:
                    ctx.concurrency.throttled()
                elif isinstance(exc, OssTransientError):
                    ctx.concurrency.failed()
                tries += 1
                if tries >= max(1, ctx.settings.max_retries):
                    raise
                delay = ctx.retry.delay(tries)
                self._on_retry(
                    Retrying(
                        upload_id=self._upload_id,
                        attempt=tries,
                        delay=round(delay, 3),
                        error=exc.message,
                        code=exc.code,
                        part_number=part_number,
                    )
                )
                await asyncio.sleep(delay)


@dataclass(frozen=True, slots=True)
class PartSender:
    """Sends the parts of one transfer of ``cp``'s file (``shared``, cut by ``plan``).

    ``stop`` and ``inflight`` belong to the job's current run: a paused run's threads keep
    theirs, so a late stop or byte count never reaches the next run.
    """

    cp: Checkpoint
    ctx: EngineContext
    calls: OssCalls
    plan: PartPlan
    shared: SharedFile
    stop: threading.Event
    inflight: dict[int, int]

    async def send(self, number: int, call: Callable[[SliceReader], StoredPart]) -> StoredPart:
        """Send one part with retries (transient errors, CRC mismatches) and STS renewals."""
        offset, size = self.plan.part_range(number)
        shared = self.shared

        async def attempt() -> StoredPart:
            inflight = self.inflight
            inflight[number] = 0
            stop = self.stop
            concurrency = self.ctx.concurrency
            bandwidth = self.ctx.bandwidth
            cp = self.cp

            sent_at: list[float] = []  # when the body's last byte left

            def on_bytes(count: int, n: int = number, counts: dict[int, int] = inflight) -> None:
                counts[n] = counts.get(n, 0) + count
                concurrency.count(count)
                if counts[n] >= size and not sent_at:
                    sent_at.append(time.monotonic())

            def run(
                stop: threading.Event = stop, on_bytes: Callable[[int], None] = on_bytes
            ) -> StoredPart:
                # The fd is taken in the thread: a part cancelled while it waited for a slot
                # (or a thread started after the transfer ended) never holds or reuses it.
                fd = shared.acquire()
                try:
                    check_fd_unchanged(cp, fd)
                    # Under a cap the lowest (position, part) is served first: open the request
                    # only once it is this part's turn, so a part never holds an idle
                    # connection until OSS times its body out (RequestTimeout).
                    bandwidth.take(0, stop.is_set, (cp.position, number))
                    reader = SliceReader(
                        fd,
                        offset,
                        size,
                        bandwidth=bandwidth,
                        stop=stop,
                        on_bytes=on_bytes,
                        priority=(cp.position, number),
                        chunk=chunk_for(concurrency.parts),
                    )
                    return call(reader)
                finally:
                    shared.release()

            try:
                async with self.ctx.part_slots:
                    work = self.ctx.in_thread(run)
                    return await answered_in_time(work, sent_at, f"part {number}")
            finally:
                inflight.pop(number, None)

        return await self.calls.recovering(attempt, (OssTransientError, OssIntegrityError), number)


async def answered_in_time(work: Awaitable[_T], sent_at: list[float], what: str) -> _T:
    """``work`` (one part's request in a thread), given up when OSS does not answer within
    :data:`ANSWER_DEADLINE` seconds of the body's last byte.

    oss2's timeouts bound each socket read, so an answer dripped a byte at a time would hold the
    part for ever; while the body is being sent, a slow link or the bandwidth cap may take as
    long as it needs. The thread cannot be interrupted: it is left to end on its own (its
    socket times out) and its result is dropped; the part is tried again.
    """
    future = asyncio.ensure_future(work)
    try:
        while True:
            done, _pending = await asyncio.wait({future}, timeout=ANSWER_WATCH_INTERVAL)
            if done:
                return future.result()
            if sent_at and time.monotonic() - sent_at[0] > ANSWER_DEADLINE:
                future.add_done_callback(_drop_result)
                raise OssTransientError(
                    f"{what}: OSS did not answer within {ANSWER_DEADLINE:.0f}s of receiving it"
                )
    except asyncio.CancelledError:
        future.cancel()
        raise


def _drop_result(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: an abandoned attempt's error is not news
