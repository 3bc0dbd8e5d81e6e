"""Dashboard header: totals, overall speed and a sparkline of recent throughput."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Sparkline, Static

from youku_tui.engine.states import UploadState
from youku_tui.units import format_size, format_speed

HISTORY_SAMPLES = 60


@dataclass(frozen=True, slots=True)
class Totals:
    count: int
    by_state: Counter[UploadState]
    bytes_done: int
    bytes_total: int
    speed: float
    max_uploads: int
    bandwidth: int
    filter_label: str
    login_needed: bool = False
    service_lost: bool = False  # a view whose service died: what it shows is frozen

    def text(self, width: int = 0) -> str:
        """Two lines; with a ``width``, the longest wording of each that fits it."""
        first = _first_fitting(self._first_lines(), width)
        return f"{first}\n{_first_fitting(self._second_lines(), width)}"

    def _first_lines(self) -> list[str]:
        active = sum(n for state, n in self.by_state.items() if state.is_active)
        done = self.by_state.get(UploadState.DONE, 0)
        failed = self.by_state.get(UploadState.FAILED, 0)
        paused = self.by_state.get(UploadState.PAUSED, 0)
        queued = self.by_state.get(UploadState.QUEUED, 0)
        counts = (
            f"[b]{active}[/b] active, {queued} queued, "
            f"[$success]{done} done[/], [$error]{failed} failed[/], {paused} paused"
        )
        # Narrow terminals: only the states that have uploads, then shorter words.
        present = [
            (n, long, short, style)
            for n, long, short, style in (
                (active, "active", "act", "b"),
                (queued, "queued", "que", ""),
                (done, "done", "ok", "$success"),
                (failed, "failed", "err", "$error"),
                (paused, "paused", "ps", ""),
            )
            if n
        ]
        wordings = [
            ", ".join(_styled(f"{n} {long}", style) for n, long, _, style in present),
            " ".join(_styled(f"{n} {short}", style) for n, _, short, style in present),
        ]
        return [
            f"[b]{self.count}[/b] uploads: {counts}",
            f"[b]{self.count}[/b]: {counts}",
            *(f"[b]{self.count}[/b]: {wording}" for wording in wordings),
        ]

    def _second_lines(self) -> list[str]:
        if self.service_lost:
            return [
                "[$error]Lost the youku-tui service; uploads saved: quit, run youku-tui again[/]",
                "[$error]Lost the service (uploads saved): quit, run youku-tui[/]",
                "[$error]Lost the service: quit, restart[/]",
            ]
        if self.login_needed:
            # Stays until a new login, unlike a toast: the uploads wait for it.
            return [
                "[$error]Youku refused the login: press [b]L[/b] to log in again[/]",
                "[$error]Not logged in: press [b]L[/b] to log in[/]",
            ]
        cap = format_speed(self.bandwidth) if self.bandwidth else "none"
        sizes = f"{format_size(self.bytes_done)} of {format_size(self.bytes_total)}"
        short_sizes = f"{format_size(self.bytes_done)}/{format_size(self.bytes_total)}"
        speed = f"[b]{format_speed(self.speed)}[/b]"
        at_once = f"{self.max_uploads} at once"
        showing = f"showing {self.filter_label}"
        return [
            f"{sizes}  {speed}  {at_once}  cap {cap}  {showing}",
            f"{short_sizes}  {speed}  {at_once}  cap {cap}  {showing}",
            f"{short_sizes}  {speed}  {self.max_uploads}×  cap {cap}  {showing}",
            f"{short_sizes}  {speed}  {self.max_uploads}×  cap {cap}  {self.filter_label}",
            f"{short_sizes} {speed} {self.max_uploads}× cap {cap} {self.filter_label}",
            f"{short_sizes} {speed} cap {cap}",
            f"{short_sizes} {speed}",
        ]


def _styled(text: str, style: str) -> str:
    return f"[{style}]{text}[/]" if style else text


def _first_fitting(lines: list[str], width: int) -> str:
    """The first (most explicit) line that fits ``width`` cells; the last one otherwise.
    Choosing whole wordings, rather than cropping, means no word is ever cut in half."""
    if width <= 0:
        return lines[0]
    for line in lines:
        if Content.from_markup(line).cell_length <= width:
            return line
    return lines[-1]


class HeaderStats(Horizontal):
    DEFAULT_CSS = """
    HeaderStats { height: 2; background: $panel; }
    HeaderStats > #mode {
        width: auto; height: 2; padding: 0 1; display: none;
        background: $warning; color: $background; text-style: bold;
    }
    HeaderStats.-sandbox > #mode { display: block; }
    /* Never wraps: a third line would push the totals out of the two-line header. */
    HeaderStats > #totals {
        width: 1fr; height: 2; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    HeaderStats > Sparkline {
        width: 20%; min-width: 10; max-width: 40; height: 2; margin-right: 1;
    }
    """

    def __init__(self, *, sandbox: bool = False) -> None:
        super().__init__(classes="-sandbox" if sandbox else "")
        self.history: deque[float] = deque([0.0] * HISTORY_SAMPLES, maxlen=HISTORY_SAMPLES)
        self._text = ""
        self._shown: Totals | None = None
        # Built here, not in compose, so a paint before they are mounted still lands.
        self._totals = Static(id="totals", markup=True)
        self._sparkline = Sparkline(list(self.history), summary_function=max, id="throughput")

    def compose(self) -> ComposeResult:
        # Nothing else on screen tells the sandbox from Youku: uploads there go nowhere.
        yield Static("SANDBOX\nlocal", id="mode")
        yield self._totals
        yield self._sparkline

    def show(self, totals: Totals) -> None:
        self._shown = totals
        text = totals.text(self._totals.content_region.width)
        if text != self._text:  # a repaint only when something shown changed
            self._text = text
            self._totals.update(text)

    def on_resize(self) -> None:
        if self._shown is not None:
            self.call_after_refresh(self.show, self._shown)  # after the new layout

    def add_sample(self, speed: float) -> None:
        self.history.append(speed)
        self.set_history(list(self.history))

    def set_history(self, samples: Sequence[float]) -> None:
        self.history = deque(samples, maxlen=HISTORY_SAMPLES)
        self._sparkline.data = list(self.history)
