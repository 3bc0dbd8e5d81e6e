"""One upload's run: hash -> create -> upload -> commit, each step a saved state transition.

A job runs as one asyncio task. Blocking work (MD5, oss2 calls) goes to the engine's thread
pool. Pause and cancel set a per-run stop flag (read by the MD5 loop and by every part reader,
so a part in flight stops within one chunk) and cancel the task; the task then saves the
checkpoint in the new state. Nothing here touches Textual.

This module is the state machine and the Youku side of it (hash, create, commit); it composes
the pieces that do the OSS side, one responsibility each:

- :mod:`~youku_tui.engine.sts`: the STS credentials' lifetime and the OSS target on them.
- :mod:`~youku_tui.engine.oss_calls`: retries and renewals of every OSS call; sending a part.
- :mod:`~youku_tui.engine.object_upload`: the file's bytes on OSS (single or multipart,
  resume checks, Complete, the whole file sent again once after an integrity refusal).
- :mod:`~youku_tui.engine.source`: the file while it is sent (shared fd, change checks).
"""

from __future__ import annotations

import asyncio
import logging
import threading

from youku_tui.engine.checkpoint import Checkpoint, FileIdentity
from youku_tui.engine.context import EngineContext
from youku_tui.engine.events import (
    Retrying,
    StateChanged,
    UploadDone,
    UploadFailed,
    UploadLog,
    watch_url,
)
from youku_tui.engine.hashing import HashingStopped, md5_file
from youku_tui.engine.ids import short_id
from youku_tui.engine.object_upload import ObjectUpload
from youku_tui.engine.oss_calls import OssCalls
from youku_tui.engine.parts import PartPlan, plan_parts
from youku_tui.engine.source import check_path_unchanged
from youku_tui.engine.states import FailureKind, UploadState, transition
from youku_tui.engine.sts import StsSession
from youku_tui.engine.transfer import TransferStopped
from youku_tui.errors import (
    ApiError,
    FieldProblem,
    IntegrityError,
    LocalFileError,
    MetadataError,
    NotLoggedInError,
    OssError,
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

log = logging.getLogger(__name__)

S = UploadState


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
        self._inflight: dict[int, int] = {}
        self._save_handle: asyncio.TimerHandle | None = None
        self._session_reused = False  # the upload session came from the checkpoint
        self._sts = StsSession(checkpoint, ctx, log=self._log, on_api_retry=self._api_retry)
        calls = OssCalls(ctx, self._sts, upload_id=checkpoint.upload_id, on_retry=self._retrying)
        self._object = ObjectUpload(
            checkpoint,
            ctx,
            self._sts,
            calls,
            log=self._log,
            save_now=self.save_now,
            save_soon=self._save_soon,
        )

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
        return min(self.cp.size, self._object.confirmed)

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
        self._object.confirmed = 0
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
        while True:
            if cp.object_crc64 is None:
                await self._object.send(
                    stop=self._stop, inflight=self._inflight, reused_session=self._session_reused
                )
            check_path_unchanged(cp)
            self.set_state(S.COMMITTING)
            try:
                video_id = await self._commit()
                break
            except IntegrityError as exc:
                if not await self._object.start_again_once(exc):
                    raise IntegrityError(
                        f"{exc.message} - Youku refused the bytes twice; the upload failed",
                        code=exc.code,
                        description=exc.description,
                    ) from exc
                self.set_state(S.UPLOADING, "re-sending after an integrity refusal")
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
            digest = await self.ctx.in_thread(md5_file, cp.path, progress=progress, stop=stop)
        except HashingStopped:
            raise TransferStopped from None
        cp.check_file()  # modified while we read it?
        cp.md5 = digest
        self.save_now()

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
        self._object.forget()
        self._sts.start(created.sts)  # the previous session's target was bound to its object
        self.save_now()

    # --- helpers --------------------------------------------------------------------------

    def _retrying(self, event: Retrying) -> None:
        """Count and report a retried call (API or OSS)."""
        self.retries += 1
        self.ctx.emit(event)

    def _api_retry(self, attempt: int, delay: float, exc: ApiError) -> None:
        self._retrying(
            Retrying(
                upload_id=self.upload_id,
                attempt=attempt,
                delay=round(delay, 3),
                error=exc.message,
                code=str(exc.code or exc.http_status or ""),
            )
        )

    async def cancel_cleanup(self) -> None:
        """After the task stopped for a cancel: abort the multipart upload, mark cancelled."""
        await self._object.abort_quietly()
        self.cp.multipart_upload_id = ""
        self._settle(S.CANCELLED, "cancelled")

    def close(self) -> None:
        """Let go of the OSS connections (they stay in the engine's session)."""
        self._sts.close()
