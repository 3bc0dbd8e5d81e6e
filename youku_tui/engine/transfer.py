"""The OSS side of an upload, over oss2: blocking calls, meant to run in worker threads.

- :class:`StsBox` holds the current STS credentials and is the credentials provider of an
  ``oss2.ProviderAuth``, so renewed credentials apply to the very next request without
  rebuilding anything or restarting the upload.
- :class:`SliceReader` streams one part straight from the file (``os.pread``, no whole part in
  memory), paying the bandwidth limiter, counting bytes for progress and computing the CRC-64
  as ``requests`` sends it; a stop request raises :class:`TransferStopped` mid-part.
- :class:`OssTarget` wraps the calls an upload needs and turns oss2's exceptions into
  :mod:`youku_tui.errors` classes (credentials / transient / integrity / gone / other).

oss2 runs with ``enable_crc=False``: we check CRCs ourselves, and also when the server leaves
the header out (oss2 then skips its check silently).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from xml.etree import ElementTree

import oss2
import oss2.exceptions
from oss2.models import PartInfo

from youku_tui.api.models import StsCredentials
from youku_tui.engine.hashing import crc64
from youku_tui.engine.limits import Bandwidth
from youku_tui.engine.oss_access import oss2_internal, signer_for
from youku_tui.errors import (
    LocalFileError,
    OssCredentialsError,
    OssError,
    OssIntegrityError,
    OssTransientError,
    OssUploadGoneError,
)
from youku_tui.net import ServerClock

READ_CHUNK = 1024 * 1024  # bytes per read/send: big enough for speed, small for pause latency
MIN_CHUNK = 64 * 1024
CHUNK_BUDGET = 8 * 1024 * 1024  # chunks held by all parts in flight together (memory)
LIMITED_CHUNK = 128 * 1024  # smaller under a bandwidth cap, so the rate is smooth
CREDENTIAL_CODES = frozenset({"SecurityTokenExpired", "InvalidAccessKeyId", "InvalidSecurityToken"})
# The refusal's Date header taught the clock the server's time: the next try signs with it.
CLOCK_CODES = frozenset({"RequestTimeTooSkewed"})
INTEGRITY_CODES = frozenset({"InvalidDigest", "BadDigest", "InvalidPart", "InvalidPartOrder"})
CONNECT_TIMEOUT = 30.0


class TransferStopped(Exception):
    """The upload was paused or cancelled while a part was on its way."""


class StsBox:
    """Current STS credentials, shared by every thread of one upload (oss2 provider API)."""

    def __init__(self, sts: StsCredentials) -> None:
        self._lock = threading.Lock()
        self._sts = sts
        self.generation = 0  # bumped on each renewal: a failure seen by an older one is stale

    @property
    def sts(self) -> StsCredentials:
        with self._lock:
            return self._sts

    def update(self, sts: StsCredentials) -> None:
        with self._lock:
            self._sts = sts
            self.generation += 1

    def get_credentials(self) -> oss2.credentials.Credentials:  # called by oss2 per request
        sts = self.sts
        return oss2.credentials.Credentials(
            sts.access_key_id, sts.access_key_secret, sts.security_token
        )


class SliceReader:
    """An iterable of chunks over ``size`` bytes at ``offset``; ``len()`` is its size.

    ``requests`` sends an iterable with a length as a fixed Content-Length body, one chunk per
    socket write, so a part never sits whole in memory. Create a new reader per attempt.
    """

    def __init__(
        self,
        fd: int,
        offset: int,
        size: int,
        *,
        bandwidth: Bandwidth,
        stop: threading.Event,
        on_bytes: Callable[[int], None],
        priority: tuple[int, ...] = (),
        chunk: int = READ_CHUNK,
    ) -> None:
        self._fd = fd
        self._chunk = chunk
        self._priority = priority  # who gets a capped bandwidth first: (queue position, part)
        self._offset = offset
        self._size = size
        self._bandwidth = bandwidth
        self._stop = stop
        self._on_bytes = on_bytes
        self.crc = 0
        self.sent = 0

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[bytes]:
        position = self._offset
        end = self._offset + self._size
        while position < end:
            if self._stop.is_set():
                raise TransferStopped
            chunk = min(LIMITED_CHUNK, self._chunk) if self._bandwidth.rate else self._chunk
            try:
                data = os.pread(self._fd, min(chunk, end - position), position)
            except OSError as exc:
                raise LocalFileError(f"cannot read the video file: {exc.strerror}") from exc
            if not data:
                raise LocalFileError("the video file got shorter during the upload")
            if not self._bandwidth.take(len(data), self._stop.is_set, self._priority):
                raise TransferStopped
            self.crc = crc64(data, self.crc)
            yield data
            # Counted once the socket took the chunk (requests asks for the next one only
            # then), so progress does not run a chunk ahead of what was really sent.
            position += len(data)
            self.sent += len(data)
            self._on_bytes(len(data))


def chunk_for(parts_in_flight: int) -> int:
    """Bytes per read and send when that many parts are in flight: memory stays bounded."""
    return max(MIN_CHUNK, min(READ_CHUNK, CHUNK_BUDGET // max(1, parts_in_flight)))


@dataclass(frozen=True, slots=True)
class StoredPart:
    """A part as OSS reports it (upload answer or ListParts)."""

    number: int
    size: int
    etag: str
    crc64: int | None  # ours after an upload (checked); ListParts' (None when not sent)
    server_crc: int | None = None  # what the upload answer said, when it said


def classify(exc: Exception, what: str) -> OssError:
    """Turn an oss2 exception into one of ours; the message never holds a credential."""
    if isinstance(exc, OssError):
        return exc
    if isinstance(exc, oss2.exceptions.RequestError):
        return OssTransientError(f"{what}: connection problem ({_short(exc.exception)})")
    if isinstance(exc, ValueError):  # oss2 could not parse the answer (a garbage header)
        return OssTransientError(f"{what}: malformed answer ({_short(exc)})")
    if not isinstance(exc, oss2.exceptions.OssError):
        return OssError(f"{what}: {type(exc).__name__}: {exc}")
    status = int(exc.status)
    code = str(getattr(exc, "code", "") or "")
    request_id = str(exc.request_id or "")
    detail = f"{what}: OSS answered {status} {code}".rstrip()
    ec = str(getattr(exc, "ec", "") or "")
    if ec:
        detail += f" (EC {ec})"  # OSS's exact cause, searchable in its documentation
    cls: type[OssError] = OssError
    if code in CREDENTIAL_CODES:
        cls, detail = OssCredentialsError, f"{detail} (credentials need renewing)"
    elif code == "NoSuchUpload":
        cls, detail = OssUploadGoneError, f"{detail} (the multipart upload is gone)"
    elif code in INTEGRITY_CODES:
        cls = OssIntegrityError
    elif code in CLOCK_CODES:
        cls, detail = OssTransientError, f"{detail} (clocks differ: signing with the server's)"
    elif status >= 500 or status in (408, 429) or status < 0 or code == "RequestTimeout":
        # RequestTimeout (400): OSS gave up on a body that stalled (a slow link, or a part
        # held back by the bandwidth cap); sending it again is the documented remedy.
        cls = OssTransientError
    return cls(detail, status=status, code=code, request_id=request_id)


def _short(exc: object) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:157] + "..."


class OssTarget:
    """One object in one bucket, reached with the credentials in ``box`` over ``session``
    (the engine's: its connections outlive this target)."""

    def __init__(
        self,
        box: StsBox,
        bucket: str,
        key: str,
        *,
        session: oss2.Session,
        clock: ServerClock | None = None,
    ) -> None:
        self.box = box
        self.bucket_name = bucket
        self.key = key
        self._session = session
        self._clock = clock or ServerClock()  # the servers' time, for signatures
        self._lock = threading.Lock()
        self._bucket: oss2.Bucket | None = None
        self._endpoint = ""

    def _current_bucket(self) -> oss2.Bucket:
        # The endpoint may change with a renewal (rare); the credentials are read per request.
        endpoint = self.box.sts.endpoint_url
        with self._lock:
            if self._bucket is None or endpoint != self._endpoint:
                auth, region = signer_for(self.box, endpoint, self._clock)
                self._bucket = oss2.Bucket(
                    auth,
                    endpoint,
                    self.bucket_name,
                    region=region,
                    session=self._session,
                    connect_timeout=CONNECT_TIMEOUT,
                    enable_crc=False,
                    app_name="youku-tui",
                )
                self._endpoint = endpoint
            return self._bucket

    # --- calls ----------------------------------------------------------------------------

    def put_object(self, reader: SliceReader) -> StoredPart:
        try:
            result = self._current_bucket().put_object(self.key, reader)
        except (oss2.exceptions.OssError, OssError, ValueError) as exc:
            raise classify(exc, "PutObject") from exc
        return self._checked(1, reader, result.etag, result.crc, "PutObject")

    def init_multipart(self) -> str:
        try:
            return str(self._current_bucket().init_multipart_upload(self.key).upload_id)
        except (oss2.exceptions.OssError, ValueError) as exc:
            raise classify(exc, "InitiateMultipartUpload") from exc

    def upload_part(self, upload_id: str, number: int, reader: SliceReader) -> StoredPart:
        try:
            result = self._current_bucket().upload_part(self.key, upload_id, number, reader)
        except (oss2.exceptions.OssError, OssError, ValueError) as exc:
            raise classify(exc, f"UploadPart {number}") from exc
        return self._checked(number, reader, result.etag, result.crc, f"part {number}")

    @staticmethod
    def _checked(
        number: int, reader: SliceReader, etag: str | None, crc: int | None, what: str
    ) -> StoredPart:
        if reader.sent != len(reader):
            raise OssTransientError(f"{what}: only {reader.sent} of {len(reader)} bytes were sent")
        if crc is not None and crc != reader.crc:
            raise OssIntegrityError(
                f"{what}: CRC-64 mismatch (sent {reader.crc:016x}, OSS stored {crc:016x})"
            )
        if not etag:
            raise OssTransientError(f"{what}: OSS answered without an ETag")
        return StoredPart(
            number=number, size=len(reader), etag=etag, crc64=reader.crc, server_crc=crc
        )

    def list_parts(self, upload_id: str) -> dict[int, StoredPart]:
        """Every stored part, 1,000 per request (oss2's resumable_upload asks for one).

        oss2's parser drops ``HashCrc64ecma``, so we read the XML ourselves through the
        bucket's signed ``_do`` call (an oss2 internal, see ``oss_access.OSS2_INTERNALS``).
        """
        bucket = self._current_bucket()
        signed_call = oss2_internal(bucket, oss2.Bucket, "_do")
        parts: dict[int, StoredPart] = {}
        marker = ""
        for _ in range(100):  # 10,000 parts at most: 10 pages; the cap guards a looping server
            try:
                resp = signed_call(
                    "GET",
                    bucket.bucket_name,
                    self.key,
                    params={
                        "uploadId": upload_id,
                        "part-number-marker": marker,
                        "max-parts": "1000",
                    },
                )
                body = resp.read()
            except oss2.exceptions.OssError as exc:
                raise classify(exc, "ListParts") from exc
            page, truncated, marker = _parse_list_parts(body)
            parts.update(page)
            if not truncated or not marker:
                return parts
        raise OssTransientError("ListParts: the server kept paging past 10,000 parts")

    def complete(self, upload_id: str, parts: list[tuple[int, str]]) -> int | None:
        """Complete with the recorded ETags; return the object's CRC-64 if OSS sent it."""
        infos = [PartInfo(number, etag) for number, etag in parts]
        try:
            result = self._current_bucket().complete_multipart_upload(self.key, upload_id, infos)
        except (oss2.exceptions.OssError, ValueError) as exc:
            raise classify(exc, "CompleteMultipartUpload") from exc
        return None if result.crc is None else _header_int(str(result.crc), "CRC-64")

    def head_crc(self) -> int | None:
        return self.head()[1]

    def head(self) -> tuple[int, int | None]:
        """The stored object's size and CRC-64 (None when OSS did not say)."""
        try:
            meta = self._current_bucket().head_object(self.key)
        except (oss2.exceptions.OssError, ValueError) as exc:
            raise classify(exc, "HeadObject") from exc
        return (
            _header_int(meta.headers.get("content-length"), "Content-Length") or 0,
            _header_int(meta.headers.get("x-oss-hash-crc64ecma"), "x-oss-hash-crc64ecma"),
        )

    def abort(self, upload_id: str) -> None:
        try:
            self._current_bucket().abort_multipart_upload(self.key, upload_id)
        except oss2.exceptions.OssError as exc:
            error = classify(exc, "AbortMultipartUpload")
            if isinstance(error, OssUploadGoneError):
                return  # already gone: that is what we wanted
            raise error from exc


def _parse_list_parts(body: bytes) -> tuple[dict[int, StoredPart], bool, str]:
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - our own OSS endpoint's answer
        parts: dict[int, StoredPart] = {}
        for node in root.findall("Part"):
            number = int(node.findtext("PartNumber") or "0")
            crc_text = (node.findtext("HashCrc64ecma") or "").strip()
            parts[number] = StoredPart(
                number=number,
                size=int(node.findtext("Size") or "-1"),
                etag=(node.findtext("ETag") or "").strip('"'),
                crc64=int(crc_text) if crc_text else None,
            )
        truncated = (root.findtext("IsTruncated") or "false").strip().lower() == "true"
        marker = (root.findtext("NextPartNumberMarker") or "").strip()
    except (ElementTree.ParseError, ValueError) as exc:
        raise OssTransientError(f"ListParts: unreadable answer ({exc})") from exc
    return parts, truncated, marker


def _header_int(value: str | None, name: str) -> int | None:
    """A numeric header of an OSS answer; garbage is the server's fault (transient)."""
    if not value:
        return None
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 20:  # isdigit alone takes "²"
        raise OssTransientError(f"OSS answered a malformed {name} header")
    return int(text)


def same_etag(a: str, b: str) -> bool:
    return a.strip('"').lower() == b.strip('"').lower()
