from __future__ import annotations

from pathlib import Path

import oss2

from tests.sandbox.helpers import api_call, create_upload, make_file
from youku_tui.sandbox import SandboxThread


def test_put_then_commit(sandbox: SandboxThread, tmp_path: Path) -> None:
    f = tmp_path / "a.mp4"
    md5 = make_file(f, 300_000)
    up = create_upload(sandbox, md5, 300_000)
    b = up.bucket()
    r = b.put_object_from_file(up.key, str(f))
    assert r.status == 200
    assert b.get_object(up.key).read() == f.read_bytes()
    r = api_call(sandbox, "/uploads/commit.json", upload_token=up.upload_token)
    assert r.status_code == 200, r.text
    assert sandbox.videos()[0]["md5"] == md5


def test_resumable(sandbox: SandboxThread, tmp_path: Path) -> None:
    f = tmp_path / "a.mp4"
    size = 3_000_000
    md5 = make_file(f, size)
    up = create_upload(sandbox, md5, size)
    b = up.bucket()
    oss2.resumable_upload(b, up.key, str(f), multipart_threshold=200_000, part_size=200_000,
                          num_threads=3, store=oss2.ResumableStore(root=str(tmp_path)))
    assert b.get_object(up.key).read() == f.read_bytes()
    r = api_call(sandbox, "/uploads/commit.json", upload_token=up.upload_token)
    assert r.status_code == 200, r.text
