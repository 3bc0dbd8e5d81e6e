"""The log file: private (0600) and quiet when it cannot be written.

``logging.FileHandler`` prints ``--- Logging error ---`` and a traceback to stderr for every
record it fails to write: on a full disk (the log usually shares it with the checkpoints)
that is hundreds of lines over the user's progress display. :class:`QuietFileHandler` instead
stops writing after a failure, counts what it dropped, tries again a little later, and once
writing works again records how many lines were lost.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path

RETRY_AFTER = 30.0  # seconds between attempts once writing failed


class QuietFileHandler(logging.FileHandler):
    """A FileHandler whose file is created 0600 and whose write errors never reach stderr."""

    def __init__(self, path: Path, *, retry_after: float = RETRY_AFTER) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Created private from the start; an older file is made private too.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        try:
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
        super().__init__(path, encoding="utf-8", errors="backslashreplace")
        self.retry_after = retry_after
        self.dropped = 0
        self._failed_at: float | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._failed_at is not None:
            if time.monotonic() - self._failed_at < self.retry_after:
                self.dropped += 1
                return
            self._failed_at = None
            if self.dropped:
                lost = self.dropped
                self.dropped = 0
                note = logging.LogRecord(
                    record.name, logging.WARNING, __file__, 0,
                    "%d log line(s) were lost: the log file could not be written",
                    (lost,), None,
                )  # fmt: skip
                if not self._write(note):
                    self.dropped += lost
                    return
        self._write(record)

    def _write(self, record: logging.LogRecord) -> bool:
        try:
            super().emit(record)  # reopening a closed stream can raise outside its own try
        except OSError:
            self.handleError(record)
        return self._failed_at is None

    def handleError(self, record: logging.LogRecord) -> None:
        """Called by ``emit`` on a failure: remember it, print nothing."""
        self._failed_at = time.monotonic()
        self.dropped += 1
        stream = self.stream
        if stream is not None:
            # A buffered write that failed would fail again at every flush; start afresh.
            with contextlib.suppress(OSError):
                stream.close()
            self.stream = None  # reopened by the next emit


def open_log_handler(path: Path) -> logging.Handler | None:
    """The handler for ``path``, or None when the file cannot be opened at all."""
    try:
        handler = QuietFileHandler(path)
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler
