"""What the headless commands print while the engine works.

- :class:`JsonLines`: one JSON object a line per event (``--json``), for scripts.
- :class:`TerminalBoard`: one progress line per upload, redrawn in place with plain ANSI
  escapes at most 4 times a second; notes and errors scroll above it. Without a terminal it
  prints state changes as plain lines and draws no bars.

Deliberately import-light (no rich, no Textual): ``youku-tui upload`` must start fast.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, TextIO

from youku_tui.engine.events import (
    CredentialsRenewed,
    EngineEvent,
    Progress,
    Retrying,
    StateChanged,
    TokenRefreshed,
    UploadAdded,
    UploadDone,
    UploadFailed,
    UploadLog,
)
from youku_tui.textsafe import json_safe, safe_text

REDRAW_INTERVAL = 0.25
BAR_WIDTH = 24


class JsonLines:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._broken = False  # the reader went away (`| head`): the uploads carry on

    def __call__(self, event: EngineEvent) -> None:
        self.write(event.to_dict())

    def write(self, record: dict[str, Any]) -> None:
        if self._broken:
            return
        try:
            self._stream.write(json_safe(json.dumps(record, ensure_ascii=False)) + "\n")
            self._stream.flush()
        except (BrokenPipeError, ValueError):  # ValueError: the stream was closed
            self._broken = True

    def close(self) -> None:
        if not self._broken:
            try:
                self._stream.flush()
            except (BrokenPipeError, ValueError):
                self._broken = True


@dataclass
class _Row:
    title: str
    size: int
    state: str
    phase: str = ""
    done: int = 0
    speed: float = 0.0
    parts: str = ""
    note: str = ""


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"  # pragma: no cover - the loop always returns


class TerminalBoard:
    def __init__(self, stream: TextIO, *, tty: bool, width: int = 100) -> None:
        self._stream = stream
        self._tty = tty
        self._width = max(60, width)
        self._rows: dict[str, _Row] = {}
        self._drawn = 0
        self._last_draw = 0.0

    def __call__(self, event: EngineEvent) -> None:
        row = self._rows.get(event.upload_id)
        if isinstance(event, UploadAdded):
            self._rows[event.upload_id] = _Row(safe_text(event.title), event.size, str(event.state))
        elif row is None:
            if isinstance(event, TokenRefreshed):
                self.say("access token refreshed")
            return
        elif isinstance(event, StateChanged):
            row.state = str(event.new)
            row.note = ""
            if not self._tty:
                self.say(f"{row.title}: {event.new}")
        elif isinstance(event, Progress):
            row.phase, row.done, row.speed = event.phase, event.done, event.speed
            row.parts = f"{event.parts_done}/{event.parts_total}" if event.parts_total else ""
        elif isinstance(event, Retrying):
            where = f"part {event.part_number} " if event.part_number else ""
            row.note = f"retry {event.attempt}: {where}{event.error}"
        elif isinstance(event, CredentialsRenewed):
            row.note = "OSS credentials renewed"
        elif isinstance(event, UploadLog):
            if event.level != "info":
                self.say(f"{row.title}: {event.message}")
        elif isinstance(event, UploadFailed):
            self.say(f"FAILED {row.title}: {event.error}")
        elif isinstance(event, UploadDone):
            row.done = row.size
            self.say(f"done {row.title}: video id {event.video_id}  {event.url}")
        self._draw(force=isinstance(event, StateChanged | UploadAdded))

    def say(self, line: str) -> None:
        """A line that stays: printed above the board."""
        self._erase()
        self._stream.write(safe_text(line) + "\n")
        self._draw(force=True)

    def close(self) -> None:
        self._draw(force=True)
        self._drawn = 0
        self._stream.flush()

    def _erase(self) -> None:
        if self._tty and self._drawn:
            self._stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def _draw(self, *, force: bool) -> None:
        if not self._tty:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < REDRAW_INTERVAL:
            return
        self._last_draw = now
        lines = [self._line(row) for row in self._rows.values()]
        self._erase()
        for line in lines:
            self._stream.write(line[: self._width - 1] + "\n")
        self._drawn = len(lines)
        self._stream.flush()

    def _line(self, row: _Row) -> str:
        fraction = row.done / row.size if row.size else 0.0
        filled = int(BAR_WIDTH * min(1.0, fraction))
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        if row.state in ("done", "failed", "cancelled", "paused", "queued"):
            detail = row.state
        else:
            speed = f"{human_bytes(row.speed)}/s" if row.speed else ""
            detail = f"{row.state} {fraction * 100:5.1f}% {speed} {row.parts}".rstrip()
        title = row.title if len(row.title) <= 28 else row.title[:27] + "~"
        note = f"  {safe_text(row.note)}" if row.note else ""
        return f"{title:<28} [{bar}] {detail}{note}"
