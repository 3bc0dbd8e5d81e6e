"""Dashboard header: totals, overall speed and a sparkline of recent throughput."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static

from youku_tui.engine.states import UploadState
from youku_tui.tui.format import human_size, human_speed

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

    def text(self) -> str:
        active = sum(n for state, n in self.by_state.items() if state.is_active)
        done = self.by_state.get(UploadState.DONE, 0)
        failed = self.by_state.get(UploadState.FAILED, 0)
        paused = self.by_state.get(UploadState.PAUSED, 0)
        queued = self.by_state.get(UploadState.QUEUED, 0)
        cap = human_speed(self.bandwidth) if self.bandwidth else "none"
        first = (
            f"[b]{self.count}[/b] uploads: [b]{active}[/b] active, {queued} queued, "
            f"[$success]{done} done[/], [$error]{failed} failed[/], {paused} paused"
        )
        second = (
            f"{human_size(self.bytes_done)} of {human_size(self.bytes_total)}  "
            f"[b]{human_speed(self.speed)}[/b]  {self.max_uploads} at once  cap {cap}  "
            f"showing {self.filter_label}"
        )
        if self.login_needed:
            # Stays until a new login, unlike a toast: the uploads wait for it.
            second = "[$error]Youku refused the login: press [b]L[/b] to log in again[/]"
        return f"{first}\n{second}"


class HeaderStats(Horizontal):
    DEFAULT_CSS = """
    HeaderStats { height: 2; background: $panel; }
    HeaderStats > #totals { width: 1fr; height: 2; padding: 0 1; }
    HeaderStats > Sparkline {
        width: 20%; min-width: 10; max-width: 40; height: 2; margin-right: 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: deque[float] = deque([0.0] * HISTORY_SAMPLES, maxlen=HISTORY_SAMPLES)
        self._text = ""
        # Built here, not in compose, so a paint before they are mounted still lands.
        self._totals = Static(id="totals", markup=True)
        self._sparkline = Sparkline(list(self.history), summary_function=max, id="throughput")

    def compose(self) -> ComposeResult:
        yield self._totals
        yield self._sparkline

    def show(self, totals: Totals) -> None:
        text = totals.text()
        if text != self._text:  # a repaint only when something shown changed
            self._text = text
            self._totals.update(text)

    def add_sample(self, speed: float) -> None:
        self.history.append(speed)
        self.set_history(list(self.history))

    def set_history(self, samples: Sequence[float]) -> None:
        self.history = deque(samples, maxlen=HISTORY_SAMPLES)
        self._sparkline.data = list(self.history)
