"""The file's bytes on OSS: one transfer to the upload's object, and what OSS already holds.

:class:`ObjectUpload` sends the file as one PutObject or as a multipart upload, resumes a
multipart upload from what ListParts says (dropping parts OSS lacks, adopting parts it holds
that the checkpoint missed), completes it and checks the whole object's CRC-64, and finds an
object already complete (the process stopped between Complete and saving its answer) instead
of sending it again. It keeps the count of bytes OSS confirmed, and owns the one rule for an
integrity refusal: the whole file is sent again, once per upload.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable

from youku_tui.engine.checkpoint import Checkpoint, PartRecord
from youku_tui.engine.context import EngineContext
from youku_tui.engine.hashing import combine_part_crcs, slice_checksums
from youku_tui.engine.oss_calls import OssCalls, PartSender
from youku_tui.engine.parts import PartPlan
from youku_tui.engine.source import SharedFile
from youku_tui.engine.sts import StsSession
from youku_tui.engine.transfer import StoredPart, same_etag
from youku_tui.errors import (
    OssError,
    OssIntegrityError,
    OssUploadGoneError,
    YoukuTuiError,
)

# Seconds between HEADs while a Complete whose answer was lost may still be assembling the
# object (OSS answers a retried Complete NoSuchUpload meanwhile).
COMPLETE_WAITS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


class ObjectUpload:
    """Sends ``cp``'s file to its OSS object through ``calls``, on ``sts``'s credentials.

    ``log(level, message)`` reports to the user; ``save_now`` / ``save_soon`` save the
    checkpoint at once or coalesced (parts finishing together).
    """

    def __init__(
        self,
        cp: Checkpoint,
        ctx: EngineContext,
        sts: StsSession,
        calls: OssCalls,
        *,
        log: Callable[[str, str], None],
        save_now: Callable[[], None],
        save_soon: Callable[[], None],
    ) -> None:
        self._cp = cp
        self._ctx = ctx
        self._sts = sts
        self._calls = calls
        self._log = log
        self._save_now = save_now
        self._save_soon = save_soon
        # Bytes OSS confirmed (the recorded parts' sizes), kept as a running sum: progress
        # reads it several times a second and a file may have 10,000 parts.
        self.confirmed = sum(p.size for p in cp.parts.values())

    def forget(self) -> None:
        """Start the transfer from scratch: no multipart upload, no parts, nothing confirmed."""
        self._cp.forget_transfer()
        self.confirmed = 0

    async def send(
        self, *, stop: threading.Event, inflight: dict[int, int], reused_session: bool
    ) -> None:
        """Send what OSS lacks of the file, until the object is complete and checked.

        ``stop`` and ``inflight`` are the job's current run's; ``reused_session`` says the
        upload session came from the checkpoint, so a single-part object may be there already.
        """
        cp = self._cp
        await self._sts.target_for_transfer()
        shared = SharedFile.open(cp)
        parts = PartSender(
            cp=cp,
            ctx=self._ctx,
            calls=self._calls,
            plan=PartPlan(cp.size, cp.part_size),
            shared=shared,
            stop=stop,
            inflight=inflight,
        )
        renewal = asyncio.create_task(self._sts.renewal_loop(), name=f"sts-{cp.upload_id}")
        try:
            if parts.plan.multipart:
                await self._multipart(parts)
            else:
                await self._single(parts, reused_session)
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            shared.release()
        self._save_now()

    async def start_again_once(self, refusal: YoukuTuiError) -> bool:
        """After an integrity refusal (OSS's CRC-64 of the completed object, or Youku's MD5
        check at commit), forget the transfer so the whole file is sent again, and abort the
        multipart upload. True the first time; False when this upload already had its second
        chance (the checkpoint remembers), and the caller fails it."""
        cp = self._cp
        if cp.integrity_retry_used:
            return False
        cp.integrity_retry_used = True
        self._log("warning", f"{refusal.message}: sending the whole file again, once")
        await self.abort_quietly()
        self.forget()
        return True

    async def abort_quietly(self) -> None:
        """Abort the multipart upload if there is one; a failure only costs OSS some space."""
        upload_id = self._cp.multipart_upload_id
        if not upload_id or not self._cp.upload_token:
            return
        try:
            target = await self._sts.target("cancelling")
            await self._calls.call(lambda: target.abort(upload_id))
        except YoukuTuiError as exc:
            self._log("warning", f"could not abort the multipart upload: {exc}")

    # --- one part, or many ----------------------------------------------------------------

    async def _single(self, parts: PartSender, reused_session: bool) -> None:
        target = self._sts.current_target()
        if reused_session and await self._adopt_stored_object(parts.shared):
            return
        stored = await parts.send(1, target.put_object)
        if stored.server_crc is None:  # not in the answer: ask for it
            _allowed, server_crc = await self._head_crc()
            self._check_object_crc(stored.crc64 or 0, server_crc, "PutObject")
        self._cp.parts = {1: _record(stored)}
        self.confirmed = stored.size
        self._cp.object_crc64 = stored.crc64

    async def _multipart(self, parts: PartSender) -> None:
        cp = self._cp
        plan = parts.plan
        target = self._sts.current_target()
        if cp.multipart_upload_id and await self._reconcile(parts):
            return  # the object was already complete
        if not cp.multipart_upload_id:
            self.forget()
            cp.multipart_upload_id = await self._calls.call(target.init_multipart)
            self._save_now()
        upload_id = cp.multipart_upload_id
        pending = [n for n in range(1, plan.count + 1) if n not in cp.parts]
        queue: asyncio.Queue[int] = asyncio.Queue()
        for number in pending:
            queue.put_nowait(number)

        async def worker() -> None:
            while not queue.empty():
                number = queue.get_nowait()
                call = functools.partial(target.upload_part, upload_id, number)
                stored = await parts.send(number, call)
                cp.parts[number] = _record(stored)
                self.confirmed += stored.size
                self._save_soon()

        count = min(len(pending), self._ctx.concurrency.ceiling)  # the slots decide who sends
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
            if not await self.start_again_once(exc):
                raise
            self._save_now()
            await self._multipart(parts)

    async def _complete(self, plan: PartPlan) -> None:
        cp = self._cp
        target = self._sts.current_target()
        records = [cp.parts[n] for n in range(1, plan.count + 1)]
        expected = combine_part_crcs([(p.crc64, p.size) for p in records])
        listing = [(p.number, p.etag) for p in records]
        upload_id = cp.multipart_upload_id
        try:
            server_crc = await self._calls.call(lambda: target.complete(upload_id, listing))
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

    # --- what OSS already holds -----------------------------------------------------------

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

    async def _adopt_stored_object(self, shared: SharedFile) -> bool:
        """True when OSS already holds this very file at the object (and it is recorded so).

        The object can be complete while the checkpoint says otherwise: the process stopped,
        or the disk was full, between Complete (or PutObject) and saving its answer. A HEAD
        whose size and CRC-64 match the local file's proves it; reading the file costs far
        less than sending it again.
        """
        cp = self._cp
        target = self._sts.current_target()
        try:
            size, server_crc = await self._calls.call(target.head)
        except OssError:
            return False  # no such object (the usual case), or OSS will not say
        if size != cp.size or server_crc is None:
            return False
        local_crc, local_md5 = await self._ctx.in_thread(slice_checksums, shared.fd, 0, cp.size)
        if local_crc != server_crc or local_md5 != cp.md5:
            return False
        cp.object_crc64 = local_crc
        cp.multipart_upload_id = ""
        self.confirmed = cp.size
        self._log("info", "OSS already holds the whole file (found by HEAD); not sending it again")
        return True

    async def _head_crc(self) -> tuple[bool, int | None]:
        """(allowed, CRC-64) of the stored object; (False, None) where the STS policy
        refuses HeadObject (Youku's may grant PutObject and the multipart calls only)."""
        target = self._sts.current_target()
        try:
            return True, await self._calls.call(target.head_crc)
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

    async def _reconcile(self, parts: PartSender) -> bool:
        """Check recorded parts against ListParts; adopt parts stored but not recorded.

        A recorded part that OSS lacks or holds with another size, ETag or CRC is dropped (it
        will be sent again). A part OSS holds that we never recorded (the process died before
        saving) is adopted when its size and its CRC-64 (or ETag = MD5) match the local bytes.
        Returns True when the object turns out to be complete already.
        """
        cp = self._cp
        plan = parts.plan
        target = self._sts.current_target()
        try:
            remote = await self._calls.call(lambda: target.list_parts(cp.multipart_upload_id))
        except OssUploadGoneError:
            if await self._adopt_stored_object(parts.shared):
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
            self.forget()
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
            crc, md5 = await self._ctx.in_thread(slice_checksums, parts.shared.fd, offset, size)
            if stored.crc64 is not None:
                matches = stored.crc64 == crc
            else:
                matches = same_etag(stored.etag, md5)
            if matches:
                cp.parts[number] = PartRecord(number, size, stored.etag, crc)
                adopted += 1
        self.confirmed = sum(p.size for p in cp.parts.values())
        if dropped or adopted:
            self._log(
                "info",
                f"resume check: {dropped} recorded part(s) to send again, "
                f"{adopted} stored part(s) adopted",
            )
        self._save_now()
        return False


def _record(stored: StoredPart) -> PartRecord:
    assert stored.crc64 is not None
    return PartRecord(stored.number, stored.size, stored.etag, stored.crc64)
