"""The sandbox's persistent state, under one data folder.

Layout (everything private to the user, mode 0700/0600)::

    state.json                       tokens, upload sessions, STS grants, committed videos
    objects/<bucket>/<sha256(key)>.data|.json   object bytes and their metadata
    multipart/<upload id>/upload.json           an unfinished multipart upload
    multipart/<upload id>/<n>.data|.json        its parts
    tmp/                             request bodies while they stream in

Object keys never become paths: a key is hashed into a file name, so no key (``../x``,
``/etc/passwd``, a NUL byte) can name a file outside ``objects/``. Upload ids are checked
against their generated shape before they touch the disk.

Methods here are synchronous and do the disk work; the server calls the slow ones through
an executor so the event loop never waits on the disk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_VERSION = 1
_UPLOAD_ID_RE = re.compile(r"[0-9A-F]{32}")
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


class StateFileError(RuntimeError):
    """state.json exists but cannot be read; the sandbox refuses to start over it silently."""


def is_valid_bucket_name(name: str) -> bool:
    return bool(_BUCKET_RE.fullmatch(name))


def new_upload_id() -> str:
    return secrets.token_hex(16).upper()


def md5_etag(md5_hex: str) -> str:
    """OSS ETags are the upper-case hex MD5 in double quotes."""
    return f'"{md5_hex.upper()}"'


@dataclass(slots=True)
class AccessToken:
    token: str
    expires_at: float


@dataclass(slots=True)
class StsGrant:
    """Temporary OSS credentials, good for one bucket and one object until ``expires_at``."""

    access_key_id: str
    secret: str
    security_token: str
    expires_at: float
    bucket: str
    key: str
    upload_token: str


@dataclass(slots=True)
class UploadSession:
    upload_token: str
    video_id: str
    client_id: str
    bucket: str
    key: str
    file_name: str
    file_md5: str
    file_size: int
    metadata: dict[str, Any]
    created_at: float
    committed_at: float | None = None


@dataclass(slots=True)
class ApiState:
    version: int = STATE_VERSION
    refresh_token: str = ""
    access_tokens: list[AccessToken] = field(default_factory=list)
    sessions: dict[str, UploadSession] = field(default_factory=dict)
    grants: dict[str, StsGrant] = field(default_factory=dict)
    videos: list[dict[str, Any]] = field(default_factory=list)
    video_counter: int = 0

    def to_json(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ApiState:
        raw = json.loads(data)
        return cls(
            version=int(raw.get("version", STATE_VERSION)),
            refresh_token=str(raw.get("refresh_token", "")),
            access_tokens=[AccessToken(**t) for t in raw.get("access_tokens", [])],
            sessions={k: UploadSession(**v) for k, v in raw.get("sessions", {}).items()},
            grants={k: StsGrant(**v) for k, v in raw.get("grants", {}).items()},
            videos=list(raw.get("videos", [])),
            video_counter=int(raw.get("video_counter", 0)),
        )


@dataclass(slots=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    md5_hex: str  # MD5 of the stored bytes (what commit compares with file_md5)
    crc64: int
    etag: str  # as OSS shows it, quotes included
    content_type: str
    last_modified: float


@dataclass(slots=True)
class PartInfo:
    number: int
    size: int
    md5_hex: str
    crc64: int
    last_modified: float

    @property
    def etag(self) -> str:
        return md5_etag(self.md5_hex)


@dataclass(slots=True)
class MultipartUpload:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    content_type: str
    parts: dict[int, PartInfo] = field(default_factory=dict)
    completing: bool = False  # a CompleteMultipartUpload is assembling it right now


def _replace_file(path: Path, data: bytes) -> None:
    """Replace ``path`` by rename, created 0600 from the start; no fsync (see write_state)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_json_quick(path: Path, data: dict[str, Any]) -> None:
    _replace_file(path, json.dumps(data).encode())


LOCK_NAME = "sandbox.lock"


class DataDirBusyError(StateFileError):
    """Another sandbox serves this data folder."""


def lock_data_dir(root: Path) -> int:
    """Take the data folder for this sandbox (an ``flock`` held until :func:`unlock_data_dir`).

    Two sandboxes on one folder would each count video ids from the same ``state.json`` and
    hand the same ``video_id`` to two files, and overwrite each other's state.
    """
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise DataDirBusyError(
            f"{root} is in use by another sandbox; stop it, or give this one its own --data-dir"
        ) from None
    return fd


def unlock_data_dir(fd: int) -> None:
    os.close(fd)  # closing drops the flock


def clear_data_dir(root: Path) -> int:
    """Delete the sandbox's objects, uploads and state (tokens are made anew at the next
    start); refuses while a sandbox serves the folder. Returns the bytes freed."""
    if not root.exists():
        return 0
    fd = lock_data_dir(root)
    try:
        freed = 0
        for name in ("objects", "multipart", "tmp", "state.json"):
            target = root / name
            if target.is_dir():
                freed += sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
                shutil.rmtree(target)
            elif target.exists():
                freed += target.stat().st_size
                target.unlink()
        return freed
    finally:
        unlock_data_dir(fd)


class Store:
    """The data folder. Holds the in-memory view; the owner serialises access (one loop)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"
        self.objects_dir = root / "objects"
        self.multipart_dir = root / "multipart"
        self.state_file = root / "state.json"
        for folder in (root, self.tmp_dir, self.objects_dir, self.multipart_dir):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            os.chmod(root, 0o700)
        self.state = ApiState()
        self.objects: dict[tuple[str, str], ObjectInfo] = {}
        self.uploads: dict[str, MultipartUpload] = {}

    # --- loading -------------------------------------------------------------------------

    def load(self) -> None:
        if self.state_file.exists():
            try:
                self.state = ApiState.from_json(self.state_file.read_bytes())
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise StateFileError(
                    f"{self.state_file} is unreadable ({exc}); move it away to start afresh"
                ) from exc
        for meta_file in self.objects_dir.glob("*/*.json"):
            with contextlib.suppress(ValueError, TypeError, OSError):
                info = ObjectInfo(**json.loads(meta_file.read_bytes()))
                if self.object_data_path(info.bucket, info.key).exists():
                    self.objects[(info.bucket, info.key)] = info
        for upload_file in self.multipart_dir.glob("*/upload.json"):
            with contextlib.suppress(ValueError, TypeError, OSError):
                raw = json.loads(upload_file.read_bytes())
                upload = MultipartUpload(**raw)
                for part_file in upload_file.parent.glob("*.json"):
                    if part_file.name == "upload.json":
                        continue
                    part = PartInfo(**json.loads(part_file.read_bytes()))
                    if self.part_data_path(upload.upload_id, part.number).exists():
                        upload.parts[part.number] = part
                self.uploads[upload.upload_id] = upload
        # Bodies that were streaming when the last run stopped are garbage now.
        for leftover in self.tmp_dir.iterdir():
            with contextlib.suppress(OSError):
                leftover.unlink()

    # --- API state -----------------------------------------------------------------------

    def state_snapshot(self) -> bytes:
        return self.state.to_json()

    def write_state(self, snapshot: bytes) -> None:
        """Replace state.json atomically (mode 0600: it holds the sandbox's tokens).

        Atomic by rename but not fsynced: a killed sandbox never leaves a torn file, and an
        fsync here would stall every API call for up to a second while gigabytes of upload
        data are being written back (measured). Losing the last changes to a power cut is
        acceptable for a sandbox; clients then see 120010005 and create the upload again.
        """
        _replace_file(self.state_file, snapshot)

    # --- objects -------------------------------------------------------------------------

    def new_temp_path(self) -> Path:
        return self.tmp_dir / f"body-{secrets.token_hex(8)}"

    def _object_stem(self, bucket: str, key: str) -> Path:
        if not is_valid_bucket_name(bucket):
            raise ValueError(f"invalid bucket name {bucket!r}")
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return self.objects_dir / bucket / digest

    def object_data_path(self, bucket: str, key: str) -> Path:
        return self._object_stem(bucket, key).with_suffix(".data")

    def install_object(self, temp: Path, info: ObjectInfo) -> None:
        """Move a fully received body into place and record its metadata (disk thread)."""
        stem = self._object_stem(info.bucket, info.key)
        stem.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.replace(temp, stem.with_suffix(".data"))
        _write_json_quick(stem.with_suffix(".json"), dataclasses.asdict(info))

    def delete_object(self, bucket: str, key: str) -> None:
        stem = self._object_stem(bucket, key)
        for suffix in (".json", ".data"):
            with contextlib.suppress(FileNotFoundError):
                stem.with_suffix(suffix).unlink()

    # --- multipart -----------------------------------------------------------------------

    def upload_dir(self, upload_id: str) -> Path:
        if not _UPLOAD_ID_RE.fullmatch(upload_id):
            raise ValueError("malformed upload id")
        return self.multipart_dir / upload_id

    def part_data_path(self, upload_id: str, number: int) -> Path:
        return self.upload_dir(upload_id) / f"{number}.data"

    def create_upload(self, upload: MultipartUpload) -> None:
        folder = self.upload_dir(upload.upload_id)
        folder.mkdir(mode=0o700)
        record = dataclasses.asdict(upload)
        for transient in ("parts", "completing"):
            record.pop(transient)
        _write_json_quick(folder / "upload.json", record)

    def install_part(self, upload_id: str, temp: Path, part: PartInfo) -> None:
        folder = self.upload_dir(upload_id)
        os.replace(temp, folder / f"{part.number}.data")
        _write_json_quick(folder / f"{part.number}.json", dataclasses.asdict(part))

    def remove_upload(self, upload_id: str) -> None:
        shutil.rmtree(self.upload_dir(upload_id), ignore_errors=True)
