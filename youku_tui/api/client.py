"""The Youku upload API over httpx: four calls, typed errors, retries, shared token refresh."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

import httpx

from youku_tui import __version__
from youku_tui.api.codes import error_for_code
from youku_tui.api.models import (
    CreatedUpload,
    StsCredentials,
    TokenPair,
    parse_expires_in,
    parse_sts,
    require_str,
)
from youku_tui.api.retry import RetryPolicy
from youku_tui.config import Credentials, check_api_base
from youku_tui.errors import (
    ApiError,
    NotLoggedInError,
    TokenExpiredError,
    TransientError,
    UncertainOutcomeError,
)
from youku_tui.metadata import VideoMetadata
from youku_tui.net import ServerClock, resolve_ca_bundle, ssl_context

log = logging.getLogger(__name__)

TOKEN_PATH = "/oauth2/token.json"
CREATE_PATH = "/uploads/create.json"
STS_PATH = "/uploads/get_sts_inf.json"
COMMIT_PATH = "/uploads/commit.json"

# Refresh ahead of the stored expiry so a call never starts with a token about to die.
REFRESH_AHEAD = 60.0
# An answer bigger than this is not an API answer (they are a few hundred bytes).
MAX_ANSWER_BYTES = 1024 * 1024
# httpx's timeouts bound each read, not the call: an answer dripped one byte at a time would
# hold a call for ever. Each attempt gets an overall deadline, and all attempts of one call
# (pauses included) share a total budget.
ATTEMPT_DEADLINE = 45.0
TOTAL_BUDGET = 180.0

RetryCallback = Callable[[int, float, ApiError], None]
TokensCallback = Callable[[Credentials], None]


class YoukuClient:
    """One client for all uploads of a process.

    ``on_tokens`` is called with the new credentials after each refresh (to save them).
    Concurrent calls that meet an expired token share one refresh: the first caller refreshes,
    the others wait on the same lock and then see that the token already changed.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        api_base: str,
        retry: RetryPolicy | None = None,
        on_tokens: TokensCallback | None = None,
        timeout: float = 30.0,
        attempt_deadline: float = ATTEMPT_DEADLINE,
        total_budget: float = TOTAL_BUDGET,
        transport: httpx.AsyncBaseTransport | None = None,
        ca_bundle: str = "",
    ) -> None:
        self.api_base = check_api_base(api_base)
        self._attempt_deadline = attempt_deadline
        self._total_budget = total_budget
        # Shared with the OSS side (engine): one trust, one idea of the servers' time.
        self.ca_bundle = resolve_ca_bundle(ca_bundle)
        self.clock = ServerClock()
        self._credentials = credentials
        self._retry = retry or RetryPolicy()
        self._token_listeners: list[TokensCallback] = [on_tokens] if on_tokens else []
        self._refresh_lock = asyncio.Lock()
        self.refresh_count = 0
        self._http = httpx.AsyncClient(
            base_url=self.api_base,
            timeout=httpx.Timeout(timeout, connect=10.0),
            headers={"User-Agent": f"youku-tui/{__version__}"},
            transport=transport,
            verify=ssl_context(self.ca_bundle),  # checks always on; proxies from the env
        )

    def add_tokens_listener(self, listener: TokensCallback) -> None:
        """Also call ``listener`` with the new credentials after each refresh (the engine
        uses it to report a TokenRefreshed event; ``on_tokens`` saves them)."""
        self._token_listeners.append(listener)

    def remove_tokens_listener(self, listener: TokensCallback) -> None:
        if listener in self._token_listeners:
            self._token_listeners.remove(listener)

    @property
    def credentials(self) -> Credentials:
        return self._credentials

    def log_in(self, credentials: Credentials) -> None:
        """Use new credentials from now on (the user logged in again while uploads wait).

        The next call uses them; an upload paused for the login resumes with them, no restart.
        """
        self._credentials = credentials

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> YoukuClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- the four calls -------------------------------------------------------------------

    async def refresh(self, stale_access_token: str | None = None) -> Credentials:
        """Refresh the access token once, however many callers ask at the same moment.

        ``stale_access_token`` is the token the caller saw fail; if the current one differs,
        another caller refreshed already and nothing is sent.
        """
        async with self._refresh_lock:
            current = self._credentials
            if stale_access_token is not None and current.access_token != stale_access_token:
                return current
            if not current.refresh_token:
                raise NotLoggedInError(
                    "the access token expired and there is no refresh token - "
                    "run `youku-tui login` with fresh tokens",
                    code=1009,
                )
            if not current.client_id:
                raise NotLoggedInError("no client_id configured - run `youku-tui login`")
            data = await self._post_with_retries(
                TOKEN_PATH,
                {
                    "client_id": current.client_id,
                    "grant_type": "refresh_token",
                    "refresh_token": current.refresh_token,
                },
                on_retry=None,
            )
            pair = TokenPair(
                access_token=require_str(data, "access_token", "token refresh"),
                refresh_token=str(data.get("refresh_token") or current.refresh_token),
                expires_in=parse_expires_in(data.get("expires_in", 0)),
            )
            self._credentials = replace(
                current,
                access_token=pair.access_token,
                refresh_token=pair.refresh_token,
                expires_at=time.time() + pair.expires_in if pair.expires_in else 0.0,
            )
            self.refresh_count += 1
            log.info("access token refreshed (expires in %ss)", pair.expires_in)
            for listener in list(self._token_listeners):
                try:
                    listener(self._credentials)
                except Exception:  # a listener's bug must not fail the upload that refreshed
                    log.exception("token listener failed")
            return self._credentials

    async def create(
        self,
        *,
        file_name: str,
        file_md5: str,
        file_size: int,
        metadata: VideoMetadata,
        on_retry: RetryCallback | None = None,
    ) -> CreatedUpload:
        params = {
            "file_name": file_name,
            "file_md5": file_md5,
            "file_size": str(file_size),
            **metadata.form_params(),
            "isnew": "1",
        }
        data = await self._call(CREATE_PATH, params, on_retry, idempotent=False)
        return CreatedUpload(
            video_id=require_str(data, "video_id", "uploads/create"),
            upload_token=require_str(data, "upload_token", "uploads/create"),
            oss_bucket=require_str(data, "oss_bucket", "uploads/create"),
            oss_object=require_str(data, "oss_object", "uploads/create"),
            sts=parse_sts(data, "uploads/create"),
        )

    async def get_sts(
        self,
        *,
        upload_token: str,
        oss_bucket: str,
        oss_object: str,
        on_retry: RetryCallback | None = None,
    ) -> StsCredentials:
        data = await self._call(
            STS_PATH,
            {"upload_token": upload_token, "oss_bucket": oss_bucket, "oss_object": oss_object},
            on_retry,
        )
        return parse_sts(data, "uploads/get_sts_inf")

    async def commit(self, *, upload_token: str, on_retry: RetryCallback | None = None) -> str:
        data = await self._call(COMMIT_PATH, {"upload_token": upload_token}, on_retry)
        return require_str(data, "video_id", "uploads/commit")

    # --- plumbing ---------------------------------------------------------------------------

    async def _call(
        self,
        path: str,
        params: Mapping[str, str],
        on_retry: RetryCallback | None,
        *,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """An authenticated call: refresh ahead of expiry, and once on 1009.

        A call that is not ``idempotent`` (``uploads/create`` makes a new upload session each
        time it is processed) is tried again only when the request surely did not reach the
        server; see :meth:`_post_with_retries`.
        """
        creds = self._credentials
        if not creds.client_id or not creds.access_token:
            raise NotLoggedInError("not logged in - run `youku-tui login` with your tokens")
        if creds.expires_at and creds.expires_at - time.time() < REFRESH_AHEAD:
            creds = await self.refresh(creds.access_token)
        try:
            return await self._post_with_retries(
                path, self._auth(creds, params), on_retry, idempotent=idempotent
            )
        except TokenExpiredError:
            creds = await self.refresh(creds.access_token)
            return await self._post_with_retries(
                path, self._auth(creds, params), on_retry, idempotent=idempotent
            )

    @staticmethod
    def _auth(creds: Credentials, params: Mapping[str, str]) -> dict[str, str]:
        return {"client_id": creds.client_id, "access_token": creds.access_token, **params}

    async def _post_with_retries(
        self,
        path: str,
        form: Mapping[str, str],
        on_retry: RetryCallback | None,
        *,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """Post with retries, each attempt within its deadline, all within the total budget.

        When the call is not ``idempotent``, only a failure to connect is retried: after an
        answer that may have been processed (a garbage body, a 5xx page from a proxy, a reset
        or a timeout once the request was sent) another try could create a second upload
        session. Youku has no call to list sessions, so that is reported, not guessed at.
        """
        started = time.monotonic()
        attempt = 1
        while True:
            try:
                return await self._post(path, form)
            except TransientError as exc:
                if not idempotent and not exc.safe_to_repeat:
                    raise UncertainOutcomeError(
                        f"{exc.message} - Youku may have processed the request, so it was not "
                        "sent again (that could create a second upload session, and Youku has "
                        "no call to check). Retry the upload if no new video shows up in your "
                        "Youku account",
                        code=exc.code,
                        description=exc.description,
                        http_status=exc.http_status,
                    ) from exc
                if attempt >= self._retry.attempts:
                    raise
                delay = self._retry.delay(attempt)
                spent = time.monotonic() - started
                if spent + delay >= self._total_budget:
                    raise TransientError(
                        f"{exc.message} (gave up after {attempt} tries in {spent:.0f}s)",
                        code=exc.code,
                        description=exc.description,
                        http_status=exc.http_status,
                    ) from exc
                log.warning("%s failed (%s); retry %d in %.1fs", path, exc, attempt, delay)
                if on_retry is not None:
                    on_retry(attempt, delay, exc)
                await asyncio.sleep(delay)
                attempt += 1

    async def _post(self, path: str, form: Mapping[str, str]) -> dict[str, Any]:
        """One attempt, over within the attempt deadline however the answer trickles in."""
        try:
            async with asyncio.timeout(self._attempt_deadline):
                async with self._http.stream("POST", path, data=dict(form)) as response:
                    body = await _read_capped(response, path)
                    status = response.status_code
                    self.clock.observe(response.headers.get("date"))
        except TimeoutError as exc:
            raise TransientError(
                f"{path}: the API did not answer within {self._attempt_deadline:.0f}s"
            ) from exc
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise TransientError(
                f"{path}: connection problem, no connection ({type(exc).__name__})",
                safe_to_repeat=True,
            ) from exc
        except httpx.TimeoutException as exc:
            raise TransientError(f"{path}: the API did not answer in time") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"{path}: connection problem ({type(exc).__name__})") from exc
        return parse_answer(path, status, body)


async def _read_capped(response: httpx.Response, path: str) -> bytes:
    """The body, refusing one larger than an API answer can be (without reading it all)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise TransientError(
                f"{path}: the API answered more than {MAX_ANSWER_BYTES} bytes; not an answer",
                http_status=response.status_code,
            )
        chunks.append(chunk)
    return b"".join(chunks)


# The names an error's fields go by in url-encoded answers (PHP's http_build_query of the
# JSON shape, or flat).
_FORM_CODE = ("error[code]", "error_code", "code")
_FORM_DESCRIPTION = ("error[description]", "error_description", "description", "error_msg")


def urlencoded_error(body: bytes) -> dict[str, Any] | None:
    """``{"error": {...}}`` from a url-encoded error answer, or None if it is not one."""
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    if "=" not in text or "<" in text or len(text) > 64 * 1024:
        return None  # HTML (a proxy's page) or something else that is not a form
    fields = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items() if v}
    code = next((fields[name] for name in _FORM_CODE if name in fields), None)
    if code is None:
        return None
    description = next((fields[name] for name in _FORM_DESCRIPTION if name in fields), "")
    return {"error": {"code": code, "description": description}}


def parse_answer(path: str, status: int, body: bytes) -> dict[str, Any]:
    """Turn an HTTP answer into a dict, or raise the typed error it carries.

    Garbage (HTML from a proxy, an empty body, a JSON that is not an object) is transient.
    An error may also come as url-encoded text (``error[code]=1009&error[description]=...``,
    as some Youku answers do): it is understood like its JSON form.
    """
    try:
        data = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError):
        data = urlencoded_error(body)
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        error = data["error"]
        try:
            code = _error_code(error.get("code"))
        except (TypeError, ValueError):
            raise TransientError(
                f"{path}: the API answered an error without a valid code (HTTP {status})",
                http_status=status,
            ) from None
        raise error_for_code(code, str(error.get("description") or ""), http_status=status)
    if 200 <= status < 300 and isinstance(data, dict):
        return data
    if data is None or not isinstance(data, dict):
        raise TransientError(
            f"{path}: the API answered HTTP {status} with a body that is not JSON",
            http_status=status,
        )
    raise TransientError(f"{path}: unexpected HTTP {status} from the API", http_status=status)


def _error_code(value: object) -> int:
    """A Youku error code: an integer, or its digits as text (never a float, inf or bool)."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not an error code")
    if isinstance(value, int):
        return value
    digits = value.strip().removeprefix("-") if isinstance(value, str) else ""
    if digits.isascii() and digits.isdigit() and len(digits) < 30:  # isdigit alone takes "²"
        return int(str(value))
    raise ValueError(f"not an error code: {value!r}")
