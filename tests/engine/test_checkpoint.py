from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from youku_tui.engine.checkpoint import (
    SCHEMA_VERSION,
    Checkpoint,
    CheckpointStore,
    FileIdentity,
    PartRecord,
)
from youku_tui.engine.owner import OwnerLock
from youku_tui.engine.states import FailureKind, UploadState
from youku_tui.errors import (
    ApiError,
    CheckpointError,
    FileChangedError,
    LocalFileError,
    NotLoggedInError,
)
from youku_tui.metadata import PublicType, VideoMetadata


class TokenRevokedError(NotLoggedInError):
    """A refinement of \"not logged in\", as a renamed or split error class would be."""


def _video(tmp_path: Path, data: bytes = b"v" * (102400 + 5)) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    return path


def _checkpoint(path: Path, upload_id: str = "u1") -> Checkpoint:
    meta = VideoMetadata(
        title="Clip",
        tags=("aa", "bb"),
        public_type=PublicType.PASSWORD,
        watch_password="SecretPw1",
    )
    cp = Checkpoint(
        upload_id=upload_id,
        identity=FileIdentity.of(path),
        metadata=meta.to_record(),
        state=UploadState.UPLOADING,
        md5="0" * 32,
        video_id="XMTIzNDU2",
        upload_token="tok-upload-123",
        bucket="b",
        object="dir/o.mp4",
        endpoint="http://127.0.0.1:1",
        part_size=102400,
        multipart_upload_id="MPU-1",
    )
    # CRC-64 values above 2**63 do not fit a TOML integer: they must survive as text.
    cp.parts[1] = PartRecord(1, 102400, '"ETAG1"', 0xFFFFFFFFFFFFFFFF)
    cp.parts[2] = PartRecord(2, 5, "ETAG2", 0x995DC9BBDF1939FA)
    return cp


def _owned_store(tmp_path: Path) -> CheckpointStore:
    folder = tmp_path / "uploads"
    return CheckpointStore(folder, OwnerLock.acquire(folder, role="test"))


def test_round_trip(tmp_path: Path) -> None:
    store = _owned_store(tmp_path)
    cp = _checkpoint(_video(tmp_path))
    store.save(cp)
    loaded = store.load("u1")
    assert loaded.parts == cp.parts
    assert loaded.identity == cp.identity
    assert loaded.metadata == cp.metadata
    assert loaded.state is UploadState.UPLOADING
    assert (loaded.upload_token, loaded.multipart_upload_id) == ("tok-upload-123", "MPU-1")
    assert f"schema_version = {SCHEMA_VERSION}" in store.path_for("u1").read_text()


def test_a_login_failure_is_kept_as_its_kind_and_old_checkpoints_are_recognised(
    tmp_path: Path,
) -> None:
    store = _owned_store(tmp_path)
    cp = _checkpoint(_video(tmp_path))
    cp.state = UploadState.FAILED
    cp.record_error("Youku error 1008: not logged in", "1008", TokenRevokedError("no"))
    store.save(cp)
    assert store.load("u1").last_failure is FailureKind.NEEDS_LOGIN
    cp.record_error("Youku error 1002: busy", "1002", ApiError("busy"))
    store.save(cp)
    assert store.load("u1").last_failure is FailureKind.OTHER
    cp.clear_error()
    store.save(cp)
    assert store.load("u1").last_failure is None
    # A checkpoint written before the kind was stored names the error's class only.
    old = cp.to_toml().replace('class = ""', 'class = "NotLoggedInError"')
    old = old.replace('message = ""', 'message = "not logged in"').replace('kind = ""\n', "")
    assert "kind" not in old
    assert Checkpoint.from_toml(old).last_failure is FailureKind.NEEDS_LOGIN
    other = old.replace('"NotLoggedInError"', '"TransientError"')
    assert Checkpoint.from_toml(other).last_failure is FailureKind.OTHER


def test_an_unknown_failure_kind_is_a_checkpoint_error(tmp_path: Path) -> None:
    cp = _checkpoint(_video(tmp_path))
    with pytest.raises(CheckpointError, match="needs_nothing"):
        Checkpoint.from_toml(cp.to_toml().replace('kind = ""', 'kind = "needs_nothing"'))


def test_file_is_private_and_holds_no_secret(tmp_path: Path) -> None:
    store = _owned_store(tmp_path)
    store.save(_checkpoint(_video(tmp_path)))
    path = store.path_for("u1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "SecretPw1" not in text
    assert "watch_password" not in text
    # no temp files left behind
    assert sorted(p.name for p in path.parent.iterdir()) == ["owner.lock", "u1.toml"]


def test_corrupt_checkpoint_is_set_aside_and_others_load(tmp_path: Path) -> None:
    store = _owned_store(tmp_path)
    video = _video(tmp_path)
    store.save(_checkpoint(video, "good"))
    (store.folder / "bad.toml").write_text("this is = = not toml")
    (store.folder / "old.toml").write_text("schema_version = 99\n")
    loaded, problems = store.load_all()
    assert [c.upload_id for c in loaded] == ["good"]
    assert len(problems) == 2
    assert any("bad.toml is corrupt" in p.message for p in problems)
    assert any("schema_version 99" in p.message for p in problems)
    names = sorted(p.name for p in store.folder.iterdir())
    assert names[0].startswith("bad.toml.corrupt-")
    assert "good.toml" in names
    # A second load does not meet them again.
    assert store.load_all()[1] == []


def test_missing_field_is_a_checkpoint_error() -> None:
    with pytest.raises(CheckpointError, match="malformed"):
        Checkpoint.from_toml(f"schema_version = {SCHEMA_VERSION}\nupload_id = 'x'\n")


def test_changed_file_is_refused(tmp_path: Path) -> None:
    video = _video(tmp_path)
    cp = _checkpoint(video)
    cp.check_file()  # unchanged: fine
    time.sleep(0.01)
    with video.open("ab") as handle:
        handle.write(b"more")
    with pytest.raises(FileChangedError, match="changed since its upload started"):
        cp.check_file()


def test_touched_file_is_refused(tmp_path: Path) -> None:
    video = _video(tmp_path)
    cp = _checkpoint(video)
    st = video.stat()
    os.utime(video, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    with pytest.raises(FileChangedError, match="modification time"):
        cp.check_file()


def test_missing_file_is_a_local_file_error(tmp_path: Path) -> None:
    video = _video(tmp_path)
    cp = _checkpoint(video)
    video.unlink()
    with pytest.raises(LocalFileError, match="no such file"):
        cp.check_file()


def test_full_disk_keeps_the_old_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    store = _owned_store(tmp_path)
    cp = _checkpoint(_video(tmp_path))
    store.save(cp)
    before = store.path_for("u1").read_text()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    cp.state = UploadState.PAUSED
    with pytest.raises(LocalFileError, match="disk full"):
        store.save(cp)
    monkeypatch.undo()
    assert store.path_for("u1").read_text() == before


def test_a_store_without_the_owner_lock_only_reads(tmp_path: Path) -> None:
    owned = _owned_store(tmp_path)
    owned.save(_checkpoint(_video(tmp_path), "good"))
    (owned.folder / "bad.toml").write_text("this is = = not toml")
    reader = CheckpointStore(owned.folder)
    with pytest.raises(CheckpointError, match="does not own"):
        reader.save(_checkpoint(_video(tmp_path), "u2"))
    loaded, problems = reader.load_all()
    assert [c.upload_id for c in loaded] == ["good"]
    assert "left in place" in problems[0].message
    assert (owned.folder / "bad.toml").exists()  # a reader renames nothing
    assert owned.owner is not None
    owned.owner.release()
    with pytest.raises(CheckpointError, match="does not own"):
        owned.save(_checkpoint(_video(tmp_path), "good"))


def test_live_settings_file_is_not_a_checkpoint(tmp_path: Path) -> None:
    store = _owned_store(tmp_path)
    store.save(_checkpoint(_video(tmp_path), "good"))
    (store.folder / "settings.toml").write_text("bandwidth = 5\n")
    loaded, problems = store.load_all()
    assert [c.upload_id for c in loaded] == ["good"]
    assert problems == []
