"""Typed answers of the Youku upload API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from youku_tui.errors import ApiError, TransientError
from youku_tui.net import EndpointError, oss_endpoint_url


@dataclass(frozen=True, slots=True)
class StsCredentials:
    """Temporary OSS credentials. Never saved: ``get_sts_inf`` hands out fresh ones."""

    access_key_id: str = field(repr=False)
    access_key_secret: str = field(repr=False)
    security_token: str = field(repr=False)
    expire_time: datetime  # UTC
    endpoint: str

    def seconds_left(self, now: datetime | None = None) -> float:
        return (self.expire_time - (now or datetime.now(UTC))).total_seconds()

    @property
    def endpoint_url(self) -> str:
        """Production endpoints come without a scheme: https. (Checked by :func:`parse_sts`.)"""
        return oss_endpoint_url(self.endpoint)


@dataclass(frozen=True, slots=True)
class CreatedUpload:
    """What ``uploads/create`` with ``isnew=1`` answers."""

    video_id: str
    upload_token: str
    oss_bucket: str
    oss_object: str
    sts: StsCredentials


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int


def parse_expire_time(value: object) -> datetime:
    """``2019-01-07T13:03:04Z`` (UTC); a malformed value is the server's fault: transient."""
    if not isinstance(value, str) or not value:
        raise TransientError(f"malformed expire_time in API answer: {value!r}")
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise TransientError(f"malformed expire_time in API answer: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def require_str(data: dict[str, Any], key: str, call: str) -> str:
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise TransientError(f"{call}: the answer has no {key!r}")
    return value


def parse_sts(data: dict[str, Any], call: str) -> StsCredentials:
    endpoint = require_str(data, "endpoint", call)
    try:
        oss_endpoint_url(endpoint)
    except EndpointError as exc:
        # Not worth retrying: the same server would hand out the same endpoint.
        raise ApiError(f"{call}: {exc}") from exc
    return StsCredentials(
        access_key_id=require_str(data, "temp_access_id", call),
        access_key_secret=require_str(data, "temp_access_secret", call),
        security_token=require_str(data, "security_token", call),
        expire_time=parse_expire_time(data.get("expire_time")),
        endpoint=endpoint,
    )


def parse_expires_in(value: object) -> int:
    """``expires_in`` may arrive as a number or a numeric string (whole seconds, >= 0)."""
    try:
        seconds = int(float(str(value)))
    except (TypeError, ValueError, OverflowError) as exc:  # "inf" overflows, "nan" is a value
        raise TransientError(f"malformed expires_in in token answer: {value!r}") from exc
    if seconds < 0:
        raise TransientError(f"malformed expires_in in token answer: {value!r}")
    return seconds
