"""The whole path, by keys, against the sandbox with the real engine.

Pick three files in the browser, describe them once, start, watch them committed; pause and
resume one; a broken rule blocks the start and says why; a refused upload shows Youku's
code and can be retried.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.helpers import make_config, wait_for
from tests.tui.sandbox_app import (
    KIB,
    app_on,
    header_text,
    make_videos,
    open_listing,
    running_app,
    running_host,
    shown_rows,
    states,
)
from youku_tui.config import Config, MetadataDefaults, load_config
from youku_tui.engine.states import UploadState
from youku_tui.sandbox import SandboxThread
from youku_tui.tui.screens.confirm import ConfirmScreen, PromptScreen
from youku_tui.tui.screens.dashboard import DashboardScreen
from youku_tui.tui.screens.login import LoginScreen
from youku_tui.tui.screens.metadata_form import MetadataFormScreen
from youku_tui.tui.widgets.dashboard.detail_pane import DetailPane


async def test_pick_three_describe_once_start_all_committed(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    folder = tmp_path / "videos"
    make_videos(folder, {"a.mp4": 300 * KIB, "b.mov": 250 * KIB, "c.mkv": 120 * KIB})
    (folder / "readme.txt").write_text("not a video")
    async with running_app(sandbox, tmp_path, make_config(), [folder]) as (app, pilot, engine):
        await open_listing(pilot)
        await pilot.press("space", "space", "space")  # pick the three videos one by one
        assert len(app.picked) == 3
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, MetadataFormScreen))
        await pilot.press("end", *"-{index}")  # title template: "{stem}-{index}"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await wait_for(
            pilot,
            lambda: (
                len(engine.snapshots()) == 3
                and all(s is UploadState.DONE for s in states(engine).values())
            ),
        )
        await wait_for(
            pilot,
            lambda: [r.state for r in shown_rows(app)] == [UploadState.DONE] * 3,
            "the dashboard to show three done rows",
        )
        detail = app.screen.query_one(DetailPane)
        assert "video_id" in detail._text and "v.youku.com/v_show/id_" in detail._text
    titles = sorted(v["title"] for v in sandbox.videos())
    assert titles == ["a-1", "b-2", "c-3"]
    assert all(v["tags"] in (["travel", "2026"], "travel,2026") for v in sandbox.videos())


async def test_pause_and_resume_one_upload(
    make_sandbox: Callable[..., SandboxThread], tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.*=bandwidth:100KB")
    [slow] = make_videos(tmp_path / "v", {"slow.mp4": 800 * KIB})
    async with running_app(sandbox, tmp_path, make_config(), [slow]) as (app, pilot, engine):
        await open_listing(pilot)
        assert slow in app.picked  # a file given on the command line is picked
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, MetadataFormScreen))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: states(engine).get("slow.mp4") is UploadState.UPLOADING)
        await pilot.press("p")
        await wait_for(pilot, lambda: states(engine)["slow.mp4"] is UploadState.PAUSED)
        await wait_for(
            pilot,
            lambda: [r.state for r in shown_rows(app)] == [UploadState.PAUSED],
            "the dashboard to show the paused row",
        )
        sandbox.set_faults("")
        await pilot.press("p")
        await wait_for(pilot, lambda: states(engine)["slow.mp4"] is UploadState.DONE)
    assert len(sandbox.videos()) == 1


async def test_broken_rule_blocks_start_and_says_why(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    [clip] = make_videos(tmp_path / "v", {"clip.mp4": 100 * KIB})
    config = make_config()
    config = Config(tui=config.tui, defaults=MetadataDefaults(tags=()))  # no tags: rule broken
    async with running_app(sandbox, tmp_path, config, [clip]) as (app, pilot, engine):
        await open_listing(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, MetadataFormScreen))
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: any("Cannot start: tags" in n.message for n in app._notifications),
            "the form to say why it cannot start",
        )
        assert isinstance(app.screen, MetadataFormScreen)  # still here
        assert engine.snapshots() == []
        messages = [n.message for n in app._notifications]
        assert any("Cannot start: tags at least one tag is required" in m for m in messages)
        summary = str(app.screen.query_one("#summary").render())
        assert "cannot start: fix tags" in summary
        assert app.focused is not None and app.focused.id == "tags"  # taken to the field
        await pilot.press(*"holiday")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await wait_for(pilot, lambda: states(engine).get("clip.mp4") is UploadState.DONE)


async def test_refused_upload_shows_youku_error_and_retries(
    make_sandbox: Callable[..., SandboxThread], tmp_path: Path
) -> None:
    # 120010111 (duplicate upload) is a rejected input: no automatic retry.
    sandbox = make_sandbox(faults="api.create=youku:120010111#1")
    [clip] = make_videos(tmp_path / "v", {"dup.mp4": 100 * KIB})
    async with running_app(sandbox, tmp_path, make_config(), [clip]) as (app, pilot, engine):
        await open_listing(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, MetadataFormScreen))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: states(engine).get("dup.mp4") is UploadState.FAILED)
        await wait_for(
            pilot,
            lambda: any("120010111" in r.error for r in shown_rows(app)),
            "the row to show Youku's code",
        )
        detail = app.screen.query_one(DetailPane)._text
        assert "120010111" in detail
        await pilot.press("r")
        await wait_for(pilot, lambda: states(engine)["dup.mp4"] is UploadState.DONE)
    assert len(sandbox.videos()) == 1


async def test_login_refused_mid_run_asks_once_and_uploads_go_on_without_restart(
    make_sandbox: Callable[..., SandboxThread], tmp_path: Path
) -> None:
    # Every create is refused as "invalid access token" until the user logs in again.
    sandbox = make_sandbox(faults="api.create=youku:1008")
    folder = tmp_path / "videos"
    make_videos(folder, {"a.mp4": 150 * KIB, "b.mov": 120 * KIB, "c.mkv": 90 * KIB})
    config = make_config(api_base=sandbox.api_base)
    async with running_app(sandbox, tmp_path, config, [folder]) as (
        app,
        pilot,
        engine,
    ):
        await open_listing(pilot)
        await pilot.press("space", "space", "space")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, MetadataFormScreen))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen))
        assert engine.login_blocked
        assert sorted(states(engine).values()) == ["failed", "paused", "paused"]

        # Esc closes it; the dashboard keeps a hint and does not ask again by itself.
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        app.tick()  # what the paint timer does: the dashboard would ask again here
        await pilot.pause()
        assert not isinstance(app.screen, LoginScreen)
        assert "press L to log in again" in header_text(app)

        sandbox.set_faults("")  # the new tokens are good
        await pilot.press("L")
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen))
        creds = sandbox.credentials
        fields = {
            "client_id": creds.client_id,
            "access_token": creds.access_token,
            "refresh_token": creds.refresh_token,
        }
        for field_id, value in fields.items():  # set, not typed: 80 keystrokes add seconds
            app.screen.query_one(f"#{field_id}", Input).value = value
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await wait_for(pilot, lambda: all(s is UploadState.DONE for s in states(engine).values()))
        assert app.return_code is None and app.is_running  # no restart
        await wait_for(
            pilot,
            lambda: header_text(app) and "log in again" not in header_text(app),
            "the header to drop the login hint",
        )
    assert len(sandbox.videos()) == 3
    assert load_config().credentials.access_token != creds.access_token  # nothing saved


async def start_every_video_shown(pilot: Pilot[Any]) -> None:
    """In the browser: pick all, describe with the defaults, start."""
    await open_listing(pilot)
    await pilot.press("A", "n")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MetadataFormScreen))
    await pilot.press("ctrl+s")


async def test_quit_in_process_asks_then_pauses_and_saves_quickly(
    make_sandbox: Callable[..., SandboxThread], tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.*=bandwidth:100KB")
    folder = tmp_path / "videos"
    make_videos(folder, {"a.mp4": 900 * KIB, "b.mov": 900 * KIB})
    began = 0.0
    async with running_app(sandbox, tmp_path, make_config(), [folder]) as (app, pilot, host):
        await start_every_video_shown(pilot)
        await wait_for(pilot, lambda: UploadState.UPLOADING in states(host).values())
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        began = time.perf_counter()
        await pilot.press("y")
    # Leaving the block closed the app and then the owner (what the launcher does).
    took = time.perf_counter() - began
    print(f"\nquit in process: {took * 1000:.0f} ms from 'y' to the owner closed")
    saved = (tmp_path / "checkpoints").glob("*.toml")
    assert sorted(re.findall(r'^state = "(\w+)"', p.read_text(), re.M)[0] for p in saved) == [
        "paused",
        "paused",
    ]
    assert app.quit_note.startswith("Pausing 2 upload(s)")


async def test_quit_leaves_the_service_uploading_and_a_new_view_shows_them_with_the_cap(
    make_sandbox: Callable[..., SandboxThread], tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.*=bandwidth:200KB")
    folder = tmp_path / "videos"
    make_videos(folder, {"a.mp4": 700 * KIB, "b.mov": 700 * KIB})
    config = make_config()
    async with running_host(sandbox, tmp_path, config, in_service=True) as service:
        async with app_on(service, config, []) as (app, pilot):
            await pilot.press("b")  # a cap first, from this view
            await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
            await pilot.press("ctrl+u", *"150K", "enter")
            app.open_browser(folder)
            await start_every_video_shown(pilot)
            await wait_for(pilot, lambda: UploadState.UPLOADING in states(service).values())
            assert UploadState.DONE not in states(service).values()
            began = time.perf_counter()
            await pilot.press("ctrl+q")  # no question: the service keeps them
        print(f"\nquit from a service: {(time.perf_counter() - began) * 1000:.0f} ms")
        assert "2 upload(s) go on in the youku-tui service" in app.quit_note
        assert "`youku-tui service stop --sandbox` pauses them" in app.quit_note
        done_before = sum(s.bytes_done for s in service.snapshots())
        # No view attached: the uploads go on.
        await wait_for(None, lambda: sum(s.bytes_done for s in service.snapshots()) > done_before)
        assert set(states(service).values()) <= {UploadState.UPLOADING, UploadState.HASHING,
                                                 UploadState.QUEUED, UploadState.DONE}  # fmt: skip

        async with app_on(service, config, []) as (again, pilot):
            await wait_for(pilot, lambda: len(shown_rows(again)) == 2, "the two uploads shown")
            assert sorted(Path(s.path).name for s in service.snapshots()) == ["a.mp4", "b.mov"]
            assert "150.0 KiB/s" in header_text(again)  # the cap set from the first view
            await wait_for(
                pilot, lambda: set(states(service).values()) == {UploadState.DONE}, within=60
            )
    assert len(sandbox.videos()) == 2
