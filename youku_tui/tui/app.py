"""YoukuApp: the Textual application, a view over the uploads.

The app drives the uploads only through :class:`~youku_tui.service.control.UploadControl`:
the per-user service's client (the uploads go on when the app quits or the terminal goes) or,
with ``--no-service``, an engine in this process. Events arrive through
:class:`EngineBridge`; commands that need an answer (add, cancel, resume_unfinished) run in
workers so the screen never waits on the socket. The app owns what spans screens: the picked
files, the form's state, the current limits, themes and key remaps, and the paint timer.
Screens ask for changes to that state with messages (declared on the screen that sends them,
handled here with ``@on``); they never write it.

Every tick (4 Hz) the app drains the bridge, raises the app-wide notifications (toasts, the
bell, a terminal notification) and repaints the dashboard only while it is on screen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.signal import Signal
from textual.theme import Theme

from youku_tui.config import (
    Config,
    EngineSettings,
    MetadataDefaults,
    check_api_base,
    update_config,
)
from youku_tui.engine.events import (
    EngineEvent,
    LimitsChanged,
    UploadDone,
    UploadFailed,
    UploadLog,
)
from youku_tui.engine.states import FailureKind, UploadState
from youku_tui.errors import ConfigError, YoukuTuiError
from youku_tui.media import MediaProbe
from youku_tui.metadata import VideoMetadata
from youku_tui.service.control import UploadControl
from youku_tui.textsafe import safe_text
from youku_tui.tui.attention import notification_sequence
from youku_tui.tui.bridge import EngineBridge
from youku_tui.tui.keymap import binding_ids, keymap_problems
from youku_tui.tui.screens.browser import BrowserScreen
from youku_tui.tui.screens.confirm import ConfirmScreen
from youku_tui.tui.screens.dashboard import DashboardScreen
from youku_tui.tui.screens.help import HelpScreen, bindings_table
from youku_tui.tui.screens.login import LoginResult, LoginScreen
from youku_tui.tui.screens.metadata_form import FormState, MetadataFormScreen, plan_batch
from youku_tui.tui.themes import DEFAULT_THEME, OwnThemesProvider, discover_themes

# Toasts stack up from the bottom right; beyond this many the oldest goes, so a burst of
# them stays over the detail pane instead of climbing over the upload list.
MAX_TOASTS = 3
RELOGIN = "relogin"  # exit result: launch opens the login screen and starts again
PAINT_INTERVAL = 0.25  # seconds between batched paints (4 Hz)


class YoukuApp(App[str]):
    TITLE = "youku-tui"
    CSS_PATH = "styles/app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help", key_display="?", id="app.help"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
        # Textual's own palette binding says "palette"; the footer shows "^p Commands".
        Binding(
            "ctrl+p",
            "command_palette",
            "Commands",
            show=False,
            priority=True,
            id="app.commands",
        ),
    ]

    def __init__(
        self,
        control: UploadControl,
        config: Config,
        *,
        config_path: Path | None = None,
        paths: Sequence[str | Path] = (),
        start_paths: Sequence[str | Path] = (),
        live: bool = True,
        load_checkpoints: bool = True,
        today: date | None = None,
        extra_theme_dirs: list[Path] | None = None,
        save_login: bool = True,
        sandbox: bool = False,
        media: MediaProbe | None = None,
    ) -> None:
        super().__init__()
        # What each file holds (duration, resolution, codec), cached for every screen;
        # None (tests on fixed screenshots): nothing is probed and no media column shows.
        self.media = media
        self.sandbox = sandbox  # on the local sandbox: the dashboard's header says so
        self.control = control
        self.bridge = EngineBridge()
        control.subscribe(self.bridge.sink)
        self.config = config
        self.config_path = config_path
        self.save_login = save_login  # False for the sandbox: its tokens are not the user's
        self.initial_paths = [Path(p).expanduser() for p in paths]
        self.start_paths = [Path(p).expanduser().resolve() for p in start_paths]
        self.live = live  # False in snapshot tests: no timers, painted on demand
        self.load_checkpoints_at_start = load_checkpoints
        self.today = today
        self.quit_note = ""  # printed by the launcher once the screen is restored
        self.limits: EngineSettings = control.limits  # as the owner runs them (live changes)
        # Changed only here (screens post BrowserScreen.PicksChanged); screens get a view.
        self._picked: dict[Path, int] = {}
        self.picks_changed_signal: Signal[None] = Signal(self, "picks-changed")
        # Where the bell and terminal notifications go: the terminal, through the driver.
        self.write_to_terminal: Callable[[str], None] = self._write_to_driver
        self.form_state = FormState.from_defaults(config.defaults)
        self.animation_level = "full" if config.tui.animations else "none"
        self._theme_ready = False
        self._register_themes(extra_theme_dirs)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        # Toasts often carry a file name or a server's message: never markup, never controls.
        shown, title = safe_text(message), safe_text(title)
        super().notify(shown, title=title, severity=severity, timeout=timeout, markup=False)
        self.call_later(self._drop_old_toasts)  # queued after the toast itself

    def _drop_old_toasts(self) -> None:
        shown = list(self._notifications)  # oldest first; Textual has no public list of them
        if len(shown) > MAX_TOASTS:
            for old in shown[: len(shown) - MAX_TOASTS]:
                self._unnotify(old, refresh=False)
            self._refresh_notifications()

    # --- setup ----------------------------------------------------------------------------

    def _register_themes(self, extra_dirs: list[Path] | None) -> None:
        themes, self.theme_problems = discover_themes(extra_dirs)
        self.own_theme_names = [theme.name for theme in themes]
        for theme in themes:
            self.register_theme(theme)
        wanted = self.config.tui.theme
        self.theme = wanted if wanted in self.available_themes else DEFAULT_THEME

    def on_unmount(self) -> None:
        self.control.unsubscribe(self.bridge.sink)

    def get_default_screen(self) -> Screen[None]:
        return DashboardScreen()

    def on_mount(self) -> None:
        if self.config.keys:
            self.set_keymap(dict(self.config.keys))
            for message in keymap_problems(self.config.keys, binding_ids()):
                self.notify(message, severity="warning", timeout=10)
        for problem in self.theme_problems:
            self.notify(str(problem), severity="warning", timeout=8)
        if self.config.tui.theme not in self.available_themes:
            self.notify(f"theme {self.config.tui.theme!r} not found; using {self.theme}")
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self._theme_ready = True
        if self.load_checkpoints_at_start:
            self._load_checkpoints()
        self._open_initial_paths()
        if self.start_paths:
            self._start_at_once()
        if self.live:
            self.set_interval(PAINT_INTERVAL, self.tick)

    @work(group="resume-unfinished")
    async def _load_checkpoints(self) -> None:
        try:
            problems = await self.control.resume_unfinished(start=self.config.tui.auto_resume)
        except YoukuTuiError as exc:
            self.notify(f"Checkpoints: {exc}", severity="error")
            return
        for problem in problems:
            self.notify(f"{problem.path.name}: {problem.message}", severity="warning")
        if not self.config.tui.auto_resume and self.control.snapshots():
            self.notify("Unfinished uploads are paused: R resumes all, p one", timeout=6)
        self.repaint_dashboard()

    def _open_initial_paths(self) -> None:
        if not self.initial_paths:
            return
        files = [p.resolve() for p in self.initial_paths if p.is_file()]
        folders = [p.resolve() for p in self.initial_paths if p.is_dir()]
        missing = [p for p in self.initial_paths if not p.exists()]
        for path in missing:
            self.notify(f"No such file or folder: {path}", severity="error")
        self._pick({path: path.stat().st_size for path in files})
        folder = folders[0] if folders else (files[0].parent if files else None)
        if folder is not None:
            self.open_browser(folder)

    def _start_at_once(self) -> None:
        """``--start FILE...``: describe the files with the configured defaults and go; if
        the defaults break a rule, open the form instead so the user sees why."""
        files = [p for p in self.start_paths if p.is_file()]
        for path in set(self.start_paths) - set(files):
            self.notify(f"Not a file: {path}", severity="error")
        if not files:
            return
        metas, problems = plan_batch(self.form_state, files, self.today)
        if any(p.severity == "error" for p in problems):
            self._pick({path: path.stat().st_size for path in files})
            self.open_browser(files[0].parent)
            self.open_form()
            return
        self.start_uploads(list(zip(files, metas, strict=True)))

    # --- shared state, changed by messages -------------------------------------------------

    @property
    def picked(self) -> Mapping[Path, int]:
        """The picked files (path -> size), read-only: ask with BrowserScreen.PicksChanged."""
        return MappingProxyType(self._picked)

    def _pick(self, files: dict[Path, int], toggle: dict[Path, int] | None = None) -> None:
        self._picked.update(files)
        for path, size in (toggle or {}).items():
            if self._picked.pop(path, None) is None:
                self._picked[path] = size
        self.picks_changed_signal.publish(None)

    @on(BrowserScreen.PicksChanged)
    def picks_requested(self, message: BrowserScreen.PicksChanged) -> None:
        self._pick(message.pick, message.toggle)

    @on(MetadataFormScreen.StartRequested)
    def start_requested(self, message: MetadataFormScreen.StartRequested) -> None:
        self.start_uploads(message.batch)

    def _remember_theme(self, theme: Theme) -> None:
        if not self._theme_ready or theme.name == self.config.tui.theme:
            return
        self.config = replace(self.config, tui=replace(self.config.tui, theme=theme.name))
        try:
            update_config(self.config_path, tui=self.config.tui)
        except (ConfigError, OSError) as exc:
            self.notify(f"Theme not saved: {exc}", severity="warning")

    # --- navigation -----------------------------------------------------------------------

    def open_browser(self, folder: Path | None = None) -> None:
        if folder is None:
            first = next(iter(self.picked), None)
            folder = first.parent if first else Path.cwd()
        self.push_screen(BrowserScreen(folder))

    def open_form(self) -> None:
        self.push_screen(MetadataFormScreen(sorted(self.picked), self.form_state, self.today))

    def finish_batch(self) -> None:
        """After a start: forget the picks, go back to the dashboard."""
        self._picked.clear()
        self.picks_changed_signal.publish(None)
        self.form_state.overrides.clear()
        while not isinstance(self.screen, DashboardScreen) and len(self.screen_stack) > 1:
            self.pop_screen()
        if isinstance(self.screen, DashboardScreen):
            self.screen.changed()

    def relogin(self, reason: str = "") -> None:
        """Open the login screen; saving it lets the waiting uploads go on (no restart)."""
        if isinstance(self.screen, LoginScreen):
            return
        explain = "Uploads waiting for the login continue with the new one; nothing restarts."

        def done(result: LoginResult | None) -> None:
            if result is not None:
                self.apply_login(result)

        self.push_screen(
            LoginScreen(
                self.config,
                f"{reason}\n{explain}" if reason else explain,
                self.config_path,
                save=self.save_login,
            ),
            done,
        )

    def apply_login(self, result: LoginResult) -> None:
        """Hand the new credentials to the owner, which retries and resumes what waited."""
        new_base = check_api_base(result.config.api_base)
        if new_base != check_api_base(self.config.api_base):
            # The owner's client talks to one API base for its whole life.
            self.exit(RELOGIN)
            return
        self.config = replace(self.config, credentials=result.config.credentials)
        self.bridge.logged_in_again()
        # Retries what failed for the login, resumes what paused waiting for it, and lifts
        # the engine's block; uploads the user paused stay paused.
        self.control.log_in(result.config.credentials)
        self.notify("Logged in: the uploads continue", timeout=4)
        for screen in self.screen_stack:
            if isinstance(screen, DashboardScreen):
                screen.new_login_applied()
                screen.changed()

    # --- engine commands ------------------------------------------------------------------

    @work(group="add")
    async def start_uploads(self, batch: list[tuple[Path, VideoMetadata]]) -> None:
        """Queue a described batch; say what failed; back to the dashboard if any started."""
        added = 0
        for path, meta in batch:
            try:
                await self.control.add(path, meta, start=True)
            except YoukuTuiError as exc:
                self.notify(f"{path.name}: {exc}", severity="error", timeout=8)
            else:
                added += 1
        if added:
            self.notify(f"Started {added} upload(s)", timeout=3)
            self.finish_batch()

    def set_limits(self, *, max_uploads: int | None = None, bandwidth: int | None = None) -> None:
        self.control.set_limits(max_uploads=max_uploads, bandwidth=bandwidth)
        self.limits = replace(
            self.limits,
            max_uploads=self.limits.max_uploads if max_uploads is None else max_uploads,
            bandwidth=self.limits.bandwidth if bandwidth is None else bandwidth,
        )

    def save_preset(self, name: str, preset: MetadataDefaults) -> None:
        presets = {**self.config.presets, name: preset}
        update_config(self.config_path, presets=presets)
        self.config = replace(self.config, presets=presets)

    # --- the tick: events in, notifications out, the dashboard painted ------------------

    def tick(self) -> None:
        """Drain what the engine reported; notify; repaint the dashboard if it shows."""
        if not self.is_running:
            return  # shutting down: the screens' widgets are being taken away
        if not self.control.connected and self.bridge.speeds:
            self.bridge.speeds.clear()  # the service is gone: nothing moves any more
        drained = self.bridge.drain()
        if drained.events:
            self.handle_engine_events(drained.events)
        dashboard = self.visible_dashboard()
        if dashboard is not None:
            dashboard.tick(drained)

    def visible_dashboard(self) -> DashboardScreen | None:
        """The dashboard when it is on screen (alone or under a dialog), else None."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, DashboardScreen):
                return screen
            if not isinstance(screen, ModalScreen):
                return None
        return None

    def repaint_dashboard(self) -> None:
        """Something changed outside a tick (a command answered): repaint soon if shown."""
        dashboard = self.visible_dashboard()
        if dashboard is not None:
            dashboard.changed()

    def _write_to_driver(self, text: str) -> None:
        # Textual has no public call for raw output; copy_to_clipboard writes OSC 52 this way.
        if not self.is_headless and self._driver is not None:
            self._driver.write(text)

    def alert(self, title: str, body: str) -> None:
        """The bell, and a desktop notification through the terminal (OSC 9 / OSC 777)."""
        style = self.config.tui.notification
        self.write_to_terminal("\a" + notification_sequence(title, body, style))

    def handle_engine_events(self, events: list[EngineEvent]) -> None:
        """Notifications for the few events worth interrupting the user for."""
        login_lost = False
        failed: list[UploadFailed] = []
        done: list[UploadDone] = []
        for event in events:
            if isinstance(event, LimitsChanged):
                self.limits = event.applied_to(self.limits)
            elif isinstance(event, UploadFailed):
                if event.failure is FailureKind.NEEDS_LOGIN:
                    login_lost = True
                else:
                    failed.append(event)
            elif isinstance(event, UploadDone):
                done.append(event)
            elif isinstance(event, UploadLog) and event.level == "error" and not event.upload_id:
                # About no upload: the service was lost, or a command could not reach it.
                self.notify(event.message, severity="error", timeout=10)
        # One toast per batch, not per upload: 50 uploads finishing must not bury the screen.
        if len(failed) == 1:
            code = f" (Youku {failed[0].code})" if failed[0].code else ""
            self.notify(f"Upload failed{code}: {failed[0].error}", severity="error", timeout=6)
        elif failed:
            self.notify(f"{len(failed)} uploads failed: f filters them", severity="error")
        if len(done) == 1:
            self.notify(f"Done: video_id {done[0].video_id}", timeout=3)
        elif done:
            self.notify(f"{len(done)} uploads done", timeout=3)
        self._alert_for(failed, done)
        if login_lost and not isinstance(self.screen, DashboardScreen | LoginScreen):
            # On the dashboard the login screen opens by itself; elsewhere, say so.
            self.notify(
                "Youku refused the login: press L on the dashboard to log in again",
                severity="error",
                timeout=10,
            )

    def _alert_for(self, failed: list[UploadFailed], done: list[UploadDone]) -> None:
        """One bell and one notification per batch of endings, as for the toasts."""
        settings = self.config.tui
        failed = failed if settings.notify_failed else []
        done = done if settings.notify_done else []
        if not failed and not done:
            return
        parts = []
        if failed:
            parts.append(f"{len(failed)} failed" if len(failed) > 1 else "1 failed")
        if done:
            parts.append(f"{len(done)} done")
        names = [self._title_of(e.upload_id) for e in [*failed, *done]][:3]
        self.alert("youku-tui: " + ", ".join(parts), ", ".join(n for n in names if n))

    def _title_of(self, upload_id: str) -> str:
        for snap in self.control.snapshots():
            if snap.upload_id == upload_id:
                return snap.title
        return ""

    # --- help, palette, quit --------------------------------------------------------------

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        title = getattr(self.screen, "TITLE", None) or type(self.screen).__name__
        self.push_screen(HelpScreen(str(title), bindings_table(self.screen)))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every action of the screen's keys, plus Textual's own (theme, quit...)."""
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if binding.action == "command_palette":
                continue  # the palette is open already
            if not binding.description or binding.system or binding.action in seen:
                continue
            seen.add(binding.action)
            key = self.get_key_display(binding)

            def run(action: str = binding.action, node: object = active.node) -> None:
                self.call_later(self.run_action, action, node)

            yield SystemCommand(binding.description, f"key: {key}", run)
        yield from super().get_system_commands(screen)

    def search_themes(self) -> None:
        """The palette's "Theme" command: youku-tui's themes only (see OwnThemesProvider)."""
        self.push_screen(
            CommandPalette(providers=[OwnThemesProvider], placeholder="Search for themes…")
        )

    def uploads_running(self) -> int:
        """How many uploads are queued or running."""
        return sum(
            s.state.is_active or s.state is UploadState.QUEUED for s in self.control.snapshots()
        )

    async def action_quit(self) -> None:
        """Leave at once. A service keeps the uploads going (and the app says so on the way
        out); an engine in this process pauses them, which is asked first."""
        running = self.uploads_running()
        owner = self.control.owner
        flag = " --sandbox" if owner.sandbox else ""
        if not self.control.connected:
            self.quit_note = (
                f"the youku-tui service (pid {owner.pid}) is gone; its uploads are saved "
                f"and `youku-tui{flag}` starts it again, which resumes them."
            )
            self.exit()
        elif owner.in_service:
            if running:
                self.quit_note = (
                    f"{running} upload(s) go on in the youku-tui service (pid {owner.pid}). "
                    f"`youku-tui{flag}` shows them again; `youku-tui service stop{flag}` "
                    "pauses them."
                )
            self.exit()
        elif running:
            self.confirm_quit(running)
        else:
            self.exit()

    @work(exclusive=True, group="quit")
    async def confirm_quit(self, running: int) -> None:
        question = (
            f"{running} upload(s) run in this process (no service owns them). "
            "Pause them (progress is saved) and quit?"
        )
        if await self.push_screen_wait(ConfirmScreen(question)):
            # Pausing is the owner's close, after the screen is gone: nothing to wait for here.
            self.quit_note = (
                f"Pausing {running} upload(s) (progress is saved); `youku-tui` resumes them."
            )
            self.exit()
