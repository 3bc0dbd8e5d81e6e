"""Multipart calls, their paging and their errors, as oss2 sees them."""

from __future__ import annotations

import base64
import hashlib
import re
import socket
from collections.abc import Callable
from typing import Any

import oss2
import pytest
import requests
from fastcrc import crc64
from oss2.models import PartInfo

from tests.polling import wait_until
from tests.sandbox.helpers import Upload, create_upload
from youku_tui.sandbox import SandboxThread

PART = 100 * 1024


def parts_data(count: int, size: int = PART) -> list[bytes]:
    return [bytes([n]) * size for n in range(1, count + 1)]


def start(sandbox: SandboxThread) -> tuple[Upload, oss2.Bucket, str]:
    upload = create_upload(sandbox, "0" * 32, 1)
    bucket = upload.bucket()
    return upload, bucket, bucket.init_multipart_upload(upload.key).upload_id


def test_list_parts_pages_and_reports_crc(sandbox: SandboxThread) -> None:
    upload, bucket, upload_id = start(sandbox)
    chunks = parts_data(5, 1000)
    for number, chunk in enumerate(chunks, start=1):
        result = bucket.upload_part(upload.key, upload_id, number, chunk)
        assert result.crc == crc64.xz(chunk)
        assert result.etag == hashlib.md5(chunk).hexdigest().upper()
    page = bucket.list_parts(upload.key, upload_id, max_parts=2)
    assert [p.part_number for p in page.parts] == [1, 2]
    assert page.is_truncated
    assert page.next_marker == "2"
    page = bucket.list_parts(upload.key, upload_id, marker="4", max_parts=2)
    assert [p.part_number for p in page.parts] == [5]
    assert not page.is_truncated
    url = bucket.sign_url("GET", upload.key, 60, params={"uploadId": upload_id})
    raw = requests.get(url, timeout=10).text
    assert f"<HashCrc64ecma>{crc64.xz(chunks[4])}</HashCrc64ecma>" in raw
    assert re.search(r"<LastModified>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z</LastModified>", raw)
    everything = list(oss2.PartIterator(bucket, upload.key, upload_id, max_parts=1))
    assert [p.size for p in everything] == [1000] * 5
    assert sandbox.part_requests(upload_id) == [1, 2, 3, 4, 5]


def test_complete_checks_parts(sandbox: SandboxThread) -> None:
    upload, bucket, upload_id = start(sandbox)
    small, last = b"s" * 1000, b"l" * 10
    infos = [
        PartInfo(n, bucket.upload_part(upload.key, upload_id, n, data).etag)
        for n, data in ((1, small), (2, last))
    ]
    with pytest.raises(oss2.exceptions.OssError) as info:
        bucket.complete_multipart_upload(upload.key, upload_id, infos)
    assert (info.value.status, info.value.code) == (400, "EntityTooSmall")
    with pytest.raises(oss2.exceptions.OssError) as info:
        bucket.complete_multipart_upload(upload.key, upload_id, [PartInfo(1, "0" * 32)])
    assert (info.value.status, info.value.code) == (400, "InvalidPart")
    with pytest.raises(oss2.exceptions.OssError) as info:
        bucket.complete_multipart_upload(upload.key, upload_id, [PartInfo(7, infos[0].etag)])
    assert info.value.code == "InvalidPart"
    # The last part may be small; parts left out are dropped.
    big = b"b" * PART
    infos[0] = PartInfo(1, bucket.upload_part(upload.key, upload_id, 1, big).etag)
    result = bucket.complete_multipart_upload(upload.key, upload_id, infos)
    assert result.crc == crc64.xz(big + last)
    assert bucket.get_object(upload.key).read() == big + last
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.upload_part(upload.key, upload_id, 3, b"late")


def test_abort_and_no_such_upload(sandbox: SandboxThread) -> None:
    upload, bucket, upload_id = start(sandbox)
    bucket.upload_part(upload.key, upload_id, 1, b"x" * 10)
    assert [u.upload_id for u in oss2.MultipartUploadIterator(bucket)] == [upload_id]
    bucket.abort_multipart_upload(upload.key, upload_id)
    assert list(oss2.MultipartUploadIterator(bucket)) == []
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.list_parts(upload.key, upload_id)
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.abort_multipart_upload(upload.key, "F" * 32)
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.upload_part(upload.key, "../../escape", 1, b"x")


def test_list_multipart_uploads_pages(sandbox: SandboxThread) -> None:
    upload, bucket, first = start(sandbox)
    ids = {first} | {bucket.init_multipart_upload(upload.key).upload_id for _ in range(2)}
    page = bucket.list_multipart_uploads(max_uploads=2)
    assert page.is_truncated
    assert len(page.upload_list) == 2
    rest = bucket.list_multipart_uploads(
        key_marker=page.next_key_marker, upload_id_marker=page.next_upload_id_marker
    )
    assert {u.upload_id for u in page.upload_list + rest.upload_list} == ids
    assert all(u.key == upload.key for u in rest.upload_list)


def test_content_md5_mismatch_is_invalid_digest(sandbox: SandboxThread) -> None:
    upload, bucket, upload_id = start(sandbox)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    calls: tuple[Callable[[], object], ...] = (
        lambda: bucket.put_object(upload.key, b"data", headers={"Content-MD5": wrong}),
        lambda: bucket.upload_part(
            upload.key, upload_id, 1, b"data", headers={"Content-MD5": wrong}
        ),
    )
    for call in calls:
        with pytest.raises(oss2.exceptions.OssError) as info:
            call()
        assert (info.value.status, info.value.code) == (400, "InvalidDigest")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object(upload.key)
    right = base64.b64encode(hashlib.md5(b"data").digest()).decode()
    assert bucket.put_object(upload.key, b"data", headers={"Content-MD5": right}).status == 200


def test_missing_object_errors(sandbox: SandboxThread) -> None:
    upload, bucket, _ = start(sandbox)
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object(upload.key)
    with pytest.raises(oss2.exceptions.NotFound) as info:
        bucket.head_object(upload.key)
    # HEAD has no body: the error XML travels base64 in x-oss-err, and oss2 reads the code.
    assert info.value.code == "NoSuchKey"
    assert info.value.request_id


def test_virtual_host_addressing(sandbox: SandboxThread, monkeypatch: pytest.MonkeyPatch) -> None:
    """``bucket.<host>`` addressing, with a name that resolves to loopback like real DNS."""
    real_getaddrinfo = socket.getaddrinfo

    def fake_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".sandbox.test"):
            host = "127.0.0.1"
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    upload = create_upload(sandbox, "0" * 32, 1)
    endpoint = f"http://oss.sandbox.test:{sandbox.port}"
    bucket = oss2.Bucket(upload.auth(), endpoint, upload.bucket_name)
    assert bucket.put_object(upload.key, b"vhost").status == 200
    assert bucket.get_object(upload.key).read() == b"vhost"
    upload_id = bucket.init_multipart_upload(upload.key).upload_id
    assert bucket.list_parts(upload.key, upload_id).parts == []
    assert sandbox.stats()["oss.put_object"] == 1


def test_reuploaded_and_skipped_parts_assemble_correctly(sandbox: SandboxThread) -> None:
    """Parts are folded into the object as they arrive; Complete must still honour its list."""
    upload, bucket, upload_id = start(sandbox)
    first, second, third, again = (bytes([n]) * PART for n in (1, 2, 3, 4))
    etags = {
        n: bucket.upload_part(upload.key, upload_id, n, d).etag
        for n, d in ((1, first), (2, second), (3, third))
    }
    # Parts 1..3 arrived in sequence: the background folds them into the assembly file.
    assembly = sandbox.data_dir / "multipart" / upload_id / "assembly.bin"
    wait_until(
        lambda: assembly.exists() and assembly.stat().st_size == 3 * PART,
        "the background fold to take parts 1..3",
    )
    etags[2] = bucket.upload_part(upload.key, upload_id, 2, again).etag
    result = bucket.complete_multipart_upload(
        upload.key, upload_id, [PartInfo(n, etags[n]) for n in (1, 2, 3)]
    )
    assert bucket.get_object(upload.key).read() == first + again + third
    assert result.crc == crc64.xz(first + again + third)

    upload, bucket, upload_id = start(sandbox)
    etags = {
        n: bucket.upload_part(upload.key, upload_id, n, d).etag
        for n, d in ((1, first), (2, second), (3, third))
    }
    bucket.complete_multipart_upload(
        upload.key, upload_id, [PartInfo(1, etags[1]), PartInfo(3, etags[3])]
    )
    assert bucket.get_object(upload.key).read() == first + third


def test_disk_failure_is_an_internal_error(sandbox: SandboxThread) -> None:
    """A failing disk on the sandbox's side answers 500 InternalError, which clients retry."""
    import shutil

    upload = create_upload(sandbox, "0" * 32, 1)
    tmp_dir = sandbox.data_dir / "tmp"
    shutil.rmtree(tmp_dir)
    with pytest.raises(oss2.exceptions.ServerError) as info:
        upload.bucket().put_object(upload.key, b"lost")
    assert (info.value.status, info.value.code) == (500, "InternalError")
    tmp_dir.mkdir()
    assert upload.bucket().put_object(upload.key, b"kept").status == 200
