"""The engine uses a few oss2 internals where oss2 has no public way (signing on the servers'
clock, ListParts with CRCs; see oss_access.OSS2_INTERNALS): these tests fail loudly the day an
oss2 upgrade renames or changes them."""

from __future__ import annotations

import datetime
from email.utils import formatdate
from typing import Self

import oss2
import oss2.auth
import oss2.http
import oss2.utils
import pytest

from tests.sandbox.helpers import create_upload
from youku_tui.api.models import StsCredentials
from youku_tui.engine.hashing import crc64
from youku_tui.engine.oss_access import OSS2_INTERNALS, ClockedAuthV1, ClockedAuthV4
from youku_tui.engine.transfer import OssTarget, StsBox
from youku_tui.net import ServerClock
from youku_tui.sandbox import SandboxThread

INSTANT = datetime.datetime(2026, 1, 1, 8, 30, 5)  # UTC, naive as oss2's utcnow() is
EPOCH = INSTANT.replace(tzinfo=datetime.UTC).timestamp()
KEY = "videos/a b+c.mp4"


class PinnedClock(ServerClock):
    def __init__(self, now: float) -> None:
        super().__init__()
        self._now = now

    def now(self) -> float:
        return self._now


class PinnedDatetime(datetime.datetime):
    """What oss2's V4 signer reads as ``datetime.utcnow()``."""

    @classmethod
    def utcnow(cls) -> Self:
        return cls(*INSTANT.timetuple()[:6])


@pytest.fixture
def oss2_at_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    """oss2's own signers, signing at INSTANT."""
    monkeypatch.setattr(oss2.auth, "datetime", PinnedDatetime)
    monkeypatch.setattr(
        oss2.utils, "http_date", lambda timeval=None: formatdate(EPOCH, usegmt=True)
    )


def provider() -> oss2.credentials.StaticCredentialsProvider:
    return oss2.credentials.StaticCredentialsProvider("STS.id", "secret", "security-token")


def request(region: str | None) -> oss2.http.Request:
    return oss2.http.Request(
        "PUT",
        "https://bucket.oss-cn-shanghai.aliyuncs.com/videos/a%20b%2Bc.mp4",
        data=b"part",
        params={"partNumber": "3", "uploadId": "0004B9895DBBB6EC98E"},
        headers={
            "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg==",
            "Content-Type": "video/mp4",
            "Cache-Control": "no-cache",
            "x-oss-meta-title": "clip",
        },
        region=region,
        product="oss",
    )


def test_every_oss2_internal_the_engine_calls_is_still_there() -> None:
    for owner, name in OSS2_INTERNALS:
        attribute = f"_{owner.__name__}{name}" if name.startswith("__") else name
        assert callable(getattr(owner, attribute, None)), (
            f"oss2 {oss2.__version__} has no {owner.__name__}.{name}: the engine's use of it "
            "(youku_tui/engine/oss_access.py, OSS2_INTERNALS) must follow oss2's new code"
        )


@pytest.mark.parametrize("additional", [None, {"Cache-Control"}])
def test_the_v4_signer_signs_as_oss2_does_at_the_same_instant(
    oss2_at_instant: None, additional: set[str] | None
) -> None:
    ours, theirs = request("cn-shanghai"), request("cn-shanghai")
    ClockedAuthV4(provider(), PinnedClock(EPOCH))._sign_request(ours, "bucket", KEY, additional)
    oss2.ProviderAuthV4(provider())._sign_request(theirs, "bucket", KEY, additional)
    assert dict(ours.headers) == dict(theirs.headers)
    assert ours.headers["x-oss-date"] == "20260101T083005Z"
    assert ("AdditionalHeaders=cache-control" in ours.headers["authorization"]) == bool(additional)


def test_the_v1_signer_signs_as_oss2_does_at_the_same_instant(oss2_at_instant: None) -> None:
    ours, theirs = request(None), request(None)
    ClockedAuthV1(provider(), PinnedClock(EPOCH))._sign_request(ours, "bucket", KEY)
    oss2.ProviderAuth(provider())._sign_request(theirs, "bucket", KEY)
    assert dict(ours.headers) == dict(theirs.headers)
    assert ours.headers["date"] == "Thu, 01 Jan 2026 08:30:05 GMT"


def test_the_signers_sign_on_the_clock_they_are_given(oss2_at_instant: None) -> None:
    """An hour's skew: the stamps (and so the signatures) are the given clock's, not oss2's."""
    v4, v1 = request("cn-shanghai"), request(None)
    ClockedAuthV4(provider(), PinnedClock(EPOCH + 3600))._sign_request(v4, "bucket", KEY)
    ClockedAuthV1(provider(), PinnedClock(EPOCH + 3600))._sign_request(v1, "bucket", KEY)
    assert v4.headers["x-oss-date"] == "20260101T093005Z"
    assert v1.headers["date"] == "Thu, 01 Jan 2026 09:30:05 GMT"


def test_list_parts_through_oss2s_signed_call_reads_each_parts_crc(
    sandbox: SandboxThread,
) -> None:
    """Bucket._do still signs the request and hands back the raw answer, whose CRCs oss2's own
    list_parts would drop."""
    upload = create_upload(sandbox, "0" * 32, 300 * 1024)
    answer = upload.answer
    sts = StsCredentials(
        access_key_id=answer["temp_access_id"],
        access_key_secret=answer["temp_access_secret"],
        security_token=answer["security_token"],
        expire_time=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1),
        endpoint=answer["endpoint"],
    )
    bucket = upload.bucket()
    upload_id = bucket.init_multipart_upload(upload.key).upload_id
    data = [bytes([n]) * (150 * 1024) for n in (1, 2)]
    for number, body in enumerate(data, 1):
        bucket.upload_part(upload.key, upload_id, number, body)
    target = OssTarget(StsBox(sts), upload.bucket_name, upload.key, session=oss2.Session())
    parts = target.list_parts(upload_id)
    assert {n: (p.size, p.crc64) for n, p in parts.items()} == {
        n: (len(body), crc64(body)) for n, body in enumerate(data, 1)
    }
