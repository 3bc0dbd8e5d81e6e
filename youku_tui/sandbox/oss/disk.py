"""Request bodies into the store's files, and other blocking disk work, on the disk threads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TypeVar

from youku_tui.sandbox.bodies import (
    BODY_IDLE_TIMEOUT,
    BodyCounter,
    BodyTimeout,
    ReceivedBody,
    receive_to_file,
)
from youku_tui.sandbox.oss.wire import MAX_OBJECT_SIZE, OssCall, OssErrorAnswer, content_md5
from youku_tui.sandbox.store import Store

_T = TypeVar("_T")


class OssDisk:
    """The store plus the executor its blocking work runs on."""

    def __init__(
        self, store: Store, io: Executor, body_idle_timeout: float = BODY_IDLE_TIMEOUT
    ) -> None:
        self.store = store
        self.io = io
        self.body_idle_timeout = body_idle_timeout
        self.received = BodyCounter()

    async def run(self, fn: Callable[[], _T]) -> _T:
        """Run blocking disk work on the disk threads."""
        return await asyncio.get_running_loop().run_in_executor(self.io, fn)

    async def receive(self, call: OssCall) -> ReceivedBody:
        """The request's body in a temporary file, checked against its Content-MD5."""
        request = call.request
        length = request.content_length
        if length is None and request.headers.get("Transfer-Encoding", "") != "chunked":
            raise OssErrorAnswer(
                411, "MissingContentLength", "You must provide the Content-Length HTTP header."
            )
        if length is not None and length > MAX_OBJECT_SIZE:
            raise OssErrorAnswer(
                400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size."
            )
        expected_md5 = content_md5(request)
        try:
            body = await receive_to_file(
                request,
                self.store.new_temp_path(),
                self.io,
                call.throttle,
                counter=self.received,
                idle_timeout=self.body_idle_timeout,
            )
        except BodyTimeout:
            raise OssErrorAnswer(
                400,
                "RequestTimeout",
                "Your socket connection to the server was not read from or written to "
                "within the timeout period.",
            ) from None
        if expected_md5 is not None and expected_md5 != body.md5:
            body.path.unlink(missing_ok=True)
            raise OssErrorAnswer(
                400,
                "InvalidDigest",
                "The Content-MD5 you specified did not match what we received.",
                {"Content-MD5": request.headers.get("Content-MD5", "")},
            )
        return body
