"""One exception hierarchy for the whole product.

Every error a user can meet derives from :class:`YoukuTuiError` and carries a message that is
safe to show on screen (it never holds a token or an STS secret). API errors are classified by
Youku's numeric code, never by their text, into the classes below (the table is
``api/codes.py``; it follows the "Errors" section of the Youku open API contract,
``youku-open-api.md``, which is kept outside this repository), so callers decide what to do
with ``except``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from youku_tui.textsafe import safe_text


class YoukuTuiError(Exception):
    """Base of every error this package raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- local problems -----------------------------------------------------------------------


class ConfigError(YoukuTuiError):
    """The configuration file or an environment override is invalid."""


class MetadataError(YoukuTuiError):
    """Video metadata breaks a field rule; ``problems`` lists each one."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One broken field rule, named so a form can show it next to its field.

    ``path`` is the file the problem is about when a batch is checked file by file (a
    rendered title, a file's own tags); ``None`` when it concerns every file. The form keeps
    and drops problems by path, so two files with the same name never mix.
    """

    field: str
    message: str
    severity: str = "error"  # "error" blocks the upload, "warning" does not
    path: Path | None = None

    @property
    def text(self) -> str:
        """The message, naming the file it is about (for a screen or a terminal)."""
        if self.path is None:
            return self.message
        return f"{self.message} (for {safe_text(self.path.name)})"

    def __str__(self) -> str:
        return f"{self.field}: {self.text}"


class CheckpointError(YoukuTuiError):
    """A checkpoint file cannot be read or written."""


class OwnerBusyError(YoukuTuiError):
    """Another process owns the state folder (runs its uploads); ``pid`` names it (0: unknown)."""

    def __init__(self, message: str, *, pid: int = 0) -> None:
        super().__init__(message)
        self.pid = pid


class ServiceError(YoukuTuiError):
    """The per-user service cannot be reached, started or stopped, or it went away."""


class UnknownUploadError(YoukuTuiError):
    """No upload has this id, or the prefix given matches more than one."""


class FileChangedError(YoukuTuiError):
    """The video file differs from the one its checkpoint describes."""


class LocalFileError(YoukuTuiError):
    """The video file is missing, unreadable, empty or the disk is full."""


# --- remote problems ----------------------------------------------------------------------


class ApiError(YoukuTuiError):
    """An error answered by (or on the way to) the Youku API.

    ``code`` is Youku's numeric error code when there is one; ``description`` is the server's
    own text, shown to the user next to the code.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        description: str = "",
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.description = description
        self.http_status = http_status


class TransientError(ApiError):
    """Worth retrying after a pause: 5xx, timeouts, resets, garbage answers, busy codes.

    ``safe_to_repeat`` is True when the server surely did not act on the request (no
    connection, or an explicit Youku error code): only then may a call that is not
    idempotent be tried again.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        description: str = "",
        http_status: int | None = None,
        safe_to_repeat: bool = False,
    ) -> None:
        super().__init__(message, code=code, description=description, http_status=http_status)
        self.safe_to_repeat = safe_to_repeat


class UncertainOutcomeError(ApiError):
    """A call that must not be repeated failed after the server may have processed it."""


class TokenExpiredError(ApiError):
    """Code 1009: the access token expired; one refresh fixes it."""


class NotLoggedInError(ApiError):
    """The client id or tokens are missing or refused; the user must log in again."""


class UploadSessionGoneError(ApiError):
    """The ``upload_token`` is dead; the upload has to be created again."""


class RejectedInputError(ApiError):
    """The server refused a parameter (title, tags, duplicate upload, size limit...)."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        description: str = "",
        http_status: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, code=code, description=description, http_status=http_status)
        self.field = field  # the form field this refusal concerns, when one does


class IntegrityError(ApiError):
    """The stored bytes do not match what was announced (MD5, CRC, damaged file)."""


class OssError(YoukuTuiError):
    """An error from the OSS side of the upload."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        request_id: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id


class OssCredentialsError(OssError):
    """STS credentials expired or were refused: renew them and carry on."""


class OssTransientError(OssError):
    """A 5xx, a reset or a timeout talking to OSS: retry the part."""


class OssIntegrityError(OssError):
    """A part's or the object's CRC64 or ETag does not match what was sent."""


class OssUploadGoneError(OssError):
    """OSS no longer knows the multipart upload (NoSuchUpload): start a new one."""
