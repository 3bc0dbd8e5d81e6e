"""Checkpoints a user, a crash or an attacker could leave behind: each is set aside with a
message that names it, and every other checkpoint still loads (issue 9, item 2). Also the
non-UTF-8 file name that must round-trip (item 1)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from youku_tui.engine.checkpoint import Checkpoint, CheckpointStore, FileIdentity, LoadProblem
from youku_tui.engine.owner import OwnerLock
from youku_tui.engine.states import UploadState
from youku_tui.errors import CheckpointError
from youku_tui.metadata import VideoMetadata


def _good(tmp_path: Path, upload_id: str, size: int = 300 * 1024) -> Checkpoint:
    video = tmp_path / f"{upload_id}.mp4"
    video.touch()
    os.truncate(video, size)  # sparse: only its size matters here
    return Checkpoint(
        upload_id=upload_id,
        identity=FileIdentity.of(video),
        metadata=VideoMetadata(title="t", tags=("aa",)).to_record(),
        state=UploadState.PAUSED,
        part_size=100 * 1024,
    )


BAD_EDITS = {
    "size-inf": ("size = 307200", "size = inf"),
    "position-inf": ("position = 0", "position = inf"),
    "position-huge": ("position = 0", "position = " + "9" * 300),
    "size-huge": ("size = 307200", "size = 99999999999999999999"),
    "part-size-1": ("part_size = 102400", "part_size = 1"),
    "part-size-negative": ("part_size = 102400", "part_size = -5"),
    "part-size-6GiB": ("part_size = 102400", f"part_size = {6 * 1024**3}"),
    "size-is-text": ("size = 307200", 'size = "big"'),
    "created-nan": ("created_at = ", "created_at = nan\nx_created_at = "),
    "deep-nesting": ("position = 0", "position = 0\nnest = " + "[" * 50_000 + "]" * 50_000),
    "md5-not-hex": ('md5 = ""', 'md5 = "zz"'),
}


@pytest.mark.parametrize("edit", sorted(BAD_EDITS))
def test_a_bad_checkpoint_is_set_aside_and_the_others_load(tmp_path: Path, edit: str) -> None:
    store = CheckpointStore(tmp_path / "uploads", OwnerLock.acquire(tmp_path / "uploads"))
    store.save(_good(tmp_path, "a-good"))
    store.save(_good(tmp_path, "b-bad"))
    store.save(_good(tmp_path, "c-good"))
    bad = store.path_for("b-bad")
    old, new = BAD_EDITS[edit]
    text = bad.read_text()
    assert old in text, (old, text)
    bad.write_text(text.replace(old, new, 1))

    checkpoints, problems = store.load_all()

    assert [c.upload_id for c in checkpoints] == ["a-good", "c-good"]
    assert len(problems) == 1
    assert "b-bad.toml" in problems[0].message
    assert not bad.exists()  # renamed aside, kept for a human
    assert len(list(store.folder.glob("b-bad.toml.corrupt-*"))) == 1


def test_a_part_size_that_makes_more_than_10000_parts_is_refused(tmp_path: Path) -> None:
    cp = _good(tmp_path, "many", size=10_001 * 100 * 1024)
    with pytest.raises(CheckpointError, match="10001 parts"):
        Checkpoint.from_toml(cp.to_toml())


def test_a_fifo_named_like_a_checkpoint_does_not_hang_loading(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "uploads", OwnerLock.acquire(tmp_path / "uploads"))
    store.save(_good(tmp_path, "a-good"))
    os.mkfifo(store.folder / "trap.toml")
    result: list[tuple[list[Checkpoint], list[LoadProblem]]] = []
    loader = threading.Thread(target=lambda: result.append(store.load_all()), daemon=True)
    loader.start()
    loader.join(timeout=10)
    assert not loader.is_alive(), "load_all blocked on a FIFO"
    checkpoints, problems = result[0]
    assert [c.upload_id for c in checkpoints] == ["a-good"]
    assert "trap.toml" in problems[0].message and "not a regular file" in problems[0].message


def test_a_non_utf8_file_name_round_trips_exactly(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9\x1b]0;PWNED\x07.mp4"
    with open(raw, "wb") as handle:
        handle.write(b"y" * 1000)
    path = Path(os.fsdecode(raw))
    cp = Checkpoint(
        upload_id="latin1",
        identity=FileIdentity.of(path),
        metadata=VideoMetadata(title="t", tags=("aa",)).to_record(),
    )
    cp.last_error = f"{path}: something"
    store = CheckpointStore(tmp_path / "uploads", OwnerLock.acquire(tmp_path / "uploads"))
    store.save(cp)
    text = store.path_for("latin1").read_text(encoding="utf-8")
    assert "\x1b" not in text and "\x07" not in text
    loaded = store.load("latin1")
    assert os.fsencode(loaded.identity.path) == raw
    loaded.check_file()  # the very same file
