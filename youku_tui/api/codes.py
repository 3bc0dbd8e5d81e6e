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

# English texts from the seed, used when a server answers a code without a description.
DESCRIPTIONS: dict[int, str] = {
    1001: "Service temporarily unavailable",
    1002: "Service exception occurred",
    1003: "Access from this IP address is limited",
    1004: "Null client id",
    1005: "Invalid client id",
    1006: "Permission denied, high level needed",
    1007: "Null access token",
    1008: "Invalid access token",
    1009: "Expired access token, refresh needed",
    1010: "Must request via HTTP POST method",
    1011: "Data format not supported",
    1012: "Necessary parameter missing",
    1013: "Invalid parameter",
    120010001: "Unknown error",
    120010004: "Unauthenticated",
    120010005: "Invalid upload token",
    120010101: "Title cannot be empty",
    120010102: "Title cannot be more than 60 characters long",
    120010104: "Banned content in title",
    120010105: "Forbidden words in title",
    120010106: "Forbidden words in tags",
    120010108: "Forbidden words in description",
    120010111: "Duplicated uploading by the same user",
    120010113: "Hit max file size limit",
    120010121: "Tags must not be empty",
    120010122: "More than 10 tags specified",
    120010123: "Sensitive words in tags",
    120010124: "Tag is less than 2 letters",
    120010125: "Tag is longer than 12 letters",
    120010141: "Banned content in description",
    120010142: "Description too long",
    120010145: "Watch password must be letters and digits, at most 32",
    120010151: "Invalid upload task",
    120010152: "Insert video metainfo error",
    120010205: "Invalid upload session id",
    120010206: "Expired session",
    120010207: "Invalid slice task id",
    120010208: "Expired slice task",
    120010210: "Hit max upload task limit",
    120010211: "Internal error: DB error",
    120010212: "Internal error: memory error",
    120010213: "Internal error: disk error",
    120010215: "Too many connections",
    120010216: "Duplicated upload token",
    120010218: "CRC check error",
    120010219: "Resource unavailable",
    120010220: "Operation pending",
    120010221: "Duplicated operation",
    120010222: "Uploading server error: fatal error",
    120010223: "Expired upload token",
    120010224: "Bad request",
    12001010225: "Hash check error",
    120010301: "Uploading server error: damaged file",
    130011202: "Unsupported grant type",
    130011207: "Invalid grant or invalid refresh_token",
    130011208: "client_id does not match",
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
