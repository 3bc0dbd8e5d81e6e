"""A login refused mid-run, on a fake engine: the login screen opens once per episode."""

from __future__ import annotations

from dataclasses import replace

from tests.tui.fake_engine import FakeEngine, sample_snapshots
from tests.tui.helpers import AppFactory, current_screen
from youku_tui.config import Credentials
from youku_tui.engine.events import UploadFailed
from youku_tui.engine.states import FailureKind, UploadState
from youku_tui.tui.screens.dashboard import DashboardScreen
from youku_tui.tui.screens.login import LoginResult, LoginScreen


async def test_blocked_engine_asks_once_and_a_refused_new_login_asks_again(
    make_app: AppFactory,
) -> None:
    snaps = [replace(s, state=UploadState.FAILED) if s.upload_id == "u1" else s for s in
             sample_snapshots()]  # fmt: skip
    engine = FakeEngine(snaps)
    app = make_app(engine=engine, save_login=False)
    async with app.run_test(size=(80, 24)) as pilot:
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        engine.emit(
            UploadFailed(
                upload_id="u1",
                error="no",
                error_class="TokenRevokedError",
                failure=FailureKind.NEEDS_LOGIN,
            )
        )
        engine.login_blocked = True
        app.tick()
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        await pilot.press("escape")
        await pilot.pause()
        app.tick()
        await pilot.pause()
        assert current_screen(app) is dashboard  # Esc: not asked again in the same episode
        assert "press L to log in again" in str(dashboard.query_one("#totals").render())

        creds = Credentials(client_id="cid", access_token="new", refresh_token="r")
        app.apply_login(LoginResult(replace(app.config, credentials=creds)))
        assert ("log_in", creds) in engine.calls  # the owner swaps them in and goes on
        # Youku refuses the new login too, before the dashboard ever saw the block lifted.
        app.tick()
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
