"""One aiohttp server on one port: the Youku API under ``/oauth2``, ``/uploads`` and
``/sandbox``, OSS for everything else (path style ``/bucket/key`` or virtual host
``bucket.<host>``). ``Sandbox`` runs on the caller's loop; ``SandboxThread`` on its own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate
from pathlib import Path
from types import TracebackType
from typing import Any, TypedDict, TypeVar, Unpack
from urllib.parse import unquote

from aiohttp import ClientPayloadError, web

from youku_tui.config import ENV_CA_BUNDLE, Credentials
from youku_tui.net import is_ip
from youku_tui.sandbox import youku_api
from youku_tui.sandbox.bodies import BODY_IDLE_TIMEOUT, Throttle, discard
from youku_tui.sandbox.faults import FaultDecision, FaultPlan
from youku_tui.sandbox.modes import Modes
from youku_tui.sandbox.oss import OssCall, OssService, new_request_id, route_of, status_error
from youku_tui.sandbox.store import Store, StsGrant, lock_data_dir, unlock_data_dir
from youku_tui.sandbox.tls import TlsFiles, server_context
from youku_tui.sandbox.youku_api import SANDBOX_BUCKET, SANDBOX_CLIENT_ID, YoukuApi, YoukuError

log = logging.getLogger(__name__)
STOP_GRACE = 2.0  # seconds in-flight requests get to finish when the sandbox stops
_T = TypeVar("_T")


class SandboxOptions(TypedDict, total=False):
    """:class:`Sandbox`'s keyword options (defaults there), passed on by SandboxThread."""

    host: str
    port: int
    sts_ttl: float
    token_ttl: float
    faults: str
    seed: int
    tls: bool
    oss_host: str
    region: str
    refuse_v1: bool
    clock_offset: float
    strict_policy: bool
    urlencoded_errors: bool
    commit_once: bool
    body_timeout: float


class Sandbox:
    """The local Youku API + OSS server (see docs/architecture.md, "Sandbox")."""

    def __init__(
        self,
        data_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        sts_ttl: float = 3600.0,
        token_ttl: float = 86400.0,
        faults: str = "",
        seed: int = 0,
        tls: bool = False,
        oss_host: str = "",
        region: str = "",
        refuse_v1: bool = False,
        clock_offset: float = 0.0,
        strict_policy: bool = False,
        urlencoded_errors: bool = False,
        commit_once: bool = False,
        body_timeout: float = BODY_IDLE_TIMEOUT,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.body_timeout = body_timeout
        self._folder_lock: int | None = None
        self.modes = Modes(
            tls=tls,
            oss_host=oss_host.strip().lower(),
            region=region.strip(),
            refuse_v1=refuse_v1,
            clock_offset=clock_offset,
            strict_policy=strict_policy,
            urlencoded_errors=urlencoded_errors,
            commit_once=commit_once,
        )
        self.tls_files: TlsFiles | None = None
        self.host = host
        self.port = port
        self.sts_ttl = sts_ttl
        self.token_ttl = token_ttl
        self.seed = seed
        self.faults = FaultPlan(faults, seed)  # parsed now: a bad spec fails before start
        self._stats: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None
        self._io: ThreadPoolExecutor | None = None
        self._persist: ThreadPoolExecutor | None = None
        self._store: Store | None = None
        self._api: YoukuApi | None = None
        self._oss: OssService | None = None
        self._pending_saves: set[asyncio.Task[None]] = set()

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._io = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sandbox-io")
        self._persist = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-state")
        self._folder_lock = lock_data_dir(self.data_dir)  # one sandbox per data folder
        store = Store(self.data_dir)
        await loop.run_in_executor(self._io, store.load)
        self._store = store
        self._api = YoukuApi(
            store,
            sts_ttl=self.sts_ttl,
            token_ttl=self.token_ttl,
            endpoint=lambda: self.oss_endpoint,
            save=self._save,
            modes=self.modes,
        )
        self._oss = OssService(
            store,
            self._io,
            self._grant_for,
            lambda: self._oss_url,
            modes=self.modes,
            body_timeout=self.body_timeout,
        )
        self._api.ensure_login()
        await self._save()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        app.on_response_prepare.append(self._stamp_date)
        ssl_context = None
        if self.modes.tls:
            ssl_context, self.tls_files = await loop.run_in_executor(
                self._io, server_context, self.data_dir / "tls", self._tls_names()
            )
        # No access log: signed URLs and form bodies carry tokens.
        # shutdown_timeout: stopping must not wait a minute for a throttled upload to end.
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=STOP_GRACE
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=256, ssl_context=ssl_context)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._oss is not None:
            await self._oss.close()
        if self._pending_saves:
            await asyncio.gather(*self._pending_saves, return_exceptions=True)
        for pool in (self._io, self._persist):
            if pool is not None:
                pool.shutdown(wait=True)
        self._io = self._persist = None
        if self._folder_lock is not None:
            unlock_data_dir(self._folder_lock)
            self._folder_lock = None

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- public view ---------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.modes.tls else "http"
        return f"{scheme}://{host}:{self.port}"

    @property
    def oss_endpoint(self) -> str:
        """What ``uploads/create`` hands out: like production (no scheme) in TLS mode."""
        if not self.modes.oss_host:
            return self.api_base if not self.modes.tls else self.api_base.split("://", 1)[1]
        if self.modes.tls:
            return f"{self.modes.oss_host}:{self.port}"
        return f"http://{self.modes.oss_host}:{self.port}"

    @property
    def _oss_url(self) -> str:
        endpoint = self.oss_endpoint
        return endpoint if "://" in endpoint else f"https://{endpoint}"

    @property
    def ca_file(self) -> Path | None:
        """The CA certificate clients must trust in TLS mode (None otherwise)."""
        return self.tls_files.ca if self.tls_files else None

    @property
    def credentials(self) -> Credentials:
        return self._require_api().credentials()

    def env(self) -> dict[str, str]:
        creds = self.credentials
        env = {
            "YOUKU_API_BASE": self.api_base,
            "YOUKU_CLIENT_ID": creds.client_id,
            "YOUKU_ACCESS_TOKEN": creds.access_token,
            "YOUKU_REFRESH_TOKEN": creds.refresh_token,
        }
        if self.ca_file is not None:
            env[ENV_CA_BUNDLE] = str(self.ca_file)
        return env

    def videos(self) -> list[dict[str, Any]]:
        return self._require_api().videos()

    def set_faults(self, spec: str) -> None:
        self.faults = FaultPlan(spec, self.seed)

    def expire_access_tokens(self) -> None:
        self._require_api().expire_access_tokens()
        self._save_soon()

    def stats(self) -> Counter[str]:
        """Requests per route; ``oss.bytes_received``: body bytes OSS read into files, and
        ``oss.bytes_discarded``: body bytes read and dropped by injected faults."""
        counts = Counter(self._stats)
        if self._oss is not None:
            counts["oss.bytes_received"] = self._oss.bytes_received
        return counts

    def part_requests(self, upload_id: str) -> list[int]:
        oss = self._oss
        return list(oss.part_log.get(upload_id, [])) if oss else []

    # --- internals -----------------------------------------------------------------------

    def _require_api(self) -> YoukuApi:
        if self._api is None:
            raise RuntimeError("the sandbox is not started")
        return self._api

    def _tls_names(self) -> list[str]:
        names = [self.host, "127.0.0.1", "::1", "localhost"]
        if self.modes.oss_host:
            names += [self.modes.oss_host, f"*.{self.modes.oss_host}"]
        return names

    async def _stamp_date(self, request: web.Request, response: web.StreamResponse) -> None:
        """Every answer's Date comes from the sandbox's clock (which may be offset)."""
        response.headers["Date"] = formatdate(self.modes.now(), usegmt=True)

    def _grant_for(self, access_key_id: str) -> StsGrant | None:
        store = self._store
        return store.state.grants.get(access_key_id) if store else None

    async def _save(self) -> None:
        store, pool = self._store, self._persist
        if store is None or pool is None:
            return
        snapshot = store.state_snapshot()
        await asyncio.get_running_loop().run_in_executor(pool, store.write_state, snapshot)

    def _save_soon(self) -> None:
        task = asyncio.get_running_loop().create_task(self._save())
        self._pending_saves.add(task)
        task.add_done_callback(self._pending_saves.discard)

    def _target(self, request: web.Request) -> tuple[str, str, bool]:
        """(bucket, key, is_oss) of a request, from its Host header and raw path."""
        raw_path = request.raw_path.split("?", 1)[0]
        host_name = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else ""
        first_label, dot, _rest = host_name.partition(".")
        # Only the sandbox's own bucket can lead a host name: a custom DNS name pointing at the
        # sandbox with path-style requests is not mistaken for virtual-host addressing.
        if dot and not is_ip(host_name) and first_label == SANDBOX_BUCKET:
            return first_label, unquote(raw_path[1:]), True  # virtual-host style
        if raw_path.startswith(youku_api.API_PREFIXES):
            return "", "", False
        bucket, _slash, key = raw_path[1:].partition("/")
        return unquote(bucket), unquote(key), True

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        api, oss = self._api, self._oss
        assert api is not None
        assert oss is not None
        bucket, key, is_oss = self._target(request)
        if is_oss:
            route = route_of(request.method, bucket, key, request.query)
        else:
            route = youku_api.ROUTES_BY_PATH.get(request.path, youku_api.ROUTE_UNKNOWN)
        self._stats[route] += 1
        decision = self.faults.decide(route, api_route=not is_oss)
        if decision.latency:
            await asyncio.sleep(decision.latency)
        if decision.drop:
            response, seen = await _drop_connection(request)
            self._stats["oss.bytes_discarded" if is_oss else "api.bytes_discarded"] += seen
            return response
        throttle = Throttle(decision.bandwidth) if decision.bandwidth else None
        try:
            if is_oss:
                call = OssCall(request, route, bucket, key, new_request_id(), throttle)
                if decision.status is not None:
                    self._stats["oss.bytes_discarded"] += await discard(request)
                    return oss.error_response(call, status_error(decision.status))
                return await oss.handle(call)
            if decision.replaces_answer:
                await discard(request)
                return youku_api.error_response(
                    _api_fault(decision), urlencoded=self.modes.urlencoded_errors
                )
            return await api.handle(request, route)
        except (ConnectionError, ClientPayloadError) as exc:
            # The client went away mid-body (a cancelled or killed upload): routine, and the
            # partial body is already deleted. Nobody is left to read an answer.
            log.debug("%s: client disconnected (%s)", route, type(exc).__name__)
            return web.Response(status=499)


def _api_fault(decision: FaultDecision) -> YoukuError:
    if decision.youku_code is not None:
        return YoukuError(decision.youku_code, "injected fault")
    status = decision.status or 500
    return YoukuError(1001 if status >= 500 else 120010224, "injected fault", http_status=status)


async def _drop_connection(request: web.Request) -> tuple[web.StreamResponse, int]:
    """Read about half of the body, then cut the connection without an answer; the answer
    (that never reaches anyone) and the body bytes read."""
    length = request.content_length or 0
    seen = await discard(request, limit=length // 2) if length > 1 else 0
    transport = request.transport
    if transport is not None:
        transport.abort()
    # Nothing reaches the client any more; aiohttp drops this answer quietly.
    return web.Response(status=500), seen


class SandboxThread:
    """A :class:`Sandbox` on its own event loop in a daemon thread (tests, in-process use)."""

    def __init__(self, data_dir: Path, **options: Unpack[SandboxOptions]) -> None:
        self.sandbox = Sandbox(data_dir, **options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> SandboxThread:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="youku-sandbox", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        try:
            await self.sandbox.start()
        except BaseException as exc:
            self._error = exc
            self._started.set()
            await self.sandbox.stop()
            return
        self._started.set()
        await self._stopping.wait()
        await self.sandbox.stop()

    def stop(self) -> None:
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None or loop is None or stopping is None:
            return
        loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout=30)
        self._thread = None

    def __enter__(self) -> SandboxThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _on_loop(self, fn: Callable[[], _T]) -> _T:
        loop = self._loop
        if loop is None or self._thread is None:
            raise RuntimeError("the sandbox thread is not running")
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(timeout=30)

    # The same view as Sandbox; anything that touches state runs on the sandbox's loop.

    @property
    def data_dir(self) -> Path:
        return self.sandbox.data_dir

    @property
    def port(self) -> int:
        return self.sandbox.port

    @property
    def api_base(self) -> str:
        return self.sandbox.api_base

    @property
    def oss_endpoint(self) -> str:
        return self.sandbox.oss_endpoint

    @property
    def ca_file(self) -> Path | None:
        return self.sandbox.ca_file

    @property
    def modes(self) -> Modes:
        return self.sandbox.modes

    @property
    def credentials(self) -> Credentials:
        return self._on_loop(lambda: self.sandbox.credentials)

    def env(self) -> dict[str, str]:
        return self._on_loop(self.sandbox.env)

    def videos(self) -> list[dict[str, Any]]:
        return self._on_loop(self.sandbox.videos)

    def set_faults(self, spec: str) -> None:
        plan = FaultPlan(spec, self.sandbox.seed)  # parse here: errors reach the caller
        self._on_loop(lambda: setattr(self.sandbox, "faults", plan))

    def expire_access_tokens(self) -> None:
        self._on_loop(self.sandbox.expire_access_tokens)

    def stats(self) -> Counter[str]:
        return self._on_loop(self.sandbox.stats)

    def part_requests(self, upload_id: str) -> list[int]:
        return self._on_loop(lambda: self.sandbox.part_requests(upload_id))


__all__ = ["SANDBOX_CLIENT_ID", "Sandbox", "SandboxThread"]
