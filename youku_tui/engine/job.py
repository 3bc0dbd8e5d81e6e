"""One upload's run: hash -> create -> upload -> commit, each step a saved state transition.

A job runs as one asyncio task. Blocking work (MD5, oss2 calls) goes to the engine's thread
pool. Pause and cancel set a per-run stop flag (read by the MD5 loop and by every part reader,
so a part in flight stops within one chunk) and cancel the task; the task then saves the
checkpoint in the new state. Nothing here touches Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import oss2

from youku_tui.api.client import YoukuClient
from youku_tui.api.models import StsCredentials
from youku_tui.api.retry import RetryPolicy
from youku_tui.config import EngineSettings
from youku_tui.engine.checkpoint import (
    Checkpoint,
    CheckpointStore,
    FileIdentity,
    PartRecord,
)
from youku_tui.engine.concurrency import ConcurrencyControl
from youku_tui.engine.events import (
    CredentialsRenewed,
    EngineEvent,
    Retrying,
    StateChanged,
    UploadDone,
    UploadFailed,
    UploadLog,
    watch_url,
)
from youku_tui.engine.hashing import HashingStopped, combine_part_crcs, md5_file, slice_checksums
from youku_tui.engine.ids import short_id
from youku_tui.engine.limits import AsyncSlots, Bandwidth
from youku_tui.engine.parts import PartPlan, plan_parts
from youku_tui.engine.states import FailureKind, UploadState, transition
from youku_tui.engine.transfer import (
    OssTarget,
    SliceReader,
    StoredPart,
    StsBox,
    TransferStopped,
    chunk_for,
    same_etag,
)
from youku_tui.errors import (
    ApiError,
    FieldProblem,
    FileChangedError,
    IntegrityError,
    LocalFileError,
    MetadataError,
    NotLoggedInError,
    OssCredentialsError,
    OssError,
    OssIntegrityError,
    OssTransientError,
    OssUploadGoneError,
    RejectedInputError,
    UploadSessionGoneError,
    YoukuTuiError,
)
from youku_tui.metadata import (
    PublicType,
    VideoMetadata,
    file_name_for_youku,
    validate_metadata,
)
from youku_tui.textsafe import safe_text

log = logging.getLogger(__name__)

_NOT_YOUKU = (
    "This is the file changing, not a Youku problem: upload it again once it is final "
    "(`youku-tui cancel` this one)."
)

S = UploadState
# Seconds between HEADs while a Complete whose answer was lost may still be assembling the
# object (OSS answers a retried Complete NoSuchUpload meanwhile).
COMPLETE_WAITS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
THROTTLING_STATUSES = frozenset({429, 503})  # OSS asks for fewer requests: fewer parts
PLANNED_RENEWAL_FLOOR = 30.0  # seconds between planned renewals of credentials born expired
MAX_CREDENTIAL_RENEWALS = 8  # per part: OSS refusing fresh credentials again and again is fatal
_T = TypeVar("_T")
ANSWER_DEADLINE = 120.0  # seconds OSS gets to answer a part once its body was sent
ANSWER_WATCH_INTERVAL = 0.5


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


class _SharedFile:
    """A read-only fd closed when its last user lets go.

    Part threads may outlive a paused run by a chunk; closing the fd under them could let the
    number be reused by another file, so each reader holds a reference.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._users = 1
        self._lock = threading.Lock()

    def acquire(self) -> int:
        with self._lock:
            if self._users == 0:  # already closed: the transfer that opened it is over
                raise TransferStopped
            self._users += 1
            return self.fd

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                os.close(self.fd)


class UploadJob:
    """One file on its way to a committed ``video_id``."""

    def __init__(
        self, checkpoint: Checkpoint, ctx: EngineContext, watch_password: str = ""
    ) -> None:
        self.cp = checkpoint
        self.ctx = ctx
        self._watch_password = watch_password  # memory only: never in a checkpoint
        self.task: asyncio.Task[None] | None = None
        self.stop_kind: UploadState | None = None  # PAUSED or CANCELLED while stopping
        self._stop = threading.Event()
        # Live counters (written by worker threads; single int/dict ops are atomic enough).
        self.hashed = 0
        self.retries = 0
        self.waiting_for_login = False  # paused because another upload met "not logged in"
        self._stored_bytes = sum(p.size for p in checkpoint.parts.values())
        self._inflight: dict[int, int] = {}
        self._box: StsBox | None = None
        self._target: OssTarget | None = None
        self._sts_lock = asyncio.Lock()
        self._save_handle: asyncio.TimerHandle | None = None
        self._sts_received = 0.0  # monotonic time the current credentials arrived
        self._sts_ttl = 0.0  # their lifetime then, in seconds
        self._session_reused = False  # the upload session came from the checkpoint

    # --- views ----------------------------------------------------------------------------

    @property
    def state(self) -> UploadState:
        return self.cp.state

    @property
    def upload_id(self) -> str:
        return self.cp.upload_id

    @property
    def bytes_done(self) -> int:
        """Bytes OSS confirmed: parts whose upload was answered OK (or the whole object)."""
        if self.cp.object_crc64 is not None:
            return self.cp.size
        return min(self.cp.size, self._stored_bytes)

    @property
    def bytes_in_flight(self) -> int:
        """Bytes the sockets took for parts OSS has not answered yet (lost on a stop)."""
        if self.cp.object_crc64 is not None or not self.running:
            return 0  # a stopped run's threads may still count a last chunk: not in flight
        return min(self.cp.size - self.bytes_done, sum(list(self._inflight.values())))

    @property
    def parts_total(self) -> int:
        return PartPlan(self.cp.size, self.cp.part_size).count if self.cp.part_size else 0

    @property
    def needs_watch_password(self) -> bool:
        """True while the upload is still to be created with a watch password nobody gave
        this process (passwords are never stored): a retry must bring one."""
        return (
            self.cp.metadata.get("public_type") == PublicType.PASSWORD.value
            and not self.cp.upload_token
            and not self._watch_password
        )

    @property
    def waiting_for_bandwidth(self) -> bool:
        """Sending, but every byte of it waits for the bandwidth cap to serve others first."""
        return self.cp.state is S.UPLOADING and self.ctx.bandwidth.starved(self.cp.position)

    def start_over(self) -> None:
        """Forget the upload session and the bytes sent: the next run creates a new upload
        (a retry after a cancel, whose multipart upload was aborted)."""
        self.cp.forget_session()
        self.cp.integrity_retry_used = False
        self._stored_bytes = 0
        self.retries = 0

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    # --- state ----------------------------------------------------------------------------

    def set_state(self, new: UploadState, reason: str = "") -> None:
        """Move through the state machine, save, and report it."""
        old = self.cp.state
        self.cp.state = transition(old, new)
        self.save_now()
        self.ctx.emit(StateChanged(upload_id=self.upload_id, old=old, new=new, reason=reason))

    def save_now(self) -> None:
        if self._save_handle is not None:
            self._save_handle.cancel()
            self._save_handle = None
        self.ctx.store.save(self.cp)

    def _save_soon(self) -> None:
        """Coalesce saves when several parts finish in the same moment."""
        if self._save_handle is None:
            self._save_handle = asyncio.get_running_loop().call_later(0.05, self._flush_save)

    def _flush_save(self) -> None:
        self._save_handle = None
        try:
            self.ctx.store.save(self.cp)
        except LocalFileError as exc:
            self._log("error", f"could not save the checkpoint: {exc}")

    def _log(self, level: str, message: str) -> None:
        getattr(log, "warning" if level == "warning" else level, log.info)(
            "%s: %s", self.upload_id, message
        )
        self.ctx.emit(UploadLog(upload_id=self.upload_id, level=level, message=message))

    def _requested_stop(self) -> UploadState | None:
        return self.stop_kind

    def request_stop(self, kind: UploadState) -> None:
        """Pause (PAUSED) or cancel (CANCELLED) the running task; it saves as it stops."""
        self.stop_kind = kind
        self._stop.set()
        if self.task is not None:
            self.task.cancel()

    # --- the run --------------------------------------------------------------------------

    async def run(self) -> None:
        self._stop = threading.Event()  # a fresh flag: threads of an old run keep theirs set
        self._inflight = {}  # likewise: a late byte count of an old run lands in the old dict
        self.stop_kind = None
        self.waiting_for_login = False
        try:
            await self._run_phases()
        except (asyncio.CancelledError, TransferStopped) as exc:
            self._stop.set()  # also when cancelled from outside: part threads must stop too
            # A cancel is settled by cancel_cleanup (it aborts the multipart upload first).
            kind = self._requested_stop()
            if kind is not S.CANCELLED:
                self._settle(S.PAUSED, "paused" if kind else "the engine stopped")
            if kind is None and isinstance(exc, asyncio.CancelledError):
                raise
        except NotLoggedInError as exc:
            if self.ctx.login_blocked:
                self.waiting_for_login = True
                self._settle(S.PAUSED, "waiting for a new login")
            else:
                self.ctx.login_blocked = True
                self._fail(exc)
        except YoukuTuiError as exc:
            self._fail(exc)
        except Exception as exc:  # a bug: keep the checkpoint, tell the user, log the trace
            log.exception("upload %s failed unexpectedly", self.upload_id)
            self._fail(YoukuTuiError(f"unexpected error: {type(exc).__name__}: {exc}"))
        finally:
            if self._save_handle is not None:
                self._flush_save()
                self._save_handle = None

    def _settle(self, state: UploadState, reason: str) -> None:
        if self.cp.state is not state and not self.cp.state.is_terminal:
            try:
                self.set_state(state, reason)
            except LocalFileError as exc:
                log.error("%s: could not save the checkpoint: %s", self.upload_id, exc)

    def _fail(self, exc: YoukuTuiError) -> None:
        message = exc.message
        if isinstance(exc, UploadSessionGoneError):
            self.cp.forget_session()
            message += " (retrying creates a new upload with a new video id)"
        code = ""
        if isinstance(exc, ApiError) and exc.code is not None:
            code = str(exc.code)
        elif isinstance(exc, OssError):
            code = exc.code
        field = ""
        if isinstance(exc, RejectedInputError):
            field = exc.field or ""
        elif isinstance(exc, MetadataError) and exc.problems:
            field = exc.problems[0].field
        self.cp.record_error(message, code, exc)
        log.warning("%s failed: %s", self.upload_id, message)
        self._settle(S.FAILED, message)
        self.ctx.emit(
            UploadFailed(
                upload_id=self.upload_id,
                error=message,
                error_class=type(exc).__name__,
                failure=FailureKind.of(exc),
                code=code,
                field=field,
            )
        )

    async def _run_phases(self) -> None:
        cp = self.cp
        cp.clear_error()
        self.set_state(S.HASHING)
        await self._hash()
        self.set_state(S.CREATING)
        await self._create()
        self.set_state(S.UPLOADING)
        if cp.object_crc64 is None:
            await self._transfer()
        self._check_unchanged()
        self.set_state(S.COMMITTING)
        while True:
            try:
                video_id = await self._commit()
                break
            except IntegrityError as exc:
                if cp.integrity_retry_used:
                    raise IntegrityError(
                        f"{exc.message} - Youku refused the bytes twice; the upload failed",
                        code=exc.code,
                        description=exc.description,
                    ) from exc
                self._log("warning", f"{exc.message}: sending the whole file again, once")
                cp.integrity_retry_used = True
                await self._abort_quietly()
                cp.forget_transfer()
                self._stored_bytes = 0
                self.set_state(S.UPLOADING, "re-sending after an integrity refusal")
                await self._transfer()
                self._check_unchanged()
                self.set_state(S.COMMITTING)
        cp.video_id = video_id or cp.video_id
        self.set_state(S.DONE, "committed (unconfirmed)" if cp.commit_unconfirmed else "")
        self.ctx.emit(
            UploadDone(
                upload_id=self.upload_id,
                video_id=cp.video_id,
                path=str(cp.path),
                url=watch_url(cp.video_id),
                unconfirmed=cp.commit_unconfirmed,
            )
        )

    async def _commit(self) -> str:
        """Commit; after an ambiguous attempt, "session gone" means "probably committed".

        A commit whose answer was lost (a retried transient failure, or a run killed after
        sending it) may have been processed; Youku may then answer a repeated commit with
        120010151 instead of the video_id. Creating the upload again would at best be refused
        as a duplicate and at worst make a second video, so the upload is marked "committed
        (unconfirmed)" with the video_id from ``create`` and its watch URL instead.
        """
        cp = self.cp
        ambiguous = cp.commit_sent  # a previous run sent one and never saw the answer saved

        def on_retry(attempt: int, delay: float, exc: ApiError) -> None:
            nonlocal ambiguous
            ambiguous = True
            self._api_retry(attempt, delay, exc)

        cp.commit_sent = True
        self.save_now()
        try:
            return await self.ctx.client.commit(upload_token=cp.upload_token, on_retry=on_retry)
        except UploadSessionGoneError as exc:
            if not ambiguous or not cp.video_id:
                raise
            cp.commit_unconfirmed = True
            self._log(
                "warning",
                f"committed (unconfirmed): Youku answered {exc.code} (session gone) to a "
                f"repeated commit whose first answer was lost; the video is most likely "
                f"{cp.video_id} ({watch_url(cp.video_id)}). Not creating it again.",
            )
            return cp.video_id

    # --- hashing --------------------------------------------------------------------------

    async def _hash(self) -> None:
        cp = self.cp
        if cp.md5:
            cp.check_file()  # FileChangedError: the file is not the one we hashed
            self.hashed = cp.size
            return
        before = FileIdentity.of(cp.path)
        if before.size == 0:
            raise LocalFileError(f"{cp.path} is empty")
        cp.identity = before

        def progress(done: int) -> None:
            self.hashed = done

        stop = self._stop
        try:
            digest = await self._in_thread(md5_file, cp.path, progress=progress, stop=stop)
        except HashingStopped:
            raise TransferStopped from None
        cp.check_file()  # modified while we read it?
        cp.md5 = digest
        self.save_now()

    def _check_unchanged(self, fd: int | None = None) -> None:
        """Stop as soon as the video file is modified: before each part (``fstat`` of the
        open file, cheap) and before commit (the path: also a replaced file). Otherwise the
        change would show only as Youku refusing the MD5, after everything was sent again."""
        cp = self.cp
        if fd is None:
            try:
                cp.check_file()
            except FileChangedError as exc:
                raise FileChangedError(f"{exc.message} {_NOT_YOUKU}") from exc
            return
        info = os.fstat(fd)
        if info.st_size != cp.size or info.st_mtime_ns != cp.identity.mtime_ns:
            raise FileChangedError(
                f"{safe_text(cp.path)} was modified during its upload (size {cp.size} -> "
                f"{info.st_size}, or its modification time changed); the upload stopped. "
                + _NOT_YOUKU
            )

    # --- create ---------------------------------------------------------------------------

    async def _create(self) -> None:
        cp = self.cp
        if not cp.part_size:
            settings = self.ctx.settings
            cp.part_size = plan_parts(
                cp.size, settings.part_size, settings.max_connections
            ).part_size
        if cp.upload_token:
            self._session_reused = True
            return
        metadata = VideoMetadata.from_record(cp.metadata, watch_password=self._watch_password)
        if metadata.public_type is PublicType.PASSWORD and not metadata.watch_password:
            raise MetadataError(
                [
                    FieldProblem(
                        "watch_password",
                        "is never stored in checkpoints: give it again "
                        f"(`youku-tui retry {short_id(cp.upload_id)} --password ...`) "
                        "or add the file again",
                    )
                ]
            )
        validate_metadata(metadata)  # a checkpoint is a file anyone may have edited
        created = await self.ctx.client.create(
            file_name=file_name_for_youku(cp.path),
            file_md5=cp.md5,
            file_size=cp.size,
            metadata=metadata,
            on_retry=self._api_retry,
        )
        cp.video_id = created.video_id
        cp.upload_token = created.upload_token
        cp.bucket = created.oss_bucket
        cp.object = created.oss_object
        cp.endpoint = created.sts.endpoint
        cp.forget_transfer()
        self._stored_bytes = 0
        self._target = None  # bound to the previous session's object
        self._set_sts(created.sts)
        self.save_now()

    # --- STS ------------------------------------------------------------------------------

    def _set_sts(self, sts: StsCredentials) -> None:
        if self._box is None:
            self._box = StsBox(sts)
        else:
            self._box.update(sts)
        self._sts_received = time.monotonic()
        server_now = datetime.fromtimestamp(self.ctx.client.clock.now(), UTC)
        self._sts_ttl = sts.seconds_left(server_now)
        self.cp.endpoint = sts.endpoint
        if self._sts_ttl <= 0:
            self._log(
                "warning",
                f"Youku handed out OSS credentials that expire at {sts.expire_time:%H:%M:%S} "
                f"UTC, before the server's own time ({server_now:%H:%M:%S}): renewing them at "
                f"most every {PLANNED_RENEWAL_FLOOR:.0f} s (and whenever OSS refuses them)",
            )

    async def _fetch_sts(self, reason: str) -> None:
        sts = await self.ctx.client.get_sts(
            upload_token=self.cp.upload_token,
            oss_bucket=self.cp.bucket,
            oss_object=self.cp.object,
            on_retry=self._api_retry,
        )
        self._set_sts(sts)
        self.ctx.emit(
            CredentialsRenewed(
                upload_id=self.upload_id,
                expire_time=sts.expire_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                reason=reason,
            )
        )

    async def _renew_sts(self, reason: str, seen_generation: int) -> None:
        """Renew once for everyone who saw the same credentials fail."""
        async with self._sts_lock:
            if self._box is not None and self._box.generation != seen_generation:
                return
            await self._fetch_sts(reason)

    def _renew_delay(self) -> float:
        """Seconds until the planned renewal: ``sts_margin`` before expiry, or a third of a
        short lifetime (3 s credentials are renewed after 2 s, not 5 minutes early).

        Credentials that arrive already expired (a wrong ``expire_time``) are not renewed in
        a loop: at most every ``PLANNED_RENEWAL_FLOOR`` seconds (Youku allows ordinary apps
        1000 calls an hour); OSS refusing them still renews at once."""
        if self._sts_ttl <= 0:
            due = self._sts_received + PLANNED_RENEWAL_FLOOR
            return max(0.2, due - time.monotonic())
        margin = min(self.ctx.settings.sts_margin, max(self._sts_ttl / 3, 0.2))
        due = self._sts_received + self._sts_ttl - margin
        return max(0.2, due - time.monotonic())

    async def _renewal_loop(self) -> None:
        while True:
            assert self._box is not None
            generation = self._box.generation
            await asyncio.sleep(self._renew_delay())
            if self._box.generation != generation:
                continue  # renewed meanwhile (an OSS refusal got there first)
            try:
                await self._renew_sts("before expiry", generation)
            except YoukuTuiError as exc:
                # The parts will meet the refusal and fail with the real cause if it lasts.
                self._log("warning", f"could not renew the OSS credentials yet: {exc}")
                await asyncio.sleep(5.0)

    # --- transfer -------------------------------------------------------------------------

    async def _transfer(self) -> None:
        cp = self.cp
        if self._box is None:
            await self._fetch_sts("resuming")
        elif self._renew_delay() <= 0.2:  # resumed after a long pause: about to expire
            await self._renew_sts("before expiry", self._box.generation)
        assert self._box is not None
        if self._target is None:
            self._target = OssTarget(
                self._box,
                cp.bucket,
                cp.object,
                session=self.ctx.oss_session,
                clock=self.ctx.client.clock,
            )
        plan = PartPlan(cp.size, cp.part_size)
        try:
            fd = os.open(cp.path, os.O_RDONLY)
        except OSError as exc:
            raise LocalFileError(f"cannot open {cp.path}: {exc.strerror}") from exc
        shared = _SharedFile(fd)
        renewal = asyncio.create_task(self._renewal_loop(), name=f"sts-{self.upload_id}")
        try:
            if plan.multipart:
                await self._multipart(plan, shared)
            else:
                await self._single(plan, shared)
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            shared.release()
        self.save_now()

    async def _single(self, plan: PartPlan, shared: _SharedFile) -> None:
        assert self._target is not None
        target = self._target
        if self._session_reused and await self._adopt_stored_object(shared):
            return
        stored = await self._send(1, plan, shared, target.put_object)
        if stored.server_crc is None:  # not in the answer: ask for it
            _allowed, server_crc = await self._head_crc()
            self._check_object_crc(stored.crc64 or 0, server_crc, "PutObject")
        self.cp.parts = {1: _record(stored)}
        self._stored_bytes = stored.size
        self.cp.object_crc64 = stored.crc64

    async def _multipart(self, plan: PartPlan, shared: _SharedFile) -> None:
        cp = self.cp
        assert self._target is not None
        target = self._target
        if cp.multipart_upload_id and await self._reconcile(plan, shared):
            return  # the object was already complete
        if not cp.multipart_upload_id:
            cp.forget_transfer()
            cp.multipart_upload_id = await self._oss(target.init_multipart)
            self._stored_bytes = 0
            self.save_now()
        upload_id = cp.multipart_upload_id
        pending = [n for n in range(1, plan.count + 1) if n not in cp.parts]
        queue: asyncio.Queue[int] = asyncio.Queue()
        for number in pending:
            queue.put_nowait(number)

        async def worker() -> None:
            while not queue.empty():
                number = queue.get_nowait()
                call = functools.partial(target.upload_part, upload_id, number)
                stored = await self._send(number, plan, shared, call)
                cp.parts[number] = _record(stored)
                self._stored_bytes += stored.size
                self._save_soon()

        count = min(len(pending), self.ctx.concurrency.ceiling)  # the slots decide who sends
        workers = [asyncio.create_task(worker()) for _ in range(count)]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        try:
            await self._complete(plan)
        except OssIntegrityError as exc:
            # OSS holds bytes other than those we sent: send everything again, once.
            if cp.integrity_retry_used:
                raise
            cp.integrity_retry_used = True
            self._log("warning", f"{exc.message}: sending the whole file again, once")
            await self._abort_quietly()
            cp.forget_transfer()
            self._stored_bytes = 0
            self.save_now()
            await self._multipart(plan, shared)

    async def _complete(self, plan: PartPlan) -> None:
        cp = self.cp
        assert self._target is not None
        target = self._target
        records = [cp.parts[n] for n in range(1, plan.count + 1)]
        expected = combine_part_crcs([(p.crc64, p.size) for p in records])
        listing = [(p.number, p.etag) for p in records]
        upload_id = cp.multipart_upload_id
        try:
            server_crc = await self._oss(lambda: target.complete(upload_id, listing))
        except OssUploadGoneError:
            # A retried Complete whose first try succeeded but whose answer was lost - or is
            # still assembling the object (it timed out on a big one): wait for it to show.
            # Where the STS policy refuses HeadObject, commit's MD5 check at Youku is the proof.
            allowed, server_crc = await self._completed_object_crc()
            if allowed and server_crc != expected:
                raise
        if server_crc is None:
            _allowed, server_crc = await self._head_crc()
        self._check_object_crc(expected, server_crc, "the completed object")
        cp.object_crc64 = expected
        cp.multipart_upload_id = ""

    async def _completed_object_crc(self) -> tuple[bool, int | None]:
        """:meth:`_head_crc` once the object exists (404 meanwhile), for up to a minute."""
        for delay in COMPLETE_WAITS:
            try:
                return await self._head_crc()
            except OssError as exc:
                if exc.status != 404:
                    raise
            await asyncio.sleep(delay)
        return await self._head_crc()

    async def _adopt_stored_object(self, shared: _SharedFile) -> bool:
        """True when OSS already holds this very file at the object (and it is recorded so).

        The object can be complete while the checkpoint says otherwise: the process stopped,
        or the disk was full, between Complete (or PutObject) and saving its answer. A HEAD
        whose size and CRC-64 match the local file's proves it; reading the file costs far
        less than sending it again.
        """
        cp = self.cp
        assert self._target is not None
        target = self._target
        try:
            size, server_crc = await self._oss(target.head)
        except OssError:
            return False  # no such object (the usual case), or OSS will not say
        if size != cp.size or server_crc is None:
            return False
        local_crc, local_md5 = await self._in_thread(slice_checksums, shared.fd, 0, cp.size)
        if local_crc != server_crc or local_md5 != cp.md5:
            return False
        cp.object_crc64 = local_crc
        cp.multipart_upload_id = ""
        self._stored_bytes = cp.size
        self._log("info", "OSS already holds the whole file (found by HEAD); not sending it again")
        return True

    async def _head_crc(self) -> tuple[bool, int | None]:
        """(allowed, CRC-64) of the stored object; (False, None) where the STS policy
        refuses HeadObject (Youku's may grant PutObject and the multipart calls only)."""
        assert self._target is not None
        try:
            return True, await self._oss(self._target.head_crc)
        except OssError as exc:
            if exc.code != "AccessDenied":
                raise
            return False, None

    def _check_object_crc(self, expected: int, server: int | None, what: str) -> None:
        if server is None:
            self._log("warning", f"OSS did not report a CRC-64 for {what}; part CRCs were checked")
        elif server != expected:
            raise OssIntegrityError(
                f"{what}: CRC-64 mismatch (expected {expected:016x}, OSS has {server:016x})"
            )

    async def _reconcile(self, plan: PartPlan, shared: _SharedFile) -> bool:
        """Check recorded parts against ListParts; adopt parts stored but not recorded.

        A recorded part that OSS lacks or holds with another size, ETag or CRC is dropped (it
        will be sent again). A part OSS holds that we never recorded (the process died before
        saving) is adopted when its size and its CRC-64 (or ETag = MD5) match the local bytes.
        Returns True when the object turns out to be complete already.
        """
        cp = self.cp
        assert self._target is not None
        target = self._target
        try:
            remote = await self._oss(lambda: target.list_parts(cp.multipart_upload_id))
        except OssUploadGoneError:
            if await self._adopt_stored_object(shared):
                return True
            head_allowed = True
            if len(cp.parts) == plan.count:
                with contextlib.suppress(OssError):  # no such object: start again below
                    head_allowed, _crc = await self._head_crc()
            if not head_allowed:
                # Maybe completed just before the last stop, and unverifiable where the STS
                # policy refuses HeadObject: commit's MD5 check decides (a refusal re-sends,
                # once), which costs less than sending everything again now.
                cp.object_crc64 = combine_part_crcs([(p.crc64, p.size) for p in cp.parts.values()])
                cp.multipart_upload_id = ""
                return True
            self._log("warning", "OSS no longer knows the multipart upload; starting it again")
            cp.forget_transfer()
            self._stored_bytes = 0
            return False
        except OssError as exc:
            if exc.code != "AccessDenied":
                raise
            # The STS policy refuses ListParts: the checkpoint's parts are those OSS confirmed
            # (each answered with a checked CRC-64); CompleteMultipartUpload's CRC-64 of the
            # whole object verifies them, and a mismatch re-sends the file once.
            self._log(
                "info",
                f"ListParts is not allowed by the STS policy: resuming from the "
                f"{len(cp.parts)} part(s) the checkpoint confirmed",
            )
            return False
        dropped = 0
        for number, record in list(cp.parts.items()):
            stored = remote.get(number)
            if (
                stored is None
                or stored.size != record.size
                or not same_etag(stored.etag, record.etag)
                or (stored.crc64 is not None and stored.crc64 != record.crc64)
            ):
                del cp.parts[number]
                dropped += 1
        adopted = 0
        for number, stored in sorted(remote.items()):
            if number in cp.parts or not 1 <= number <= plan.count:
                continue
            offset, size = plan.part_range(number)
            if stored.size != size:
                continue
            crc, md5 = await self._in_thread(slice_checksums, shared.fd, offset, size)
            if stored.crc64 is not None:
                matches = stored.crc64 == crc
            else:
                matches = same_etag(stored.etag, md5)
            if matches:
                cp.parts[number] = PartRecord(number, size, stored.etag, crc)
                adopted += 1
        self._stored_bytes = sum(p.size for p in cp.parts.values())
        if dropped or adopted:
            self._log(
                "info",
                f"resume check: {dropped} recorded part(s) to send again, "
                f"{adopted} stored part(s) adopted",
            )
        self.save_now()
        return False

    async def _send(
        self,
        number: int,
        plan: PartPlan,
        shared: _SharedFile,
        call: Callable[[SliceReader], StoredPart],
    ) -> StoredPart:
        """Send one part with retries (transient errors, CRC mismatches) and STS renewals."""
        offset, size = plan.part_range(number)

        async def attempt() -> StoredPart:
            inflight = self._inflight
            inflight[number] = 0
            stop = self._stop
            concurrency = self.ctx.concurrency

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
                    self._check_unchanged(fd)
                    # Under a cap the lowest (position, part) is served first: open the request
                    # only once it is this part's turn, so a part never holds an idle
                    # connection until OSS times its body out (RequestTimeout).
                    self.ctx.bandwidth.take(0, stop.is_set, (self.cp.position, number))
                    reader = SliceReader(
                        fd,
                        offset,
                        size,
                        bandwidth=self.ctx.bandwidth,
                        stop=stop,
                        on_bytes=on_bytes,
                        priority=(self.cp.position, number),
                        chunk=chunk_for(concurrency.parts),
                    )
                    return call(reader)
                finally:
                    shared.release()

            try:
                async with self.ctx.part_slots:
                    return await _answered_in_time(self._in_thread(run), sent_at, f"part {number}")
            finally:
                inflight.pop(number, None)

        return await self._recovering(attempt, (OssTransientError, OssIntegrityError), number)

    async def _recovering(
        self,
        attempt: Callable[[], Awaitable[_T]],
        retry_on: tuple[type[OssError], ...],
        part_number: int = 0,
    ) -> _T:
        """Run ``attempt`` until it succeeds: renew STS when OSS refuses the credentials, back
        off and try again on ``retry_on`` errors; give up after the configured counts."""
        assert self._box is not None
        tries = 0
        renewals = 0
        while True:
            generation = self._box.generation
            try:
                return await attempt()
            except OssCredentialsError as exc:
                renewals += 1
                if renewals > MAX_CREDENTIAL_RENEWALS:
                    raise
                await self._renew_sts(exc.code or "refused by OSS", generation)
            except retry_on as exc:
                if exc.status in THROTTLING_STATUSES:
                    self.ctx.concurrency.throttled()
                elif isinstance(exc, OssTransientError):
                    self.ctx.concurrency.failed()
                tries += 1
                if tries >= max(1, self.ctx.settings.max_retries):
                    raise
                delay = self.ctx.retry.delay(tries)
                self.retries += 1
                self.ctx.emit(
                    Retrying(
                        upload_id=self.upload_id,
                        attempt=tries,
                        delay=round(delay, 3),
                        error=exc.message,
                        code=exc.code,
                        part_number=part_number,
                    )
                )
                await asyncio.sleep(delay)

    # --- helpers --------------------------------------------------------------------------

    async def _in_thread(self, func: Callable[..., _T], *args: object, **kwargs: object) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.ctx.executor, lambda: func(*args, **kwargs))

    async def _oss(self, func: Callable[[], _T]) -> _T:
        """A non-part OSS call, with the same retries and renewals as parts."""
        return await self._recovering(lambda: self._in_thread(func), (OssTransientError,))

    def _api_retry(self, attempt: int, delay: float, exc: ApiError) -> None:
        self.retries += 1
        self.ctx.emit(
            Retrying(
                upload_id=self.upload_id,
                attempt=attempt,
                delay=round(delay, 3),
                error=exc.message,
                code=str(exc.code or exc.http_status or ""),
            )
        )

    async def _abort_quietly(self) -> None:
        """Abort the multipart upload if there is one; a failure only costs OSS some space."""
        upload_id = self.cp.multipart_upload_id
        if not upload_id or not self.cp.upload_token:
            return
        try:
            if self._box is None:
                await self._fetch_sts("cancelling")
            if self._target is None:
                assert self._box is not None
                self._target = OssTarget(
                    self._box,
                    self.cp.bucket,
                    self.cp.object,
                    session=self.ctx.oss_session,
                    clock=self.ctx.client.clock,
                )
            target = self._target
            await self._oss(lambda: target.abort(upload_id))
        except YoukuTuiError as exc:
            self._log("warning", f"could not abort the multipart upload: {exc}")

    async def cancel_cleanup(self) -> None:
        """After the task stopped for a cancel: abort the multipart upload, mark cancelled."""
        await self._abort_quietly()
        self.cp.multipart_upload_id = ""
        self._settle(S.CANCELLED, "cancelled")

    def close(self) -> None:
        """Let go of the OSS connections (they stay in the engine's session)."""
        self._target = None


async def _answered_in_time(work: Awaitable[_T], sent_at: list[float], what: str) -> _T:
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


def _record(stored: StoredPart) -> PartRecord:
    assert stored.crc64 is not None
    return PartRecord(stored.number, stored.size, stored.etag, stored.crc64)
