"""Youku's error codes and their texts, as the contract lists them.

Shared by the two sides that speak the contract: the API client (``youku_tui.api.codes`` sorts
the codes into classes) and the sandbox (which answers with them). It lives in the core so the
sandbox never imports the client (docs/architecture.md).
"""

from __future__ import annotations

# English texts from the seed: the client shows one when a server answers a code without a
# description; the sandbox answers with them.
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
