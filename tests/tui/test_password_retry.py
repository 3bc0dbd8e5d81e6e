"""Issue 10.4: retrying a password-protected upload asks for the watch password (never stored).

On a fake owner: the modal, its Esc, a refused password and the retry it sends. Against the
sandbox: an upload whose password was lost with the process that had it fails on resume, and
``r`` in the TUI with the password typed in the modal gets it committed.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.widgets import Input

from tests.tui.fake_engine import FakeEngine, sample_snapshots
from tests.tui.helpers import AppFactory, make_config, wait_for
from tests.tui.sandbox_app import KIB, make_videos, running_app, shown_rows, states
from youku_tui.engine.states import UploadState
from youku_tui.metadata import PublicType, VideoMetadata
from youku_tui.sandbox import SandboxThread
from youku_tui.tui.screens.confirm import PromptScreen
from youku_tui.tui.widgets.dashboard.upload_list import UploadList


def with_u4_needing_password() -> FakeEngine:
    snaps = [
        replace(s, needs_password=True) if s.upload_id == "u4" else s for s in sample_snapshots()
    ]
    return FakeEngine(snaps)


async def test_retry_asks_for_the_password_and_passes_it_on(make_app: AppFactory) -> None:
    engine = with_u4_needing_password()
    app = make_app(engine=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        upload_list = app.screen.query_one(UploadList)
        upload_list.move_cursor(3)  # u4, failed
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        assert app.screen.query_one(Input).password  # masked
        await pilot.press("escape")
        await pilot.pause()
        assert not [c for c in engine.calls if c[0] == "retry"]  # Esc: nothing retried

        await pilot.press("r", *"a b", "enter")  # not letters and digits: refused
        await pilot.pause()
        assert not [c for c in engine.calls if c[0] == "retry"]
        assert any("Watch password" in n.message for n in app._notifications)

        await pilot.press("r", *"Pw12345", "enter")
        await pilot.pause()
    assert ("retry", ("u4", "Pw12345")) in engine.calls
    assert all("Pw12345" not in n.message for n in app._notifications)


async def test_retry_without_a_lost_password_does_not_ask(make_app: AppFactory) -> None:
    engine = FakeEngine(sample_snapshots())
    app = make_app(engine=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.query_one(UploadList).move_cursor(3)
        await pilot.press("r")
        await pilot.pause()
        assert not isinstance(app.screen, PromptScreen)
    assert ("retry", "u4") in engine.calls


async def test_sandbox_upload_that_lost_its_password_is_retried_with_it(
    sandbox: SandboxThread, tmp_path: Path
) -> None:
    [clip] = make_videos(tmp_path / "v", {"private.mp4": 200 * KIB})
    meta = VideoMetadata(
        title="Private",
        tags=("test", "pw"),
        public_type=PublicType.PASSWORD,
        watch_password="Pw12345",
    )
    # A first process queues it and ends before it was created: the password dies with it.
    async with running_app(sandbox, tmp_path, make_config(), []) as (app, pilot, host):
        await host.add(clip, meta, start=False)
    checkpoint = next((tmp_path / "checkpoints").glob("*.toml")).read_text()
    assert "Pw12345" not in checkpoint

    # The next run resumes it at start: without the password it cannot be created.
    async with running_app(sandbox, tmp_path, make_config(), []) as (app, pilot, host):
        await wait_for(pilot, lambda: states(host).get("private.mp4") is UploadState.FAILED)
        [snap] = host.snapshots()
        assert snap.needs_password
        await wait_for(
            pilot,
            lambda: [r.state for r in shown_rows(app)] == [UploadState.FAILED],
            "the failed row shown (r acts on the selected row)",
        )
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press(*"Pw12345", "enter")
        await wait_for(pilot, lambda: states(host)["private.mp4"] is UploadState.DONE)
    [video] = sandbox.videos()
    assert video["public_type"] == "password"
    saved = [p for p in (tmp_path / "checkpoints").rglob("*") if p.is_file()]
    assert saved and all(b"Pw12345" not in p.read_bytes() for p in saved)
