"""The Youku side: ``/oauth2/token.json`` and the three ``/uploads/*`` calls of the contract.

Every refusal is the contract's JSON error body with the contract's code. Field rules are
``youku_tui.metadata``'s own checks, so the sandbox and the product never disagree on them.

Decisions the contract leaves open, taken here:

- ``commit`` when no object is stored at ``oss_object``, or its size is not ``file_size``:
  120010301 ("damaged file"); when its MD5 is not ``file_md5``: 12001010225 ("hash check").
  Both are in the contract's integrity class. A second ``commit`` of a committed upload
  answers the same ``video_id`` (idempotent), so a client whose first answer was lost can
  safely try again - unless the ``commit_once`` mode shows the other possibility (120010151).
- ``get_sts_inf`` with a bucket/object other than the upload's: 1013; after commit: 120010151.
- ``isnew`` other than 1: 1013 (the older slice protocol is out of scope).
- A refresh keeps the refresh token (it is returned again) and leaves older access tokens
  valid until their own expiry, as OAuth servers usually do.
"""

from __future__ import annotations

import base64
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from youku_tui.config import Credentials
from youku_tui.metadata import (
    TAG_MAX_LEN,
    TAG_MIN_LEN,
    TAGS_MAX,
    CopyrightType,
    PublicType,
    check_category,
    check_description,
    check_file_name,
    check_tags,
    check_title,
    check_watch_password,
    split_tags,
)
from youku_tui.sandbox.modes import PLAIN, Modes
from youku_tui.sandbox.store import AccessToken, Store, StsGrant, UploadSession
from youku_tui.youku_codes import DESCRIPTIONS

log = logging.getLogger(__name__)

SANDBOX_CLIENT_ID = "youku-tui-sandbox"
SANDBOX_BUCKET = "yk-source-upload"
MAX_FILE_SIZE = 64 * 1024**3  # the sandbox account's size limit (120010113 above it)

ROUTE_TOKEN = "api.token"
ROUTE_CREATE = "api.create"
ROUTE_GET_STS = "api.get_sts"
ROUTE_COMMIT = "api.commit"
ROUTE_VIDEOS = "api.videos"
ROUTE_UNKNOWN = "api.unknown"

ROUTES_BY_PATH = {
    "/oauth2/token.json": ROUTE_TOKEN,
    "/uploads/create.json": ROUTE_CREATE,
    "/uploads/get_sts_inf.json": ROUTE_GET_STS,
    "/uploads/commit.json": ROUTE_COMMIT,
    "/sandbox/videos.json": ROUTE_VIDEOS,
}
API_PREFIXES = ("/oauth2/", "/uploads/", "/sandbox/")

CODE_INVALID_PARAM = 1013
CODE_MISSING_PARAM = 1012
CODE_DUPLICATE = 120010111
CODE_DAMAGED = 120010301
CODE_HASH = 12001010225
_MD5_RE = re.compile(r"[0-9a-f]{32}")
_EXT_RE = re.compile(r"\.[A-Za-z0-9]{1,10}")


@dataclass
class YoukuError(Exception):
    code: int
    detail: str = ""
    http_status: int = 400

    @property
    def description(self) -> str:
        text = DESCRIPTIONS.get(self.code, "Unknown error")
        return f"{text}: {self.detail}" if self.detail else text


def error_response(
    error: YoukuError, exception_type: str = "UploadsException", *, urlencoded: bool = False
) -> web.Response:
    """The contract's JSON error body, or (``urlencoded``) the same fields as url-encoded
    text, the way PHP's ``http_build_query`` writes them, as some Youku answers come."""
    fields = {"code": error.code, "type": exception_type, "description": error.description}
    if urlencoded:
        text = urlencode({f"error[{name}]": value for name, value in fields.items()})
        return web.Response(
            status=error.http_status, text=text, content_type="text/plain", charset="utf-8"
        )
    return web.json_response({"error": fields}, status=error.http_status)


def iso_utc(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


class YoukuApi:
    """The API's state machine over ``store.state``; all calls run on the server's loop."""

    def __init__(
        self,
        store: Store,
        *,
        sts_ttl: float,
        token_ttl: float,
        endpoint: Callable[[], str],
        save: Callable[[], Awaitable[None]],
        modes: Modes = PLAIN,
    ) -> None:
        self.modes = modes
        self.store = store
        self.sts_ttl = sts_ttl
        self.token_ttl = token_ttl
        self.endpoint = endpoint
        self.save = save

    # --- tokens --------------------------------------------------------------------------

    def ensure_login(self) -> None:
        """Give the sandbox user a refresh token and an access token that is still valid."""
        state = self.store.state
        if not state.refresh_token:
            state.refresh_token = secrets.token_urlsafe(24)
        now = self.modes.now()
        if not any(t.expires_at > now for t in state.access_tokens):
            self._mint_access_token()

    def _mint_access_token(self) -> AccessToken:
        now = self.modes.now()
        token = AccessToken(secrets.token_urlsafe(24), now + self.token_ttl)
        state = self.store.state
        # Keep expired tokens a while so they answer 1009 (expired), not 1008 (unknown).
        state.access_tokens = [t for t in state.access_tokens if t.expires_at > now - 86400]
        state.access_tokens.append(token)
        return token

    def credentials(self) -> Credentials:
        state = self.store.state
        newest = max(state.access_tokens, key=lambda t: t.expires_at, default=None)
        return Credentials(
            client_id=SANDBOX_CLIENT_ID,
            access_token=newest.token if newest else "",
            refresh_token=state.refresh_token,
            # The client reads expiries on its own clock.
            expires_at=newest.expires_at - self.modes.clock_offset if newest else 0.0,
        )

    def expire_access_tokens(self) -> None:
        expired = self.modes.now() - 1
        for token in self.store.state.access_tokens:
            token.expires_at = min(token.expires_at, expired)

    def _check_client(self, params: Mapping[str, str]) -> None:
        client_id = params.get("client_id", "")
        if not client_id:
            raise YoukuError(1004)
        if client_id != SANDBOX_CLIENT_ID:
            raise YoukuError(1005)

    def _check_access(self, params: Mapping[str, str]) -> None:
        self._check_client(params)
        given = params.get("access_token", "")
        if not given:
            raise YoukuError(1007)
        found = next(
            (
                t
                for t in self.store.state.access_tokens
                if secrets.compare_digest(t.token.encode(), given.encode())
            ),
            None,
        )
        if found is None:
            raise YoukuError(1008)
        if found.expires_at <= self.modes.now():
            raise YoukuError(1009)

    # --- dispatch ------------------------------------------------------------------------

    async def handle(self, request: web.Request, route: str) -> web.StreamResponse:
        exception_type = "OAuthException" if route == ROUTE_TOKEN else "UploadsException"
        try:
            if route == ROUTE_VIDEOS:
                if request.method != "GET":
                    raise YoukuError(1013, "use GET", http_status=405)
                return web.json_response({"total": len(self.videos()), "videos": self.videos()})
            if route == ROUTE_UNKNOWN:
                raise YoukuError(120010224, f"no such API: {request.path}", http_status=404)
            # Youku's own SDKs send create (and commit) as GET with query parameters.
            if request.method not in ("POST", "GET"):
                raise YoukuError(1010, http_status=405)
            params = await self._params(request)
            if route == ROUTE_TOKEN:
                return await self.token(params)
            if route == ROUTE_CREATE:
                return await self.create(params)
            if route == ROUTE_GET_STS:
                return await self.get_sts(params)
            return await self.commit(params)
        except YoukuError as error:
            return error_response(error, exception_type, urlencoded=self.modes.urlencoded_errors)
        except ConnectionError:
            raise  # the client left; the server's handler treats that as routine
        except OSError as exc:
            # state.json could not be saved (disk full...): a server-side failure, retryable.
            log.error("%s: %s", route, exc)
            return error_response(
                YoukuError(1002, http_status=500),
                exception_type,
                urlencoded=self.modes.urlencoded_errors,
            )

    @staticmethod
    async def _params(request: web.Request) -> dict[str, str]:
        params = {k: v for k, v in request.query.items()}
        if request.can_read_body:
            content_type = request.content_type
            if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
                raise YoukuError(1011, f"send {content_type or 'nothing'} as a form instead")
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params

    @staticmethod
    def _require(params: Mapping[str, str], *names: str) -> None:
        for name in names:
            if name not in params:
                raise YoukuError(CODE_MISSING_PARAM, name)

    # --- calls ---------------------------------------------------------------------------

    async def token(self, params: Mapping[str, str]) -> web.Response:
        self._check_client(params)
        self._require(params, "grant_type")
        if params["grant_type"] != "refresh_token":
            raise YoukuError(130011202)
        self._require(params, "refresh_token")
        if not secrets.compare_digest(
            params["refresh_token"].encode(), self.store.state.refresh_token.encode()
        ):
            raise YoukuError(130011207)
        token = self._mint_access_token()
        await self.save()
        return web.json_response(
            {
                "access_token": token.token,
                # The real service sends a string here; clients must cope, so do we.
                "expires_in": str(int(self.token_ttl)),
                "refresh_token": self.store.state.refresh_token,
                "token_type": "bearer",
            }
        )

    async def create(self, params: Mapping[str, str]) -> web.Response:
        self._check_access(params)
        self._require(params, "file_name", "file_md5", "file_size", "title", "tags")
        metadata = check_create_params(params)
        file_md5 = params["file_md5"]
        file_size = int(params["file_size"])
        state = self.store.state
        if any(v["md5"] == file_md5 and v["client_id"] == SANDBOX_CLIENT_ID for v in state.videos):
            raise YoukuError(CODE_DUPLICATE)
        state.video_counter += 1
        video_id = "X" + base64.b64encode(str(400_000_000 + state.video_counter).encode()).decode()
        upload_token = secrets.token_hex(16)
        ext_match = _EXT_RE.fullmatch(Path(params["file_name"]).suffix)
        ext = ext_match.group(0).lower() if ext_match else ""
        key = (
            f"ykupload/{time.strftime('%Y%m%d', time.gmtime())}/{video_id.rstrip('=')}/"
            f"{secrets.token_hex(6)}{ext}"
        )
        session = UploadSession(
            upload_token=upload_token,
            video_id=video_id,
            client_id=SANDBOX_CLIENT_ID,
            bucket=SANDBOX_BUCKET,
            key=key,
            file_name=params["file_name"],
            file_md5=file_md5,
            file_size=file_size,
            metadata=metadata,
            created_at=time.time(),
        )
        state.sessions[upload_token] = session
        grant = self._mint_grant(session)
        await self.save()
        return web.json_response(
            {
                "video_id": video_id,
                "upload_token": upload_token,
                "oss_bucket": session.bucket,
                "oss_object": session.key,
                **self._sts_fields(grant),
            },
            status=201,
        )

    def _mint_grant(self, session: UploadSession) -> StsGrant:
        now = self.modes.now()
        # Whole seconds, so that expire_time (which has no fraction) is exactly the truth.
        expires_at = float(int(now + self.sts_ttl))
        grant = StsGrant(
            access_key_id="STS.NT" + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y"),
            secret=secrets.token_urlsafe(30),
            security_token="CAIS" + secrets.token_urlsafe(120),
            expires_at=expires_at,
            bucket=session.bucket,
            key=session.key,
            upload_token=session.upload_token,
        )
        grants = self.store.state.grants
        for stale in [k for k, g in grants.items() if g.expires_at < now - 86400]:
            del grants[stale]
        grants[grant.access_key_id] = grant
        return grant

    def _sts_fields(self, grant: StsGrant) -> dict[str, str]:
        return {
            "endpoint": self.endpoint(),
            "temp_access_id": grant.access_key_id,
            "temp_access_secret": grant.secret,
            "security_token": grant.security_token,
            "expire_time": iso_utc(grant.expires_at),
        }

    def _session(self, params: Mapping[str, str]) -> UploadSession:
        session = self.store.state.sessions.get(params["upload_token"])
        if session is None:
            raise YoukuError(120010005)
        return session

    async def get_sts(self, params: Mapping[str, str]) -> web.Response:
        self._check_access(params)
        self._require(params, "upload_token", "oss_bucket", "oss_object")
        session = self._session(params)
        if params["oss_bucket"] != session.bucket or params["oss_object"] != session.key:
            raise YoukuError(CODE_INVALID_PARAM, "oss_bucket/oss_object are not this upload's")
        if session.committed_at is not None:
            raise YoukuError(120010151, "the upload is already committed")
        grant = self._mint_grant(session)
        await self.save()
        return web.json_response({"upload_token": session.upload_token, **self._sts_fields(grant)})

    async def commit(self, params: Mapping[str, str]) -> web.Response:
        self._check_access(params)
        self._require(params, "upload_token")
        session = self._session(params)
        if session.committed_at is not None:
            if self.modes.commit_once:
                raise YoukuError(120010151, "the upload is already committed")
            return web.json_response({"video_id": session.video_id})
        stored = self.store.objects.get((session.bucket, session.key))
        if stored is None:
            raise YoukuError(CODE_DAMAGED, "no object is stored at oss_object")
        if stored.size != session.file_size:
            raise YoukuError(
                CODE_DAMAGED, f"stored {stored.size} bytes, file_size is {session.file_size}"
            )
        if stored.md5_hex != session.file_md5:
            raise YoukuError(CODE_HASH, "the stored bytes do not match file_md5")
        session.committed_at = time.time()
        self.store.state.videos.append(
            {
                "video_id": session.video_id,
                "client_id": session.client_id,
                **session.metadata,
                "file_name": session.file_name,
                "file_md5": session.file_md5,
                "file_size": session.file_size,
                "size": stored.size,
                "md5": stored.md5_hex,
                "oss_bucket": session.bucket,
                "oss_object": session.key,
                "committed_at": iso_utc(session.committed_at),
            }
        )
        await self.save()
        return web.json_response({"video_id": session.video_id})

    def videos(self) -> list[dict[str, Any]]:
        return [dict(v) for v in self.store.state.videos]


def check_create_params(params: Mapping[str, str]) -> dict[str, Any]:
    """Apply the contract's field rules; return the metadata record to keep (no password)."""
    title = params["title"]
    if check_title(title):
        raise YoukuError(120010101 if not title.strip() else 120010102)
    tags = split_tags(params["tags"])
    if check_tags(tags):
        raise YoukuError(_tags_code(tags))
    description = params.get("description", "")
    if any(p.severity == "error" for p in check_description(description)):
        raise YoukuError(120010142)
    category = params.get("category", "")  # not sent: Youku's default applies ("" kept)
    if check_category(category):
        raise YoukuError(CODE_INVALID_PARAM, "category")
    try:
        copyright_type = CopyrightType(params.get("copyright_type", "original"))
        public_type = PublicType(params.get("public_type", "all"))
    except ValueError as exc:
        raise YoukuError(CODE_INVALID_PARAM, "copyright_type or public_type") from exc
    if check_watch_password(public_type, params.get("watch_password", "")):
        raise YoukuError(120010145)
    for flag in ("deshake", "isweb", "isnew"):
        if params.get(flag, "0") not in ("0", "1"):
            raise YoukuError(CODE_INVALID_PARAM, f"{flag} must be 0 or 1")
    if params.get("isnew") != "1":
        raise YoukuError(CODE_INVALID_PARAM, "the sandbox implements the OSS flow only (isnew=1)")
    if check_file_name(Path(params["file_name"])) or "/" in params["file_name"]:
        raise YoukuError(CODE_INVALID_PARAM, "file_name needs an extension and no folder")
    if not _MD5_RE.fullmatch(params["file_md5"]):
        raise YoukuError(CODE_INVALID_PARAM, "file_md5 must be 32 lower-case hex digits")
    try:
        file_size = int(params["file_size"])
    except ValueError:
        file_size = 0
    if file_size <= 0:
        raise YoukuError(CODE_INVALID_PARAM, "file_size must be a positive number of bytes")
    if file_size > MAX_FILE_SIZE:
        raise YoukuError(120010113)
    return {
        "title": title,
        "tags": list(tags),
        "description": description,
        "category": category,
        "copyright_type": str(copyright_type),
        "public_type": str(public_type),
        "thumbnail": params.get("thumbnail", ""),
        "deshake": params.get("deshake", "0") == "1",
        "isweb": params.get("isweb", "0") == "1",
    }


def _tags_code(tags: tuple[str, ...]) -> int:
    if not tags:
        return 120010121
    if len(tags) > TAGS_MAX:
        return 120010122
    if any(len(tag) < TAG_MIN_LEN for tag in tags):
        return 120010124
    if any(len(tag) > TAG_MAX_LEN for tag in tags):
        return 120010125
    return CODE_INVALID_PARAM
