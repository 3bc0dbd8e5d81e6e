"""The engine against the sandbox: real httpx, real oss2, real OSS protocol on loopback."""

from __future__ import annotations

import asyncio
import collections
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.e2e_helpers import (
    MIB,
    make_video,
    overwrite_part_on_oss,
    owned_checkpoints,
    pause_after_parts,
    wait_for_parts,
)
from youku_tui.api import codes
from youku_tui.engine.states import UploadState
from youku_tui.errors import MetadataError, NotLoggedInError, OwnerBusyError
from youku_tui.metadata import PublicType, VideoMetadata

META = VideoMetadata(title="Clip", tags=("test", "sandbox"))


async def test_50mb_file_arrives_identical_and_committed(
    sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    path, md5 = make_video(tmp_path / "videos", "big.mp4", 50 * MIB)
    h = harness(sandbox, part_size=1 * MIB, max_parts=6)
    sts_secrets: list[str] = []
    async with h as engine:
        real_create = h.client.create

        async def spy_create(**kwargs: Any) -> Any:
            created = await real_create(**kwargs)
            sts_secrets.extend([created.sts.access_key_secret, created.sts.security_token])
            return created

        h.client.create = spy_create
        upload_id = engine.add(path, META)
        await asyncio.wait_for(engine.wait_idle(), 60)
        snap = engine.snapshot(upload_id)
    assert snap.state is UploadState.DONE, snap.last_error
    assert snap.parts_done == snap.parts_total == 50
    [video] = sandbox.videos()
    # The sandbox's MD5 and size of the bytes it stored: byte-identical to ours.
    assert (video["md5"], video["size"]) == (md5, 50 * MIB)
    assert video["video_id"] == snap.video_id
    [done] = h.of_kind("done")
    assert done.video_id == snap.video_id
    assert sandbox.stats()["oss.upload_part"] == 50
    # Progress was reported at a bounded rate, not per chunk or per part.
    assert len(h.of_kind("progress")) < 60
    # The checkpoint records the run and holds no secret.
    text = (h.checkpoint_dir / f"{upload_id}.toml").read_text()
    assert 'state = "done"' in text
    creds = sandbox.credentials
    for secret in (creds.access_token, creds.refresh_token, *sts_secrets):
        assert secret and secret not in text


async def test_short_sts_is_renewed_during_a_long_upload(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    # 3 s credentials and 4 x 384 KiB/s = 1.5 MiB/s: 16 MiB lasts over 10 s, renewals must
    # keep it alive.
    sandbox = make_sandbox(sts_ttl=3.0, faults="oss.upload_part=bandwidth:384KiB")
    path, md5 = make_video(tmp_path / "videos", "long.mp4", 16 * MIB)
    h = harness(sandbox, max_parts=4)
    start = time.monotonic()
    async with h as engine:
        upload_id = engine.add(path, META)
        await asyncio.wait_for(engine.wait_idle(), 60)
        snap = engine.snapshot(upload_id)
    elapsed = time.monotonic() - start
    assert snap.state is UploadState.DONE, snap.last_error
    assert elapsed > 10
    renewals = h.of_kind("sts_renewed")
    assert len(renewals) >= 2
    assert sandbox.stats()["api.get_sts"] >= 2
    assert sandbox.videos()[0]["md5"] == md5
    # Renewed, never restarted: one multipart upload. A part may be sent again only when OSS
    # refused credentials that expired under it (a slow machine), never the whole file.
    stats = sandbox.stats()
    assert stats["oss.initiate"] == 1, stats
    reactive = [r for r in renewals if r.reason != "before expiry"]
    assert 64 <= stats["oss.upload_part"] <= 64 + 4 * len(reactive), (stats, renewals)


async def test_oss_refusing_expired_credentials_triggers_a_renewal(
    make_sandbox: Any, harness: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the planned renewal switched off, OSS's SecurityTokenExpired must renew."""
    from youku_tui.engine.sts import StsSession

    monkeypatch.setattr(StsSession, "renew_delay", lambda self: 3600.0)
    sandbox = make_sandbox(sts_ttl=2.0, faults="oss.upload_part=bandwidth:500KB")
    path, md5 = make_video(tmp_path / "videos", "reactive.mp4", 6 * MIB)
    h = harness(sandbox, max_parts=2)
    async with h as engine:
        upload_id = engine.add(path, META)
        await asyncio.wait_for(engine.wait_idle(), 60)
        snap = engine.snapshot(upload_id)
    assert snap.state is UploadState.DONE, snap.last_error
    reasons = {e.reason for e in h.of_kind("sts_renewed")}
    assert reasons & {"SecurityTokenExpired", "InvalidAccessKeyId", "InvalidSecurityToken"}
    assert sandbox.videos()[0]["md5"] == md5


async def test_expired_access_token_costs_exactly_one_refresh(
    sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    files = [make_video(tmp_path / "videos", f"v{i}.mp4", 300 * 1024) for i in range(3)]
    sandbox.expire_access_tokens()
    h = harness(sandbox, max_uploads=3)
    async with h as engine:
        ids = [engine.add(path, META.with_title(f"v{i}")) for i, (path, _) in enumerate(files)]
        await asyncio.wait_for(engine.wait_idle(), 60)
        states = [engine.snapshot(i).state for i in ids]
    assert states == [UploadState.DONE] * 3
    assert sandbox.stats()["api.token"] == 1
    assert h.client.refresh_count == 1
    assert len(h.of_kind("token_refreshed")) == 1


@pytest.mark.parametrize("fault", ["503", "drop"])
async def test_upload_survives_one_part_in_ten_failing(
    make_sandbox: Any, harness: Any, tmp_path: Path, fault: str
) -> None:
    sandbox = make_sandbox(faults=f"oss.upload_part={fault}@0.1", seed=7)
    path, md5 = make_video(tmp_path / "videos", "flaky.mp4", 20 * MIB)  # 80 parts
    h = harness(sandbox, max_parts=4, max_retries=8)
    async with h as engine:
        upload_id = engine.add(path, META)
        await asyncio.wait_for(engine.wait_idle(), 90)
        snap = engine.snapshot(upload_id)
    assert snap.state is UploadState.DONE, snap.last_error
    retries = [e for e in h.of_kind("retry") if e.part_number]
    assert retries, "the fault never fired: the test proves nothing"
    assert snap.retries >= len(retries)
    assert sandbox.stats()["oss.upload_part"] == 80 + len(retries)
    assert sandbox.videos()[0]["md5"] == md5


async def test_bad_metadata_is_refused_before_any_request(
    sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    path, _ = make_video(tmp_path / "videos", "v.mp4", 200 * 1024)
    h = harness(sandbox)
    async with h as engine:
        with pytest.raises(MetadataError) as caught:
            engine.add(path, VideoMetadata(title="x" * 61, tags=("a",)))
        with pytest.raises(MetadataError, match="watch_password"):
            engine.add(
                path, VideoMetadata(title="ok", tags=("ok",), public_type=PublicType.PASSWORD)
            )
        assert engine.snapshots() == []
    fields = {p.field for p in caught.value.problems}
    assert fields == {"title", "tags"}
    assert sum(sandbox.stats().values()) == 0


async def test_pause_is_quick_and_resume_continues(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB")
    path, md5 = make_video(tmp_path / "videos", "p.mp4", 8 * MIB)
    h = harness(sandbox, max_parts=2)
    async with h as engine:
        upload_id = engine.add(path, META)
        await wait_for_parts(engine, upload_id, 4, within=20)
        engine.pause(upload_id)
        await asyncio.wait_for(engine.wait_idle(), 10)
        paused = engine.snapshot(upload_id)
        assert paused.state is UploadState.PAUSED
        sandbox.set_faults("")
        engine.resume(upload_id)
        await asyncio.wait_for(engine.wait_idle(), 30)
        snap = engine.snapshot(upload_id)
    assert snap.state is UploadState.DONE, snap.last_error
    assert sandbox.videos()[0]["md5"] == md5
    assert sandbox.stats()["oss.initiate"] == 1
    # Parts done before the pause are not sent again (only those in flight may be).
    assert sandbox.stats()["oss.upload_part"] <= 32 + 2


async def test_cancel_aborts_the_multipart_upload_and_a_retry_starts_over(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB")
    path, md5 = make_video(tmp_path / "videos", "c.mp4", 8 * MIB)
    h = harness(sandbox, max_parts=2)
    async with h as engine:
        upload_id = engine.add(path, META)
        await wait_for_parts(engine, upload_id, 2, within=20)
        await asyncio.wait_for(engine.cancel(upload_id), 10)
        assert engine.snapshot(upload_id).state is UploadState.CANCELLED
        assert sandbox.stats()["oss.abort"] == 1
        assert sandbox.videos() == []
        assert engine.load_checkpoints(start=True) == []  # resume leaves it alone
        assert engine.snapshots()[0].state is UploadState.CANCELLED
        # A retry (the user's word) starts it over as a new Youku upload.
        sandbox.set_faults("")
        engine.retry(upload_id)
        await asyncio.wait_for(engine.wait_idle(), 60)
        assert engine.snapshot(upload_id).state is UploadState.DONE
    assert sandbox.stats()["api.create"] == 2  # a new session, not the aborted one
    assert [v["md5"] for v in sandbox.videos()] == [md5]


async def test_integrity_refusal_resends_once_then_fails_loudly(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="api.commit=youku:120010301#1")
    path, md5 = make_video(tmp_path / "videos", "i.mp4", 2 * MIB)
    h = harness(sandbox)
    async with h as engine:
        upload_id = engine.add(path, META)
        await asyncio.wait_for(engine.wait_idle(), 30)
        assert engine.snapshot(upload_id).state is UploadState.DONE
    assert sandbox.stats()["oss.upload_part"] == 16  # 8 parts, sent twice
    assert sandbox.videos()[0]["md5"] == md5

    sandbox.set_faults("api.commit=youku:120010301")
    path2, _ = make_video(tmp_path / "videos", "j.mp4", 1 * MIB)
    async with h as engine:
        upload_id = engine.add(path2, META)
        await asyncio.wait_for(engine.wait_idle(), 30)
        snap = engine.snapshot(upload_id)
    assert snap.state is UploadState.FAILED
    assert "refused the bytes twice" in snap.last_error
    assert snap.last_error_code == "120010301"


async def test_oss_refusing_complete_sends_the_whole_file_again_once(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    """The OSS side of "send the whole file again, once" (the Youku side is above): under a
    strict STS policy ListParts cannot show that a recorded part was overwritten, so Complete
    is refused (InvalidPart); the multipart upload is aborted and the file sent again."""
    sandbox = make_sandbox(strict_policy=True, faults="oss.upload_part=bandwidth:1MB")
    path, md5 = make_video(tmp_path / "videos", "c.mp4", 6 * MIB)  # 24 parts
    h = harness(sandbox, max_parts=2)
    upload_id = await pause_after_parts(h, path, META, 6)
    with owned_checkpoints(h) as store:
        checkpoint = store.load(upload_id)
    await overwrite_part_on_oss(sandbox, checkpoint, min(checkpoint.parts))
    sandbox.set_faults("")
    h2 = harness(sandbox, max_parts=2)
    snap = await h2.resume_saved(upload_id)
    assert snap.state is UploadState.DONE, snap.last_error
    assert [v["md5"] for v in sandbox.videos()] == [md5]
    stats = sandbox.stats()
    assert stats["oss.initiate"] == 2, stats  # the damaged multipart upload, then a new one
    assert stats["oss.upload_part"] >= 6 + 24, stats
    notes = [e.message for e in h2.of_kind("log")]
    assert sum("sending the whole file again, once" in n for n in notes) == 1, notes


async def test_resume_checks_parts_against_listparts_without_hashing_again(
    make_sandbox: Any, harness: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from youku_tui.engine import job as job_module

    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB")
    path, md5 = make_video(tmp_path / "videos", "r.mp4", 6 * MIB)  # 24 parts
    h = harness(sandbox, max_parts=2)
    upload_id = await pause_after_parts(h, path, META, 6)
    with owned_checkpoints(h) as store:
        checkpoint = store.load(upload_id)
        mpu = checkpoint.multipart_upload_id
        # Part 1 now holds other bytes on OSS (it must be sent again); part 2 is stored on
        # OSS but missing from the checkpoint (it must be adopted, not sent again).
        await overwrite_part_on_oss(sandbox, checkpoint, 1)
        del checkpoint.parts[2]
        store.save(checkpoint)
    sent_before = collections.Counter(sandbox.part_requests(mpu))

    def no_hashing(*args: object, **kwargs: object) -> str:
        raise AssertionError("a resume must not hash the file again")

    monkeypatch.setattr(job_module, "md5_file", no_hashing)
    sandbox.set_faults("")
    stats_before = sandbox.stats()
    h2 = harness(sandbox, max_parts=2)
    snap = await h2.resume_saved(upload_id)
    assert snap.state is UploadState.DONE, snap.last_error
    assert sandbox.videos()[0]["md5"] == md5
    sent = collections.Counter(sandbox.part_requests(mpu)) - sent_before
    assert sent[1] == 1  # mismatched: re-sent
    assert sent[2] == 0  # adopted
    assert sandbox.stats()["oss.list_parts"] - stats_before["oss.list_parts"] == 1
    notes = [e.message for e in h2.of_kind("log")]
    # Parts in flight at the pause may have landed too: they are adopted as well.
    found = [re.search(r"(\d+) recorded part\(s\) to send again, (\d+) stored", n) for n in notes]
    counts = [(int(m[1]), int(m[2])) for m in found if m]
    assert len(counts) == 1, notes
    assert counts[0][0] == 1 and counts[0][1] >= 1


async def test_not_logged_in_stops_that_upload_and_the_queue_waits(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="api.create=youku:1008")
    files = [make_video(tmp_path / "videos", f"n{i}.mp4", 200 * 1024) for i in range(3)]
    h = harness(sandbox, max_uploads=1)
    async with h as engine:
        ids = [engine.add(p, META.with_title(f"n{i}")) for i, (p, _) in enumerate(files)]
        await asyncio.wait_for(engine.wait_idle(), 30)
        states = [engine.snapshot(i).state for i in ids]
        assert states == [UploadState.FAILED, UploadState.QUEUED, UploadState.QUEUED]
        assert "youku-tui login" in engine.snapshot(ids[0]).last_error
        assert engine.login_blocked
        assert sandbox.stats()["api.create"] == 1
        sandbox.set_faults("")
        engine.retry(ids[0])
        await asyncio.wait_for(engine.wait_idle(), 30)
        assert [engine.snapshot(i).state for i in ids] == [UploadState.DONE] * 3


async def test_not_logged_in_fails_one_running_upload_and_pauses_the_others(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="api.create=youku:1008")
    files = [make_video(tmp_path / "videos", f"r{i}.mp4", 200 * 1024) for i in range(3)]
    h = harness(sandbox, max_uploads=3)
    async with h as engine:
        ids = [engine.add(p, META.with_title(f"r{i}")) for i, (p, _) in enumerate(files)]
        await asyncio.wait_for(engine.wait_idle(), 30)
        states = sorted(str(engine.snapshot(i).state) for i in ids)
        assert states == ["failed", "paused", "paused"]
        [failed] = [i for i in ids if engine.snapshot(i).state is UploadState.FAILED]
        assert "youku-tui login" in engine.snapshot(failed).last_error
        sandbox.set_faults("")
        engine.logged_in_again()
        await asyncio.wait_for(engine.wait_idle(), 30)
        assert [engine.snapshot(i).state for i in ids] == [UploadState.DONE] * 3


async def test_a_new_login_leaves_uploads_the_user_paused_alone(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="api.create=youku:1008")
    (mine, _), (other, _) = [
        make_video(tmp_path / "videos", f"m{i}.mp4", 200 * 1024) for i in range(2)
    ]
    h = harness(sandbox, max_uploads=1)
    async with h as engine:
        paused_by_me = engine.add(mine, META.with_title("mine"), start=False)
        engine.pause(paused_by_me)
        refused = engine.add(other, META.with_title("other"))
        await asyncio.wait_for(engine.wait_idle(), 30)
        assert engine.snapshot(refused).state is UploadState.FAILED
        sandbox.set_faults("")
        engine.logged_in_again()
        await asyncio.wait_for(engine.wait_idle(), 30)
        assert engine.snapshot(refused).state is UploadState.DONE
        assert engine.snapshot(paused_by_me).state is UploadState.PAUSED


class TokenRevokedError(NotLoggedInError):
    """A refinement of "not logged in", as a renamed or split error class would be."""


async def test_a_new_login_retries_a_login_failure_whatever_its_class_is_called(
    make_sandbox: Any, harness: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine decides by the error's type, not by its class name.
    monkeypatch.setattr(codes, "NotLoggedInError", TokenRevokedError)
    sandbox = make_sandbox(faults="api.create=youku:1008")
    path, _ = make_video(tmp_path / "videos", "revoked.mp4", 200 * 1024)
    h = harness(sandbox)
    async with h as engine:
        upload_id = engine.add(path, META.with_title("revoked"))
        await asyncio.wait_for(engine.wait_idle(), 30)
        assert engine.snapshot(upload_id).state is UploadState.FAILED
        [failed] = h.of_kind("failed")
        assert failed.error_class == "TokenRevokedError"
        assert any("queued uploads wait" in e.message for e in h.of_kind("log"))
        sandbox.set_faults("")
        engine.logged_in_again()
        await asyncio.wait_for(engine.wait_idle(), 30)
        assert engine.snapshot(upload_id).state is UploadState.DONE


async def test_a_login_failure_saved_by_an_older_version_is_retried_by_a_new_login(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="api.create=youku:1008")
    path, _ = make_video(tmp_path / "videos", "old.mp4", 200 * 1024)
    first = harness(sandbox)
    async with first as engine:
        upload_id = engine.add(path, META.with_title("old"))
        await asyncio.wait_for(engine.wait_idle(), 30)
        assert engine.snapshot(upload_id).state is UploadState.FAILED
    # Older checkpoints name the error's class only: [error] class = "NotLoggedInError".
    saved = first.checkpoint_dir / f"{upload_id}.toml"
    text = saved.read_text()
    assert 'class = "NotLoggedInError"' in text
    saved.write_text(re.sub(r"(?m)^kind = .*\n", "", text))
    sandbox.set_faults("")
    async with harness(sandbox) as engine:
        engine.load_checkpoints(start=False)
        assert engine.snapshot(upload_id).state is UploadState.FAILED
        engine.logged_in_again()
        await asyncio.wait_for(engine.wait_idle(), 30)
        assert engine.snapshot(upload_id).state is UploadState.DONE


async def test_a_second_engine_on_the_folder_is_refused_while_the_first_runs(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB")
    path, _ = make_video(tmp_path / "videos", "busy.mp4", 4 * MIB)
    owner = harness(sandbox, max_parts=1)
    other = harness(sandbox)
    async with owner as engine:
        upload_id = engine.add(path, META)
        await wait_for_parts(engine, upload_id, 1)
        saved = (owner.checkpoint_dir / f"{upload_id}.toml").read_text()
        with pytest.raises(OwnerBusyError, match=f"pid {os.getpid()}"):
            await other.__aenter__()
        assert (owner.checkpoint_dir / f"{upload_id}.toml").read_text() == saved
        assert other.client is not None
        await other.client.aclose()
        engine.pause(upload_id)
        await asyncio.wait_for(engine.wait_idle(), 5)
        assert engine.snapshot(upload_id).state is UploadState.PAUSED
    # The owner stopped: now it can be resumed elsewhere.
    sandbox.set_faults("")
    async with other as second:
        assert second.load_checkpoints(start=True) == []
        await asyncio.wait_for(second.wait_idle(), 30)
        assert second.snapshot(upload_id).state is UploadState.DONE


async def test_limits_change_while_uploads_run(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox()
    files = [make_video(tmp_path / "videos", f"l{i}.mp4", 4 * MIB) for i in range(3)]
    h = harness(sandbox, max_uploads=1, max_parts=1, bandwidth=1 * MIB)
    active: set[str] = set()
    peak_before = 0

    def concurrency() -> int:
        for event in h.events:
            if event.kind == "state":
                (active.add if event.new.is_active else active.discard)(event.upload_id)
        h.events.clear()
        return len(active)

    async with h as engine:
        ids = [engine.add(p, META.with_title(f"l{i}")) for i, (p, _) in enumerate(files)]
        for _ in range(10):
            await asyncio.sleep(0.1)
            peak_before = max(peak_before, concurrency())
        assert engine.snapshot(ids[0]).state is UploadState.UPLOADING  # slowed by the cap
        assert peak_before == 1
        engine.set_limits(max_uploads=3, max_parts=6, bandwidth=0)
        assert [e.kind for e in h.events][-1] == "limits"
        await asyncio.wait_for(engine.wait_idle(), 30)
        # The new limit applied at once: the waiting uploads ran beside the first one.
        peak_after = 0
        for event in h.events:
            if event.kind == "state":
                (active.add if event.new.is_active else active.discard)(event.upload_id)
                peak_after = max(peak_after, len(active))
        assert peak_after >= 2
        assert [engine.snapshot(i).state for i in ids] == [UploadState.DONE] * 3
    assert len(sandbox.videos()) == 3


async def test_watch_password_is_never_stored_and_must_be_given_again(
    sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    path, _ = make_video(tmp_path / "videos", "pw.mp4", 300 * 1024)
    meta = VideoMetadata(
        title="Private",
        tags=("test", "pw"),
        public_type=PublicType.PASSWORD,
        watch_password="Pw12345",
    )
    h = harness(sandbox)
    async with h as engine:
        upload_id = engine.add(path, meta, start=False)  # saved, not created yet
    assert "Pw12345" not in (h.checkpoint_dir / f"{upload_id}.toml").read_text()
    async with h as engine:
        engine.load_checkpoints(start=True)
        await asyncio.wait_for(engine.wait_idle(), 30)
        snap = engine.snapshot(upload_id)
        assert snap.state is UploadState.FAILED
        assert "watch_password" in snap.last_error and "again" in snap.last_error
    assert sandbox.stats()["api.create"] == 0
    async with h as engine:
        engine.load_checkpoints(start=True, watch_password="Pw12345")
        # A failed upload stays failed on resume: the user retries it, with the password.
        assert engine.snapshot(upload_id).state is UploadState.FAILED
        engine.retry(upload_id)
        await asyncio.wait_for(engine.wait_idle(), 30)
        assert engine.snapshot(upload_id).state is UploadState.DONE
    assert sandbox.videos()[0]["public_type"] == "password"


async def test_dead_upload_session_fails_clearly_and_retry_creates_a_new_one(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(
        sts_ttl=2.0, faults="api.get_sts=youku:120010223,oss.upload_part=bandwidth:500KB"
    )
    path, md5 = make_video(tmp_path / "videos", "gone.mp4", 4 * MIB)
    h = harness(sandbox, max_parts=2)
    async with h as engine:
        upload_id = engine.add(path, META)
        await asyncio.wait_for(engine.wait_idle(), 30)
        snap = engine.snapshot(upload_id)
        assert snap.state is UploadState.FAILED
        assert snap.last_error_code == "120010223"
        assert "creates a new upload" in snap.last_error
        first_video = engine.store.load(upload_id).video_id
        assert first_video == ""  # the dead session was forgotten
        sandbox.set_faults("")
        engine.retry(upload_id)
        await asyncio.wait_for(engine.wait_idle(), 30)
        assert engine.snapshot(upload_id).state is UploadState.DONE
    assert sandbox.stats()["api.create"] == 2
    assert sandbox.videos()[0]["md5"] == md5


async def test_parts_held_back_by_the_cap_are_not_timed_out_by_oss(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    """Under a cap, the lowest (upload, part) is served first. A part of a later upload must
    not open its request and then sit idle until OSS gives up on its body (RequestTimeout,
    seen failing uploads for good once nobody watched them)."""
    sandbox = make_sandbox(body_timeout=0.5)
    files = [make_video(tmp_path / "videos", f"c{i}.mp4", 2 * MIB) for i in range(3)]
    h = harness(sandbox, max_uploads=3, max_parts=6, bandwidth=1 * MIB)
    async with h as engine:
        ids = [engine.add(p, META.with_title(f"c{i}")) for i, (p, _) in enumerate(files)]
        await asyncio.wait_for(engine.wait_idle(), 60)
        states = [engine.snapshot(i).state for i in ids]
    assert states == [UploadState.DONE] * 3, [e for e in h.events if e.kind == "failed"]
    assert sorted(v["md5"] for v in sandbox.videos()) == sorted(md5 for _, md5 in files)
