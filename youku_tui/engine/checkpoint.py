"""One TOML checkpoint per upload, enough to resume it in another process.

Written atomically (temp file, fsync, rename) with mode 0600 under
``$XDG_STATE_HOME/youku-tui/uploads/``. A checkpoint never holds an access or refresh token,
an STS secret or a watch password: ``get_sts_inf`` hands out fresh credentials from the
``upload_token``, and the tokens live in the config file only.

CRC-64 values are written as 16-digit hex strings because TOML integers are signed 64-bit.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import tomli_w

from youku_tui.engine.states import UploadState
from youku_tui.errors import CheckpointError, FileChangedError, LocalFileError
from youku_tui.fsutil import atomic_write

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SUFFIX = ".toml"


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """What says a file is still the one we hashed: path, size, mtime and inode."""

    path: str
    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileIdentity:
        try:
            st = path.stat()
        except FileNotFoundError as exc:
            raise LocalFileError(f"{path}: no such file") from exc
        except OSError as exc:
            raise LocalFileError(f"{path}: {exc.strerror or exc}") from exc
        if not path.is_file():
            raise LocalFileError(f"{path}: not a regular file")
        return cls(path=str(path), size=st.st_size, mtime_ns=st.st_mtime_ns, inode=st.st_ino)

    def differences(self, other: FileIdentity) -> list[str]:
        changed = []
        if self.size != other.size:
            changed.append(f"size {self.size} -> {other.size}")
        if self.mtime_ns != other.mtime_ns:
            changed.append("modification time")
        if self.inode != other.inode:
            changed.append("inode (the file was replaced)")
        return changed


@dataclass(frozen=True, slots=True)
class PartRecord:
    number: int
    size: int
    etag: str
    crc64: int


@dataclass(slots=True)
class Checkpoint:
    """The saved state of one upload. Mutable: the job updates it and saves it."""

    upload_id: str
    identity: FileIdentity
    metadata: dict[str, Any]  # VideoMetadata.to_record(): no watch password
    state: UploadState = UploadState.QUEUED
    md5: str = ""
    position: int = 0
    created_at: float = field(default_factory=time.time)
    updated_at: float = 0.0
    # From uploads/create:
    video_id: str = ""
    upload_token: str = ""
    bucket: str = ""
    object: str = ""
    endpoint: str = ""
    # The OSS transfer:
    part_size: int = 0
    multipart_upload_id: str = ""
    parts: dict[int, PartRecord] = field(default_factory=dict)
    object_crc64: int | None = None  # set once the whole object is stored and checked
    integrity_retry_used: bool = False
    # For the user:
    last_error: str = ""
    last_error_code: str = ""
    last_error_class: str = ""

    @property
    def path(self) -> Path:
        return Path(self.identity.path)

    @property
    def size(self) -> int:
        return self.identity.size

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", ""))

    def forget_session(self) -> None:
        """The Youku upload session is dead: the next run creates a new one."""
        self.video_id = self.upload_token = self.bucket = self.object = self.endpoint = ""
        self.forget_transfer()

    def forget_transfer(self) -> None:
        """Start the OSS transfer from scratch (new multipart upload)."""
        self.multipart_upload_id = ""
        self.parts = {}
        self.object_crc64 = None

    def check_file(self) -> FileIdentity:
        """Raise :class:`FileChangedError` if the file is not the one the checkpoint describes."""
        try:
            current = FileIdentity.of(self.path)
        except LocalFileError as exc:
            raise LocalFileError(f"{exc.message} (uploading as {self.title!r})") from exc
        changed = self.identity.differences(current)
        if changed:
            raise FileChangedError(
                f"{self.path} changed since its upload started ({', '.join(changed)}); "
                "refusing to resume - cancel it and upload the file again"
            )
        return current

    # --- TOML -----------------------------------------------------------------------------

    def to_toml(self) -> str:
        doc: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "upload_id": self.upload_id,
            "state": str(self.state),
            "position": self.position,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "md5": self.md5,
            "integrity_retry_used": self.integrity_retry_used,
            "file": asdict(self.identity),
            "metadata": _drop_empty(self.metadata),
            "youku": {
                "video_id": self.video_id,
                "upload_token": self.upload_token,
                "bucket": self.bucket,
                "object": self.object,
                "endpoint": self.endpoint,
            },
            "oss": {
                "part_size": self.part_size,
                "multipart_upload_id": self.multipart_upload_id,
                "object_crc64": "" if self.object_crc64 is None else _hex(self.object_crc64),
            },
            "error": {
                "message": self.last_error,
                "code": self.last_error_code,
                "class": self.last_error_class,
            },
            "parts": [
                {"number": p.number, "size": p.size, "etag": p.etag, "crc64": _hex(p.crc64)}
                for p in sorted(self.parts.values(), key=lambda p: p.number)
            ],
        }
        return tomli_w.dumps(doc)

    @classmethod
    def from_toml(cls, text: str) -> Checkpoint:
        """Parse a checkpoint; :class:`CheckpointError` says what is wrong with it."""
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CheckpointError(f"not valid TOML ({exc})") from exc
        version = doc.get("schema_version")
        if version != SCHEMA_VERSION:
            raise CheckpointError(f"unknown schema_version {version!r} (expected {SCHEMA_VERSION})")
        try:
            file = doc["file"]
            youku = doc.get("youku", {})
            oss = doc.get("oss", {})
            error = doc.get("error", {})
            parts = {
                int(p["number"]): PartRecord(
                    number=int(p["number"]),
                    size=int(p["size"]),
                    etag=str(p["etag"]),
                    crc64=int(str(p["crc64"]), 16),
                )
                for p in doc.get("parts", [])
            }
            object_crc = str(oss.get("object_crc64", ""))
            metadata = doc["metadata"]
            if not isinstance(metadata, dict):
                raise TypeError("metadata must be a table")
            return cls(
                upload_id=str(doc["upload_id"]),
                identity=FileIdentity(
                    path=str(file["path"]),
                    size=int(file["size"]),
                    mtime_ns=int(file["mtime_ns"]),
                    inode=int(file["inode"]),
                ),
                metadata=metadata,
                state=UploadState(doc["state"]),
                md5=str(doc.get("md5", "")),
                position=int(doc.get("position", 0)),
                created_at=float(doc.get("created_at", 0.0)),
                updated_at=float(doc.get("updated_at", 0.0)),
                video_id=str(youku.get("video_id", "")),
                upload_token=str(youku.get("upload_token", "")),
                bucket=str(youku.get("bucket", "")),
                object=str(youku.get("object", "")),
                endpoint=str(youku.get("endpoint", "")),
                part_size=int(oss.get("part_size", 0)),
                multipart_upload_id=str(oss.get("multipart_upload_id", "")),
                parts=parts,
                object_crc64=int(object_crc, 16) if object_crc else None,
                integrity_retry_used=bool(doc.get("integrity_retry_used", False)),
                last_error=str(error.get("message", "")),
                last_error_code=str(error.get("code", "")),
                last_error_class=str(error.get("class", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"malformed checkpoint ({type(exc).__name__}: {exc})") from exc


def _hex(value: int) -> str:
    return f"{value:016x}"


def _drop_empty(record: dict[str, Any]) -> dict[str, Any]:
    # TOML has no null; metadata records hold only str/bool/list values anyway.
    return {k: v for k, v in record.items() if v is not None}


@dataclass(frozen=True, slots=True)
class LoadProblem:
    path: Path
    message: str


class UploadLock:
    """An exclusive ``flock`` on one upload, so two processes never run it at once.

    The lock file sits beside the checkpoint (``ID.lock``) and is left in place: deleting a
    lock file others may be opening would let two holders exist.
    """

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


class CheckpointStore:
    """The folder of checkpoints: save, load all, delete, set aside corrupt ones."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, upload_id: str) -> Path:
        return self.folder / f"{upload_id}{SUFFIX}"

    def save(self, checkpoint: Checkpoint) -> None:
        """Write atomically with mode 0600; raises :class:`LocalFileError` on a full disk."""
        checkpoint.updated_at = time.time()
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(
            self.path_for(checkpoint.upload_id), checkpoint.to_toml().encode("utf-8"), mode=0o600
        )

    def load(self, upload_id: str) -> Checkpoint:
        path = self.path_for(upload_id)
        try:
            return Checkpoint.from_toml(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CheckpointError(f"cannot read {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise CheckpointError(f"{path} is not UTF-8 text") from exc

    def lock(self, upload_id: str) -> UploadLock | None:
        """Lock the upload for this process; None when another process holds it."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.folder / f"{upload_id}.lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise CheckpointError(f"cannot create {path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return UploadLock(fd, path)

    def remove_lock_file(self, upload_id: str) -> None:
        """For finished uploads only: nobody locks a done or cancelled upload again."""
        with contextlib.suppress(OSError):
            (self.folder / f"{upload_id}.lock").unlink()

    def load_all(self) -> tuple[list[Checkpoint], list[LoadProblem]]:
        """Every readable checkpoint (oldest first); corrupt ones are renamed aside.

        A corrupt file becomes ``NAME.toml.corrupt-<unix time>`` so it no longer gets in the way
        but is kept for a human to look at; the others still load.
        """
        checkpoints: list[Checkpoint] = []
        problems: list[LoadProblem] = []
        if not self.folder.is_dir():
            return checkpoints, problems
        for path in sorted(self.folder.glob(f"*{SUFFIX}")):
            try:
                text = path.read_text(encoding="utf-8")
                checkpoint = Checkpoint.from_toml(text)
            except (CheckpointError, UnicodeDecodeError) as exc:
                aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
                try:
                    os.replace(path, aside)
                    where = f"moved to {aside.name}"
                except OSError:
                    where = "left in place"
                message = f"checkpoint {path.name} is corrupt ({exc}); {where}"
                log.warning(message)
                problems.append(LoadProblem(path, message))
                continue
            except OSError as exc:
                problems.append(LoadProblem(path, f"cannot read {path}: {exc.strerror or exc}"))
                continue
            if checkpoint.upload_id != path.name.removesuffix(SUFFIX):
                checkpoint = replace(checkpoint, upload_id=path.name.removesuffix(SUFFIX))
            checkpoints.append(checkpoint)
        checkpoints.sort(key=lambda c: (c.position, c.created_at))
        return checkpoints, problems
