"""Who may make an OSS call: the STS grant's signature, token and expiry, then its scope."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

from youku_tui.sandbox.oss.wire import NO_RIGHT, OssCall, OssErrorAnswer
from youku_tui.sandbox.signatures import AuthFormatError, WireRequest, read_claim, verify
from youku_tui.sandbox.store import StsGrant


def authenticate(call: OssCall, grant_for: Callable[[str], StsGrant | None]) -> StsGrant:
    """The grant that signed ``call``, or the error OSS gives for an unauthenticated call."""
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
        raise OssErrorAnswer(
            400, "InvalidArgument", f"Authorization header is invalid: {exc}"
        ) from exc
    if claim is None:
        raise OssErrorAnswer(
            403,
            "AccessDenied",
            "You have no right to access this object because of bucket acl.",
        )
    grant = grant_for(claim.access_key_id)
    if grant is None:
        raise OssErrorAnswer(
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
        raise OssErrorAnswer(
            403, "InvalidSecurityToken", "The security token you provided is invalid."
        )
    if grant.expires_at <= time.time():
        raise OssErrorAnswer(
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
        raise OssErrorAnswer(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you "
            "provided. Check your key and signing method.",
            details,
        )
    if verdict.problem:
        code = "RequestTimeTooSkewed" if "too large" in verdict.problem else "AccessDenied"
        raise OssErrorAnswer(403, code, verdict.problem)
    return grant


def authorize(call: OssCall, grant: StsGrant) -> None:
    """An STS grant covers one bucket and, for object calls, one object."""
    if call.bucket != grant.bucket:
        raise OssErrorAnswer(403, "AccessDenied", NO_RIGHT, {"Bucket": call.bucket})
    if call.key and call.key != grant.key:
        raise OssErrorAnswer(403, "AccessDenied", NO_RIGHT)
