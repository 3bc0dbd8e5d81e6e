"""EngineHost: the engine in this process behind UploadControl (lock, ids, live limits)."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.service.service_helpers import KIB, META, MIB, make_video, sandbox_config
from youku_tui import paths
from youku_tui.engine.events import EngineEvent, UploadLog, UploadRemoved
from youku_tui.engine.states import UploadState
from youku_tui.errors import OwnerBusyError, UnknownUploadError
from youku_tui.runtime import open_runtime
from youku_tui.service.connect import open_control
from youku_tui.service.control import UploadControl
from youku_tui.service.host import EngineHost


async def test_a_host_is_an_upload_control_and_commands_take_prefixes(
    sandbox: Any, tmp_path: Path
) -> None:
    events: list[EngineEvent] = []
    video = make_video(tmp_path / "v", "a.mp4", 600 * KIB)
    config = sandbox_config(sandbox)
    async with open_control(False, config=config, mode="local-only") as control:
        assert isinstance(control, EngineHost)
        typed: UploadControl = control  # the Protocol, checked by mypy
        control.subscribe(events.append)
        upload_id = await typed.add(video, META, start=False)
        assert typed.owner.pid == os.getpid() and not typed.owner.in_service
        typed.resume(upload_id[:-3])
        await asyncio.wait_for(typed.wait_idle(), 30)
        [snap] = typed.snapshots()
        assert snap.state is UploadState.DONE
        # Unknown ids are reported as a log line, never raised (views may race each other).
        typed.pause("nope")
        assert any(
            isinstance(e, UploadLog) and e.level == "error" and "'nope'" in e.message
            for e in events
        )
        with pytest.raises(UnknownUploadError):
            await typed.cancel("nope")
        typed.remove(upload_id[-8:-3])  # a prefix of the short id will do too
        assert typed.snapshots() == []
        assert any(isinstance(e, UploadRemoved) and e.upload_id == upload_id for e in events)
        assert not (paths.uploads_dir() / f"{upload_id}.toml").exists()


async def test_removing_an_unfinished_upload_is_refused(sandbox: Any, tmp_path: Path) -> None:
    events: list[EngineEvent] = []
    video = make_video(tmp_path / "v", "a.mp4", 300 * KIB)
    async with open_control(False, config=sandbox_config(sandbox)) as control:
        control.subscribe(events.append)
        upload_id = await control.add(video, META, start=False)
        control.remove(upload_id)
        assert [s.upload_id for s in control.snapshots()] == [upload_id]
        assert (paths.uploads_dir() / f"{upload_id}.toml").exists()
        assert any("cancel it before removing it" in getattr(e, "message", "") for e in events)


async def test_a_second_owner_is_refused_and_writes_nothing(sandbox: Any, tmp_path: Path) -> None:
    video = make_video(tmp_path / "v", "a.mp4", 300 * KIB)
    config = sandbox_config(sandbox)
    async with open_control(False, config=config, role="first owner") as control:
        upload_id = await control.add(video, META, start=False)
        folder = paths.uploads_dir()
        before = {p.name: p.read_bytes() for p in folder.iterdir()}
        with pytest.raises(OwnerBusyError, match=f"pid {os.getpid()} \\(first owner"):
            async with open_control(False, config=config):
                pass
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
        # A real second process: `youku-tui upload` is refused with one clear line.
        other = make_video(tmp_path / "v", "b.mp4", 300 * KIB)
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "youku_tui", "upload", str(other), "--tags", "test"],
            env={**os.environ, **sandbox.env()},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2, result.stderr
        assert f"pid {os.getpid()} (first owner" in result.stderr
        assert "Traceback" not in result.stderr
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
        assert [s.upload_id for s in control.snapshots()] == [upload_id]
    assert sandbox.stats()["api.create"] == 0


async def test_limits_set_live_persist_over_the_config(sandbox: Any) -> None:
    config = sandbox_config(sandbox, max_uploads=2, max_parts=5, bandwidth=0)
    async with open_control(False, config=config) as control:
        control.set_limits(bandwidth=3 * MIB, max_parts=7)
        assert (control.limits.bandwidth, control.limits.max_parts) == (3 * MIB, 7)
    settings = paths.uploads_dir() / "settings.toml"
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    assert "max_uploads" not in settings.read_text()  # only what was changed live
    # A restart, and the config now says 4 uploads at once: that still applies.
    changed = sandbox_config(sandbox, max_uploads=4, max_parts=5, bandwidth=0)
    async with open_control(False, config=changed) as control:
        limits = control.limits
        assert (limits.max_uploads, limits.max_parts, limits.bandwidth) == (4, 7, 3 * MIB)
        control.set_limits(bandwidth=0)
    async with open_control(False, config=changed) as control:
        assert control.limits.bandwidth == 0
        assert control.limits.max_parts == 7


async def test_a_bad_settings_file_is_ignored(sandbox: Any) -> None:
    folder = paths.uploads_dir()
    folder.mkdir(parents=True)
    (folder / "settings.toml").write_text("bandwidth = -5\nmax_parts = 'x'\nmax_uploads = 2\n")
    config = sandbox_config(sandbox, max_uploads=1, max_parts=3, bandwidth=10)
    async with open_control(False, config=config) as control:
        limits = control.limits
        assert (limits.max_uploads, limits.max_parts, limits.bandwidth) == (2, 3, 10)
    (folder / "settings.toml").write_text("not = = toml")
    async with open_control(False, config=config) as control:
        assert control.limits.max_uploads == 1


async def test_the_engine_runs_only_while_the_host_owns_the_folder(sandbox: Any) -> None:
    config = sandbox_config(sandbox)
    async with open_runtime(False, config) as rt:
        host = EngineHost(rt)
        with pytest.raises(OwnerBusyError):
            EngineHost(rt)
        async with host:
            pass
        second = EngineHost(rt)  # the first let go
        await second.close()
