"""One owner per state folder: an exclusive ``flock`` on ``owner.lock`` in the folder.

Exactly one process runs uploads from a checkpoint folder: the per-user service, or an
in-process run (``youku-tui --no-service``, ``youku-tui upload`` without a service). It takes
this lock before it reads a single checkpoint and keeps it for its whole life, so no process
that does not own the folder ever writes a checkpoint, and nobody resumes an upload from a copy
read before another process finished it.

The lock file holds one JSON line saying who owns the folder (pid, role, start time), for the
message a second would-be owner gets. The file is never deleted: deleting a lock file another
process may be opening would let two owners exist. The kernel drops the lock when its holder
exits, even on SIGKILL, so a crash never leaves the folder locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from youku_tui.errors import CheckpointError, OwnerBusyError

LOCK_NAME = "owner.lock"
# A reader probing the lock (`youku-tui list`) holds it shared for a moment: a would-be owner
# tries again for this long before it calls the folder busy.
ACQUIRE_PATIENCE = 0.2


@dataclass(frozen=True, slots=True)
class OwnerRecord:
    """What the owner wrote in the lock file."""

    pid: int = 0
    role: str = ""
    since: float = 0.0

    def describe(self) -> str:
        if not self.pid:
            return "another youku-tui process"
        since = time.strftime("%H:%M:%S", time.localtime(self.since)) if self.since else "?"
        role = f"{self.role}, " if self.role else ""
        return f"pid {self.pid} ({role}since {since})"


class OwnerLock:
    """The held lock. ``release`` (or the process ending) lets the next owner in."""

    def __init__(self, handle: IO[str], folder: Path, record: OwnerRecord) -> None:
        self._handle: IO[str] | None = handle
        self.folder = folder
        self.record = record

    @property
    def held(self) -> bool:
        return self._handle is not None

    @classmethod
    def acquire(cls, folder: Path, role: str = "") -> OwnerLock:
        """Own ``folder`` for this process, or raise :class:`OwnerBusyError` (writing nothing)."""
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle = open(folder / LOCK_NAME, "a+", encoding="utf-8")  # noqa: SIM115 - held
        except OSError as exc:
            raise CheckpointError(f"cannot open {folder / LOCK_NAME}: {exc.strerror}") from exc
        deadline = time.monotonic() + ACQUIRE_PATIENCE
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.02)
                    continue
                owner = read_owner(folder)
                handle.close()
                raise OwnerBusyError(busy_message(folder, owner), pid=owner.pid) from None
        record = OwnerRecord(pid=os.getpid(), role=role, since=time.time())
        with contextlib.suppress(OSError):  # the lock matters, the note in it is a courtesy
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"pid": record.pid, "role": role, "since": record.since}))
            handle.write("\n")
            handle.flush()
        return cls(handle, folder, record)

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing drops the flock; the file stays
            self._handle = None


def busy_message(folder: Path, owner: OwnerRecord) -> str:
    return (
        f"{owner.describe()} is already running the uploads in {folder}; only one process "
        "may. Let it finish, or stop it (`youku-tui service stop` for the service, Ctrl-C "
        "for a `youku-tui upload`); `youku-tui list` shows the uploads meanwhile"
    )


def read_owner(folder: Path) -> OwnerRecord:
    """The note the current (or last) owner left in the lock file."""
    try:
        data = json.loads((folder / LOCK_NAME).read_text(encoding="utf-8") or "{}")
        return OwnerRecord(
            pid=int(data.get("pid", 0)),
            role=str(data.get("role", "")),
            since=float(data.get("since", 0.0)),
        )
    except (OSError, ValueError, TypeError, AttributeError):
        return OwnerRecord()


def current_owner(folder: Path) -> OwnerRecord | None:
    """Who owns ``folder`` now, or None; for read-only views, takes nothing and writes nothing."""
    try:
        fd = os.open(folder / LOCK_NAME, os.O_RDONLY)
    except OSError:
        return None  # never owned
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_owner(folder)
    finally:
        os.close(fd)  # also drops the shared probe at once
    return None
