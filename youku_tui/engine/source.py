"""The video file while it is sent: one descriptor shared by the part threads, and the checks
that stop an upload as soon as the file changes.

Parts are read with ``os.pread`` from one descriptor per transfer, by worker threads that may
outlive a paused run by a chunk; :class:`SharedFile` closes it only when the last of them lets
go. A file that changes mid-upload (a recording still being written) would otherwise show up
only as Youku refusing the MD5 after everything was sent, and blame Youku.
"""

from __future__ import annotations

import os
import threading

from youku_tui.engine.checkpoint import Checkpoint
from youku_tui.engine.transfer import TransferStopped
from youku_tui.errors import FileChangedError, LocalFileError
from youku_tui.textsafe import safe_text

NOT_YOUKU = (
    "This is the file changing, not a Youku problem: upload it again once it is final "
    "(`youku-tui cancel` this one)."
)


class SharedFile:
    """A read-only fd closed when its last user lets go.

    Part threads may outlive a paused run by a chunk; closing the fd under them could let the
    number be reused by another file, so each reader holds a reference.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._users = 1
        self._lock = threading.Lock()

    @classmethod
    def open(cls, cp: Checkpoint) -> SharedFile:
        """The checkpoint's file, held once by the caller (who releases it at the end)."""
        try:
            fd = os.open(cp.path, os.O_RDONLY)
        except OSError as exc:
            raise LocalFileError(f"cannot open {cp.path}: {exc.strerror}") from exc
        return cls(fd)

    def acquire(self) -> int:
        with self._lock:
            if self._users == 0:  # already closed: the transfer that opened it is over
                raise TransferStopped
            self._users += 1
            return self.fd

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                os.close(self.fd)


def check_path_unchanged(cp: Checkpoint) -> None:
    """Before commit: the file at the path (also a replaced file) is still the one hashed."""
    try:
        cp.check_file()
    except FileChangedError as exc:
        raise FileChangedError(f"{exc.message} {NOT_YOUKU}") from exc


def check_fd_unchanged(cp: Checkpoint, fd: int) -> None:
    """Before each part: ``fstat`` of the open file (cheap) shows no new size or mtime."""
    info = os.fstat(fd)
    if info.st_size != cp.size or info.st_mtime_ns != cp.identity.mtime_ns:
        raise FileChangedError(
            f"{safe_text(cp.path)} was modified during its upload (size {cp.size} -> "
            f"{info.st_size}, or its modification time changed); the upload stopped. " + NOT_YOUKU
        )
