"""The dashboard's row model: what one line of the upload list shows, computed, not drawn."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from youku_tui.engine.manager import UploadSnapshot
from youku_tui.engine.states import UploadState
from youku_tui.units import format_duration, format_speed

WAITING_FOR_CAP = "for the bandwidth cap"  # after "waiting" in the state column


@dataclass(frozen=True, slots=True)
class UploadRow:
    """One upload as shown; equal rows draw equal lines (that is how repaints are skipped)."""

    upload_id: str
    name: str
    state: UploadState
    phase: str
    fraction: float  # what OSS confirmed (or what was hashed), of the whole file
    in_flight: float  # sent beyond that, not yet answered: never counted as done
    speed: str
    eta: str
    parts: str
    retries: int
    error: str
    note: str = ""  # why an active upload shows no progress (it waits for the cap)

    @property
    def percent(self) -> str:
        if self.state is UploadState.CANCELLED:
            return "-"  # its progress was thrown away: no figure to keep showing
        return f"{self.fraction * 100:5.1f}%"


def build_row(snap: UploadSnapshot, speed: float, phase: str = "") -> UploadRow:
    hashing = snap.state is UploadState.HASHING
    done_bytes = snap.hashed if hashing else snap.bytes_done
    if snap.state is UploadState.DONE:
        done_bytes = snap.size
    elif snap.state is UploadState.CANCELLED:
        done_bytes = 0  # aborted on OSS: a retry starts over, so the bar shows nothing kept
    fraction = done_bytes / snap.size if snap.size > 0 else 0.0
    in_flight = 0.0
    if snap.state in (UploadState.UPLOADING, UploadState.COMMITTING) and snap.size > 0:
        in_flight = snap.bytes_in_flight / snap.size
    active = snap.state.is_active
    keeps = snap.state is not UploadState.CANCELLED  # a cancel throws the parts away
    eta = (snap.size - done_bytes) / speed if active and speed > 0 else None
    error = ""
    if snap.last_error and snap.state is not UploadState.DONE:
        # The message first: where the row is narrow, the code is what gets cut (the detail
        # pane shows both).
        code = f" [{snap.last_error_code}]" if snap.last_error_code else ""
        error = snap.last_error + code
    waiting = snap.waiting_for_bandwidth and snap.state is UploadState.UPLOADING
    if waiting:  # not "uploading 0.0%": the cap serves the uploads ahead of it first
        phase = "waiting"
    return UploadRow(
        upload_id=snap.upload_id,
        name=Path(snap.path).name or snap.title,
        state=snap.state,
        phase=phase if active else "",
        fraction=fraction,
        in_flight=in_flight,
        speed=format_speed(speed, short=True) if active else "-",
        eta=format_duration(eta),
        parts=f"{snap.parts_done}/{snap.parts_total}" if snap.parts_total and keeps else "-",
        retries=snap.retries,
        error=error,
        note=WAITING_FOR_CAP if waiting else "",
    )
