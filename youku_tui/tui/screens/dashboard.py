"""The dashboard: every upload, live, with the keys that drive the engine.

Painting is batched: the app's timer drains the :class:`~youku_tui.tui.bridge.EngineBridge` a
few times a second and hands the result to :meth:`DashboardScreen.tick` while this screen is
on view; nothing is painted per engine event, and nothing at all while the screen is hidden.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, ClassVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from youku_tui.engine.events import watch_url
from youku_tui.engine.manager import UploadSnapshot
from youku_tui.engine.states import UploadState
from youku_tui.errors import YoukuTuiError
from youku_tui.metadata import PublicType, check_watch_password
from youku_tui.tui.bridge import Drained
from youku_tui.tui.screens.confirm import ConfirmScreen, PromptScreen
from youku_tui.tui.widgets.dashboard.detail_pane import DetailPane
from youku_tui.tui.widgets.dashboard.header_stats import HeaderStats, Totals
from youku_tui.tui.widgets.dashboard.rows import build_row
from youku_tui.tui.widgets.dashboard.upload_list import Columns, UploadList, header_text
from youku_tui.tui.widgets.footer import PaletteFooter
from youku_tui.units import format_speed, parse_size

if TYPE_CHECKING:
    from youku_tui.tui.app import YoukuApp

SAMPLE_INTERVAL = 1.0  # seconds between sparkline samples

FILTERS: tuple[tuple[str, frozenset[UploadState] | None], ...] = (
    ("all", None),
    (
        "active",
        frozenset(
            {*UploadState.__members__.values()}
            - {
                UploadState.DONE,
                UploadState.CANCELLED,
                UploadState.FAILED,
                UploadState.PAUSED,
                UploadState.QUEUED,
            }
        ),
    ),
    ("queued", frozenset({UploadState.QUEUED})),
    ("paused", frozenset({UploadState.PAUSED})),
    ("failed", frozenset({UploadState.FAILED})),
    ("done", frozenset({UploadState.DONE})),
)


class DashboardScreen(Screen[None]):
    TITLE = "Uploads"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add_files", "Add files", id="dashboard.add"),
        Binding("p,space", "toggle_pause", "Pause/resume", id="dashboard.pause"),
        Binding("r", "retry", "Retry", id="dashboard.retry"),
        Binding("c,delete", "cancel_upload", "Cancel…", id="dashboard.cancel"),
        Binding("f", "cycle_filter", "Filter", id="dashboard.filter"),
        Binding(
            "left_square_bracket,shift+up",
            "move(-1)",
            "Move up",
            show=False,
            id="dashboard.move_up",
        ),
        Binding(
            "right_square_bracket,shift+down",
            "move(1)",
            "Move down",
            show=False,
            id="dashboard.move_down",
        ),
        Binding("plus,equals_sign", "at_once(1)", "More at once", show=False, id="dashboard.more"),
        Binding("minus", "at_once(-1)", "Fewer at once", show=False, id="dashboard.fewer"),
        Binding("b", "bandwidth", "Bandwidth cap", show=False, id="dashboard.bandwidth"),
        Binding("P", "pause_all", "Pause all", show=False, id="dashboard.pause_all"),
        Binding("R", "resume_all", "Resume all", show=False, id="dashboard.resume_all"),
        Binding("y", "copy_url", "Copy watch URL", show=False, id="dashboard.copy_url"),
        Binding("L", "login", "Log in again", show=False, id="dashboard.login"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter_index = 0
        self.dirty = True  # something changed that the next paint must show
        self.last_sample = 0.0
        self._column_width = -1
        self._painted = False  # between mount and unmount: the widgets exist
        # True once the login screen opened for the current "not logged in" episode: Esc
        # must not bring it back at the next tick, a new episode may.
        self._login_asked = False

    @property
    def youku(self) -> YoukuApp:
        return cast("YoukuApp", self.app)

    def compose(self) -> ComposeResult:
        yield HeaderStats(sandbox=self.youku.sandbox)
        yield Static("", id="columns")
        yield UploadList(id="uploads")
        yield DetailPane()
        yield PaletteFooter()

    def on_mount(self) -> None:
        self.query_one(UploadList).focus()
        self.paint()
        self._painted = True

    def on_unmount(self) -> None:
        self._painted = False

    # --- painting -------------------------------------------------------------------------

    def tick(self, drained: Drained) -> None:
        """The app's timer, while this screen shows: what arrived since the last tick."""
        if not self._painted:
            return  # not composed yet, or being taken down as the app quits
        now = time.monotonic()
        if now - self.last_sample >= SAMPLE_INTERVAL:
            self.last_sample = now
            self.query_one(HeaderStats).add_sample(self.overall_speed())
        if drained or self.dirty:
            self.paint()
        self.ask_for_login_when_blocked()

    def paint_if_dirty(self) -> None:
        if self.dirty and self._painted:
            self.paint()

    def ask_for_login_when_blocked(self) -> None:
        """Open the login screen once when the engine starts waiting for a new login."""
        if not self.youku.control.login_blocked:
            self._login_asked = False
            return
        if self._login_asked or not self.is_current:
            return  # asked already, or the user is elsewhere (a toast told them about L)
        self._login_asked = True
        self.youku.relogin("Youku refused the login: the uploads wait for a new one.")

    def new_login_applied(self) -> None:
        """A new login was handed to the engine: if Youku refuses it too, ask again (even
        when the refusal comes before the next tick, so the engine never looked unblocked)."""
        self._login_asked = False

    def on_screen_resume(self) -> None:
        # Back from another screen: repaint at the next tick, ask for the login if needed.
        self.dirty = True
        self.ask_for_login_when_blocked()

    def on_resize(self) -> None:
        # The column header is redrawn by a paint: after a resize with nothing else
        # changing (every upload done), it would keep the old width's labels.
        self.changed()

    def overall_speed(self) -> float:
        return sum(self.youku.bridge.speeds.values())

    def visible_snapshots(self, snapshots: list[UploadSnapshot]) -> list[UploadSnapshot]:
        states = FILTERS[self.filter_index][1]
        ordered = sorted(snapshots, key=lambda s: s.position)
        return ordered if states is None else [s for s in ordered if s.state in states]

    def paint(self) -> None:
        """Bring every widget up to date with the engine, in one batch."""
        self.dirty = False
        app = self.youku
        snapshots = app.control.snapshots()
        bridge = app.bridge
        with self.app.batch_update():
            rows = [
                build_row(
                    s, bridge.speeds.get(s.upload_id, 0.0), bridge.phases.get(s.upload_id, "")
                )
                for s in self.visible_snapshots(snapshots)
            ]
            upload_list = self.query_one(UploadList)
            upload_list.set_rows(rows)
            if upload_list.scrollable_content_region.width != self._column_width:
                self._column_width = upload_list.scrollable_content_region.width
                cols = Columns.for_width(upload_list.scrollable_content_region.width)
                self.query_one("#columns", Static).update(header_text(cols))
            self.query_one(HeaderStats).show(self.totals(snapshots))
            self.show_detail(snapshots)

    def totals(self, snapshots: list[UploadSnapshot]) -> Totals:
        settings = self.youku.limits
        # A cancelled upload's bytes were thrown away and it will not be sent: not in the sums.
        kept = [s for s in snapshots if s.state is not UploadState.CANCELLED]
        return Totals(
            count=len(snapshots),
            by_state=Counter(s.state for s in snapshots),
            bytes_done=sum(s.size if s.state is UploadState.DONE else s.bytes_done for s in kept),
            bytes_total=sum(s.size for s in kept),
            speed=self.overall_speed(),
            max_uploads=settings.max_uploads,
            bandwidth=settings.bandwidth,
            filter_label=FILTERS[self.filter_index][0],
            login_needed=self.youku.control.login_blocked or self.youku.bridge.not_logged_in,
            service_lost=not self.youku.control.connected,
        )

    def show_detail(self, snapshots: list[UploadSnapshot] | None = None) -> None:
        selected = self.query_one(UploadList).selected
        snap = None
        if selected is not None:
            by_id = {s.upload_id: s for s in (snapshots or self.youku.control.snapshots())}
            snap = by_id.get(selected.upload_id)
        bridge = self.youku.bridge
        upload_id = snap.upload_id if snap else ""
        self.query_one(DetailPane).show(
            snap, bridge.log_lines(upload_id), bridge.video_ids.get(upload_id, "")
        )

    def on_upload_list_selected(self, _: UploadList.Selected) -> None:
        self.show_detail()

    def changed(self) -> None:
        """A command went to the engine: repaint at once rather than at the next tick."""
        self.dirty = True
        self.call_after_refresh(self.paint_if_dirty)

    # --- commands -------------------------------------------------------------------------

    def selected_snapshot(self) -> UploadSnapshot | None:
        row = self.query_one(UploadList).selected
        if row is None:
            return None
        for snap in self.youku.control.snapshots():
            if snap.upload_id == row.upload_id:
                return snap
        return None

    def action_add_files(self) -> None:
        self.youku.open_browser()

    def action_toggle_pause(self) -> None:
        snap = self.selected_snapshot()
        if snap is None:
            return
        control = self.youku.control
        if snap.state is UploadState.PAUSED:
            control.resume(snap.upload_id)
        elif snap.state is UploadState.FAILED:
            self.retry(snap)
        elif snap.state.is_active or snap.state is UploadState.QUEUED:
            control.pause(snap.upload_id)
        else:
            self.notify(f"{snap.title} is {snap.state}", severity="warning")
        self.changed()

    def action_retry(self) -> None:
        snap = self.selected_snapshot()
        if snap is None:
            return
        if snap.state not in (UploadState.FAILED, UploadState.CANCELLED):
            self.notify("Only a failed or cancelled upload can be retried", severity="warning")
            return
        self.retry(snap)

    @work(exclusive=True, group="retry")
    async def retry(self, snap: UploadSnapshot) -> None:
        """Retry a failed or cancelled upload; one still to be created with a watch password
        asks for it (passwords are never stored, so after a restart only the user has it)."""
        password = ""
        if snap.needs_password:
            answer = await self.app.push_screen_wait(
                PromptScreen(f"Watch password for {snap.title!r} (not stored):", password=True)
            )
            if answer is None:
                return
            problems = check_watch_password(PublicType.PASSWORD, answer)
            if problems:
                self.notify(f"Watch password {problems[0].message}", severity="error")
                return
            password = answer
        self.youku.control.retry(snap.upload_id, watch_password=password)
        if snap.state is UploadState.CANCELLED:
            self.notify(f"Starting {snap.title} over as a new upload", timeout=3)
        self.changed()

    @work(exclusive=True, group="cancel")
    async def action_cancel_upload(self) -> None:
        snap = self.selected_snapshot()
        if snap is None or snap.state.is_terminal:
            return
        question = f"Cancel the upload of {snap.title!r}? Its progress is thrown away."
        if await self.app.push_screen_wait(ConfirmScreen(question)):
            try:
                await self.youku.control.cancel(snap.upload_id)
            except YoukuTuiError as exc:
                self.notify(f"Not cancelled: {exc}", severity="error")
                return
            self.notify(f"Cancelled {snap.title}")
            self.changed()

    def action_move(self, delta: int) -> None:
        snap = self.selected_snapshot()
        if snap is None:
            return
        self.youku.control.move(snap.upload_id, delta)
        self.changed()

    def action_at_once(self, delta: int) -> None:
        current = self.youku.limits.max_uploads
        wanted = max(1, current + delta)
        if wanted != current:
            self.youku.set_limits(max_uploads=wanted)
            self.notify(f"Uploads at once: {wanted}", timeout=2)
        self.changed()

    @work(exclusive=True, group="bandwidth")
    async def action_bandwidth(self) -> None:
        current = self.youku.limits.bandwidth
        shown = format_speed(current) if current else "0"
        answer = await self.app.push_screen_wait(
            PromptScreen("Bandwidth cap for all uploads (e.g. 2MB, 500K; 0 = no cap):", shown)
        )
        if answer is None:
            return
        try:
            value = parse_size(answer)
        except ValueError:
            self.notify(f"{answer!r} is not a size such as 2MB or 500K", severity="error")
            return
        self.youku.set_limits(bandwidth=value)
        self.notify("Bandwidth: " + (format_speed(value) if value else "no cap"), timeout=2)
        self.changed()

    def action_pause_all(self) -> None:
        self.youku.control.pause_all()
        self.changed()

    def action_resume_all(self) -> None:
        self.youku.control.resume_all()
        self.changed()

    def action_cycle_filter(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(FILTERS)
        self.notify(f"Showing: {FILTERS[self.filter_index][0]}", timeout=2)
        self.changed()

    def action_copy_url(self) -> None:
        snap = self.selected_snapshot()
        vid = snap.video_id if snap else ""
        if not vid and snap is not None:
            vid = self.youku.bridge.video_ids.get(snap.upload_id, "")
        if not vid:
            self.notify("This upload has no video_id yet", severity="warning")
            return
        self.app.copy_to_clipboard(watch_url(vid))
        self.notify(f"Copied {watch_url(vid)}", timeout=3)

    def action_login(self) -> None:
        self.youku.relogin()
