"""The OSS side: the object and multipart calls oss2 and alibabacloud-oss-v2 make to upload.

Every request is authenticated against the STS grants the Youku side handed out (V1 or V4,
in headers or a signed URL), must carry the grant's security token, and may touch only the
grant's bucket and object. Errors are OSS's ``<Error>`` XML with the real codes and statuses.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from email.utils import formatdate
from functools import partial
from pathlib import Path
from typing import BinaryIO, TypeVar
from urllib.parse import quote

from aiohttp import web

from youku_tui.sandbox import xml
from youku_tui.sandbox.assembly import Assembly
from youku_tui.sandbox.bodies import ReceivedBody, Throttle, discard, receive_to_file
from youku_tui.sandbox.signatures import AuthFormatError, WireRequest, read_claim, verify
from youku_tui.sandbox.store import (
    MultipartUpload,
    ObjectInfo,
    PartInfo,
    Store,
    StsGrant,
    md5_etag,
    new_upload_id,
)

KIB = 1024
MIN_PART_SIZE = 100 * KIB  # every part but the last must be at least this big
MAX_PART_NUMBER = 10_000
MAX_OBJECT_SIZE = 5 * 1024**3  # PutObject and UploadPart refuse bigger bodies
MAX_COMPLETE_BODY = 4 * 1024 * 1024
COPY_CHUNK = 1024 * 1024

ROUTE_PUT = "oss.put_object"
ROUTE_INITIATE = "oss.initiate"
ROUTE_UPLOAD_PART = "oss.upload_part"
ROUTE_LIST_PARTS = "oss.list_parts"
ROUTE_COMPLETE = "oss.complete"
ROUTE_ABORT = "oss.abort"
ROUTE_LIST_UPLOADS = "oss.list_uploads"
ROUTE_HEAD = "oss.head"
ROUTE_GET = "oss.get"
ROUTE_DELETE = "oss.delete"
ROUTE_UNSUPPORTED = "oss.unsupported"

NO_RIGHT = "You have no right to access this object."
log = logging.getLogger(__name__)
_T = TypeVar("_T")


def new_request_id() -> str:
    return secrets.token_hex(12).upper()


def iso_millis(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(when))


@dataclass
class OssError(Exception):
    """An answer in OSS's error format."""

    status: int
    code: str
    message: str
    details: dict[str, str] = field(default_factory=dict)


def no_such_upload() -> OssError:
    return OssError(
        404,
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, "
        "or the upload may have been aborted or completed.",
    )


def status_error(status: int) -> OssError:
    """The error OSS would give with ``status`` (for injected faults)."""
    known = {
        400: ("InvalidArgument", "Injected fault."),
        403: ("AccessDenied", NO_RIGHT),
        404: ("NoSuchKey", "The specified key does not exist."),
        409: ("OperationConflict", "Injected fault."),
        429: ("QpsLimitExceeded", "Please reduce your request rate."),
        500: ("InternalError", "We encountered an internal error. Please try again."),
        502: ("BadGateway", "Injected fault."),
        503: ("ServiceUnavailable", "Please reduce your request rate."),
        504: ("GatewayTimeout", "Injected fault."),
    }
    code, message = known.get(
        status, ("InternalError" if status >= 500 else "InvalidArgument", "Injected fault.")
    )
    return OssError(status, code, message)


def route_of(method: str, bucket: str, key: str, query: Mapping[str, str]) -> str:
    """The contract's route name of an OSS request."""
    if bucket and not key:
        if method == "GET" and "uploads" in query:
            return ROUTE_LIST_UPLOADS
        return ROUTE_UNSUPPORTED
    if not bucket:
        return ROUTE_UNSUPPORTED
    if method == "PUT":
        if "partNumber" in query and "uploadId" in query:
            return ROUTE_UPLOAD_PART
        return ROUTE_PUT
    if method == "POST":
        if "uploads" in query:
            return ROUTE_INITIATE
        if "uploadId" in query:
            return ROUTE_COMPLETE
        return ROUTE_UNSUPPORTED
    if method == "GET":
        return ROUTE_LIST_PARTS if "uploadId" in query else ROUTE_GET
    if method == "HEAD":
        return ROUTE_HEAD
    if method == "DELETE":
        return ROUTE_ABORT if "uploadId" in query else ROUTE_DELETE
    return ROUTE_UNSUPPORTED


@dataclass(frozen=True, slots=True)
class OssCall:
    request: web.Request
    route: str
    bucket: str
    key: str
    request_id: str
    throttle: Throttle | None


class OssService:
    """Handles OSS calls against the store; lives on the server's event loop."""

    def __init__(
        self,
        store: Store,
        io: Executor,
        grant_for: Callable[[str], StsGrant | None],
        endpoint: Callable[[], str],
    ) -> None:
        # Part numbers per upload id in the order their requests arrived (for tests).
        self.part_log: dict[str, list[int]] = {}
        self.assemblies: dict[str, Assembly] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.store = store
        self.io = io
        self.grant_for = grant_for
        self.endpoint = endpoint

    # --- entry point ---------------------------------------------------------------------

    async def handle(self, call: OssCall) -> web.StreamResponse:
        try:
            grant = self.authenticate(call)
            self.authorize(call, grant)
            return await self._dispatch(call, grant)
        except OssError as error:
            if call.request.can_read_body:
                length = call.request.content_length
                # Drain what the client is sending so it sees the answer rather than a reset,
                # unless it announced a body too large to be worth reading.
                if length is None or length <= MAX_OBJECT_SIZE:
                    await discard(call.request)
            return self.error_response(call, error)
        except ConnectionError:
            raise  # the client left; the server's handler treats that as routine
        except OSError as exc:
            # The sandbox's own disk failed (full, removed folder): OSS's answer is a 500.
            log.error("%s failed: %s", call.route, exc)
            internal = OssError(500, "InternalError", "We encountered an internal error.")
            return self.error_response(call, internal)

    def error_response(self, call: OssCall, error: OssError) -> web.Response:
        host = call.request.host.split(":")[0]
        nodes: list[xml.Node] = [
            ("Code", error.code),
            ("Message", error.message),
            ("RequestId", call.request_id),
            ("HostId", f"{call.bucket}.{host}" if call.bucket else host),
        ]
        nodes += [(name, value) for name, value in error.details.items()]
        body = xml.render(("Error", nodes))
        headers = self.common_headers(call)
        if call.request.method == "HEAD":
            # HEAD answers carry no body; OSS puts the error XML, base64, in a header.
            headers["x-oss-err"] = base64.b64encode(body).decode()
            return web.Response(status=error.status, headers=headers)
        headers["Content-Type"] = "application/xml"
        return web.Response(status=error.status, body=body, headers=headers)

    @staticmethod
    def common_headers(call: OssCall) -> dict[str, str]:
        return {"x-oss-request-id": call.request_id, "Server": "AliyunOSS"}

    # --- security ------------------------------------------------------------------------

    def authenticate(self, call: OssCall) -> StsGrant:
        request = call.request
        wire = WireRequest(
            method=request.method,
            bucket=call.bucket,
            key=call.key,
            query=list(request.query.items()),
            headers=request.headers,
        )
        try:
            claim = read_claim(wire)
        except AuthFormatError as exc:
            raise OssError(
                400, "InvalidArgument", f"Authorization header is invalid: {exc}"
            ) from exc
        if claim is None:
            raise OssError(
                403,
                "AccessDenied",
                "You have no right to access this object because of bucket acl.",
            )
        grant = self.grant_for(claim.access_key_id)
        if grant is None:
            raise OssError(
                403,
                "InvalidAccessKeyId",
                "The OSS Access Key Id you provided does not exist in our records.",
                {"OSSAccessKeyId": claim.access_key_id},
            )
        # STS keys are only valid together with their token: a missing or different token
        # makes the request invalid before its signature is even looked at.
        if not claim.security_token or not hmac.compare_digest(
            claim.security_token.encode(), grant.security_token.encode()
        ):
            raise OssError(
                403, "InvalidSecurityToken", "The security token you provided is invalid."
            )
        if grant.expires_at <= time.time():
            raise OssError(
                403, "SecurityTokenExpired", "The security token you provided has expired."
            )
        verdict = verify(claim, wire, grant.secret)
        if not verdict.ok:
            details = {
                "SignatureProvided": claim.signature,
                "StringToSign": verdict.string_to_sign,
                "OSSAccessKeyId": claim.access_key_id,
            }
            if verdict.canonical_request:
                details["CanonicalRequest"] = verdict.canonical_request
            raise OssError(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you "
                "provided. Check your key and signing method.",
                details,
            )
        if verdict.problem:
            code = "RequestTimeTooSkewed" if "too large" in verdict.problem else "AccessDenied"
            raise OssError(403, code, verdict.problem)
        return grant

    @staticmethod
    def authorize(call: OssCall, grant: StsGrant) -> None:
        """An STS grant covers one bucket and, for object calls, one object."""
        if call.bucket != grant.bucket:
            raise OssError(403, "AccessDenied", NO_RIGHT, {"Bucket": call.bucket})
        if call.key and call.key != grant.key:
            raise OssError(403, "AccessDenied", NO_RIGHT)

    # --- routing -------------------------------------------------------------------------

    async def _dispatch(self, call: OssCall, grant: StsGrant) -> web.StreamResponse:
        handlers = {
            ROUTE_PUT: self.put_object,
            ROUTE_INITIATE: self.initiate,
            ROUTE_UPLOAD_PART: self.upload_part,
            ROUTE_LIST_PARTS: self.list_parts,
            ROUTE_COMPLETE: self.complete,
            ROUTE_ABORT: self.abort,
            ROUTE_HEAD: self.head_object,
            ROUTE_GET: self.get_object,
            ROUTE_DELETE: self.delete_object,
        }
        if call.route == ROUTE_LIST_UPLOADS:
            return await self.list_uploads(call, grant)
        handler = handlers.get(call.route)
        if handler is None:
            raise OssError(501, "NotImplemented", "The sandbox does not implement this call.")
        return await handler(call)

    # --- helpers -------------------------------------------------------------------------

    async def _receive(self, call: OssCall) -> ReceivedBody:
        request = call.request
        length = request.content_length
        if length is None and request.headers.get("Transfer-Encoding", "") != "chunked":
            raise OssError(
                411, "MissingContentLength", "You must provide the Content-Length HTTP header."
            )
        if length is not None and length > MAX_OBJECT_SIZE:
            raise OssError(
                400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size."
            )
        expected_md5 = self._content_md5(request)
        body = await receive_to_file(request, self.store.new_temp_path(), self.io, call.throttle)
        if expected_md5 is not None and expected_md5 != body.md5:
            body.path.unlink(missing_ok=True)
            raise OssError(
                400,
                "InvalidDigest",
                "The Content-MD5 you specified did not match what we received.",
                {"Content-MD5": request.headers.get("Content-MD5", "")},
            )
        return body

    @staticmethod
    def _content_md5(request: web.Request) -> bytes | None:
        text = request.headers.get("Content-MD5")
        if text is None:
            return None
        try:
            digest = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != 16:
            raise OssError(400, "InvalidDigest", "The Content-MD5 you specified is not valid.")
        return digest

    def _upload(self, call: OssCall) -> MultipartUpload:
        upload_id = call.request.query.get("uploadId", "")
        upload = self.store.uploads.get(upload_id)
        if upload is None or upload.bucket != call.bucket or upload.key != call.key:
            raise no_such_upload()
        return upload

    async def _run(self, fn: Callable[[], _T]) -> _T:
        """Run blocking disk work on the disk threads."""
        return await asyncio.get_running_loop().run_in_executor(self.io, fn)

    def _encode_key(self, call: OssCall, key: str) -> str:
        if call.request.query.get("encoding-type") == "url":
            return quote(key, safe="/")
        return key

    # --- object calls --------------------------------------------------------------------

    async def put_object(self, call: OssCall) -> web.StreamResponse:
        body = await self._receive(call)
        info = ObjectInfo(
            bucket=call.bucket,
            key=call.key,
            size=body.size,
            md5_hex=body.md5_hex,
            crc64=body.crc64,
            etag=md5_etag(body.md5_hex),
            content_type=call.request.headers.get("Content-Type", "application/octet-stream"),
            last_modified=time.time(),
        )
        await self._run(lambda: self.store.install_object(body.path, info))
        self.store.objects[(info.bucket, info.key)] = info
        headers = self.common_headers(call)
        headers.update(
            {
                "ETag": info.etag,
                "x-oss-hash-crc64ecma": str(info.crc64),
                "Content-MD5": base64.b64encode(body.md5).decode(),
            }
        )
        return web.Response(status=200, headers=headers)

    def _object(self, call: OssCall) -> ObjectInfo:
        info = self.store.objects.get((call.bucket, call.key))
        if info is None:
            raise OssError(404, "NoSuchKey", "The specified key does not exist.", {"Key": call.key})
        return info

    def _object_headers(self, call: OssCall, info: ObjectInfo) -> dict[str, str]:
        headers = self.common_headers(call)
        headers.update(
            {
                "ETag": info.etag,
                "x-oss-hash-crc64ecma": str(info.crc64),
                "Last-Modified": formatdate(info.last_modified, usegmt=True),
                "Content-Type": info.content_type,
                "Accept-Ranges": "bytes",
                "x-oss-object-type": "Multipart" if "-" in info.etag else "Normal",
                "x-oss-storage-class": "Standard",
            }
        )
        return headers

    async def head_object(self, call: OssCall) -> web.StreamResponse:
        info = self._object(call)
        headers = self._object_headers(call, info)
        headers["Content-Length"] = str(info.size)
        return web.Response(status=200, headers=headers)

    async def get_object(self, call: OssCall) -> web.StreamResponse:
        info = self._object(call)
        start, end = 0, info.size - 1
        status = 200
        headers = self._object_headers(call, info)
        wanted = _parse_range(call.request.headers.get("Range", ""), info.size)
        if wanted is not None:
            start, end = wanted
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
        length = max(0, end - start + 1)
        headers["Content-Length"] = str(length)
        response = web.StreamResponse(status=status, headers=headers)
        await response.prepare(call.request)
        path = self.store.object_data_path(info.bucket, info.key)
        handle = await self._run(partial(_open_for_reading, path))
        try:
            await self._run(lambda: handle.seek(start))
            remaining = length
            step = call.throttle.chunk_size if call.throttle else COPY_CHUNK
            while remaining > 0:
                size = min(step, remaining)
                chunk = await self._run(partial(handle.read, size))
                if not chunk:
                    break
                if call.throttle:
                    await call.throttle.consume(len(chunk))
                await response.write(chunk)
                remaining -= len(chunk)
        finally:
            handle.close()
        await response.write_eof()
        return response

    async def delete_object(self, call: OssCall) -> web.StreamResponse:
        if self.store.objects.pop((call.bucket, call.key), None) is not None:
            await self._run(lambda: self.store.delete_object(call.bucket, call.key))
        return web.Response(status=204, headers=self.common_headers(call))

    # --- multipart -----------------------------------------------------------------------

    async def initiate(self, call: OssCall) -> web.StreamResponse:
        await discard(call.request)
        upload = MultipartUpload(
            upload_id=new_upload_id(),
            bucket=call.bucket,
            key=call.key,
            initiated=time.time(),
            content_type=call.request.headers.get("Content-Type", "application/octet-stream"),
        )
        await self._run(lambda: self.store.create_upload(upload))
        self.store.uploads[upload.upload_id] = upload
        nodes: list[xml.Node] = [
            ("Bucket", call.bucket),
            ("Key", self._encode_key(call, call.key)),
            ("UploadId", upload.upload_id),
        ]
        if call.request.query.get("encoding-type") == "url":
            nodes.append(("EncodingType", "url"))
        return self._xml_response(call, ("InitiateMultipartUploadResult", nodes))

    def _xml_response(
        self, call: OssCall, root: xml.Node, extra: Mapping[str, str] | None = None
    ) -> web.Response:
        headers = self.common_headers(call)
        headers["Content-Type"] = "application/xml"
        headers.update(extra or {})
        return web.Response(status=200, body=xml.render(root), headers=headers)

    async def upload_part(self, call: OssCall) -> web.StreamResponse:
        upload = self._upload(call)
        try:
            number = int(call.request.query.get("partNumber", ""))
        except ValueError:
            number = 0
        if not 1 <= number <= MAX_PART_NUMBER:
            raise OssError(
                400,
                "InvalidArgument",
                "Part number must be an integer between 1 and 10000, inclusive.",
            )
        self.part_log.setdefault(upload.upload_id, []).append(number)
        body = await self._receive(call)
        if self.store.uploads.get(upload.upload_id) is not upload or upload.completing:
            body.path.unlink(missing_ok=True)  # aborted or completed while the part streamed
            raise no_such_upload()
        part = PartInfo(number, body.size, body.md5_hex, body.crc64, time.time())
        await self._run(lambda: self.store.install_part(upload.upload_id, body.path, part))
        upload.parts[number] = part
        self._spawn(self._fold_ahead(upload))
        headers = self.common_headers(call)
        headers.update(
            {
                "ETag": part.etag,
                "x-oss-hash-crc64ecma": str(part.crc64),
                "Content-MD5": base64.b64encode(body.md5).decode(),
            }
        )
        return web.Response(status=200, headers=headers)

    async def list_parts(self, call: OssCall) -> web.StreamResponse:
        upload = self._upload(call)
        query = call.request.query
        max_parts = _int_param(query, "max-parts", 1000, 1, 1000)
        marker = _int_param(query, "part-number-marker", 0, 0, MAX_PART_NUMBER)
        after = sorted(n for n in upload.parts if n > marker)
        shown = after[:max_parts]
        truncated = len(after) > len(shown)
        nodes: list[xml.Node] = [
            ("Bucket", call.bucket),
            ("Key", self._encode_key(call, call.key)),
            ("UploadId", upload.upload_id),
            ("PartNumberMarker", str(marker)),
            ("NextPartNumberMarker", str(shown[-1]) if shown else ""),
            ("MaxParts", str(max_parts)),
            ("IsTruncated", "true" if truncated else "false"),
        ]
        if query.get("encoding-type") == "url":
            nodes.append(("EncodingType", "url"))
        for number in shown:
            part = upload.parts[number]
            nodes.append(
                (
                    "Part",
                    [
                        ("PartNumber", str(number)),
                        ("LastModified", iso_millis(part.last_modified)),
                        ("ETag", part.etag),
                        ("HashCrc64ecma", str(part.crc64)),
                        ("Size", str(part.size)),
                    ],
                )
            )
        return self._xml_response(call, ("ListPartsResult", nodes))

    async def abort(self, call: OssCall) -> web.StreamResponse:
        upload = self._upload(call)
        del self.store.uploads[upload.upload_id]
        assembly = self.assemblies.pop(upload.upload_id, None)
        if assembly is not None:
            async with assembly.lock:  # let a fold in progress finish before removing files
                pass
        await self._run(lambda: self.store.remove_upload(upload.upload_id))
        return web.Response(status=204, headers=self.common_headers(call))

    async def complete(self, call: OssCall) -> web.StreamResponse:
        upload = self._upload(call)
        request = call.request
        if (request.content_length or 0) > MAX_COMPLETE_BODY:
            raise OssError(400, "MalformedXML", "The XML you provided was not well-formed.")
        raw = await request.read()
        if request.headers.get("x-oss-complete-all", "").lower() == "yes":
            if raw.strip():
                raise OssError(
                    400, "InvalidArgument", "x-oss-complete-all must come without a body."
                )
            wanted = [xml.CompletePart(n, upload.parts[n].etag) for n in sorted(upload.parts)]
        else:
            try:
                wanted = xml.parse_complete_body(raw)
            except xml.MalformedXML as exc:
                raise OssError(
                    400, "MalformedXML", "The XML you provided was not well-formed."
                ) from exc
        if upload.completing:
            raise no_such_upload()
        parts = self._check_complete(upload, wanted)
        upload.completing = True
        try:
            info = await self._finish(upload, parts, request.headers.get("Content-Type", ""))
        except BaseException:
            upload.completing = False
            raise
        self.store.uploads.pop(upload.upload_id, None)
        self.assemblies.pop(upload.upload_id, None)
        self.store.objects[(info.bucket, info.key)] = info
        nodes: list[xml.Node] = []
        if request.query.get("encoding-type") == "url":
            nodes.append(("EncodingType", "url"))
        nodes += [
            ("Location", f"{self.endpoint()}/{call.bucket}/{quote(call.key, safe='/')}"),
            ("Bucket", call.bucket),
            ("Key", self._encode_key(call, call.key)),
            ("ETag", info.etag),
        ]
        return self._xml_response(
            call,
            ("CompleteMultipartUploadResult", nodes),
            {"ETag": info.etag, "x-oss-hash-crc64ecma": str(info.crc64)},
        )

    @staticmethod
    def _check_complete(upload: MultipartUpload, wanted: list[xml.CompletePart]) -> list[PartInfo]:
        if not wanted:
            raise OssError(400, "MalformedXML", "The XML you provided was not well-formed.")
        parts: list[PartInfo] = []
        previous = 0
        for item in wanted:
            if item.part_number <= previous:
                raise OssError(
                    400,
                    "InvalidPartOrder",
                    "The list of parts was not in "
                    "ascending order. Parts list must be specified in order by part "
                    "number.",
                )
            previous = item.part_number
            part = upload.parts.get(item.part_number)
            if part is None or item.etag.strip('"').upper() != part.md5_hex.upper():
                raise OssError(
                    400,
                    "InvalidPart",
                    "One or more of the specified parts could not be found or the specified "
                    "entity tag might not have matched the part's entity tag.",
                    {"PartNumber": str(item.part_number), "ETag": item.etag},
                )
            parts.append(part)
        for part in parts[:-1]:
            if part.size < MIN_PART_SIZE:
                raise OssError(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size.",
                    {
                        "PartNumber": str(part.number),
                        "ProposedSize": str(part.size),
                        "MinSizeAllowed": str(MIN_PART_SIZE),
                    },
                )
        return parts

    def _assembly(self, upload: MultipartUpload) -> Assembly:
        assembly = self.assemblies.get(upload.upload_id)
        if assembly is None:
            path = self.store.upload_dir(upload.upload_id) / "assembly.bin"
            assembly = self.assemblies[upload.upload_id] = Assembly(path)
            assembly.broken = True  # the file may hold a previous run's bytes
        return assembly

    def _spawn(self, coro: Coroutine[None, None, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def _fold_ahead(self, upload: MultipartUpload) -> None:
        """Append the parts that are next in sequence to the upload's assembly."""
        assembly = self._assembly(upload)
        if assembly.lock.locked():
            return  # the fold in progress picks the new part up (or Complete will)
        async with assembly.lock:
            try:
                if assembly.broken:
                    await self._run(assembly.reset)
                while self.store.uploads.get(upload.upload_id) is upload and not upload.completing:
                    part = upload.parts.get(assembly.next_number())
                    if part is None:
                        break
                    source = self.store.part_data_path(upload.upload_id, part.number)
                    await self._run(partial(assembly.append, part, source))
            except OSError:
                assembly.broken = True  # e.g. aborted meanwhile; Complete starts over

    async def _finish(
        self, upload: MultipartUpload, parts: list[PartInfo], content_type: str
    ) -> ObjectInfo:
        """Fold whatever the background has not, then install the object."""
        assembly = self._assembly(upload)
        async with assembly.lock:
            if not assembly.matches_prefix(parts):
                await self._run(assembly.reset)
            for part in parts[len(assembly.folded) :]:
                source = self.store.part_data_path(upload.upload_id, part.number)
                await self._run(partial(assembly.append, part, source))
            etag_md5 = hashlib.md5()  # noqa: S324 - OSS's multipart ETag is MD5 of part MD5s
            for part in parts:
                etag_md5.update(bytes.fromhex(part.md5_hex))
            info = ObjectInfo(
                bucket=upload.bucket,
                key=upload.key,
                size=assembly.size,
                md5_hex=assembly.md5.hexdigest(),
                crc64=assembly.crc.value,
                etag=f'"{etag_md5.hexdigest().upper()}-{len(parts)}"',
                content_type=content_type or upload.content_type,
                last_modified=time.time(),
            )

            def install() -> None:
                self.store.install_object(assembly.path, info)
                self.store.remove_upload(upload.upload_id)

            await self._run(install)
        return info

    async def list_uploads(self, call: OssCall, grant: StsGrant) -> web.StreamResponse:
        query = call.request.query
        prefix = query.get("prefix", "")
        delimiter = query.get("delimiter", "")
        key_marker = query.get("key-marker", "")
        id_marker = query.get("upload-id-marker", "")
        max_uploads = _int_param(query, "max-uploads", 1000, 1, 1000)
        # The STS grant only covers one object: list the uploads of that object only.
        candidates = sorted(
            (
                u
                for u in self.store.uploads.values()
                if u.bucket == call.bucket
                and u.key == grant.key
                and u.key.startswith(prefix)
                and not u.completing
            ),
            key=lambda u: (u.key, u.upload_id),
        )
        if key_marker:
            candidates = [
                u
                for u in candidates
                if u.key > key_marker
                or (u.key == key_marker and id_marker and u.upload_id > id_marker)
            ]
        uploads: list[MultipartUpload] = []
        prefixes: list[str] = []
        for upload in candidates:
            if len(uploads) + len(prefixes) >= max_uploads:
                break
            rest = upload.key[len(prefix) :]
            if delimiter and delimiter in rest:
                common = prefix + rest.split(delimiter, 1)[0] + delimiter
                if common not in prefixes:
                    prefixes.append(common)
                continue
            uploads.append(upload)
        truncated = len(uploads) + len(prefixes) < len(candidates) and bool(uploads)
        last = uploads[-1] if uploads else None
        nodes: list[xml.Node] = [
            ("Bucket", call.bucket),
            ("KeyMarker", self._encode_key(call, key_marker)),
            ("UploadIdMarker", id_marker),
            ("NextKeyMarker", self._encode_key(call, last.key) if last else ""),
            ("NextUploadIdMarker", last.upload_id if last else ""),
            ("Delimiter", delimiter),
            ("Prefix", self._encode_key(call, prefix)),
            ("MaxUploads", str(max_uploads)),
            ("IsTruncated", "true" if truncated else "false"),
        ]
        if query.get("encoding-type") == "url":
            nodes.append(("EncodingType", "url"))
        for upload in uploads:
            nodes.append(
                (
                    "Upload",
                    [
                        ("Key", self._encode_key(call, upload.key)),
                        ("UploadId", upload.upload_id),
                        ("StorageClass", "Standard"),
                        ("Initiated", iso_millis(upload.initiated)),
                    ],
                )
            )
        for common in prefixes:
            nodes.append(("CommonPrefixes", [("Prefix", self._encode_key(call, common))]))
        return self._xml_response(call, ("ListMultipartUploadsResult", nodes))


def _open_for_reading(path: Path) -> BinaryIO:
    return open(path, "rb")


def _int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = query.get(name, "")
    if not text:
        return default
    try:
        value = int(text)
    except ValueError as exc:
        raise OssError(400, "InvalidArgument", f"{name} must be an integer.") from exc
    if not low <= value <= high:
        raise OssError(400, "InvalidArgument", f"{name} must be between {low} and {high}.")
    return value


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """One ``bytes=a-b`` range, as OSS reads it: malformed ranges are ignored (whole object)."""
    if not header.startswith("bytes=") or "," in header:
        return None
    first, sep, last = header[6:].strip().partition("-")
    if not sep:
        return None
    try:
        if not first:
            count = int(last)
            if count <= 0:
                return None
            return max(0, size - count), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size:
        raise OssError(416, "InvalidRange", "The requested range cannot be satisfied.")
    if end < start:
        return None
    return start, min(end, size - 1)
