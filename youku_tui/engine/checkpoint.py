"""One TOML checkpoint per upload, enough to resume it in another process.

Written atomically (temp file, fsync, rename) with mode 0600 under
``$XDG_STATE_HOME/youku-tui/uploads/``. A checkpoint never holds an access or refresh token,
an STS secret or a watch password: ``get_sts_inf`` hands out fresh credentials from the
``upload_token``, and the tokens live in the config file only.

CRC-64 values are written as 16-digit hex strings because TOML integers are signed 64-bit.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import stat
import time
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import tomli_w

from youku_tui.engine.owner import OwnerLock
from youku_tui.engine.parts import MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, PartPlan
from youku_tui.engine.states import FailureKind, UploadState
from youku_tui.errors import CheckpointError, FileChangedError, LocalFileError
from youku_tui.fsutil import atomic_write
from youku_tui.textsafe import safe_text

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SUFFIX = ".toml"
MAX_FILE_SIZE = MAX_PARTS * MAX_PART_SIZE
# Other files of the state folder (``service/host.py`` keeps the live limits there).
SETTINGS_NAME = "settings.toml"
NOT_CHECKPOINTS = frozenset({SETTINGS_NAME})


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
            raise LocalFileError(f"{safe_text(path)}: no such file") from exc
        except OSError as exc:
            raise LocalFileError(f"{safe_text(path)}: {exc.strerror or exc}") from exc
        if not stat.S_ISREG(st.st_mode):
            raise LocalFileError(f"{safe_text(path)}: not a regular file")
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
    # A commit went out (its answer may have been lost): a later "session gone" then means
    # "probably committed", never "create again".
    commit_sent: bool = False
    commit_unconfirmed: bool = False  # done on that reasoning, without Youku's video_id answer
    # The OSS transfer:
    part_size: int = 0
    multipart_upload_id: str = ""
    parts: dict[int, PartRecord] = field(default_factory=dict)
    object_crc64: int | None = None  # set once the whole object is stored and checked
    integrity_retry_used: bool = False
    # For the user:
    last_error: str = ""
    last_error_code: str = ""
    last_error_class: str = ""  # the exception's class name, for a person reading the file
    last_failure: FailureKind | None = None  # what the engine decides on (None: no failure)

    @property
    def path(self) -> Path:
        return Path(self.identity.path)

    @property
    def size(self) -> int:
        return self.identity.size

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", ""))

    def record_error(self, message: str, code: str, exc: BaseException) -> None:
        self.last_error, self.last_error_code = message, code
        self.last_error_class = type(exc).__name__
        self.last_failure = FailureKind.of(exc)

    def clear_error(self) -> None:
        self.last_error = self.last_error_code = self.last_error_class = ""
        self.last_failure = None

    def forget_session(self) -> None:
        """The Youku upload session is dead: the next run creates a new one."""
        self.video_id = self.upload_token = self.bucket = self.object = self.endpoint = ""
        self.commit_sent = False
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
            raise LocalFileError(f"{exc.message} (uploading as {safe_text(self.title)!r})") from exc
        changed = self.identity.differences(current)
        if changed:
            raise FileChangedError(
                f"{safe_text(self.path)} changed since its upload started ({', '.join(changed)}); "
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
            "file": _file_record(self.identity),
            "metadata": _drop_empty(self.metadata),
            "youku": {
                "video_id": self.video_id,
                "upload_token": self.upload_token,
                "bucket": self.bucket,
                "object": self.object,
                "endpoint": self.endpoint,
                "commit_sent": self.commit_sent,
                "commit_unconfirmed": self.commit_unconfirmed,
            },
            "oss": {
                "part_size": self.part_size,
                "multipart_upload_id": self.multipart_upload_id,
                "object_crc64": "" if self.object_crc64 is None else _hex(self.object_crc64),
            },
            "error": {
                "message": safe_text(self.last_error),
                "code": self.last_error_code,
                "class": self.last_error_class,
                "kind": str(self.last_failure or ""),
            },
            "parts": [
                {"number": p.number, "size": p.size, "etag": p.etag, "crc64": _hex(p.crc64)}
                for p in sorted(self.parts.values(), key=lambda p: p.number)
            ],
        }
        return tomli_w.dumps(doc)

    @classmethod
    def from_toml(cls, text: str) -> Checkpoint:
        """Parse and check a checkpoint; :class:`CheckpointError` says what is wrong with it.

        Every value is checked for its type and a sane range (a size of ``inf``, a part size
        of 1 byte or a 300-digit position is refused here, not met half-way through a resume).
        """
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CheckpointError(f"not valid TOML ({exc})") from exc
        except RecursionError:
            raise CheckpointError("not valid TOML (nested too deeply)") from None
        version = doc.get("schema_version")
        if version != SCHEMA_VERSION:
            raise CheckpointError(
                f"unknown schema_version {safe_text(repr(version))[:40]} "
                f"(expected {SCHEMA_VERSION})"
            )
        try:
            return cls._from_doc(doc)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise CheckpointError(
                f"malformed checkpoint ({type(exc).__name__}: {safe_text(exc)[:200]})"
            ) from exc

    @classmethod
    def _from_doc(cls, doc: dict[str, Any]) -> Checkpoint:
        file = _table(doc, "file", required=True)
        youku = _table(doc, "youku")
        oss = _table(doc, "oss")
        error = _table(doc, "error")
        metadata = _table(doc, "metadata", required=True)
        identity = FileIdentity(
            path=_path_of(file),
            size=_int(file, "size", 1, MAX_FILE_SIZE, prefix="file."),
            mtime_ns=_int(file, "mtime_ns", -(2**63), 2**63 - 1, prefix="file."),
            inode=_int(file, "inode", 0, 2**64 - 1, prefix="file."),
        )
        part_size = _int(oss, "part_size", 0, MAX_PART_SIZE, prefix="oss.", default=0)
        if part_size:
            if part_size < MIN_PART_SIZE:
                raise ValueError(f"oss.part_size {part_size} is below OSS's {MIN_PART_SIZE}")
            count = PartPlan(identity.size, part_size).count
            if count > MAX_PARTS:
                raise ValueError(f"oss.part_size {part_size} makes {count} parts (max {MAX_PARTS})")
        parts = _parts_of(doc, identity.size, part_size)
        md5 = _str(doc, "md5")
        if md5 and not _MD5_RE.fullmatch(md5):
            raise ValueError("md5 is not 32 hex digits")
        object_crc = _str(oss, "object_crc64")
        return cls(
            upload_id=_str(doc, "upload_id", required=True),
            identity=identity,
            metadata=metadata,
            state=UploadState(_str(doc, "state", required=True)),
            md5=md5.lower(),
            position=_int(doc, "position", 0, MAX_POSITION, default=0),
            created_at=_time(doc, "created_at"),
            updated_at=_time(doc, "updated_at"),
            video_id=_str(youku, "video_id"),
            upload_token=_str(youku, "upload_token"),
            bucket=_str(youku, "bucket"),
            object=_str(youku, "object"),
            endpoint=_str(youku, "endpoint"),
            commit_sent=_bool(youku, "commit_sent"),
            commit_unconfirmed=_bool(youku, "commit_unconfirmed"),
            part_size=part_size,
            multipart_upload_id=_str(oss, "multipart_upload_id"),
            parts=parts,
            object_crc64=_crc(object_crc, "oss.object_crc64") if object_crc else None,
            integrity_retry_used=_bool(doc, "integrity_retry_used"),
            last_error=_str(error, "message", limit=4000),
            last_error_code=_str(error, "code"),
            last_error_class=_str(error, "class"),
            last_failure=_failure_of(error),
        )


# --- checking a parsed checkpoint -------------------------------------------------------------

MAX_POSITION = 2**31 - 1
MAX_CHECKPOINT_BYTES = 4 * 1024 * 1024  # 10,000 parts take about 1 MiB
_MD5_RE = re.compile(r"[0-9a-fA-F]{32}")
_CRC_RE = re.compile(r"[0-9a-fA-F]{1,16}")


def _table(doc: dict[str, Any], key: str, required: bool = False) -> dict[str, Any]:
    if key not in doc and not required:
        return {}
    value = doc[key]
    if not isinstance(value, dict):
        raise TypeError(f"{key} must be a table")
    return value


def _int(
    table: dict[str, Any],
    key: str,
    low: int,
    high: int,
    *,
    prefix: str = "",
    default: int | None = None,
) -> int:
    if key not in table and default is not None:
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{prefix}{key} must be an integer, not {type(value).__name__}")
    if not low <= value <= high:
        shown = str(value) if len(str(value)) <= 24 else f"a {len(str(value))}-digit number"
        raise ValueError(f"{prefix}{key} = {shown} is outside {low}..{high}")
    return value


def _str(table: dict[str, Any], key: str, required: bool = False, limit: int = 1024) -> str:
    if key not in table and not required:
        return ""
    value = table[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string, not {type(value).__name__}")
    if len(value) > limit:
        raise ValueError(f"{key} is {len(value)} characters long (at most {limit})")
    return value


def _failure_of(error: dict[str, Any]) -> FailureKind | None:
    kind = _str(error, "kind")
    if kind:
        return FailureKind(kind)
    # Written before the kind was stored: then the class name was all there was.
    if _str(error, "class") == "NotLoggedInError":
        return FailureKind.NEEDS_LOGIN
    return FailureKind.OTHER if _str(error, "message", limit=4000) else None


def _bool(table: dict[str, Any], key: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise TypeError(f"{key} must be true or false")
    return value


def _time(table: dict[str, Any], key: str) -> float:
    value = table.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{key} must be a number")
    if not 0 <= value < 1e11:  # also refuses inf and nan
        raise ValueError(f"{key} = {value} is not a time")
    return float(value)


def _crc(text: str, what: str) -> int:
    if not _CRC_RE.fullmatch(text):
        raise ValueError(f"{what} is not a 64-bit hex CRC")
    return int(text, 16)


def _path_of(file: dict[str, Any]) -> str:
    """``path``, or the exact bytes in ``path_bytes`` (base64) for a name that is not UTF-8."""
    if "path_bytes" in file:
        encoded = _str(file, "path_bytes", limit=8192)
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise ValueError("file.path_bytes is not base64") from exc
        path = os.fsdecode(raw)
    else:
        path = _str(file, "path", required=True, limit=8192)
    if not path or "\x00" in path:
        raise ValueError("file.path is empty or holds a NUL byte")
    return path


def _parts_of(doc: dict[str, Any], file_size: int, part_size: int) -> dict[int, PartRecord]:
    rows = doc.get("parts", [])
    if not isinstance(rows, list):
        raise TypeError("parts must be an array of tables")
    if rows and not part_size:
        raise ValueError("parts are recorded but oss.part_size is not")
    count = PartPlan(file_size, part_size).count if part_size else 0
    parts: dict[int, PartRecord] = {}
    for row in rows:
        if not isinstance(row, dict):
            raise TypeError("each part must be a table")
        number = _int(row, "number", 1, count, prefix="part ")
        size = _int(row, "size", 1, part_size, prefix=f"part {number} ")
        if number in parts:
            raise ValueError(f"part {number} is recorded twice")
        parts[number] = PartRecord(
            number=number,
            size=size,
            etag=_str(row, "etag", required=True, limit=256),
            crc64=_crc(_str(row, "crc64", required=True), f"part {number} crc64"),
        )
    return parts


def _file_record(identity: FileIdentity) -> dict[str, Any]:
    """The file table; a path that is not valid UTF-8 (``surrogateescape``) is kept exactly,
    as base64 bytes, beside a readable form, so it round-trips."""
    record = asdict(identity)
    try:
        identity.path.encode("utf-8")
    except UnicodeEncodeError:
        record["path"] = safe_text(identity.path)
        record["path_bytes"] = base64.b64encode(os.fsencode(identity.path)).decode("ascii")
    return record


def _hex(value: int) -> str:
    return f"{value:016x}"


def _drop_empty(record: dict[str, Any]) -> dict[str, Any]:
    # TOML has no null; metadata records hold only str/bool/list values anyway.
    return {k: v for k, v in record.items() if v is not None}


@dataclass(frozen=True, slots=True)
class LoadProblem:
    path: Path
    message: str


def read_checkpoint_text(path: Path) -> str:
    """The text of a checkpoint file, refusing what is not one without blocking on it.

    A FIFO or a device named ``*.toml`` would block a plain ``open``/``read`` forever:
    the file is opened with ``O_NONBLOCK`` and must be a regular file of sane size.
    Raises :class:`CheckpointError` for what is not a checkpoint, ``OSError`` otherwise.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CheckpointError("not a regular file")
        if info.st_size > MAX_CHECKPOINT_BYTES:
            raise CheckpointError(f"{info.st_size} bytes, too big for a checkpoint")
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(MAX_CHECKPOINT_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError("too big for a checkpoint")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointError("not UTF-8 text") from None


class CheckpointStore:
    """The folder of checkpoints: save, load all, set aside corrupt ones.

    With ``owner`` (the folder's :class:`~youku_tui.engine.owner.OwnerLock`, as the engine
    always gives), saving is refused once the lock is let go: no process that does not own the
    folder ever writes a checkpoint. Without one the store only reads (`youku-tui list`).
    """

    def __init__(self, folder: Path, owner: OwnerLock | None = None) -> None:
        self.folder = folder
        self.owner = owner

    def path_for(self, upload_id: str) -> Path:
        return self.folder / f"{upload_id}{SUFFIX}"

    def save(self, checkpoint: Checkpoint) -> None:
        """Write atomically with mode 0600; raises :class:`LocalFileError` on a full disk,
        :class:`CheckpointError` when this process does not own the folder."""
        if self.owner is None or not self.owner.held:
            raise CheckpointError(
                f"not saving {checkpoint.upload_id}: this process does not own {self.folder}"
            )
        checkpoint.updated_at = time.time()
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(
            self.path_for(checkpoint.upload_id), checkpoint.to_toml().encode("utf-8"), mode=0o600
        )

    def load(self, upload_id: str) -> Checkpoint:
        path = self.path_for(upload_id)
        try:
            return Checkpoint.from_toml(read_checkpoint_text(path))
        except OSError as exc:
            raise CheckpointError(f"cannot read {path}: {exc.strerror or exc}") from exc

    def load_all(self) -> tuple[list[Checkpoint], list[LoadProblem]]:
        """Every readable checkpoint (oldest first); corrupt ones are renamed aside.

        By the owner only, a corrupt file becomes ``NAME.toml.corrupt-<unix time>`` so it no
        longer gets in the way but is kept for a human to look at; the others still load.
        """
        checkpoints: list[Checkpoint] = []
        problems: list[LoadProblem] = []
        if not self.folder.is_dir():
            return checkpoints, problems
        for path in sorted(self.folder.glob(f"*{SUFFIX}")):
            if path.name in NOT_CHECKPOINTS:
                continue
            try:
                checkpoint = Checkpoint.from_toml(read_checkpoint_text(path))
            except CheckpointError as exc:
                aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
                where = "left in place"
                if self.owner is not None and self.owner.held:  # a reader changes nothing
                    try:
                        os.replace(path, aside)
                        where = f"moved to {aside.name}"
                    except OSError:
                        pass
                message = f"checkpoint {safe_text(path.name)} is corrupt ({exc}); {where}"
                log.warning(message)
                problems.append(LoadProblem(path, message))
                continue
            except OSError as exc:
                problems.append(
                    LoadProblem(path, f"cannot read {safe_text(path)}: {exc.strerror or exc}")
                )
                continue
            if checkpoint.upload_id != path.name.removesuffix(SUFFIX):
                checkpoint = replace(checkpoint, upload_id=path.name.removesuffix(SUFFIX))
            checkpoints.append(checkpoint)
        checkpoints.sort(key=lambda c: (c.position, c.created_at))
        return checkpoints, problems
