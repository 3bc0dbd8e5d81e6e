"""Real Aliyun clients store 20 MB with the STS credentials from uploads/create."""

from __future__ import annotations

import hashlib
from pathlib import Path

import alibabacloud_oss_v2 as oss_v2
import oss2
import pytest
from fastcrc import crc64

from tests.sandbox.helpers import Upload, api_call, create_upload, make_file
from youku_tui.sandbox import SandboxThread

SIZE = 20 * 1024 * 1024


@pytest.fixture
def big_file(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "big.mp4"
    return path, make_file(path, SIZE, seed=7)


def read_back(upload: Upload) -> bytes:
    return upload.bucket().get_object(upload.key).read()  # type: ignore[no-any-return]


def commit(sb: SandboxThread, upload: Upload) -> str:
    response = api_call(sb, "/uploads/commit.json", upload_token=upload.upload_token)
    assert response.status_code == 200, response.text
    return str(response.json()["video_id"])


def test_oss2_resumable_upload_threads_small_parts(
    sandbox: SandboxThread, big_file: tuple[Path, str], tmp_path: Path
) -> None:
    path, md5 = big_file
    upload = create_upload(sandbox, md5, SIZE)
    result = oss2.resumable_upload(
        upload.bucket(),
        upload.key,
        str(path),
        store=oss2.ResumableStore(root=str(tmp_path / "ckpt")),
        multipart_threshold=1024 * 1024,
        part_size=512 * 1024,
        num_threads=4,
    )
    data = path.read_bytes()
    assert read_back(upload) == data
    # The completed object's CRC64 is the whole file's, and its ETag is the multipart kind.
    assert result.crc == crc64.xz(data)
    assert result.etag.endswith("-40")
    video_id = commit(sandbox, upload)
    [video] = sandbox.videos()
    assert video["video_id"] == video_id
    assert (video["md5"], video["size"], video["title"]) == (md5, SIZE, "A sandbox video")


def test_oss2_put_object(sandbox: SandboxThread, big_file: tuple[Path, str]) -> None:
    path, md5 = big_file
    upload = create_upload(sandbox, md5, SIZE)
    result = upload.bucket().put_object_from_file(upload.key, str(path))
    data = path.read_bytes()
    assert result.etag == hashlib.md5(data).hexdigest().upper()
    assert result.crc == crc64.xz(data)
    assert result.request_id
    assert read_back(upload) == data
    commit(sandbox, upload)


def test_oss2_v4_signature(sandbox: SandboxThread, tmp_path: Path) -> None:
    path = tmp_path / "v4.mp4"
    md5 = make_file(path, 700_000)
    upload = create_upload(sandbox, md5, 700_000)
    provider = oss2.credentials.StaticCredentialsProvider(
        upload.answer["temp_access_id"],
        upload.answer["temp_access_secret"],
        upload.answer["security_token"],
    )
    bucket = oss2.Bucket(
        oss2.ProviderAuthV4(provider),
        upload.answer["endpoint"],
        upload.bucket_name,
        region="cn-sandbox",
    )
    oss2.resumable_upload(
        bucket,
        upload.key,
        str(path),
        store=oss2.ResumableStore(root=str(tmp_path)),
        multipart_threshold=200_000,
        part_size=200_000,
        num_threads=2,
    )
    assert bucket.get_object(upload.key).read() == path.read_bytes()
    commit(sandbox, upload)


def v2_client(upload: Upload, **override: str) -> oss_v2.Client:
    cfg = oss_v2.config.load_default()
    cfg.credentials_provider = oss_v2.credentials.StaticCredentialsProvider(
        override.get("temp_access_id", upload.answer["temp_access_id"]),
        override.get("temp_access_secret", upload.answer["temp_access_secret"]),
        override.get("security_token", upload.answer["security_token"]),
    )
    cfg.region = "cn-sandbox"
    cfg.endpoint = upload.answer["endpoint"]
    cfg.retry_max_attempts = 1
    return oss_v2.Client(cfg)


def test_alibabacloud_oss_v2_uploader(sandbox: SandboxThread, big_file: tuple[Path, str]) -> None:
    path, md5 = big_file
    upload = create_upload(sandbox, md5, SIZE)
    client = v2_client(upload)
    uploader = client.uploader(part_size=1024 * 1024, parallel_num=4)
    result = uploader.upload_file(
        oss_v2.PutObjectRequest(bucket=upload.bucket_name, key=upload.key), filepath=str(path)
    )
    assert result.status_code == 200
    got = client.get_object(oss_v2.GetObjectRequest(bucket=upload.bucket_name, key=upload.key))
    assert got.body.read() == path.read_bytes()
    commit(sandbox, upload)


def test_alibabacloud_oss_v2_wrong_secret_refused(sandbox: SandboxThread) -> None:
    upload = create_upload(sandbox, "0" * 32, 10)
    client = v2_client(upload, temp_access_secret="not-the-secret")
    with pytest.raises(oss_v2.exceptions.OperationError) as info:
        client.put_object(
            oss_v2.PutObjectRequest(bucket=upload.bucket_name, key=upload.key, body=b"x" * 10)
        )
    error = info.value.unwrap()
    assert isinstance(error, oss_v2.exceptions.ServiceError)
    assert (error.status_code, error.code) == (403, "SignatureDoesNotMatch")


def test_get_range_and_head(sandbox: SandboxThread) -> None:
    data = bytes(range(256)) * 1000
    upload = create_upload(sandbox, hashlib.md5(data).hexdigest(), len(data))
    bucket = upload.bucket()
    bucket.put_object(upload.key, data)
    assert bucket.get_object(upload.key, byte_range=(10, 19)).read() == data[10:20]
    head = bucket.head_object(upload.key)
    assert head.content_length == len(data)
    assert head.server_crc == crc64.xz(data)


def test_alibabacloud_oss_v2_presigned_v4_url(sandbox: SandboxThread) -> None:
    """V4 in the query string (the v2 SDK's presign), both for the right and the wrong verb."""
    import requests

    data = b"presigned " * 100
    upload = create_upload(sandbox, hashlib.md5(data).hexdigest(), len(data))
    client = v2_client(upload)
    put = client.presign(oss_v2.PutObjectRequest(bucket=upload.bucket_name, key=upload.key))
    assert requests.put(put.url, data=data, timeout=10).status_code == 200
    get = client.presign(oss_v2.GetObjectRequest(bucket=upload.bucket_name, key=upload.key))
    assert requests.get(get.url, timeout=10).content == data
    assert requests.delete(get.url, timeout=10).status_code == 403
