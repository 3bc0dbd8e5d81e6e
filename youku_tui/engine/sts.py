"""One upload's OSS credentials across their lifetime, and the OSS object they reach.

Youku hands out STS credentials with ``uploads/create`` and again on ``uploads/get_sts_inf``;
they expire (minutes, sometimes seconds). :class:`StsSession` keeps them in one
:class:`~youku_tui.engine.transfer.StsBox` that the oss2 signer reads on every request, so a
renewal applies to the next request of every part without restarting anything. It renews
them before expiry (a background loop during a transfer) and on demand when OSS refuses them,
once for all the parts that saw the same credentials fail. It also builds the
:class:`~youku_tui.engine.transfer.OssTarget` bound to them, once per upload session.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

from youku_tui.api.client import RetryCallback
from youku_tui.api.models import StsCredentials
from youku_tui.engine.checkpoint import Checkpoint
from youku_tui.engine.context import EngineContext
from youku_tui.engine.events import CredentialsRenewed
from youku_tui.engine.transfer import OssTarget, StsBox
from youku_tui.errors import YoukuTuiError

PLANNED_RENEWAL_FLOOR = 30.0  # seconds between planned renewals of credentials born expired
# Never plan a renewal sooner than this: a short lifetime is renewed early, not in a spin.
MIN_RENEW_DELAY = 0.2
RENEW_RETRY_PAUSE = 5.0  # seconds before the planned renewal tries again after a failure


class StsSession:
    """The credentials of one upload and the OSS target built on them.

    ``log(level, message)`` reports to the user; ``on_api_retry`` counts a retried
    ``get_sts_inf`` like any other API retry of the upload.
    """

    def __init__(
        self,
        cp: Checkpoint,
        ctx: EngineContext,
        *,
        log: Callable[[str, str], None],
        on_api_retry: RetryCallback,
    ) -> None:
        self._cp = cp
        self._ctx = ctx
        self._log = log
        self._on_api_retry = on_api_retry
        self._box: StsBox | None = None
        self._target: OssTarget | None = None
        self._lock = asyncio.Lock()
        self._received = 0.0  # monotonic time the current credentials arrived
        self._ttl = 0.0  # their lifetime then, in seconds (on the servers' clock)

    @property
    def has_credentials(self) -> bool:
        return self._box is not None

    @property
    def generation(self) -> int:
        """Bumped by every renewal: a refusal seen under an older one is already dealt with."""
        assert self._box is not None
        return self._box.generation

    def start(self, sts: StsCredentials) -> None:
        """Credentials of a new upload session (``create``): the old target's object is gone."""
        self._target = None
        self.accept(sts)

    def accept(self, sts: StsCredentials) -> None:
        """Take new credentials; the signer reads them on the next request."""
        if self._box is None:
            self._box = StsBox(sts)
        else:
            self._box.update(sts)
        self._received = time.monotonic()
        server_now = datetime.fromtimestamp(self._ctx.client.clock.now(), UTC)
        self._ttl = sts.seconds_left(server_now)
        self._cp.endpoint = sts.endpoint
        if self._ttl <= 0:
            self._log(
                "warning",
                f"Youku handed out OSS credentials that expire at {sts.expire_time:%H:%M:%S} "
                f"UTC, before the server's own time ({server_now:%H:%M:%S}): renewing them at "
                f"most every {PLANNED_RENEWAL_FLOOR:.0f} s (and whenever OSS refuses them)",
            )

    async def fetch(self, reason: str) -> None:
        """Ask Youku for credentials (``get_sts_inf``) and say why."""
        cp = self._cp
        sts = await self._ctx.client.get_sts(
            upload_token=cp.upload_token,
            oss_bucket=cp.bucket,
            oss_object=cp.object,
            on_retry=self._on_api_retry,
        )
        self.accept(sts)
        self._ctx.emit(
            CredentialsRenewed(
                upload_id=cp.upload_id,
                expire_time=sts.expire_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                reason=reason,
            )
        )

    async def renew(self, reason: str, seen_generation: int) -> None:
        """Renew once for everyone who saw the same credentials fail."""
        async with self._lock:
            if self._box is not None and self._box.generation != seen_generation:
                return
            await self.fetch(reason)

    def renew_delay(self) -> float:
        """Seconds until the planned renewal: ``sts_margin`` before expiry, or a third of a
        short lifetime (3 s credentials are renewed after 2 s, not 5 minutes early).

        Credentials that arrive already expired (a wrong ``expire_time``) are not renewed in
        a loop: at most every ``PLANNED_RENEWAL_FLOOR`` seconds (Youku allows ordinary apps
        1000 calls an hour); OSS refusing them still renews at once."""
        if self._ttl <= 0:
            due = self._received + PLANNED_RENEWAL_FLOOR
            return max(MIN_RENEW_DELAY, due - time.monotonic())
        margin = min(self._ctx.settings.sts_margin, max(self._ttl / 3, MIN_RENEW_DELAY))
        due = self._received + self._ttl - margin
        return max(MIN_RENEW_DELAY, due - time.monotonic())

    async def renewal_loop(self) -> None:
        """Renew before expiry for as long as it runs (the length of a transfer)."""
        while True:
            generation = self.generation
            await asyncio.sleep(self.renew_delay())
            if self.generation != generation:
                continue  # renewed meanwhile (an OSS refusal got there first)
            try:
                await self.renew("before expiry", generation)
            except YoukuTuiError as exc:
                # The parts will meet the refusal and fail with the real cause if it lasts.
                self._log("warning", f"could not renew the OSS credentials yet: {exc}")
                await asyncio.sleep(RENEW_RETRY_PAUSE)

    async def target_for_transfer(self) -> OssTarget:
        """The target, with credentials that will not expire at once: fetched if this run has
        none yet (a resume), renewed if they are about to expire (resumed after a long pause)."""
        if self._box is None:
            await self.fetch("resuming")
        elif self.renew_delay() <= MIN_RENEW_DELAY:
            await self.renew("before expiry", self._box.generation)
        return self.current_target()

    async def target(self, reason: str) -> OssTarget:
        """The target, with whatever credentials there are (fetched for ``reason`` if none):
        enough for a last call such as aborting, where OSS refusing them renews anyway."""
        if self._box is None:
            await self.fetch(reason)
        return self.current_target()

    def current_target(self) -> OssTarget:
        """The target on the credentials there are (:meth:`target` or
        :meth:`target_for_transfer` got them), built once per upload session."""
        assert self._box is not None
        if self._target is None:
            cp = self._cp
            self._target = OssTarget(
                self._box,
                cp.bucket,
                cp.object,
                session=self._ctx.oss_session,
                clock=self._ctx.client.clock,
            )
        return self._target

    def close(self) -> None:
        """Let go of the target (its connections stay in the engine's session)."""
        self._target = None
