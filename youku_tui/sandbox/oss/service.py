"""The OSS entry point: authenticate, authorize, dispatch, and turn failures into answers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor

from aiohttp import web

from youku_tui.sandbox.assembly import Assembly
from youku_tui.sandbox.bodies import BODY_IDLE_TIMEOUT, discard
from youku_tui.sandbox.modes import PLAIN, Modes
from youku_tui.sandbox.oss import auth, wire
from youku_tui.sandbox.oss.disk import OssDisk
from youku_tui.sandbox.oss.multipart import MultipartCalls
from youku_tui.sandbox.oss.objects import ObjectCalls
from youku_tui.sandbox.oss.wire import MAX_OBJECT_SIZE, OssCall, OssErrorAnswer
from youku_tui.sandbox.store import Store, StsGrant

log = logging.getLogger(__name__)


class OssService:
    """Handles OSS calls against the store; lives on the server's event loop."""

    def __init__(
        self,
        store: Store,
        io: Executor,
        grant_for: Callable[[str], StsGrant | None],
        endpoint: Callable[[], str],
        *,
        modes: Modes = PLAIN,
        body_timeout: float = BODY_IDLE_TIMEOUT,
    ) -> None:
        self.modes = modes
        self.store = store
        self.grant_for = grant_for
        disk = OssDisk(store, io, body_timeout)
        self._disk = disk
        self.objects = ObjectCalls(disk)
        self.multipart = MultipartCalls(disk, endpoint)

    @property
    def part_log(self) -> dict[str, list[int]]:
        """Part numbers per upload id in the order their requests arrived (for tests)."""
        return self.multipart.part_log

    @property
    def bytes_received(self) -> int:
        return self._disk.received.received

    @property
    def assemblies(self) -> dict[str, Assembly]:
        return self.multipart.assemblies

    async def close(self) -> None:
        await self.multipart.close()

    async def handle(self, call: OssCall) -> web.StreamResponse:
        try:
            grant = auth.authenticate(call, self.grant_for, self.modes)
            auth.authorize(call, grant, self.modes)
            return await self._dispatch(call, grant)
        except OssErrorAnswer as error:
            if call.request.can_read_body:
                length = call.request.content_length
                # Drain what the client is sending so it sees the answer rather than a reset,
                # unless it announced a body too large to be worth reading.
                if length is None or length <= MAX_OBJECT_SIZE:
                    await discard(call.request, idle_timeout=self._disk.body_idle_timeout)
            return self.error_response(call, error)
        except ConnectionError:
            raise  # the client left; the server's handler treats that as routine
        except OSError as exc:
            # The sandbox's own disk failed (full, removed folder): OSS's answer is a 500.
            log.error("%s failed: %s", call.route, exc)
            internal = OssErrorAnswer(500, "InternalError", "We encountered an internal error.")
            return self.error_response(call, internal)

    @staticmethod
    def error_response(call: OssCall, error: OssErrorAnswer) -> web.Response:
        return wire.error_response(call, error)

    async def _dispatch(self, call: OssCall, grant: StsGrant) -> web.StreamResponse:
        objects, multipart = self.objects, self.multipart
        handlers: dict[str, Callable[[OssCall], Awaitable[web.StreamResponse]]] = {
            wire.ROUTE_PUT: objects.put_object,
            wire.ROUTE_INITIATE: multipart.initiate,
            wire.ROUTE_UPLOAD_PART: multipart.upload_part,
            wire.ROUTE_LIST_PARTS: multipart.list_parts,
            wire.ROUTE_COMPLETE: multipart.complete,
            wire.ROUTE_ABORT: multipart.abort,
            wire.ROUTE_HEAD: objects.head_object,
            wire.ROUTE_GET: objects.get_object,
            wire.ROUTE_DELETE: objects.delete_object,
        }
        if call.route == wire.ROUTE_LIST_UPLOADS:
            return await multipart.list_uploads(call, grant)
        handler = handlers.get(call.route)
        if handler is None:
            raise OssErrorAnswer(501, "NotImplemented", "The sandbox does not implement this call.")
        return await handler(call)
