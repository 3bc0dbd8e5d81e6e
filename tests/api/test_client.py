"""YoukuClient against httpx's MockTransport: parsing, error classes, retries, shared refresh.

These isolate the client's own logic; the end-to-end tests drive it against the sandbox.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from urllib.parse import parse_qs

import httpx
import pytest

from youku_tui.api.client import YoukuClient, parse_answer
from youku_tui.api.retry import RetryPolicy
from youku_tui.config import Credentials
from youku_tui.errors import (
    ConfigError,
    IntegrityError,
    NotLoggedInError,
    RejectedInputError,
    TransientError,
    UploadSessionGoneError,
)
from youku_tui.metadata import VideoMetadata

CREDS = Credentials(client_id="cid", access_token="old-token", refresh_token="refresh-1")
FAST = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.002)
META = VideoMetadata(title="A title", tags=("tag1", "tag2"))
CREATE_ANSWER = {
    "video_id": "XMTEST",
    "upload_token": "ut-1",
    "oss_bucket": "yk-bucket",
    "oss_object": "dir/obj.mp4",
    "temp_access_id": "STS.id",
    "temp_access_secret": "sts-secret",
    "security_token": "sts-token",
    "expire_time": "2019-01-07T13:03:04Z",
    "endpoint": "oss-cn-shanghai.aliyuncs.com",
}


def error_body(code: int, text: str = "boom") -> bytes:
    return json.dumps(
        {"error": {"code": code, "type": "UploadsException", "description": text}}
    ).encode()


Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, **kwargs: object) -> YoukuClient:
    return YoukuClient(
        CREDS,
        api_base="https://api.youku.test",
        retry=FAST,
        transport=httpx.MockTransport(handler),
        **kwargs,  # type: ignore[arg-type]
    )


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


async def test_create_sends_isnew_and_parses_sts() -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(form(request))
        return httpx.Response(201, json=CREATE_ANSWER)

    async with make_client(handler) as client:
        created = await client.create(
            file_name="a.mp4", file_md5="0" * 32, file_size=10, metadata=META
        )
    assert seen[0]["isnew"] == "1"
    assert seen[0]["tags"] == "tag1,tag2"
    assert seen[0]["access_token"] == "old-token"
    assert created.video_id == "XMTEST"
    assert created.sts.endpoint_url == "https://oss-cn-shanghai.aliyuncs.com"
    assert created.sts.expire_time.isoformat() == "2019-01-07T13:03:04+00:00"
    assert "sts-secret" not in repr(created)


@pytest.mark.parametrize(
    ("code", "exc"),
    [
        (120010223, UploadSessionGoneError),
        (120010111, RejectedInputError),
        (1008, NotLoggedInError),
        (130011207, NotLoggedInError),
        (120010301, IntegrityError),
    ],
)
async def test_error_codes_map_to_classes_without_retry(code: int, exc: type[Exception]) -> None:
    calls = Counter[str]()

    def handler(request: httpx.Request) -> httpx.Response:
        calls[request.url.path] += 1
        return httpx.Response(400, content=error_body(code), headers={"content-type": "text/plain"})

    async with make_client(handler) as client:
        with pytest.raises(exc) as info:
            await client.commit(upload_token="ut")
    assert calls["/uploads/commit.json"] == 1
    assert str(code) in str(info.value)


def test_rejected_title_names_its_field() -> None:
    with pytest.raises(RejectedInputError) as info:
        parse_answer("/uploads/create.json", 400, error_body(120010102, "Title too long"))
    assert info.value.field == "title"
    assert info.value.description == "Title too long"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (502, b"<html><body>Bad gateway</body></html>"),
        (200, b""),
        (200, b"[1, 2]"),
        (503, error_body(1001)),
        (500, b'{"error": {"code": "x"}}'),
    ],
)
async def test_garbage_and_busy_answers_are_retried_then_transient(
    status: int, body: bytes
) -> None:
    calls = 0
    retries: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(status, content=body)

    async with make_client(handler) as client:
        with pytest.raises(TransientError):
            await client.commit(upload_token="ut", on_retry=lambda n, d, e: retries.append(n))
    assert calls == FAST.attempts
    assert retries == [1, 2, 3]


async def test_transient_then_success() -> None:
    answers = iter(
        [httpx.Response(500, content=b"oops"), httpx.Response(200, json={"video_id": "V1"})]
    )

    async with make_client(lambda r: next(answers)) as client:
        assert await client.commit(upload_token="ut") == "V1"


async def test_connection_error_is_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with make_client(handler) as client:
        with pytest.raises(TransientError, match="connection problem"):
            await client.commit(upload_token="ut")


async def test_concurrent_1009_costs_one_refresh_and_saves_tokens() -> None:
    calls = Counter[str]()
    saved: list[Credentials] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls[request.url.path] += 1
        data = form(request)
        if request.url.path == "/oauth2/token.json":
            assert data == {
                "client_id": "cid",
                "grant_type": "refresh_token",
                "refresh_token": "refresh-1",
            }
            await asyncio.sleep(0.01)  # let the other callers pile up on the lock
            return httpx.Response(
                200,
                json={
                    "access_token": "new-token",
                    "expires_in": "3600",
                    "refresh_token": "refresh-2",
                    "token_type": "bearar",
                },
            )
        if data["access_token"] != "new-token":
            return httpx.Response(400, content=error_body(1009, "Expired access token"))
        return httpx.Response(200, json={"video_id": "V"})

    client = YoukuClient(
        CREDS,
        api_base="https://api.youku.test",
        retry=FAST,
        transport=httpx.MockTransport(handler),
        on_tokens=saved.append,
    )
    async with client:
        results = await asyncio.gather(*(client.commit(upload_token=f"u{i}") for i in range(5)))
    assert results == ["V"] * 5
    assert calls["/oauth2/token.json"] == 1
    assert client.refresh_count == 1
    assert [c.refresh_token for c in saved] == ["refresh-2"]
    assert saved[0].expires_at > 0


async def test_refresh_refused_means_log_in_again() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token.json":
            return httpx.Response(400, content=error_body(130011207, "invalid refresh_token"))
        return httpx.Response(400, content=error_body(1009))

    async with make_client(handler) as client:
        with pytest.raises(NotLoggedInError, match="youku-tui login"):
            await client.commit(upload_token="ut")


async def test_missing_credentials_fail_before_any_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request should leave")

    client = YoukuClient(
        Credentials(), api_base="https://api.youku.test", transport=httpx.MockTransport(handler)
    )
    async with client:
        with pytest.raises(NotLoggedInError):
            await client.commit(upload_token="ut")


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://api.youku.com", True),
        ("http://127.0.0.1:8080", True),
        ("http://localhost:1", True),
        ("http://[::1]:9000", True),
        ("http://api.youku.com", False),
        ("http://10.0.0.5:80", False),
        ("ftp://127.0.0.1", False),
    ],
)
def test_plain_http_only_for_loopback(url: str, ok: bool) -> None:
    if ok:
        YoukuClient(CREDS, api_base=url)
    else:
        with pytest.raises(ConfigError):
            YoukuClient(CREDS, api_base=url)


def test_backoff_grows_and_is_bounded() -> None:
    policy = RetryPolicy(attempts=10, base_delay=1.0, max_delay=8.0)
    for attempt in range(1, 10):
        ceiling = min(8.0, 2 ** (attempt - 1))
        for _ in range(20):
            assert ceiling / 2 <= policy.delay(attempt) <= ceiling


async def test_log_in_swaps_credentials_for_the_next_call() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        token = form(request)["access_token"]
        seen.append(token)
        if token == "old-token":
            return httpx.Response(400, content=error_body(1008, "Invalid access token"))
        return httpx.Response(200, json={"video_id": "V"})

    async with make_client(handler) as client:
        with pytest.raises(NotLoggedInError):
            await client.commit(upload_token="ut")
        client.log_in(Credentials(client_id="cid", access_token="fresh", refresh_token="r"))
        assert await client.commit(upload_token="ut") == "V"
    assert seen == ["old-token", "fresh"]
