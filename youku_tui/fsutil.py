"""Small file helpers shared by config and checkpoints."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from youku_tui.errors import LocalFileError


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, rename.

    The temp file is created with ``mode`` from the start (never world-readable, even for an
    instant), so files holding credentials are safe. A full disk raises
    :class:`LocalFileError` and leaves the previous file untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise LocalFileError(f"disk full: could not save {path}") from exc
        raise LocalFileError(f"could not save {path}: {exc.strerror or exc}") from exc
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the directory entry is flushed too.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
