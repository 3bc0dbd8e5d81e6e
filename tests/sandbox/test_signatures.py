"""The server's canonical strings agree with oss2's signer on the awkward cases."""

from __future__ import annotations

import oss2
import pytest
from multidict import CIMultiDict

from youku_tui.sandbox.signatures import WireRequest, read_claim, verify

KEYS = ["plain.mp4", "dir/视频 a+b.mp4", "we?ird=&%2F#key", "~tilde/./..//x"]
PARAMS = [
    {},
    {"uploads": ""},
    {"partNumber": "3", "uploadId": "ABC", "max-parts": "5", "part-number-marker": "2"},
    {"uploadId": "ABC", "encoding-type": "url"},
]


def signed(
    auth: object, key: str, params: dict[str, str], region: str | None = None
) -> WireRequest:
    request = oss2.http.Request(
        "PUT",
        "http://127.0.0.1/unused",
        params=dict(params),
        headers={"Content-Type": "video/mp4", "x-oss-meta-Title": "Ünï", "Content-MD5": "x"},
        region=region,
        product="oss",
    )
    auth._sign_request(request, "yk-source-upload", key)  # type: ignore[attr-defined]
    return WireRequest(
        method="PUT",
        bucket="yk-source-upload",
        key=key,
        query=list(request.params.items()),
        headers=CIMultiDict(request.headers),
    )


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("params", PARAMS)
def test_v1_agrees_with_oss2(key: str, params: dict[str, str]) -> None:
    wire = signed(oss2.StsAuth("STS.id", "secret", "token"), key, params)
    claim = read_claim(wire)
    assert claim is not None
    assert (claim.version, claim.access_key_id, claim.security_token) == (1, "STS.id", "token")
    assert verify(claim, wire, "secret").ok
    assert not verify(claim, wire, "other-secret").ok


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("params", PARAMS)
def test_v4_agrees_with_oss2(key: str, params: dict[str, str]) -> None:
    provider = oss2.credentials.StaticCredentialsProvider("STS.id", "secret", "token")
    wire = signed(oss2.ProviderAuthV4(provider), key, params, region="cn-hangzhou")
    claim = read_claim(wire)
    assert claim is not None
    assert (claim.version, claim.region) == (4, "cn-hangzhou")
    verdict = verify(claim, wire, "secret")
    assert verdict.ok, verdict.canonical_request
    assert not verify(claim, wire, "other-secret").ok


def test_changed_subresource_breaks_v1() -> None:
    wire = signed(oss2.Auth("id", "secret"), "k", {"partNumber": "1", "uploadId": "A"})
    claim = read_claim(wire)
    assert claim is not None
    moved = WireRequest(
        wire.method, wire.bucket, wire.key, [("partNumber", "2"), ("uploadId", "A")], wire.headers
    )
    assert not verify(claim, moved, "secret").ok
    # Parameters outside the signed set may change freely, as with OSS.
    paged = WireRequest(
        wire.method, wire.bucket, wire.key, [*wire.query, ("max-parts", "9")], wire.headers
    )
    assert verify(claim, paged, "secret").ok
