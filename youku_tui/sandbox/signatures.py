"""OSS request signatures, V1 (HMAC-SHA1) and V4 (HMAC-SHA256), in headers or in the URL.

The server side of what ``oss2.auth`` and ``alibabacloud_oss_v2.signer`` compute: read the
claim a request makes (who signs, with which algorithm), rebuild the string to sign from what
arrived on the wire, and compare HMACs in constant time. The string to sign is returned too,
because OSS puts it into ``SignatureDoesNotMatch`` answers to help debugging.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

V4_ALGORITHM = "OSS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_CLOCK_SKEW = 15 * 60.0  # seconds OSS tolerates between the request date and its clock

# Query parameters that are part of the V1 canonical resource (oss2.auth.ProviderAuth).
V1_SUBRESOURCES = frozenset(
    {
        "acl",
        "uploadId",
        "uploads",
        "partNumber",
        "group",
        "link",
        "delete",
        "website",
        "location",
        "objectInfo",
        "objectMeta",
        "response-content-type",
        "response-content-language",
        "response-cache-control",
        "response-content-encoding",
        "response-expires",
        "response-content-disposition",
        "logging",
        "cors",
        "lifecycle",
        "restore",
        "qos",
        "referer",
        "stat",
        "bucketInfo",
        "append",
        "position",
        "security-token",
        "live",
        "comp",
        "status",
        "vod",
        "startTime",
        "endTime",
        "x-oss-process",
        "symlink",
        "callback",
        "callback-var",
        "tagging",
        "encryption",
        "versions",
        "versioning",
        "versionId",
        "policy",
        "requestPayment",
        "x-oss-traffic-limit",
        "qosInfo",
        "asyncFetch",
        "x-oss-request-payer",
        "sequential",
        "inventory",
        "inventoryId",
        "continuation-token",
        "worm",
        "wormId",
        "wormExtend",
        "replication",
        "replicationLocation",
        "replicationProgress",
        "transferAcceleration",
        "cname",
        "metaQuery",
        "x-oss-ac-source-ip",
        "x-oss-ac-subnet-mask",
        "x-oss-ac-vpc-id",
        "x-oss-ac-forward-allow",
        "resourceGroup",
        "style",
        "styleName",
        "x-oss-async-process",
        "regionList",
        "x-oss-write-get-object-response",
    }
)
V4_DEFAULT_SIGNED_HEADERS = frozenset({"content-type", "content-md5"})


class AuthFormatError(ValueError):
    """The Authorization header or the signed-URL parameters cannot be read."""


@dataclass(frozen=True, slots=True)
class WireRequest:
    """What a signature covers, as the server received it (query values URL-decoded)."""

    method: str
    bucket: str  # "" for service-level calls
    key: str  # "" for bucket-level calls
    query: Sequence[tuple[str, str]]
    headers: Mapping[str, str]  # case-insensitive mapping (aiohttp's CIMultiDictProxy)

    def header(self, name: str) -> str:
        return self.headers.get(name, "").strip()


@dataclass(frozen=True, slots=True)
class AuthClaim:
    """Who says they signed a request, how, and with which temporary token."""

    version: int  # 1 or 4
    access_key_id: str
    signature: str
    security_token: str
    in_query: bool
    region: str = ""
    scope_date: str = ""
    additional_headers: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    string_to_sign: str
    canonical_request: str = ""  # V4 only
    problem: str = ""  # why a well-signed request is still refused (expired URL, clock skew)


def read_claim(request: WireRequest) -> AuthClaim | None:
    """The signature claim of ``request``; None for an anonymous request."""
    authorization = request.header("authorization")
    query = dict(request.query)
    if authorization:
        if authorization.startswith("OSS "):
            return _read_v1_header(authorization, request)
        if authorization.startswith(V4_ALGORITHM + " "):
            return _read_v4_header(authorization, request)
        raise AuthFormatError("Authorization header is neither OSS nor OSS4-HMAC-SHA256")
    if "OSSAccessKeyId" in query:
        if "Signature" not in query or "Expires" not in query:
            raise AuthFormatError("a signed URL needs OSSAccessKeyId, Expires and Signature")
        return AuthClaim(
            version=1,
            access_key_id=query["OSSAccessKeyId"],
            signature=query["Signature"],
            security_token=query.get("security-token", ""),
            in_query=True,
        )
    if query.get("x-oss-signature-version") == V4_ALGORITHM:
        akid, scope_date, region = _split_credential(query.get("x-oss-credential", ""))
        additional = query.get("x-oss-additional-headers", "")
        return AuthClaim(
            version=4,
            access_key_id=akid,
            signature=query.get("x-oss-signature", ""),
            security_token=query.get("x-oss-security-token", ""),
            in_query=True,
            region=region,
            scope_date=scope_date,
            additional_headers=tuple(h for h in additional.lower().split(";") if h),
        )
    return None


def _read_v1_header(authorization: str, request: WireRequest) -> AuthClaim:
    akid, sep, signature = authorization[len("OSS ") :].strip().rpartition(":")
    if not sep or not akid or not signature:
        raise AuthFormatError("Authorization must be 'OSS AccessKeyId:Signature'")
    return AuthClaim(
        version=1,
        access_key_id=akid,
        signature=signature,
        security_token=request.header("x-oss-security-token"),
        in_query=False,
    )


def _read_v4_header(authorization: str, request: WireRequest) -> AuthClaim:
    fields: dict[str, str] = {}
    for item in authorization[len(V4_ALGORITHM) + 1 :].split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            fields[name.strip()] = value.strip()
    if "Credential" not in fields or "Signature" not in fields:
        raise AuthFormatError("OSS4-HMAC-SHA256 needs Credential and Signature")
    akid, scope_date, region = _split_credential(fields["Credential"])
    additional = fields.get("AdditionalHeaders", "")
    return AuthClaim(
        version=4,
        access_key_id=akid,
        signature=fields["Signature"],
        security_token=request.header("x-oss-security-token"),
        in_query=False,
        region=region,
        scope_date=scope_date,
        additional_headers=tuple(h for h in additional.lower().split(";") if h),
    )


def _split_credential(credential: str) -> tuple[str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[3] != "oss" or parts[4] != "aliyun_v4_request":
        raise AuthFormatError("Credential must be AccessKeyId/date/region/oss/aliyun_v4_request")
    return parts[0], parts[1], parts[2]


def verify(
    claim: AuthClaim, request: WireRequest, secret: str, now: float | None = None
) -> Verdict:
    """Check ``claim`` against ``secret``; ``Verdict.ok`` only if the HMAC and the dates hold."""
    now = time.time() if now is None else now
    if claim.version == 1:
        return _verify_v1(claim, request, secret, now)
    return _verify_v4(claim, request, secret, now)


# --- V1 -----------------------------------------------------------------------------------


def v1_string_to_sign(request: WireRequest, date: str) -> str:
    canonical_headers = sorted(
        (name.lower(), value.strip())
        for name, value in request.headers.items()
        if name.lower().startswith("x-oss-")
    )
    headers_text = "".join(f"{name}:{value}\n" for name, value in canonical_headers)
    return "\n".join(
        [
            request.method,
            request.header("content-md5"),
            request.header("content-type"),
            date,
            headers_text + v1_canonical_resource(request),
        ]
    )


def v1_canonical_resource(request: WireRequest) -> str:
    resource = f"/{request.bucket}/{request.key}" if request.bucket else "/"
    subresources = sorted((k, v) for k, v in request.query if k in V1_SUBRESOURCES)
    if subresources:
        resource += "?" + "&".join(f"{k}={v}" if v else k for k, v in subresources)
    return resource


def v1_signature(secret: str, string_to_sign: str) -> str:
    digest = hmac.new(secret.encode(), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _verify_v1(claim: AuthClaim, request: WireRequest, secret: str, now: float) -> Verdict:
    if claim.in_query:
        date = dict(request.query)["Expires"]
    else:
        date = request.header("x-oss-date") or request.header("date")
    string_to_sign = v1_string_to_sign(request, date)
    ok = hmac.compare_digest(v1_signature(secret, string_to_sign), claim.signature)
    problem = ""
    if ok and claim.in_query:
        try:
            expires = int(date)
        except ValueError:
            expires = 0
        if expires < now:
            problem = "Request has expired."
    elif ok:
        problem = _skew_problem(_parse_http_date(date), now)
    return Verdict(ok, string_to_sign, problem=problem)


def _parse_http_date(text: str) -> float | None:
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _skew_problem(when: float | None, now: float) -> str:
    if when is None:
        return "The request date is missing or malformed."
    if abs(when - now) > MAX_CLOCK_SKEW:
        return "The difference between the request time and the current time is too large."
    return ""


# --- V4 -----------------------------------------------------------------------------------


def v4_uri_encode(text: str, keep_slashes: bool) -> str:
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        unreserved = char.isascii() and (char.isalnum() or char in "_-~.")
        if unreserved or (keep_slashes and char == "/"):
            out.append(char)
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def v4_canonical_request(
    request: WireRequest, additional_headers: Sequence[str], skip_query: frozenset[str]
) -> str:
    uri = f"/{request.bucket}/{request.key}" if request.bucket else "/"
    encoded = sorted(
        (v4_uri_encode(k, False), v4_uri_encode(v, False))
        for k, v in request.query
        if k not in skip_query
    )
    query = "&".join(f"{k}={v}" if v else k for k, v in encoded)
    extra = {h.lower() for h in additional_headers}
    signed = sorted(
        (name.lower(), value.strip())
        for name, value in request.headers.items()
        if name.lower().startswith("x-oss-")
        or name.lower() in V4_DEFAULT_SIGNED_HEADERS
        or name.lower() in extra
    )
    headers_text = "".join(f"{name}:{value}\n" for name, value in signed)
    payload = request.header("x-oss-content-sha256") or UNSIGNED_PAYLOAD
    return "\n".join(
        [
            request.method,
            v4_uri_encode(uri, True),
            query,
            headers_text,
            ";".join(sorted(extra)),
            payload,
        ]
    )


def v4_signing_key(secret: str, date: str, region: str, product: str = "oss") -> bytes:
    key = hmac.new(f"aliyun_v4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for item in (region, product, "aliyun_v4_request"):
        key = hmac.new(key, item.encode(), hashlib.sha256).digest()
    return key


def _verify_v4(claim: AuthClaim, request: WireRequest, secret: str, now: float) -> Verdict:
    query = dict(request.query)
    date_time = query.get("x-oss-date", "") if claim.in_query else request.header("x-oss-date")
    skip = frozenset({"x-oss-signature"}) if claim.in_query else frozenset()
    canonical = v4_canonical_request(request, claim.additional_headers, skip)
    scope = f"{claim.scope_date}/{claim.region}/oss/aliyun_v4_request"
    string_to_sign = "\n".join(
        [V4_ALGORITHM, date_time, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()]
    )
    key = v4_signing_key(secret, claim.scope_date, claim.region)
    expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, claim.signature.lower())
    problem = ""
    signed_at = _parse_v4_date(date_time)
    if ok and (signed_at is None or date_time[:8] != claim.scope_date):
        problem = "x-oss-date is missing, malformed or outside the credential scope."
    elif ok and claim.in_query and signed_at is not None:
        try:
            lifetime = int(query.get("x-oss-expires", "0"))
        except ValueError:
            lifetime = 0
        if signed_at + lifetime < now:
            problem = "Request has expired."
    elif ok:
        problem = _skew_problem(signed_at, now)
    return Verdict(ok, string_to_sign, canonical_request=canonical, problem=problem)


def _parse_v4_date(text: str) -> float | None:
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None
