"""The sandbox's production-path modes, seen by real httpx and oss2 clients."""

from __future__ import annotations

import email.utils
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import oss2
import pytest
import requests

from tests.sandbox.helpers import (
    Upload,
    create_params,
    loopback_resolver,
    make_file,
    start_process,
)
from youku_tui.sandbox import SandboxThread

OSS_HOST = "oss-cn-sandbox.localhost"


@pytest.fixture
def names_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", loopback_resolver(".localhost"))


def _create(sb: SandboxThread, tmp_path: Path, size: int = 1000, **http: Any) -> Upload:
    md5 = make_file(tmp_path / "f.bin", size)
    creds = sb.credentials
    form = {
        "client_id": creds.client_id,
        "access_token": creds.access_token,
        **create_params(md5, size),
    }
    answer = httpx.post(f"{sb.api_base}/uploads/create.json", data=form, timeout=30, **http)
    assert answer.status_code == 201, answer.text
    return Upload(answer.json())


def _bucket(
    up: Upload, *, version: int = 4, region: str = "cn-sandbox", ca: Path | None = None
) -> oss2.Bucket:
    provider = oss2.credentials.StaticCredentialsProvider(
        up.answer["temp_access_id"], up.answer["temp_access_secret"], up.answer["security_token"]
    )
    auth = oss2.ProviderAuthV4(provider) if version == 4 else oss2.ProviderAuth(provider)
    endpoint = up.answer["endpoint"]
    if "://" not in endpoint:
        endpoint = f"https://{endpoint}"
    session = oss2.Session()
    if ca is not None:
        session.session.verify = str(ca)
    return oss2.Bucket(auth, endpoint, up.bucket_name, session=session, region=region)


def _refusal(call: Any) -> oss2.exceptions.OssError:
    with pytest.raises(oss2.exceptions.OssError) as info:
        call()
    return info.value


def test_tls_hands_out_a_scheme_less_endpoint_and_virtual_hosted_bucket(
    make_sandbox: Any, tmp_path: Path, names_to_loopback: None
) -> None:
    sb = make_sandbox(tls=True, oss_host=OSS_HOST)
    assert sb.api_base.startswith("https://127.0.0.1:")
    ca = sb.ca_file
    assert ca is not None and ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
    # Certificate checks are on: without the CA, the client refuses the server.
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{sb.api_base}/uploads/create.json", data={}, timeout=10)
    up = _create(sb, tmp_path, verify=ssl.create_default_context(cafile=str(ca)))
    assert up.answer["endpoint"] == f"{OSS_HOST}:{sb.port}"  # like production: no scheme
    bucket = _bucket(up, ca=ca)
    seen: list[str] = []
    bucket.session.session.hooks["response"].append(lambda r, **_: seen.append(r.url))
    bucket.put_object(up.key, (tmp_path / "f.bin").read_bytes())
    assert seen[0].startswith(f"https://{up.bucket_name}.{OSS_HOST}:{sb.port}/")
    assert sb.stats()["oss.put_object"] == 1
    # Without the CA, oss2 (requests) refuses it too.
    with pytest.raises(oss2.exceptions.RequestError) as info:
        _bucket(up).put_object(up.key, b"x")
    assert isinstance(info.value.exception, requests.exceptions.SSLError)


def test_v4_must_name_the_region_with_the_real_codes(
    make_sandbox: Any, tmp_path: Path, names_to_loopback: None
) -> None:
    sb = make_sandbox(region="cn-sandbox", oss_host=OSS_HOST)
    up = _create(sb, tmp_path)
    data = (tmp_path / "f.bin").read_bytes()
    wrong = _refusal(lambda: _bucket(up, region="cn-hangzhou").put_object(up.key, data))
    # The Host names oss-cn-sandbox and the credential another region: 0002-00000226.
    assert (wrong.status, wrong.code, wrong.ec) == (400, "InvalidArgument", "0002-00000226")
    prefixed = _refusal(lambda: _bucket(up, region="oss-cn-sandbox").put_object(up.key, data))
    assert (prefixed.status, prefixed.code, prefixed.ec) == (
        400,
        "InvalidArgument",
        "0002-00000226",
    )
    _bucket(up, region="cn-sandbox").put_object(up.key, data)
    # V1 still works unless refused.
    _bucket(up, version=1).put_object(up.key, data)
    # Path style on an IP address: no region in the Host, the bucket's region decides.
    path_style = make_sandbox(region="cn-sandbox")
    up = _create(path_style, tmp_path)
    unknown = _refusal(lambda: _bucket(up, region="cn-hangzhou").put_object(up.key, data))
    assert (unknown.status, unknown.code, unknown.ec) == (400, "InvalidArgument", "0002-00000228")


def test_v1_refused_like_a_new_bucket(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(refuse_v1=True)
    up = _create(sb, tmp_path)
    data = (tmp_path / "f.bin").read_bytes()
    refused = _refusal(lambda: _bucket(up, version=1).put_object(up.key, data))
    assert (refused.status, refused.code, refused.ec) == (403, "AccessDenied", "0002-00000080")
    _bucket(up, version=4, region="any-region").put_object(up.key, data)


def test_clock_offset_moves_dates_expiry_and_the_skew_rule(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sb = make_sandbox(clock_offset=1800.0, sts_ttl=3600.0)
    answer = httpx.get(f"{sb.api_base}/sandbox/videos.json", timeout=10)
    server = email.utils.parsedate_to_datetime(answer.headers["Date"]).timestamp()
    assert 1790 < server - time.time() < 1810
    up = _create(sb, tmp_path)
    expire = time.mktime(time.strptime(up.answer["expire_time"], "%Y-%m-%dT%H:%M:%SZ"))
    assert 5390 - 5 < expire - time.mktime(time.gmtime()) < 5400 + 5  # ttl on the server clock
    # A client signing with this machine's clock is 30 minutes off: OSS's 15-minute rule.
    skewed = _refusal(lambda: _bucket(up).put_object(up.key, b"abc"))
    assert (skewed.status, skewed.code) == (403, "RequestTimeTooSkewed")


def test_strict_policy_grants_only_the_upload_calls(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(strict_policy=True)
    up = _create(sb, tmp_path, size=300 * 1024)
    bucket = _bucket(up)
    upload_id = bucket.init_multipart_upload(up.key).upload_id
    data = (tmp_path / "f.bin").read_bytes()
    part = bucket.upload_part(up.key, upload_id, 1, data)
    for call in (
        lambda: bucket.list_parts(up.key, upload_id),
        lambda: bucket.abort_multipart_upload(up.key, upload_id),
        bucket.list_multipart_uploads,
    ):
        refused = _refusal(call)
        assert (refused.status, refused.code) == (403, "AccessDenied")
    bucket.complete_multipart_upload(up.key, upload_id, [oss2.models.PartInfo(1, part.etag)])
    head = _refusal(lambda: bucket.head_object(up.key))
    assert (head.status, head.code) == (403, "AccessDenied")


def test_urlencoded_error_bodies(make_sandbox: Any) -> None:
    sb = make_sandbox(urlencoded_errors=True)
    sb.expire_access_tokens()
    creds = sb.credentials
    answer = httpx.post(
        f"{sb.api_base}/uploads/commit.json",
        data={
            "client_id": creds.client_id,
            "access_token": creds.access_token,
            "upload_token": "x",
        },
    )
    assert answer.status_code == 400
    fields = parse_qs(answer.text)
    assert fields["error[code]"] == ["1009"]
    assert fields["error[type]"] == ["UploadsException"]


def test_get_with_query_parameters_is_accepted_and_commit_once(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sb = make_sandbox(commit_once=True)
    md5 = make_file(tmp_path / "f.bin", 1000)
    creds = sb.credentials
    auth = {"client_id": creds.client_id, "access_token": creds.access_token}
    created = httpx.get(
        f"{sb.api_base}/uploads/create.json", params={**auth, **create_params(md5, 1000)}
    )
    assert created.status_code == 201, created.text
    up = Upload(created.json())
    _bucket(up).put_object(up.key, (tmp_path / "f.bin").read_bytes())
    commit = {**auth, "upload_token": up.upload_token}
    first = httpx.get(f"{sb.api_base}/uploads/commit.json", params=commit)
    assert first.json()["video_id"] == up.answer["video_id"]
    again = httpx.post(f"{sb.api_base}/uploads/commit.json", data=commit)
    assert again.json()["error"]["code"] == 120010151


def test_print_env_gives_the_ca_and_help_lists_each_mode(tmp_path: Path) -> None:
    proc, env = start_process(tmp_path / "sb", "--tls")
    try:
        ca = Path(env["YOUKU_CA_BUNDLE"])
        assert ca.parent.parent == tmp_path / "sb" and ca.is_file()
        assert env["YOUKU_API_BASE"].startswith("https://")
        answer = httpx.get(
            f"{env['YOUKU_API_BASE']}/sandbox/videos.json",
            verify=ssl.create_default_context(cafile=str(ca)),
        )
        assert answer.status_code == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    shown = subprocess.run(
        [sys.executable, "-m", "youku_tui", "sandbox", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "100", "PATH": ""},
    ).stdout
    for flag in (
        "--tls",
        "--oss-host",
        "--region",
        "--no-v1",
        "--clock-offset",
        "--strict-policy",
        "--urlencoded-errors",
        "--commit-once",
    ):
        assert flag in shown
