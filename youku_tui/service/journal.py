"""The service's log: ``$XDG_STATE_HOME/youku-tui/service.log``, 0600, rotated by size.

One line per state change, at most one progress line per running upload every 30 s, and the
service's own comings and goings. Events never hold a secret, and nothing else is logged from
a request (a watch password or a token never reaches this file); oss2 and httpx, which log
request headers at DEBUG, are kept at WARNING.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import time
from pathlib import Path

from youku_tui.engine.events import (
    EngineEvent,
    LimitsChanged,
    Progress,
    QueueOrder,
    Retrying,
    StateChanged,
    UploadAdded,
    UploadDone,
    UploadFailed,
    UploadLog,
    UploadRemoved,
)
from youku_tui.textsafe import safe_text
from youku_tui.units import format_size as _size

PROGRESS_EVERY = 30.0  # seconds between progress lines of one upload
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3
NOISY = ("oss2", "urllib3", "httpx", "httpcore", "requests", "aiohttp.access")

log = logging.getLogger("youku_tui.service")


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotates by size; every file it opens is created 0600."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(
            self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600
        )
        os.fchmod(fd, 0o600)
        return io.TextIOWrapper(
            io.FileIO(fd, "a"), encoding=self.encoding or "utf-8", errors=self.errors
        )


def setup_service_log(path: Path) -> logging.Handler:
    """Send every log record of this process to ``path`` (the service's only log)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = PrivateRotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


class EventJournal:
    """An event sink writing the log lines."""

    def __init__(self, every: float = PROGRESS_EVERY) -> None:
        self.every = every
        self._last_progress: dict[str, float] = {}

    def __call__(self, event: EngineEvent) -> None:
        line = self.line(event)
        if line:
            level = logging.WARNING if isinstance(event, UploadFailed) else logging.INFO
            if isinstance(event, UploadLog) and event.level in ("warning", "error"):
                level = logging.WARNING if event.level == "warning" else logging.ERROR
            log.log(level, "%s", line)

    def line(self, event: EngineEvent) -> str:
        uid = event.upload_id
        if isinstance(event, UploadAdded):
            return f"{uid} added: {safe_text(event.title)!r} ({_size(event.size)}) {event.state}"
        if isinstance(event, StateChanged):
            reason = f" ({safe_text(event.reason)})" if event.reason else ""
            return f"{uid} {event.old} -> {event.new}{reason}"
        if isinstance(event, UploadDone):
            return f"{uid} committed: video {event.video_id} {event.url}"
        if isinstance(event, UploadFailed):
            code = f" [{event.code}]" if event.code else ""
            return f"{uid} failed{code}: {safe_text(event.error)}"
        if isinstance(event, Retrying):
            part = f" part {event.part_number}" if event.part_number else ""
            return f"{uid}{part} retry {event.attempt} in {event.delay:.1f} s: {event.error}"
        if isinstance(event, LimitsChanged):
            cap = f"{_size(event.bandwidth)}/s" if event.bandwidth else "none"
            parts = event.max_parts or "adaptive"
            return f"limits: {event.max_uploads} uploads at once, parts {parts}, cap {cap}"
        if isinstance(event, UploadRemoved):
            return f"{uid} removed"
        if isinstance(event, QueueOrder):
            return "queue reordered"
        if isinstance(event, UploadLog):
            return f"{uid} {safe_text(event.message)}".strip()
        if isinstance(event, Progress):
            now = time.monotonic()
            if now - self._last_progress.get(uid, -self.every) < self.every:
                return ""
            self._last_progress[uid] = now
            percent = 100 * event.done / event.total if event.total else 0.0
            return (
                f"{uid} {event.phase} {percent:.0f}% ({_size(event.done)} of "
                f"{_size(event.total)}) at {_size(event.speed)}/s"
            )
        return ""
