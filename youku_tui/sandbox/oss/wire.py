"""OSS's wire protocol: route names, the error answer, request parsing and response shapes."""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from aiohttp import web

from youku_tui.sandbox import xml
from youku_tui.sandbox.bodies import Throttle

KIB = 1024
MIN_PART_SIZE = 100 * KIB  # every part but the last must be at least this big
MAX_PART_NUMBER = 10_000
MAX_OBJECT_SIZE = 5 * 1024**3  # PutObject and UploadPart refuse bigger bodies
MAX_COMPLETE_BODY = 4 * 1024 * 1024

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


def new_request_id() -> str:
    return secrets.token_hex(12).upper()


def iso_millis(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(when))


@dataclass
class OssErrorAnswer(Exception):
    """An answer in OSS's error format (raised by the sandbox's handlers, sent as XML).

    Not to be confused with ``youku_tui.errors.OssError``, the client's view of a failure.
    """

    status: int
    code: str
    message: str
    details: dict[str, str] = field(default_factory=dict)


def no_such_upload() -> OssErrorAnswer:
    return OssErrorAnswer(
        404,
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, "
        "or the upload may have been aborted or completed.",
    )


def status_error(status: int) -> OssErrorAnswer:
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
    return OssErrorAnswer(status, code, message)


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


# --- reading requests ----------------------------------------------------------------------


def content_md5(request: web.Request) -> bytes | None:
    """The request's ``Content-MD5`` digest, if it sent one."""
    text = request.headers.get("Content-MD5")
    if text is None:
        return None
    try:
        digest = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise OssErrorAnswer(400, "InvalidDigest", "The Content-MD5 you specified is not valid.")
    return digest


def int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = query.get(name, "")
    if not text:
        return default
    try:
        value = int(text)
    except ValueError as exc:
        raise OssErrorAnswer(400, "InvalidArgument", f"{name} must be an integer.") from exc
    if not low <= value <= high:
        raise OssErrorAnswer(400, "InvalidArgument", f"{name} must be between {low} and {high}.")
    return value


def parse_range(header: str, size: int) -> tuple[int, int] | None:
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
        raise OssErrorAnswer(416, "InvalidRange", "The requested range cannot be satisfied.")
    if end < start:
        return None
    return start, min(end, size - 1)


# --- writing answers -----------------------------------------------------------------------


def encode_key(call: OssCall, key: str) -> str:
    """A key as the answer shows it (url-encoded when the request asked for it)."""
    if call.request.query.get("encoding-type") == "url":
        return quote(key, safe="/")
    return key


def common_headers(call: OssCall) -> dict[str, str]:
    return {"x-oss-request-id": call.request_id, "Server": "AliyunOSS"}


def xml_response(
    call: OssCall, root: xml.Node, extra: Mapping[str, str] | None = None
) -> web.Response:
    headers = common_headers(call)
    headers["Content-Type"] = "application/xml"
    headers.update(extra or {})
    return web.Response(status=200, body=xml.render(root), headers=headers)


def stored_response(call: OssCall, etag: str, crc64: int, md5: bytes) -> web.Response:
    """The answer to a body OSS stored (PutObject, UploadPart)."""
    headers = common_headers(call)
    headers.update(
        {
            "ETag": etag,
            "x-oss-hash-crc64ecma": str(crc64),
            "Content-MD5": base64.b64encode(md5).decode(),
        }
    )
    return web.Response(status=200, headers=headers)


def error_response(call: OssCall, error: OssErrorAnswer) -> web.Response:
    host = call.request.host.split(":")[0]
    nodes: list[xml.Node] = [
        ("Code", error.code),
        ("Message", error.message),
        ("RequestId", call.request_id),
        ("HostId", f"{call.bucket}.{host}" if call.bucket else host),
    ]
    nodes += [(name, value) for name, value in error.details.items()]
    body = xml.render(("Error", nodes))
    headers = common_headers(call)
    if call.request.method == "HEAD":
        # HEAD answers carry no body; OSS puts the error XML, base64, in a header.
        headers["x-oss-err"] = base64.b64encode(body).decode()
        return web.Response(status=error.status, headers=headers)
    headers["Content-Type"] = "application/xml"
    return web.Response(status=error.status, body=body, headers=headers)
