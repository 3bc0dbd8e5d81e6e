"""Details of the selected upload: file, state, ids, Youku's last error and the event log."""

from __future__ import annotations

from collections.abc import Iterable

from textual.containers import VerticalScroll
from textual.widgets import Static

from youku_tui.engine.events import watch_url
from youku_tui.engine.manager import UploadSnapshot
from youku_tui.engine.states import UploadState
from youku_tui.textsafe import safe_markup
from youku_tui.units import format_size


def detail_text(snap: UploadSnapshot | None, log: Iterable[str], video_id: str = "") -> str:
    if snap is None:
        return "[dim]No upload selected. Press [b]a[/b] to add files.[/dim]"
    parts = f"{snap.parts_done}/{snap.parts_total}"
    if snap.state is UploadState.CANCELLED:
        parts = "-"  # aborted on OSS with the upload
    lines = [
        f"[b]{safe_markup(snap.title)}[/b]  {safe_markup(snap.path)}",
        f"state: [b]{snap.state}[/b]  size: {format_size(snap.size)}  "
        f"parts: {parts}  retries: {snap.retries}",
    ]
    if snap.state is UploadState.CANCELLED:
        lines.append("cancelled: its progress was thrown away; [b]r[/b] starts it over")
    elif snap.state is not UploadState.DONE and (snap.bytes_done or snap.bytes_in_flight):
        # The same figure as the row's percentage: what OSS confirmed, never what was sent.
        sent = f" (+{format_size(snap.bytes_in_flight)} in flight)" if snap.bytes_in_flight else ""
        lines.append(
            f"confirmed by OSS: {format_size(snap.bytes_done)} of {format_size(snap.size)}{sent}"
        )
    if snap.waiting_for_bandwidth:
        lines.append(
            "[$warning]waiting for its share of the bandwidth cap: the cap serves uploads "
            "earlier in the queue first, so a pause loses less ([b]b[/b] changes the cap)[/]"
        )
    vid = safe_markup(snap.video_id or video_id)  # the server's answer
    if snap.state is UploadState.DONE and vid:
        lines.append(f"[$success]video_id: [b]{vid}[/b]  {watch_url(vid)}[/]")
    elif vid:
        lines.append(f"video_id: {vid}")
    if snap.last_error and snap.state is not UploadState.DONE:
        code = f"Youku/OSS code {snap.last_error_code}: " if snap.last_error_code else ""
        lines.append(f"[$error]last error: {safe_markup(code + snap.last_error)}[/]")
    log_lines = list(log)
    if log_lines:
        lines.append("[dim]── event log ──[/dim]")
        lines.extend(safe_markup(line) for line in reversed(log_lines))  # newest first
    return "\n".join(lines)


class DetailPane(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    DetailPane { height: 1fr; min-height: 8; border-top: solid $primary; padding: 0 1; }
    DetailPane > Static { width: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._text = ""
        self._body = Static("", markup=True)

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._body

    def show(self, snap: UploadSnapshot | None, log: Iterable[str], video_id: str = "") -> None:
        text = detail_text(snap, log, video_id)
        if text != self._text:
            self._text = text
            self._body.update(text)
