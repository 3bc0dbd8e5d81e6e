"""``youku-tui upload / resume / list`` as a user runs them: subprocesses against the sandbox."""

from __future__ import annotations

import collections
import signal
from pathlib import Path
from typing import Any

from tests.e2e.cli_helpers import (
    checkpoints,
    json_lines,
    run_cli,
    start_slow_upload,
    wait_for_stored_parts,
)
from tests.e2e.e2e_helpers import MIB, make_video
from youku_tui import paths


def test_upload_json_batch_commits_every_file(sandbox: Any, tmp_path: Path) -> None:
    files = [make_video(tmp_path / "v", f"clip{i}.mp4", 600 * 1024) for i in range(2)]
    result = run_cli(
        sandbox,
        "upload",
        *(str(p) for p, _ in files),
        "--title",
        "{stem} part {index}",
        "--tags",
        "test,cli",
        "--part-size",
        "256K",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)  # every line is one JSON object
    results = [r for r in records if r["event"] == "result"]
    assert [r["state"] for r in results] == ["done", "done"]
    assert {r["title"] for r in results} == {"clip0 part 1", "clip1 part 2"}
    for result_record in results:
        assert result_record["video_id"]
        # The last line about this upload is its result, carrying the video id.
        mine = [r for r in records if r.get("upload_id") == result_record["upload_id"]]
        assert mine[-1] is result_record
    committed = {v["video_id"]: v for v in sandbox.videos()}
    assert {r["video_id"] for r in results} == set(committed)
    assert sorted(v["md5"] for v in committed.values()) == sorted(md5 for _, md5 in files)
    assert {r["event"] for r in records} >= {"added", "state", "done", "result"}
    # No token in the event stream, the log or the checkpoints.
    env = sandbox.env()
    secrets = [env["YOUKU_ACCESS_TOKEN"], env["YOUKU_REFRESH_TOKEN"]]
    texts = [result.stdout, result.stderr, paths.log_file().read_text()]
    texts += [p.read_text() for p in paths.uploads_dir().glob("*.toml")]
    assert len(texts) == 5
    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_bad_metadata_fails_before_any_request(sandbox: Any, tmp_path: Path) -> None:
    path, _ = make_video(tmp_path / "v", "clip.mp4", 200 * 1024)
    result = run_cli(sandbox, "upload", str(path), "--title", "x" * 61, "--tags", "a")
    assert result.returncode == 2
    assert "title:" in result.stderr and "tags:" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run_cli(sandbox, "upload", str(tmp_path / "nope.mp4"), "--tags", "ok")
    assert missing.returncode == 2
    assert "no such file" in missing.stderr
    assert sum(sandbox.stats().values()) == 0


def test_sigkill_halfway_then_resume_resends_at_most_in_flight_plus_one(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB")
    path, md5 = make_video(tmp_path / "v", "kill.mp4", 24 * MIB)  # 96 parts
    process = start_slow_upload(sandbox, path)
    checkpoint = wait_for_stored_parts(30, process)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    upload_id = checkpoint.multipart_upload_id
    assert upload_id

    sandbox.set_faults("")
    result = run_cli(sandbox, "resume", "--json")
    assert result.returncode == 0, result.stderr
    [video] = sandbox.videos()
    assert video["md5"] == md5
    sent = collections.Counter(sandbox.part_requests(upload_id))
    assert set(sent) == set(range(1, 97))
    resent = sum(count - 1 for count in sent.values())
    assert resent <= 2 + 1, sent  # --parts 2 in flight, plus one
    assert sandbox.stats()["oss.initiate"] == 1
    assert [c.state for c in checkpoints()] == ["done"]


def test_sigterm_pauses_with_checkpoint_and_resume_finishes(
    make_sandbox: Any, tmp_path: Path
) -> None:
    # Slow enough (about 16 s for the file) that `list` started on a loaded machine still
    # finds the upload running; resume runs with no fault.
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:256KB")
    path, md5 = make_video(tmp_path / "v", "term.mp4", 8 * MIB)
    process = start_slow_upload(sandbox, path)
    wait_for_stored_parts(4, process)
    running = json_lines(run_cli(sandbox, "list", "--json").stdout)
    assert [(r["in_use"], r["path"]) for r in running] == [(True, str(path))]
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 143
    assert "youku-tui resume" in stderr
    [paused] = checkpoints()
    assert paused.state == "paused"
    listed = run_cli(sandbox, "list")
    assert "paused" in listed.stdout and "term.mp4" in listed.stdout

    sandbox.set_faults("")
    result = run_cli(sandbox, "resume")
    assert result.returncode == 0, result.stderr
    assert sandbox.videos()[0]["md5"] == md5
    assert "no unfinished uploads" in run_cli(sandbox, "list").stdout


def test_file_modified_after_its_checkpoint_is_refused(make_sandbox: Any, tmp_path: Path) -> None:
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB")
    path, _ = make_video(tmp_path / "v", "changed.mp4", 8 * MIB)
    process = start_slow_upload(sandbox, path)
    wait_for_stored_parts(2, process)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=10)
    assert process.returncode == 130
    with path.open("r+b") as handle:
        handle.write(b"edited")
    before = sum(sandbox.stats().values())

    result = run_cli(sandbox, "resume")
    assert result.returncode != 0
    assert "changed since its upload started" in result.stderr
    assert "Traceback" not in result.stderr
    assert sum(sandbox.stats().values()) == before  # nothing sent for it
    [failed] = checkpoints()
    assert failed.state == "failed"


def test_corrupt_checkpoint_is_set_aside_and_others_still_resume(
    sandbox: Any, tmp_path: Path
) -> None:
    folder = paths.uploads_dir()
    folder.mkdir(parents=True)
    (folder / "broken.toml").write_text("schema_version = [[[")
    result = run_cli(sandbox, "list")
    assert result.returncode == 0
    assert "broken.toml is corrupt" in result.stderr
    assert (folder / "broken.toml").exists()  # `list` only reads: the owner sets it aside
    resumed = run_cli(sandbox, "resume")
    assert "broken.toml is corrupt" in resumed.stderr
    assert not (folder / "broken.toml").exists()
    assert any(p.name.startswith("broken.toml.corrupt-") for p in folder.iterdir())


def test_refused_upload_exits_non_zero_naming_the_field(make_sandbox: Any, tmp_path: Path) -> None:
    sandbox = make_sandbox(faults="api.create=youku:120010104")
    path, _ = make_video(tmp_path / "v", "refused.mp4", 200 * 1024)
    result = run_cli(sandbox, "upload", str(path), "--tags", "ok,fine", "--json")
    assert result.returncode == 1
    records = json_lines(result.stdout)
    [failed] = [r for r in records if r["event"] == "failed"]
    assert failed["field"] == "title"
    assert failed["code"] == "120010104"
    assert failed["error_class"] == "RejectedInputError"
    assert records[-1]["event"] == "result"
    assert records[-1]["state"] == "failed"
    assert records[-1]["video_id"] == ""
    plain = run_cli(sandbox, "upload", str(path), "--tags", "ok,fine")
    assert plain.returncode == 1
    assert "FAILED refused: Youku error 120010104" in plain.stdout
    assert "0 of 1 file(s) committed" in plain.stdout


def test_cancel_aborts_the_multipart_upload_and_forgets_the_upload(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB")
    path, _ = make_video(tmp_path / "v", "cancel.mp4", 8 * MIB)
    process = start_slow_upload(sandbox, path)
    wait_for_stored_parts(2, process)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=10)
    [paused] = checkpoints()
    assert sandbox.stats()["oss.abort"] == 0

    missing = run_cli(sandbox, "cancel", "no-such-upload")
    assert missing.returncode == 1
    assert "no upload 'no-such-upload'" in missing.stderr

    result = run_cli(sandbox, "cancel", paused.upload_id)
    assert result.returncode == 0, result.stderr
    assert f"cancelled {paused.upload_id}" in result.stdout
    assert sandbox.stats()["oss.abort"] == 1
    [cancelled] = checkpoints()
    assert cancelled.state == "cancelled"
    assert "no unfinished uploads" in run_cli(sandbox, "list").stdout


def test_a_failed_upload_stays_failed_across_resume_until_retried_by_prefix(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="api.create=youku:120010111#1")  # "duplicate upload", once
    refused, _ = make_video(tmp_path / "v", "refused.mp4", 300 * 1024)
    assert run_cli(sandbox, "upload", str(refused), "--tags", "ok,fine").returncode == 1
    [failed] = checkpoints()
    assert failed.state == "failed"

    sandbox.set_faults("oss.upload_part=bandwidth:1MB")
    paused_path, paused_md5 = make_video(tmp_path / "v", "paused.mp4", 4 * MIB)
    process = start_slow_upload(sandbox, paused_path)
    wait_for_stored_parts(2, process, name="paused.mp4")
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=10)
    assert process.returncode == 143
    creates = sandbox.stats()["api.create"]

    sandbox.set_faults("")
    resumed = run_cli(sandbox, "resume")
    # Everything it resumed was committed: exit 0, although an older upload failed.
    assert resumed.returncode == 0, resumed.stderr
    assert "1 failed upload(s) left as they are" in resumed.stderr
    assert "1 of 1 file(s) committed" in resumed.stdout
    assert sandbox.stats()["api.create"] == creates  # the paused one was created already
    states = {c.path.name: c.state for c in checkpoints()}
    assert states == {"refused.mp4": "failed", "paused.mp4": "done"}
    assert [v["md5"] for v in sandbox.videos()] == [paused_md5]
    listed = run_cli(sandbox, "list").stdout
    assert "failed" in listed and "Youku error 120010111" in listed
    assert run_cli(sandbox, "resume").returncode == 0
    assert sandbox.stats()["api.create"] == creates  # the failed one is still left alone

    prefix = failed.upload_id.rsplit("-", 1)[1][:4]
    retried = run_cli(sandbox, "retry", prefix)
    assert retried.returncode == 0, retried.stderr
    assert {c.path.name: c.state for c in checkpoints()} == {
        "refused.mp4": "done",
        "paused.mp4": "done",
    }
