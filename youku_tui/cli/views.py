"""What ``list`` and ``status`` show: every upload, from the owner or from the checkpoints.

When the service runs the uploads, its snapshots are the truth (live progress). Otherwise the
checkpoints are read without taking anything (another process may own the folder: an
in-process ``youku-tui upload`` or the TUI) and turned into the same snapshots; what they hold
is what OSS confirmed, saved as each part was. Finished uploads of earlier runs live only in
their checkpoints, so both are merged, the owner's version winning.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from youku_tui.engine.checkpoint import Checkpoint, CheckpointStore
from youku_tui.engine.ids import short_id
from youku_tui.engine.parts import PartPlan
from youku_tui.engine.snapshot import UploadSnapshot
from youku_tui.engine.states import UploadState
from youku_tui.textsafe import json_safe, safe_text
from youku_tui.textwidth import fit
from youku_tui.units import format_size

FINISHED = frozenset({UploadState.DONE, UploadState.FAILED, UploadState.CANCELLED})


@dataclass(frozen=True, slots=True)
class Uploads:
    """Every upload known, in queue order, and who runs them."""

    snapshots: list[UploadSnapshot]
    owner: str  # "service pid 42", "pid 42 (youku-tui upload...)" or "" when nobody runs them
    problems: list[str]


def from_checkpoint(cp: Checkpoint) -> UploadSnapshot:
    stored = cp.size if cp.object_crc64 is not None else sum(p.size for p in cp.parts.values())
    return UploadSnapshot(
        upload_id=cp.upload_id,
        path=str(cp.path),
        title=cp.title,
        size=cp.size,
        state=cp.state,
        bytes_done=stored,
        hashed=cp.size if cp.md5 else 0,
        parts_done=len(cp.parts),
        parts_total=PartPlan(cp.size, cp.part_size).count if cp.part_size else 0,
        last_error=cp.last_error,
        last_error_code=cp.last_error_code,
        video_id=cp.video_id if cp.state is UploadState.DONE else "",
        position=cp.position,
        md5=cp.md5,
    )


def read_checkpoints(folder: Path) -> tuple[list[UploadSnapshot], list[str]]:
    """The folder's uploads in queue order (position, then age), read-only; and problems."""
    checkpoints, problems = CheckpointStore(folder).load_all()
    checkpoints.sort(key=lambda c: (c.position, c.created_at))
    return [from_checkpoint(c) for c in checkpoints], [p.message for p in problems]


def merge(live: Iterable[UploadSnapshot], stored: Iterable[UploadSnapshot]) -> list[UploadSnapshot]:
    """The owner's uploads in its order, then those only the folder still knows."""
    merged = list(live)
    seen = {s.upload_id for s in merged}
    return merged + [s for s in stored if s.upload_id not in seen]


def record(snap: UploadSnapshot, *, in_use: bool) -> dict[str, Any]:
    """One upload as a JSON object (``list --json``, ``status --json``)."""
    return {
        "upload_id": snap.upload_id,
        "state": str(snap.state),
        "path": snap.path,
        "title": snap.title,
        "size": snap.size,
        "bytes_done": snap.bytes_done,
        "bytes_in_flight": snap.bytes_in_flight,
        "parts_done": snap.parts_done,
        "parts_total": snap.parts_total,
        "speed": snap.speed,
        "position": snap.position,
        "video_id": snap.video_id,
        "error": snap.last_error,
        "code": snap.last_error_code,
        "in_use": in_use and snap.state not in FINISHED,
    }


def json_line(data: dict[str, Any]) -> str:
    return json_safe(json.dumps(data, ensure_ascii=False))


def table_lines(snapshots: Iterable[UploadSnapshot], width: int | None) -> list[str]:
    """``list``: short id, state, confirmed percent, size, title and path; errors below."""
    lines = []
    for snap in snapshots:
        percent = 100 * snap.bytes_done / snap.size if snap.size else 0.0
        figures = f"{short_id(snap.upload_id)}  {snap.state!s:<10} {percent:5.1f}%"
        line = f"{figures} {format_size(snap.size):>10}  {safe_text(snap.title)}"
        line += f"  ({safe_text(snap.path)})"
        lines.append(fit(line, width).rstrip() if width else line)
        if snap.last_error and snap.state is not UploadState.DONE:
            error = f"    {safe_text(snap.last_error)}"
            lines.append(fit(error, width).rstrip() if width else error)
    return lines
