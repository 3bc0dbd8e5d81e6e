"""What the headless commands print while uploads run.

- :class:`JsonLines`: one JSON object a line per event (``--json``), for scripts.
- :class:`TerminalBoard`: one line per upload. In a terminal the lines are redrawn in place
  (plain ANSI escapes, at most 4 times a second), each fitted to the terminal's width in cells
  with the speed and the time left; notes and errors scroll above them. Piped or under nohup,
  it prints state changes as they happen and one progress line per running upload every few
  seconds, so a log shows the uploads moving. ``quiet`` prints neither (errors still go to
  stderr, from the command).

Every figure counts what OSS confirmed; bytes sent but not yet answered show as a lighter
segment of the bar, never as done. Text from outside (titles, file names, server messages)
goes through :func:`youku_tui.textwidth.printable` first.

Deliberately import-light (no rich, no Textual): ``youku-tui upload`` must start fast.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

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
from youku_tui.engine.ids import short_id
from youku_tui.engine.states import UploadState
from youku_tui.textsafe import json_safe
from youku_tui.textwidth import cells, fit, printable
from youku_tui.units import format_duration, format_size, format_speed

if TYPE_CHECKING:
    from youku_tui.engine.manager import UploadSnapshot

REDRAW_INTERVAL = 0.25  # seconds between redraws in a terminal
PIPED_INTERVAL = 5.0  # seconds between two progress lines of one upload when piped
BAR_CELLS = 12  # [##########]
DETAIL_CELLS = 34  # "100.0% 999.9 MiB/s ETA 99:59:59" and a little room
TITLE_MIN_CELLS = 12
TITLE_MAX_CELLS = 48
MIN_WIDTH = 40
ID_CELLS = 8  # a short upload id
_QUIET_STATES = frozenset({"queued", "paused", "done", "failed", "cancelled"})


class JsonLines:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._broken = False  # the reader went away (`| head`): the uploads carry on

    def __call__(self, event: EngineEvent) -> None:
        self.write(event.to_dict())

    def write(self, record: dict[str, Any]) -> None:
        if self._broken:
            return
        # A name's undecodable bytes (lone surrogates) as \udcXX escapes: valid JSON that
        # json.loads turns back into the very string (os.fsencode: the name's bytes).
        line = json_safe(json.dumps(record, ensure_ascii=False))
        try:
            self._stream.write(line + "\n")
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
class Row:
    """What the board knows of one upload."""

    title: str
    size: int
    state: str
    phase: str = ""
    done: int = 0  # hashed, or confirmed by OSS
    in_flight: int = 0  # sent, not yet confirmed
    speed: float = 0.0
    parts_done: int = 0
    parts_total: int = 0
    note: str = ""
    waiting: bool = False  # the engine says: its bytes wait while the cap serves others

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.size) if self.size else 0.0

    def eta(self) -> str:
        if self.speed <= 0 or self.size <= self.done:
            return ""
        return "ETA " + format_duration((self.size - self.done - self.in_flight) / self.speed)


def bar(row: Row, width: int) -> str:
    """``[####==----]``: ``#`` confirmed by OSS, ``=`` sent and not yet confirmed."""
    inner = max(1, width - 2)
    if row.state == "done":
        return "[" + "#" * inner + "]"
    if row.state == "cancelled":
        return "[" + "-" * inner + "]"  # its parts were aborted with it: nothing kept
    confirmed = int(inner * row.fraction)
    sent = min(
        inner, int(inner * min(1.0, (row.done + row.in_flight) / row.size)) if row.size else 0
    )
    sent = max(sent, confirmed) if row.phase == "uploading" else confirmed
    return "[" + "#" * confirmed + "=" * (sent - confirmed) + "-" * (inner - sent) + "]"


def detail(row: Row, waiting_for_bandwidth: bool = False) -> str:
    """The state and figures of a row: ``42.1% 3.2 MiB/s ETA 0:32``."""
    if row.state in _QUIET_STATES:
        return row.state
    if row.state == "hashing" or row.phase == "hashing":
        speed = f" {format_speed(row.speed)}" if row.speed else ""
        return f"hashing {row.fraction * 100:.0f}%{speed}"
    if row.state in ("creating", "committing"):
        return row.state
    percent = f"{row.fraction * 100:5.1f}%"
    if waiting_for_bandwidth:
        return f"{percent} waiting for bandwidth (cap)"
    if not row.speed:
        return f"{percent} stalled" if row.done else f"{percent} starting"
    return f"{percent} {format_speed(row.speed):>11} {row.eta()}".rstrip()


def _waits_for_bandwidth(row: Row) -> bool:
    """Under a cap the engine feeds one upload's parts at a time (a pause then loses less);
    the others sit at 0 B/s although they are "uploading": say why, when the engine says so."""
    return row.waiting and row.state == "uploading"


class TerminalBoard:
    """One line per upload; see the module's docstring for the three modes."""

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool,
        width: int = 80,
        quiet: bool = False,
        piped_interval: float = PIPED_INTERVAL,
        show_ids: bool = False,
    ) -> None:
        self._stream = stream
        self._tty = tty
        self._quiet = quiet
        self._width = max(MIN_WIDTH, width)
        self._piped_interval = piped_interval
        self._show_ids = show_ids  # `status`: each line starts with the upload's short id
        self._rows: dict[str, Row] = {}
        self._printed_at: dict[str, float] = {}  # piped: when each row's last line went out
        self._drawn = 0
        self._last_draw = 0.0
        self._broken = False

    # --- input ----------------------------------------------------------------------------

    def load(self, snapshots: Iterable[UploadSnapshot]) -> None:
        """Show these uploads as they are now (attaching to the service, or polling)."""
        self._rows = {}
        for snap in snapshots:
            hashing = snap.state is UploadState.HASHING
            self._rows[snap.upload_id] = Row(
                title=snap.title,
                size=snap.size,
                state=str(snap.state),
                phase="hashing" if hashing else ("uploading" if snap.bytes_done else ""),
                done=snap.hashed if hashing else snap.bytes_done,
                in_flight=snap.bytes_in_flight,
                speed=snap.speed,
                parts_done=snap.parts_done,
                parts_total=snap.parts_total,
                waiting=snap.waiting_for_bandwidth,
            )
        self._draw(force=True)

    def __call__(self, event: EngineEvent) -> None:
        row = self._rows.get(event.upload_id)
        if isinstance(event, UploadAdded):
            self._rows[event.upload_id] = Row(event.title, event.size, str(event.state))
        elif row is None:
            if isinstance(event, TokenRefreshed):
                self.say("access token refreshed")
            return
        elif isinstance(event, StateChanged):
            row.state = str(event.new)
            row.note = ""
            row.waiting = False  # until a Progress of the new state says otherwise
            if row.phase == "hashing" and event.new is not UploadState.HASHING:
                row.phase, row.done = "", 0  # the bar shows what OSS confirmed, not the hash
            if row.state != "uploading":
                row.speed = 0.0
            if not self._tty and not self._quiet:
                self.say(f"{row.title}: {event.new}")
        elif isinstance(event, Progress):
            row.phase, row.done, row.speed = event.phase, event.done, event.speed
            row.in_flight = event.in_flight
            row.parts_done, row.parts_total = event.parts_done, event.parts_total
            row.waiting = event.waiting_for_bandwidth
            self._print_piped(event.upload_id, row)
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
            row.done, row.in_flight = row.size, 0
            self.say(f"done {row.title}: video id {event.video_id}  {event.url}")
        self._draw(force=isinstance(event, StateChanged | UploadAdded))

    # --- output ---------------------------------------------------------------------------

    def say(self, line: str) -> None:
        """A line that stays: printed above the board (never in quiet mode)."""
        if self._quiet:
            return
        self._erase()
        self._write(printable(line) + "\n")
        self._draw(force=True)
        self._flush()  # piped output is block-buffered: a log must show the line now

    def close(self) -> None:
        """Leave the last picture on screen (the next output goes below it)."""
        self._draw(force=True)
        self._drawn = 0
        self._flush()

    def lines(self) -> list[str]:
        """The board as drawn in a terminal: one line per upload, fitted to the width."""
        budget = self._width - 1  # never the last column: some terminals wrap there
        title_cells = max(
            TITLE_MIN_CELLS, min(TITLE_MAX_CELLS, budget - BAR_CELLS - DETAIL_CELLS - 2)
        )
        if self._show_ids:
            title_cells -= ID_CELLS + 1
        out = []
        for upload_id, row in self._rows.items():
            text = detail(row, _waits_for_bandwidth(row))
            if row.note and cells(text) < DETAIL_CELLS - 8:
                text += f"  {row.note}"
            line = f"{fit(row.title, title_cells)} {bar(row, BAR_CELLS)} {printable(text)}"
            if self._show_ids:
                line = f"{fit(short_id(upload_id), ID_CELLS)} {line}"
            out.append(fit(line, budget).rstrip())
        return out

    def _print_piped(self, upload_id: str, row: Row) -> None:
        if self._tty or self._quiet:
            return
        now = time.monotonic()
        last = self._printed_at.get(upload_id)
        if last is not None and now - last < self._piped_interval:
            return
        self._printed_at[upload_id] = now
        figures = detail(row, _waits_for_bandwidth(row))
        if row.phase == "uploading":
            figures += (
                f" ({format_size(row.done)} of {format_size(row.size)} confirmed"
                + (f", part {row.parts_done}/{row.parts_total}" if row.parts_total else "")
                + ")"
            )
        self.say(f"{row.title}: {figures}")

    def _erase(self) -> None:
        if self._tty and self._drawn:
            self._write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def _draw(self, *, force: bool) -> None:
        if not self._tty or self._quiet:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < REDRAW_INTERVAL:
            return
        self._last_draw = now
        lines = self.lines()
        self._erase()
        self._write("".join(line + "\n" for line in lines))
        self._drawn = len(lines)
        self._flush()

    def _write(self, text: str) -> None:
        if self._broken:
            return
        try:
            self._stream.write(text)
        except (BrokenPipeError, ValueError):  # the reader went away; the uploads carry on
            self._broken = True

    def _flush(self) -> None:
        if self._broken:
            return
        try:
            self._stream.flush()
        except (BrokenPipeError, ValueError):
            self._broken = True
