"""Youku's numeric error codes, sorted into the contract's classes.

Handling is decided by class, never by matching the server's text.
"""

from __future__ import annotations

from youku_tui.errors import (
    ApiError,
    IntegrityError,
    NotLoggedInError,
    RejectedInputError,
    TokenExpiredError,
    TransientError,
    UploadSessionGoneError,
)
from youku_tui.youku_codes import DESCRIPTIONS

TRANSIENT_CODES = frozenset(
    {1001, 1002, 120010211, 120010212, 120010213, 120010215, 120010219, 120010220}
)
TOKEN_EXPIRED_CODES = frozenset({1009})
NOT_LOGGED_IN_CODES = frozenset({1004, 1005, 1007, 1008, 120010004, *range(130011201, 130011210)})
SESSION_GONE_CODES = frozenset({120010005, 120010151, *range(120010205, 120010209), 120010223})
INTEGRITY_CODES = frozenset({120010218, 12001010225, 120010301})
REJECTED_CODES = frozenset(
    {1010, 1011, 1012, 1013, 120010111, 120010113, *range(120010100, 120010200)}
)

# Which form field a rejected-input code concerns, so the UI can put the message beside it.
FIELD_OF_CODE: dict[int, str] = {
    120010101: "title",
    120010102: "title",
    120010104: "title",
    120010105: "title",
    120010106: "tags",
    120010108: "description",
    120010121: "tags",
    120010122: "tags",
    120010123: "tags",
    102210123: "tags",  # the seed's own typo of 120010123, kept so both map
    120010124: "tags",
    120010125: "tags",
    120010141: "description",
    120010142: "description",
    120010145: "watch_password",
    120010113: "file",
    120010111: "file",
}

LOGIN_HINT = "run `youku-tui login` (or the TUI's login screen) with fresh tokens"


def error_class(code: int, http_status: int | None = None) -> type[ApiError]:
    """The contract's class for a Youku error code."""
    table: tuple[tuple[frozenset[int], type[ApiError]], ...] = (
        (TOKEN_EXPIRED_CODES, TokenExpiredError),
        (NOT_LOGGED_IN_CODES, NotLoggedInError),
        (SESSION_GONE_CODES, UploadSessionGoneError),
        (INTEGRITY_CODES, IntegrityError),
        (TRANSIENT_CODES, TransientError),
        (REJECTED_CODES, RejectedInputError),
    )
    for codes, cls in table:
        if code in codes:
            return cls
    if code in FIELD_OF_CODE:
        return RejectedInputError
    # Unknown codes: a 5xx is worth another try, anything else is the server refusing us.
    if http_status is not None and http_status >= 500:
        return TransientError
    return RejectedInputError


_ADVICE: dict[type[ApiError], str] = {
    NotLoggedInError: f" - {LOGIN_HINT}",
    UploadSessionGoneError: " - the upload session is gone; it must be created again",
}


def error_for_code(code: int, description: str = "", *, http_status: int | None = None) -> ApiError:
    """Build the typed exception for a Youku error code (the class decides the handling)."""
    text = description or DESCRIPTIONS.get(code, "Unknown error")
    cls = error_class(code, http_status)
    shown = f"Youku error {code}: {text}{_ADVICE.get(cls, '')}"
    if cls is RejectedInputError:
        return RejectedInputError(
            shown,
            code=code,
            description=text,
            http_status=http_status,
            field=FIELD_OF_CODE.get(code),
        )
    if cls is TransientError:  # an explicit refusal: the server did not act on the request
        return TransientError(
            shown, code=code, description=text, http_status=http_status, safe_to_repeat=True
        )
    return cls(shown, code=code, description=text, http_status=http_status)
