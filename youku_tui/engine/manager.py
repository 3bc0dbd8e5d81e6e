"""UploadEngine: the one object the TUI and the CLI drive.

Runs on an asyncio event loop (the Textual app's, or ``asyncio.run`` in the CLI). Blocking work
(hashing, oss2 calls) runs in threads; events are delivered to ``sink`` on the loop thread.

Scheduling: uploads start in queue order while fewer than ``max_uploads`` run; parts of all
uploads share one set of part slots (first in, first out) and one bandwidth cap. The slots
number ``max_parts``, or adapt to the path when it is 0 (:mod:`~youku_tui.engine.concurrency`),
never more than ``max_connections``; all OSS calls share one connection pool of that size.
Uploads, parts and the cap change live (:meth:`UploadEngine.set_limits`). A ticker reports
progress at most 4 times a second per upload, and only when it changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from youku_tui.api.client import YoukuClient
from youku_tui.api.retry import RetryPolicy
from youku_tui.config import Credentials, EngineSettings
from youku_tui.engine.checkpoint import (
    MAX_FILE_SIZE,
    Checkpoint,
    CheckpointStore,
    FileIdentity,
)
from youku_tui.engine.concurrency import ConcurrencyControl
from youku_tui.engine.connections import oss_session
from youku_tui.engine.context import EngineContext
from youku_tui.engine.events import (
    EngineEvent,
    EventSink,
    LimitsChanged,
    Progress,
    QueueOrder,
    StateChanged,
    TokenRefreshed,
    UploadAdded,
    UploadLog,
    UploadRemoved,
)
from youku_tui.engine.hashing import crcmod_has_c_extension
from youku_tui.engine.ids import new_upload_id
from youku_tui.engine.job import UploadJob
from youku_tui.engine.limits import AsyncSlots, Bandwidth
from youku_tui.engine.oss_access import OssAccess, verifying
from youku_tui.engine.owner import OwnerLock
from youku_tui.engine.parts import plan_parts
from youku_tui.engine.snapshot import UploadSnapshot as UploadSnapshot  # noqa: PLC0414 - re-exported
from youku_tui.engine.speed import SpeedMeter
from youku_tui.engine.states import ACTIVE_STATES, FailureKind, UploadState, transition
from youku_tui.errors import (
    CheckpointError,
    FileChangedError,
    LocalFileError,
)
from youku_tui.metadata import VideoMetadata, check_file_name, validate_metadata
from youku_tui.textsafe import safe_text

log = logging.getLogger(__name__)

S = UploadState
TICK = 0.25  # seconds between progress reports (<= 4 Hz per upload)
SPARE_THREADS = 8  # beside one per part in flight: hashing, ListParts, Complete...


@dataclass(frozen=True, slots=True)
class CheckpointProblem:
    """A checkpoint that could not be loaded (set aside) or whose file changed."""

    path: Path
    message: str


@dataclass
class _ProgressMark:
    phase: str = ""
    done: int = -1
    in_flight: int = 0
    speed: float = 0.0
    waiting: bool = False
    meter: SpeedMeter = field(default_factory=SpeedMeter)


def _speed_is_news(shown: float, now: float) -> bool:
    """A speed worth an event with no byte moved: a stall, or a drift past a quarter."""
    if shown == now:
        return False
    return now == 0 or abs(now - shown) > 0.25 * shown


def check_new_upload(path: Path, metadata: VideoMetadata) -> FileIdentity:
    """Everything :meth:`UploadEngine.add` checks, without queuing anything.

    A batch checks every file with this before adding any, so one bad file never leaves the
    files before it queued (to be uploaded again by a later ``resume``).
    """
    validate_metadata(metadata)
    name_problems = check_file_name(path)
    if name_problems:
        raise LocalFileError(str(name_problems[0]))
    identity = FileIdentity.of(path.expanduser().absolute())
    if identity.size == 0:
        raise LocalFileError(f"{safe_text(identity.path)} is empty")
    if identity.size > MAX_FILE_SIZE:
        raise LocalFileError(f"{safe_text(identity.path)} is larger than OSS takes")
    return identity


class UploadEngine:
    def __init__(
        self,
        client: YoukuClient,
        checkpoint_dir: Path,
        settings: EngineSettings,
        sink: EventSink,
        *,
        owner: OwnerLock | None = None,
    ) -> None:
        # The folder's owner lock comes first, before a single checkpoint is read; without one
        # given, the engine takes it (OwnerBusyError when another process owns the folder) and
        # lets it go at shutdown.
        self._own_lock = owner is None
        self._owner = owner or OwnerLock.acquire(checkpoint_dir, role="youku-tui, in-process")
        self._client = client
        self._store = CheckpointStore(checkpoint_dir, self._owner)
        self._sink = sink
        self._jobs: dict[str, UploadJob] = {}
        self._order: list[str] = []
        self._marks: dict[str, _ProgressMark] = {}
        ceiling = max(1, settings.max_connections)
        # Threads are started on demand: the pool only bounds them (one per part in flight).
        self._executor = ThreadPoolExecutor(
            max_workers=ceiling + SPARE_THREADS, thread_name_prefix="youku-io"
        )
        slots = AsyncSlots(1)
        self._ctx = EngineContext(
            client=client,
            store=self._store,
            settings=settings,
            part_slots=slots,
            concurrency=ConcurrencyControl(slots, ceiling=ceiling, fixed=settings.max_parts),
            oss_session=verifying(
                oss_session(ceiling), OssAccess(ca_bundle=client.ca_bundle, clock=client.clock)
            ),
            bandwidth=Bandwidth(settings.bandwidth),
            executor=self._executor,
            emit=self._emit,
            retry=RetryPolicy(attempts=max(1, settings.max_retries)),
        )
        self._ticker: asyncio.Task[None] | None = None
        self._idle: asyncio.Event | None = None
        self._closed = False
        client.add_tokens_listener(self._on_tokens)

    @property
    def checkpoint_dir(self) -> Path:
        return self._store.folder

    @property
    def settings(self) -> EngineSettings:
        return self._ctx.settings

    @property
    def parts_in_flight_limit(self) -> int:
        """Parts allowed in flight now (``max_parts``, or what the path rewards when 0)."""
        return self._ctx.concurrency.parts

    @property
    def owner(self) -> OwnerLock:
        return self._owner

    # --- lifetime -------------------------------------------------------------------------

    async def __aenter__(self) -> UploadEngine:
        self._idle = asyncio.Event()
        self._update_idle()
        self._ticker = asyncio.create_task(self._tick_loop(), name="engine-progress")
        self._schedule()  # uploads added before the engine started
        if not crcmod_has_c_extension():
            log.info("crcmod runs in pure Python; youku-tui uses fastcrc, so this is harmless")
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Pause what runs, save every checkpoint, close the OSS sessions."""
        await self.shutdown()

    async def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        running = [job for job in self._jobs.values() if job.running]
        for job in running:
            job.request_stop(S.PAUSED)
        for job in running:
            if job.task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await job.task
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        self._report_progress(force=True)
        for job in self._jobs.values():
            job.close()
        self._client.remove_tokens_listener(self._on_tokens)
        # Part threads of a paused upload stop within one chunk; do not wait for them.
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._ctx.oss_session.session.close()
        if self._own_lock:
            self._owner.release()

    # --- adding -------------------------------------------------------------------------

    def add(self, path: Path, metadata: VideoMetadata, *, start: bool = True) -> str:
        """Queue a file; return its upload id. Raises MetadataError / LocalFileError first."""
        identity = check_new_upload(path, metadata)
        upload_id = new_upload_id()
        checkpoint = Checkpoint(
            upload_id=upload_id,
            identity=identity,
            metadata=metadata.to_record(),
            state=S.QUEUED if start else S.PAUSED,
            position=self._next_position(),
            # Chosen now, so a resume in another process (with other settings) keeps it.
            part_size=plan_parts(
                identity.size, self._ctx.settings.part_size, self._ctx.settings.max_connections
            ).part_size,
        )
        job = UploadJob(checkpoint, self._ctx, watch_password=metadata.watch_password)
        self._store.save(checkpoint)
        self._register(job)
        self._schedule()
        return upload_id

    def load_checkpoints(self, *, start: bool, watch_password: str = "") -> list[CheckpointProblem]:
        """Load unfinished uploads from checkpoints (queued if ``start``, else paused).

        ``watch_password`` is given to password-protected uploads that still have to be
        created (passwords are never stored; without one such an upload fails and says so).

        Uploads that were running when their process stopped come back paused (or queued).
        Failed ones stay failed and shown, whatever ``start`` says: a failure the user has not
        seen to (Youku refused the file, say) would only fail again on every start; the user
        retries or removes it. A file that changed since its checkpoint is reported and its
        upload marked failed, never resumed.
        """
        checkpoints, load_problems = self._store.load_all()
        problems = [CheckpointProblem(p.path, p.message) for p in load_problems]
        for checkpoint in checkpoints:
            if checkpoint.state.is_terminal or checkpoint.upload_id in self._jobs:
                continue
            if checkpoint.state in ACTIVE_STATES:
                # Restoring, not a transition: the process that ran it is gone.
                checkpoint.state = S.PAUSED
            job = UploadJob(checkpoint, self._ctx, watch_password=watch_password)
            try:
                if checkpoint.md5:
                    checkpoint.check_file()
                else:
                    FileIdentity.of(checkpoint.path)
            except (FileChangedError, LocalFileError) as exc:
                problems.append(CheckpointProblem(self._store.path_for(job.upload_id), str(exc)))
                checkpoint.record_error(str(exc), "", exc)
                if checkpoint.state is not S.FAILED:
                    checkpoint.state = transition(checkpoint.state, S.FAILED)
                self._save_quietly(job)
                self._register(job)
                continue
            if start and checkpoint.state is S.PAUSED:
                checkpoint.state = transition(checkpoint.state, S.QUEUED)
            elif not start and checkpoint.state is S.QUEUED:
                checkpoint.state = transition(checkpoint.state, S.PAUSED)
            self._save_quietly(job)
            self._register(job)
        self._schedule()
        return problems

    def _register(self, job: UploadJob) -> None:
        self._jobs[job.upload_id] = job
        self._order.append(job.upload_id)
        self._marks[job.upload_id] = _ProgressMark()
        cp = job.cp
        self._emit(
            UploadAdded(
                upload_id=job.upload_id,
                path=str(cp.path),
                title=cp.title,
                size=cp.size,
                state=cp.state,
                position=self._order.index(job.upload_id),
            )
        )

    def _next_position(self) -> int:
        return max((job.cp.position for job in self._jobs.values()), default=-1) + 1

    def _save_quietly(self, job: UploadJob) -> None:
        try:
            self._store.save(job.cp)
        except LocalFileError as exc:
            self._emit(UploadLog(upload_id=job.upload_id, level="error", message=str(exc)))

    # --- control --------------------------------------------------------------------------

    def _job(self, upload_id: str) -> UploadJob:
        try:
            return self._jobs[upload_id]
        except KeyError:
            raise CheckpointError(f"no upload with id {upload_id!r}") from None

    def pause(self, upload_id: str) -> None:
        job = self._job(upload_id)
        if job.running:
            job.request_stop(S.PAUSED)
        elif job.state is S.QUEUED:
            job.set_state(S.PAUSED, "paused")
            self._schedule()

    def resume(self, upload_id: str) -> None:
        job = self._job(upload_id)
        self._ctx.login_blocked = False
        if job.state is S.PAUSED and not job.running:
            job.set_state(S.QUEUED, "resumed")
            self._schedule()

    def retry(self, upload_id: str, *, watch_password: str = "") -> None:
        """Queue a failed upload again (``watch_password`` for one that still needs it); a
        cancelled one starts over as a new Youku upload (its multipart upload was aborted,
        so nothing of the old session is reused)."""
        job = self._job(upload_id)
        self._ctx.login_blocked = False
        if watch_password:
            job._watch_password = watch_password
        if job.running:
            return
        if job.state is S.CANCELLED:
            if not self._start_over(job):
                return
        elif job.state is not S.FAILED:
            return
        job.retries = 0
        job.set_state(S.QUEUED, "retry")
        self._schedule()

    def _start_over(self, job: UploadJob) -> bool:
        """Take a cancelled upload back: a fresh session, the file as it is now (hashed
        again if it changed). False, with a log line, if its file is gone."""
        try:
            current = FileIdentity.of(job.cp.path)
        except LocalFileError as exc:
            self._emit(UploadLog(upload_id=job.upload_id, level="error", message=str(exc)))
            return False
        if job.cp.identity.differences(current):
            job.cp.identity, job.cp.md5 = current, ""
        job.start_over()
        job.cp.clear_error()
        return True

    async def cancel(self, upload_id: str) -> None:
        """Stop the upload, abort its multipart upload on OSS, mark it cancelled."""
        job = self._job(upload_id)
        if job.state.is_terminal:
            return
        if job.running and job.task is not None:
            job.request_stop(S.CANCELLED)
            with contextlib.suppress(asyncio.CancelledError):
                await job.task
        await job.cancel_cleanup()
        job.close()
        self._schedule()

    def move(self, upload_id: str, delta: int) -> None:
        """Move an upload ``delta`` places in the queue (negative = earlier)."""
        self._job(upload_id)
        index = self._order.index(upload_id)
        target = max(0, min(len(self._order) - 1, index + delta))
        if target == index:
            return
        self._order.insert(target, self._order.pop(index))
        self._renumber()
        self._emit(QueueOrder(order=list(self._order)))
        self._schedule()

    def _renumber(self) -> None:
        for position, uid in enumerate(self._order):
            job = self._jobs[uid]
            if job.cp.position != position:
                job.cp.position = position
                if not job.running:
                    self._save_quietly(job)

    def remove(self, upload_id: str) -> None:
        """Forget a done, failed or cancelled upload, and delete its checkpoint.

        Anything else is refused (pause or cancel it first): a checkpoint is what lets an
        unfinished upload resume. A done or cancelled upload of an earlier run is not loaded
        (only unfinished ones are); its checkpoint alone goes.
        """
        if upload_id not in self._jobs:
            self._remove_finished_checkpoint(upload_id)
            return
        job = self._job(upload_id)
        if job.running or job.state not in (S.DONE, S.FAILED, S.CANCELLED):
            raise CheckpointError(f"{upload_id} is {job.state}: cancel it before removing it")
        job.close()
        self._delete_checkpoint(upload_id)
        del self._jobs[upload_id]
        self._marks.pop(upload_id, None)
        self._order.remove(upload_id)
        self._emit(UploadRemoved(upload_id=upload_id))
        self._renumber()
        self._update_idle()

    def _remove_finished_checkpoint(self, upload_id: str) -> None:
        path = self._store.path_for(upload_id)
        if not path.is_file():
            raise CheckpointError(f"no upload with id {upload_id!r}")
        checkpoint = self._store.load(upload_id)
        if not checkpoint.state.is_terminal:  # unfinished: load it first, as resume does
            raise CheckpointError(
                f"{upload_id} is {checkpoint.state}: cancel it before removing it"
            )
        self._delete_checkpoint(upload_id)
        self._emit(UploadRemoved(upload_id=upload_id))

    def _delete_checkpoint(self, upload_id: str) -> None:
        try:
            self._store.path_for(upload_id).unlink(missing_ok=True)
        except OSError as exc:
            raise CheckpointError(
                f"cannot delete {upload_id}'s checkpoint: {exc.strerror}"
            ) from exc

    def pause_all(self) -> None:
        for upload_id in list(self._order):
            self.pause(upload_id)

    def resume_all(self) -> None:
        for upload_id in list(self._order):
            self.resume(upload_id)

    def logged_in_again(self) -> None:
        """A new login was given to the client: the uploads that failed on "not logged in"
        are retried and those that paused waiting for it resume. Uploads the user paused
        stay paused."""
        self._ctx.login_blocked = False
        for upload_id in list(self._order):
            job = self._jobs[upload_id]
            if job.running:
                continue
            if job.state is S.FAILED and job.cp.last_failure is FailureKind.NEEDS_LOGIN:
                self.retry(upload_id)
            elif job.state is S.PAUSED and job.waiting_for_login:
                self.resume(upload_id)
        self._schedule()

    def set_limits(
        self,
        *,
        max_uploads: int | None = None,
        max_parts: int | None = None,
        bandwidth: int | None = None,
    ) -> None:
        """Change the global limits while uploads run (None keeps a limit as it is)."""
        settings = self._ctx.settings
        if max_uploads is not None:
            settings = replace(settings, max_uploads=max(1, max_uploads))
        if max_parts is not None:  # 0: adapt to the path
            concurrency = self._ctx.concurrency
            concurrency.set_fixed(max_parts)
            settings = replace(settings, max_parts=concurrency.fixed)
        if bandwidth is not None:
            settings = replace(settings, bandwidth=max(0, bandwidth))
            self._ctx.bandwidth.set_rate(settings.bandwidth)
        self._ctx.settings = settings
        self._emit(
            LimitsChanged(
                max_uploads=settings.max_uploads,
                max_parts=settings.max_parts,
                bandwidth=settings.bandwidth,
            )
        )
        self._schedule()

    # --- views ----------------------------------------------------------------------------

    def snapshots(self) -> list[UploadSnapshot]:
        return [self._snapshot(self._jobs[uid], index) for index, uid in enumerate(self._order)]

    def snapshot(self, upload_id: str) -> UploadSnapshot:
        job = self._job(upload_id)
        return self._snapshot(job, self._order.index(upload_id))

    def _snapshot(self, job: UploadJob, index: int) -> UploadSnapshot:
        cp = job.cp
        return UploadSnapshot(
            upload_id=job.upload_id,
            path=str(cp.path),
            title=cp.title,
            size=cp.size,
            state=cp.state,
            bytes_done=job.bytes_done,
            bytes_in_flight=job.bytes_in_flight,
            waiting_for_bandwidth=job.waiting_for_bandwidth,
            hashed=cp.size if cp.md5 else job.hashed,
            parts_done=len(cp.parts),
            parts_total=job.parts_total,
            retries=job.retries,
            last_error=cp.last_error,
            last_error_code=cp.last_error_code,
            video_id=cp.video_id if cp.state is S.DONE else "",
            position=index,
            speed=self._marks.get(job.upload_id, _ProgressMark()).speed,
            md5=cp.md5,
            needs_password=job.needs_watch_password,
        )

    async def wait_idle(self) -> None:
        """Return once nothing is queued or running (done, failed, paused or cancelled)."""
        if self._idle is None:
            raise RuntimeError("use the engine as `async with UploadEngine(...)`")
        while True:
            await self._idle.wait()
            # A task finishing schedules the next one on the following loop turn.
            await asyncio.sleep(0)
            if self._is_idle():
                return

    # --- scheduling -----------------------------------------------------------------------

    @property
    def login_blocked(self) -> bool:
        """True while queued uploads wait for a new login (an upload met "not logged in")."""
        return self._ctx.login_blocked

    def _is_idle(self) -> bool:
        waiting = not self._ctx.login_blocked
        return not any(
            job.running or (waiting and job.state is S.QUEUED) for job in self._jobs.values()
        )

    def _update_idle(self) -> None:
        if self._idle is None:
            return
        if self._is_idle():
            self._idle.set()
        else:
            self._idle.clear()

    def _schedule(self) -> None:
        if self._closed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # not on the loop yet (add() before `async with`): started on entry
        running = sum(1 for job in self._jobs.values() if job.running)
        for upload_id in self._order if not self._ctx.login_blocked else ():
            if running >= self._ctx.settings.max_uploads:
                break
            job = self._jobs[upload_id]
            if job.state is S.QUEUED and not job.running:
                job.task = asyncio.create_task(job.run(), name=f"upload-{upload_id}")
                job.task.add_done_callback(functools.partial(self._on_job_done, job))
                running += 1
        self._update_idle()

    def _on_job_done(self, job: UploadJob, _task: object = None) -> None:
        self._report_progress(force=True)
        if job.state.is_terminal:
            job.close()  # releases the lock; the OSS session is no longer needed
        if job.state is S.FAILED and job.cp.last_failure is FailureKind.NEEDS_LOGIN:
            self._emit(
                UploadLog(
                    level="error",
                    message="not logged in: queued uploads wait - log in again "
                    "(`youku-tui login`), then resume or retry",
                )
            )
        self._schedule()

    # --- events ---------------------------------------------------------------------------

    def _emit(self, event: EngineEvent) -> None:
        if isinstance(event, StateChanged):
            self._update_idle()
        try:
            self._sink(event)
        except Exception:  # a consumer's bug must not break the uploads
            log.exception("event sink failed on %s", event.kind)

    def _on_tokens(self, credentials: Credentials) -> None:
        expires_in = int(credentials.expires_at - time.time()) if credentials.expires_at else 0
        self._emit(TokenRefreshed(expires_in=max(0, expires_in)))

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            self._ctx.concurrency.tick()
            self._report_progress()

    def _report_progress(self, force: bool = False) -> None:
        now = time.monotonic()
        for upload_id, job in self._jobs.items():
            state = job.state
            in_flight = 0
            if state is S.HASHING:
                phase, done = "hashing", job.hashed
            elif state in (S.UPLOADING, S.COMMITTING) or (force and job.bytes_done):
                phase, done = "uploading", job.bytes_done
                in_flight = job.bytes_in_flight
            else:
                if (idle := self._marks.get(upload_id)) is not None:
                    idle.meter.reset()  # a pause is not slowness: measure afresh after it
                continue
            mark = self._marks.setdefault(upload_id, _ProgressMark())
            waiting = job.waiting_for_bandwidth  # a change is news even with no byte moved
            if mark.phase != phase:
                mark.meter.reset()
            # The speed is of bytes sent (confirmed or not): confirmations come a whole part
            # at a time and would make it jump.
            mark.meter.sample(now, done + in_flight)
            speed = round(mark.meter.speed(now), 1)
            same = (mark.phase, mark.done, mark.in_flight, mark.waiting)
            if same == (phase, done, in_flight, waiting) and not _speed_is_news(mark.speed, speed):
                continue
            mark.phase, mark.done, mark.in_flight, mark.speed = phase, done, in_flight, speed
            mark.waiting = waiting
            self._emit(
                Progress(
                    upload_id=upload_id,
                    phase=phase,
                    done=done,
                    in_flight=in_flight,
                    total=job.cp.size,
                    speed=speed,
                    parts_done=len(job.cp.parts),
                    parts_total=job.parts_total,
                    waiting_for_bandwidth=waiting,
                )
            )

    # Accessors for the runtime and tests.
    @property
    def store(self) -> CheckpointStore:
        return self._store
