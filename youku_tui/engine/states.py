"""The upload state machine: explicit states and the transitions allowed between them.

Pure: no I/O, no clock. The engine asks :func:`transition` for every change and saves the
result, so an illegal jump (say, ``done`` back to ``uploading``) is a bug caught at once.
"""

from __future__ import annotations

from enum import StrEnum

from youku_tui.errors import NotLoggedInError


class UploadState(StrEnum):
    QUEUED = "queued"
    HASHING = "hashing"
    CREATING = "creating"
    UPLOADING = "uploading"
    COMMITTING = "committing"
    DONE = "done"
    FAILED = "failed"
    PAUSED = "paused"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def is_active(self) -> bool:
        """Working right now (holds an upload slot)."""
        return self in ACTIVE_STATES


ACTIVE_STATES = frozenset(
    {UploadState.HASHING, UploadState.CREATING, UploadState.UPLOADING, UploadState.COMMITTING}
)
TERMINAL_STATES = frozenset({UploadState.DONE, UploadState.CANCELLED})

_S = UploadState
ALLOWED: dict[UploadState, frozenset[UploadState]] = {
    _S.QUEUED: frozenset({_S.HASHING, _S.PAUSED, _S.CANCELLED, _S.FAILED}),
    _S.HASHING: frozenset({_S.CREATING, _S.PAUSED, _S.CANCELLED, _S.FAILED, _S.QUEUED}),
    # CREATING -> UPLOADING is the normal path; -> HASHING when a checkpoint must re-hash.
    _S.CREATING: frozenset({_S.UPLOADING, _S.PAUSED, _S.CANCELLED, _S.FAILED, _S.QUEUED}),
    _S.UPLOADING: frozenset(
        {_S.COMMITTING, _S.PAUSED, _S.CANCELLED, _S.FAILED, _S.QUEUED, _S.CREATING}
    ),
    # COMMITTING -> UPLOADING: an integrity refusal re-sends the bytes once.
    _S.COMMITTING: frozenset(
        {_S.DONE, _S.PAUSED, _S.CANCELLED, _S.FAILED, _S.QUEUED, _S.UPLOADING, _S.CREATING}
    ),
    # A paused or failed upload goes back to the queue (resume / retry) and continues from
    # its checkpoint; the engine skips the phases already done. PAUSED -> FAILED: a paused
    # upload whose file changed (or vanished) is refused when it is loaded again.
    _S.PAUSED: frozenset({_S.QUEUED, _S.CANCELLED, _S.FAILED}),
    _S.FAILED: frozenset({_S.QUEUED, _S.CANCELLED}),
    _S.DONE: frozenset(),
    # Retrying a cancelled upload starts it over (a new Youku upload session): the only way
    # out of CANCELLED, and only on the user's word.
    _S.CANCELLED: frozenset({_S.QUEUED}),
}


class FailureKind(StrEnum):
    """Why an upload failed, as far as what happens next goes.

    Decided from the exception's type where the failure is caught, then carried as a value
    (in the checkpoint, in ``UploadFailed``, over the service's socket): nothing compares
    class names, so renaming or refining an error class cannot silently change the handling.
    """

    NEEDS_LOGIN = "needs_login"  # Youku refused the login: a new login retries the upload
    OTHER = "other"  # anything else: the user retries or removes it

    @classmethod
    def of(cls, exc: BaseException) -> FailureKind:
        return cls.NEEDS_LOGIN if isinstance(exc, NotLoggedInError) else cls.OTHER


class IllegalTransition(ValueError):
    """A state change the machine does not allow (a bug, not a user error)."""


def can_transition(current: UploadState, target: UploadState) -> bool:
    return target in ALLOWED[current]


def transition(current: UploadState, target: UploadState) -> UploadState:
    """Return ``target`` if the machine allows ``current -> target``; raise otherwise."""
    if not can_transition(current, target):
        raise IllegalTransition(f"cannot go from {current} to {target}")
    return target
