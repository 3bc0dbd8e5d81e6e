"""A sandbox restarted on the same folder still honours its tokens and multipart uploads."""

from __future__ import annotations

import stat
from pathlib import Path

import oss2

from tests.sandbox.helpers import api_call, create_upload
from youku_tui.sandbox import SandboxThread

PART = 100 * 1024


def test_restart_keeps_tokens_sessions_and_uploads(tmp_path: Path) -> None:
    data_dir = tmp_path / "sb"
    first = b"a" * PART
    second = b"b" * 1000
    import hashlib

    md5 = hashlib.md5(first + second).hexdigest()
    with SandboxThread(data_dir=data_dir) as sb:
        creds = sb.credentials
        upload = create_upload(sb, md5, len(first + second))
        bucket = upload.bucket()
        upload_id = bucket.init_multipart_upload(upload.key).upload_id
        etag1 = bucket.upload_part(upload.key, upload_id, 1, first).etag
    with SandboxThread(data_dir=data_dir) as sb:
        assert sb.credentials.access_token == creds.access_token
        renewed = api_call(
            sb,
            "/uploads/get_sts_inf.json",
            upload_token=upload.upload_token,
            oss_bucket=upload.bucket_name,
            oss_object=upload.key,
        ).json()
        bucket = oss2.Bucket(
            oss2.StsAuth(
                renewed["temp_access_id"], renewed["temp_access_secret"], renewed["security_token"]
            ),
            renewed["endpoint"],
            upload.bucket_name,
        )
        listed = bucket.list_parts(upload.key, upload_id)
        assert [(p.part_number, p.etag) for p in listed.parts] == [(1, etag1)]
        etag2 = bucket.upload_part(upload.key, upload_id, 2, second).etag
        bucket.complete_multipart_upload(
            upload.key, upload_id, [oss2.models.PartInfo(1, etag1), oss2.models.PartInfo(2, etag2)]
        )
        answer = api_call(sb, "/uploads/commit.json", upload_token=upload.upload_token)
        assert answer.status_code == 200, answer.text
    with SandboxThread(data_dir=data_dir) as sb:
        assert [v["md5"] for v in sb.videos()] == [md5]
    mode = stat.S_IMODE((data_dir / "state.json").stat().st_mode)
    assert mode == 0o600  # it holds the sandbox's tokens
