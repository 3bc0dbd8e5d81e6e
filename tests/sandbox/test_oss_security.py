"""STS credentials are checked the way OSS checks them, and oss2 maps each refusal."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import oss2
import pytest
import requests

from tests.polling import wait_until
from tests.sandbox.helpers import api_call, create_upload
from youku_tui.sandbox import SandboxThread
from youku_tui.sandbox.store import Store

DATA = b"sandbox bytes " * 100


def refused(call: Any) -> oss2.exceptions.OssError:
    with pytest.raises(oss2.exceptions.OssError) as info:
        call()
    return info.value


def test_wrong_secret_is_signature_does_not_match(sandbox: SandboxThread) -> None:
    upload = create_upload(sandbox, "0" * 32, 10)
    bucket = upload.bucket(temp_access_secret="wrong-secret")
    error = refused(lambda: bucket.put_object(upload.key, DATA))
    assert isinstance(error, oss2.exceptions.SignatureDoesNotMatch)
    assert error.status == 403
    assert "PUT\n" in error.details["StringToSign"]  # like OSS, it says what it signed


def test_v4_wrong_secret_is_signature_does_not_match(sandbox: SandboxThread) -> None:
    upload = create_upload(sandbox, "0" * 32, 10)
    provider = oss2.credentials.StaticCredentialsProvider(
        upload.answer["temp_access_id"], "wrong", upload.answer["security_token"]
    )
    bucket = oss2.Bucket(
        oss2.ProviderAuthV4(provider),
        upload.answer["endpoint"],
        upload.bucket_name,
        region="cn-sandbox",
    )
    error = refused(lambda: bucket.put_object(upload.key, DATA))
    assert isinstance(error, oss2.exceptions.SignatureDoesNotMatch)
    assert "CanonicalRequest" in error.details


def test_missing_security_token(sandbox: SandboxThread) -> None:
    upload = create_upload(sandbox, "0" * 32, 10)
    auth = oss2.Auth(upload.answer["temp_access_id"], upload.answer["temp_access_secret"])
    bucket = oss2.Bucket(auth, upload.answer["endpoint"], upload.bucket_name)
    error = refused(lambda: bucket.put_object(upload.key, DATA))
    assert (error.status, error.code) == (403, "InvalidSecurityToken")


def test_wrong_security_token(sandbox: SandboxThread) -> None:
    upload = create_upload(sandbox, "0" * 32, 10)
    bucket = upload.bucket(security_token="CAISnot-the-token")
    error = refused(lambda: bucket.put_object(upload.key, DATA))
    assert (error.status, error.code) == (403, "InvalidSecurityToken")


def test_unknown_access_key(sandbox: SandboxThread) -> None:
    upload = create_upload(sandbox, "0" * 32, 10)
    bucket = upload.bucket(temp_access_id="STS.NTnobody")
    error = refused(lambda: bucket.put_object(upload.key, DATA))
    assert (error.status, error.code) == (403, "InvalidAccessKeyId")


def test_expired_credentials_then_renewed(make_sandbox: Any) -> None:
    sb = make_sandbox(sts_ttl=1.0)
    upload = create_upload(sb, "0" * 32, 10)
    time.sleep(max(0.0, upload_expiry(upload.answer["expire_time"]) - time.time()) + 0.05)
    error = refused(lambda: upload.bucket().put_object(upload.key, DATA))
    assert (error.status, error.code) == (403, "SecurityTokenExpired")
    renewed = api_call(
        sb,
        "/uploads/get_sts_inf.json",
        upload_token=upload.upload_token,
        oss_bucket=upload.bucket_name,
        oss_object=upload.key,
    )
    assert renewed.status_code == 200, renewed.text
    fresh = renewed.json()
    assert fresh["temp_access_id"] != upload.answer["temp_access_id"]
    bucket = oss2.Bucket(
        oss2.StsAuth(fresh["temp_access_id"], fresh["temp_access_secret"], fresh["security_token"]),
        fresh["endpoint"],
        upload.bucket_name,
    )
    assert bucket.put_object(upload.key, DATA).status == 200


def upload_expiry(expire_time: str) -> float:
    return time.mktime(time.strptime(expire_time, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone


def test_other_key_and_other_bucket_are_access_denied(sandbox: SandboxThread) -> None:
    upload = create_upload(sandbox, "0" * 32, 10)
    other = create_upload(sandbox, "1" * 32, 10)
    error = refused(lambda: upload.bucket().put_object(other.key, DATA))
    assert isinstance(error, oss2.exceptions.AccessDenied)
    error = refused(lambda: upload.bucket("some-other-bucket").put_object(upload.key, DATA))
    assert isinstance(error, oss2.exceptions.AccessDenied)
    error = refused(lambda: upload.bucket().put_object("../../outside", DATA))
    assert isinstance(error, oss2.exceptions.AccessDenied)


def test_anonymous_request_is_access_denied(sandbox: SandboxThread) -> None:
    upload = create_upload(sandbox, "0" * 32, 10)
    bucket = oss2.Bucket(oss2.AnonymousAuth(), upload.answer["endpoint"], upload.bucket_name)
    error = refused(lambda: bucket.put_object(upload.key, DATA))
    assert isinstance(error, oss2.exceptions.AccessDenied)


def test_signed_url_put_and_expiry(sandbox: SandboxThread) -> None:
    upload = create_upload(sandbox, "0" * 32, 10)
    bucket = upload.bucket()
    url = bucket.sign_url("PUT", upload.key, 60)
    assert requests.put(url, data=DATA, timeout=10).status_code == 200
    assert bucket.get_object(upload.key).read() == DATA
    expired = bucket.sign_url("PUT", upload.key, -10)
    answer = requests.put(expired, data=DATA, timeout=10)
    assert answer.status_code == 403
    assert b"<Code>AccessDenied</Code>" in answer.content


def test_tampered_request_is_refused(sandbox: SandboxThread) -> None:
    """A signed URL for one verb cannot be used for another."""
    upload = create_upload(sandbox, "0" * 32, 10)
    url = upload.bucket().sign_url("GET", upload.key, 60)
    answer = requests.put(url, data=DATA, timeout=10)
    assert answer.status_code == 403
    assert b"SignatureDoesNotMatch" in answer.content


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "/abs/path", "a/../../b", "..", "nul\x00byte", "x" * 1023]
)
def test_keys_never_leave_the_objects_folder(tmp_path: Path, key: str) -> None:
    store = Store(tmp_path / "data")
    path = store.object_data_path("yk-source-upload", key).resolve()
    assert path.is_relative_to((tmp_path / "data" / "objects").resolve())
    with pytest.raises(ValueError, match="bucket"):
        store.object_data_path("../evil", key)


def test_client_vanishing_mid_body_leaves_no_trace(
    sandbox: SandboxThread, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    upload = create_upload(sandbox, "0" * 32, 10)
    url = upload.bucket().sign_url("PUT", upload.key, 60)
    path_and_query = url.split(str(sandbox.port), 1)[1]
    tmp = sandbox.data_dir / "tmp"
    with socket.create_connection(("127.0.0.1", sandbox.port)) as conn:
        conn.sendall(
            f"PUT {path_and_query} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Length: 1000000\r\n\r\n".encode()
            + b"x" * 300_000
        )
        wait_until(lambda: any(tmp.iterdir()), "the body to stream into the sandbox's tmp/")
    wait_until(lambda: not any(tmp.iterdir()), "the half-received body to be removed")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        upload.bucket().get_object(upload.key)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
