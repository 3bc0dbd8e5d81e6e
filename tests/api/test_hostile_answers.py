"""A server on loopback that spoils every API call in every way it can (issue 9, items 3 and
6, and the hostile-answer tests): non-JSON, an HTML 502, a truncated body, missing fields,
wrong types, impossible values, a huge body, a redirect, an answer dripped byte by byte.

Whatever it answers, each call ends within its deadlines with one of our typed errors, and
``uploads/create`` is never sent twice after an answer that may have been processed."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest

from youku_tui.api.client import YoukuClient
from youku_tui.api.retry import RetryPolicy
from youku_tui.config import Credentials
from youku_tui.errors import TransientError, UncertainOutcomeError, YoukuTuiError
from youku_tui.metadata import VideoMetadata

SPOILS = (
    "non-json",
    "html-502",
    "truncated",
    "missing-fields",
    "wrong-types",
    "impossible",
    "huge",
    "redirect",
    "drip",
)
CALLS = ("refresh", "create", "get_sts", "commit")
WRONG_TYPES = {
    "video_id": [1],
    "upload_token": {"a": 1},
    "oss_bucket": None,
    "oss_object": True,
    "temp_access_id": 1.5,
    "temp_access_secret": [],
    "security_token": {},
    "expire_time": 12,
    "endpoint": ["x"],
    "access_token": None,
    "expires_in": [],
}
IMPOSSIBLE = {
    "video_id": "",
    "upload_token": "",
    "oss_bucket": "b",
    "oss_object": "o",
    "temp_access_id": "a",
    "temp_access_secret": "s",
    "security_token": "t",
    "expire_time": "2026-13-45T99:99:99Z",
    "endpoint": "127.0.0.1:1",
    "access_token": "",
    "error": {"code": "not a number", "description": "?"},
}


class Spoiler:
    """A raw HTTP/1.1 server: reads each request whole, then answers it badly."""

    def __init__(self, spoil: str) -> None:
        self.spoil = spoil
        self.requests: Counter[str] = Counter()
        self.answered = 0  # answers sent to their end
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            self.requests[head.split()[1].decode()] += 1
            await self.answer(writer)
            self.answered += 1
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def answer(self, writer: asyncio.StreamWriter) -> None:
        spoil = self.spoil

        def send(status: str, body: bytes, length: int | None = None, extra: str = "") -> None:
            size = len(body) if length is None else length
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Length: {size}\r\nConnection: close\r\n"
                f"Content-Type: application/json\r\n{extra}\r\n".encode()
                + body
            )

        if spoil == "non-json":
            send("200 OK", b"OK then, uploaded!")
        elif spoil == "html-502":
            send("502 Bad Gateway", b"<html><body><h1>502 Bad Gateway</h1></body></html>")
        elif spoil == "truncated":
            send("200 OK", b'{"video_id": "XMT', length=400)
        elif spoil == "missing-fields":
            send("200 OK", b"{}")
        elif spoil == "wrong-types":
            send("200 OK", json.dumps(WRONG_TYPES).encode())
        elif spoil == "impossible":
            send("200 OK", json.dumps(IMPOSSIBLE).encode())
        elif spoil == "huge":
            size = 3 * 1024 * 1024
            send("200 OK", b"", length=size)
            chunk = b" " * 65536
            for _ in range(size // len(chunk)):
                writer.write(chunk)
                await writer.drain()
        elif spoil == "redirect":
            send("302 Found", b"", extra="Location: http://127.0.0.1:9/uploads/create.json\r\n")
        elif spoil == "drip":
            # 60+ bytes at 0.3 s each: 20 s for one answer, far beyond the deadlines.
            body = json.dumps({"video_id": "XM1", "access_token": "a", "pad": "x" * 30}).encode()
            send("200 OK", b"", length=len(body))
            for byte in body:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.3)
        await writer.drain()


@pytest.fixture
async def spoiler(request: pytest.FixtureRequest) -> AsyncIterator[Spoiler]:
    server_state = Spoiler(request.param)
    server = await asyncio.start_server(server_state.handle, "127.0.0.1", 0)
    server_state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield server_state
        server.close()


def _client(port: int) -> YoukuClient:
    return YoukuClient(
        Credentials(client_id="cid", access_token="at", refresh_token="rt"),
        api_base=f"http://127.0.0.1:{port}",
        retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02),
        timeout=5.0,
        attempt_deadline=0.6,
        # Attempts bound these calls (3 x 0.6 s), not the budget: a 1.5 s budget that a loaded
        # machine spent before the request reached the server left nothing sent at all.
        total_budget=60,
    )


async def _call(client: YoukuClient, call: str) -> object:
    if call == "refresh":
        return await client.refresh()
    if call == "create":
        return await client.create(
            file_name="a.mp4",
            file_md5="0" * 32,
            file_size=10,
            metadata=VideoMetadata(title="t", tags=("aa",)),
        )
    if call == "get_sts":
        return await client.get_sts(upload_token="u", oss_bucket="b", oss_object="o")
    return await client.commit(upload_token="u")


@pytest.mark.parametrize("spoiler", SPOILS, indirect=True)
@pytest.mark.parametrize("call", CALLS)
async def test_every_spoiled_answer_ends_in_a_typed_error_within_the_deadlines(
    spoiler: Spoiler, call: str
) -> None:
    started = time.monotonic()
    async with _client(spoiler.port) as client:
        with pytest.raises(YoukuTuiError) as caught:
            await _call(client, call)
    elapsed = time.monotonic() - started
    # Bounded: three attempts of at most 0.6 s each (15 s is generous for a busy machine).
    assert elapsed < 15, f"{call} under {spoiler.spoil} took {elapsed:.1f}s"
    sent = sum(spoiler.requests.values())
    assert sent >= 1
    if call == "create":
        assert sent == 1, f"uploads/create was sent {sent} times after a {spoiler.spoil} answer"
        if caught.type is UncertainOutcomeError:
            assert "not sent again" in str(caught.value)


async def test_a_dripped_answer_is_cut_at_the_attempt_deadline() -> None:
    state = Spoiler("drip")
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    # Attempts decide here, not the budget: with a 1.5 s budget a first attempt that a loaded
    # machine stretched past it was the only one (the retry was never tried).
    client = YoukuClient(
        Credentials(client_id="cid", access_token="at"),
        api_base=f"http://127.0.0.1:{port}",
        retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02),
        timeout=5.0,  # per read: a byte every 0.3 s never trips it, only the deadline does
        attempt_deadline=0.6,
        total_budget=120,
    )
    async with server, client:
        with pytest.raises(TransientError, match="did not answer within 1s"):
            await client.commit(upload_token="u")
    assert state.requests["/uploads/commit.json"] == 2  # commit is safe to repeat
    assert state.answered == 0  # each answer was cut before its end (it takes 20 s)


async def test_create_is_retried_when_the_request_surely_did_not_arrive() -> None:
    attempts = Counter[str]()

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts[request.url.path] += 1
        if attempts[request.url.path] < 3:
            raise httpx.ConnectError("refused", request=request)
        if attempts[request.url.path] == 3:  # an explicit Youku refusal: not processed either
            return httpx.Response(503, json={"error": {"code": 1001, "description": "busy"}})
        return httpx.Response(
            200,
            json={
                "video_id": "XM1",
                "upload_token": "ut",
                "oss_bucket": "b",
                "oss_object": "o",
                "temp_access_id": "a",
                "temp_access_secret": "s",
                "security_token": "t",
                "expire_time": "2099-01-01T00:00:00Z",
                "endpoint": "127.0.0.1:1",
            },
        )

    client = YoukuClient(
        Credentials(client_id="cid", access_token="at"),
        api_base="http://127.0.0.1:1",
        retry=RetryPolicy(attempts=5, base_delay=0.001, max_delay=0.002),
        transport=httpx.MockTransport(refuse),
    )
    async with client:
        created = await _call(client, "create")
    assert attempts["/uploads/create.json"] == 4
    assert created.video_id == "XM1"  # type: ignore[attr-defined]
