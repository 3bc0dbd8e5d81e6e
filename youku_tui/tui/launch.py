"""``youku-tui [--sandbox] [--no-service] [PATH...]``: get an UploadControl, run the app.

The app is a view. By default it attaches to the per-user service (starting it when
``[service] auto_start``), so quitting or losing the terminal leaves the uploads running;
``--no-service`` runs the engine on the app's event loop instead (it takes the state folder's
owner lock), and leaving the ``async with`` pauses what still runs and saves every checkpoint.
A missing login at start opens the login screen and then starts again; a login refused while
the app runs is replaced in place (the owner's credentials), no restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import ClassVar, NoReturn

from textual.app import App

from youku_tui.config import Config, load_config
from youku_tui.errors import ConfigError, NotLoggedInError, YoukuTuiError
from youku_tui.media import MediaProbe
from youku_tui.service.connect import ControlMode, open_control
from youku_tui.tui.app import RELOGIN, YoukuApp
from youku_tui.tui.screens.login import LoginResult, LoginScreen
from youku_tui.tui.themes import DEFAULT_THEME, discover_themes

NEED_LOGIN = "need-login"


class LoginApp(App[LoginResult | None]):
    """The login screen alone, for when there is no engine to show yet."""

    TITLE = "youku-tui: log in"
    CSS_PATH: ClassVar[str] = "styles/app.tcss"

    def __init__(self, config: Config, reason: str) -> None:
        super().__init__()
        self.config = config
        self.reason = reason
        self.animation_level = "none"
        themes, _ = discover_themes()
        for theme in themes:
            self.register_theme(theme)
        wanted = config.tui.theme
        self.theme = wanted if wanted in self.available_themes else DEFAULT_THEME

    def on_mount(self) -> None:
        self.push_screen(LoginScreen(self.config, self.reason), self.exit)


def leave(code: int) -> NoReturn:
    """Exit without the interpreter's teardown, once everything is saved and closed.

    After the app quit, the owner closed (checkpoints saved) and the terminal was restored,
    Python still spent 0.6-1.5 s tearing down Textual's, aiohttp's and oss2's modules (measured
    with strace on a loaded 2-core machine): most of the quit time. Nothing is left to do in
    that time but flushing, which is done here first.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def control_mode(no_service: bool, config: Config) -> ControlMode:
    """``--no-service``: the engine here. Else attach to the service, starting it first when
    ``[service] auto_start`` (else the engine runs here when no service answers)."""
    if no_service:
        return "local-only"
    return "attach-or-start" if config.service.auto_start else "attach-or-local"


async def _run_once(
    config: Config, paths: Sequence[str], sandbox: bool, start: bool, no_service: bool
) -> str | None:
    async with open_control(
        sandbox, config=config, mode=control_mode(no_service, config), role="youku-tui"
    ) as control:
        app = YoukuApp(
            control,
            config,
            paths=[] if start else paths,
            start_paths=paths if start else [],
            save_login=not sandbox,
            sandbox=sandbox,
            media=MediaProbe(),
        )
        # A lost terminal (SSH dropped, window closed) quits like ctrl+q, so an owner in
        # this process pauses and saves on the way out instead of dying mid-part.
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, app.exit)
        try:
            result = await app.run_async()
        finally:
            loop.remove_signal_handler(signal.SIGHUP)
        if app.quit_note:  # the screen is restored: say what happens to the uploads
            with contextlib.suppress(OSError):  # no terminal left after a SIGHUP
                print(f"youku-tui: {app.quit_note}", file=sys.stderr)
        if app.return_code not in (None, 0):
            raise SystemExit(app.return_code)
        return result


def run_tui(
    paths: Sequence[str] = (), sandbox: bool = False, start: bool = False, no_service: bool = False
) -> int:
    """Run the TUI until the user quits; returns the process exit status."""
    reason = ""
    while True:
        try:
            config = load_config()
        except ConfigError as exc:
            print(f"youku-tui: configuration problem: {exc}", file=sys.stderr)
            return 2
        try:
            result = asyncio.run(_run_once(config, paths, sandbox, start, no_service))
        except NotLoggedInError as exc:
            result, reason = NEED_LOGIN, str(exc)
        except ConfigError as exc:
            print(f"youku-tui: configuration problem: {exc}", file=sys.stderr)
            return 2
        except YoukuTuiError as exc:
            print(f"youku-tui: {exc}", file=sys.stderr)
            return 1
        if result == RELOGIN:
            paths, start = [], False  # the uploads are in checkpoints now
            continue
        if result == NEED_LOGIN:
            login = LoginApp(config, reason).run()
            if login is None:
                print("youku-tui: not logged in (try `youku-tui --sandbox`)", file=sys.stderr)
                return 1
            continue
        return 0
