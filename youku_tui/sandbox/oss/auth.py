"""Who may make an OSS call: the STS grant's signature, token and expiry, then its scope."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from youku_tui.sandbox.modes import PLAIN, STRICT_POLICY_ROUTES, Modes
from youku_tui.sandbox.oss.wire import NO_RIGHT, OssCall, OssErrorAnswer
from youku_tui.sandbox.signatures import (
    AuthClaim,
    AuthFormatError,
    WireRequest,
    read_claim,
    verify,
)
from youku_tui.sandbox.store import StsGrant

# OSS's "EC" codes, which its error answers carry to name the exact cause.
EC_V1_RETIRED = "0002-00000080"
EC_REGION_FORM = "0002-00000226"  # ``oss-`` prefix, or another region than the Host's
EC_REGION_UNKNOWN = "0002-00000228"  # a region that is not the bucket's


def authenticate(
    call: OssCall, grant_for: Callable[[str], StsGrant | None], modes: Modes = PLAIN
) -> StsGrant:
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
    check_signing_version(call, claim, modes)
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
    now = modes.now()
    if grant.expires_at <= now:
        raise OssErrorAnswer(
            403, "SecurityTokenExpired", "The security token you provided has expired."
        )
    verdict = verify(claim, wire, grant.secret, now)
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


def check_signing_version(call: OssCall, claim: AuthClaim, modes: Modes) -> None:
    """V1 where the bucket no longer takes it; V4 for another region than the bucket's."""
    if claim.version == 1:
        if modes.refuse_v1:
            raise OssErrorAnswer(
                403,
                "AccessDenied",
                "The V1 signature is no longer supported. Please use the V4 signature.",
                {"EC": EC_V1_RETIRED},
            )
        return
    if not modes.region or claim.region == modes.region:
        return
    host_label = call.request.host.split(":")[0].split(".")
    host_region = next((label[4:] for label in host_label if label.startswith("oss-")), "")
    wrong_form = claim.region.startswith("oss-") or (host_region and host_region != claim.region)
    raise OssErrorAnswer(
        400,
        "InvalidArgument",
        "Invalid signing region in Authorization header.",
        {
            "EC": EC_REGION_FORM if wrong_form else EC_REGION_UNKNOWN,
            "ArgumentName": "x-oss-credential",
            "ArgumentValue": claim.region,
        },
    )


def authorize(call: OssCall, grant: StsGrant, modes: Modes = PLAIN) -> None:
    """An STS grant covers one bucket and, for object calls, one object (and, under a
    strict policy, only the calls that upload)."""
    if call.bucket != grant.bucket:
        raise OssErrorAnswer(403, "AccessDenied", NO_RIGHT, {"Bucket": call.bucket})
    if call.key and call.key != grant.key:
        raise OssErrorAnswer(403, "AccessDenied", NO_RIGHT)
    if modes.strict_policy and call.route not in STRICT_POLICY_ROUTES:
        raise OssErrorAnswer(
            403,
            "AccessDenied",
            "You are not authorized to do this action. The STS policy does not allow it.",
            {"Action": call.route},
        )
