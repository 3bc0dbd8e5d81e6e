"""A proxy.py plugin for the proxy tests: records each upstream it opens (to the file named
by ``PROXY_RECORD``) and resolves ``*.localhost`` names to 127.0.0.1, so virtual-hosted
bucket names reach the sandbox through the proxy as they would reach OSS."""

from __future__ import annotations

import os
from typing import Any

from proxy.http.proxy import HttpProxyBasePlugin


class Recorder(HttpProxyBasePlugin):
    def resolve_dns(self, host: str, port: int) -> tuple[str | None, Any]:
        if host.rstrip(".").endswith(".localhost"):
            return "127.0.0.1", None
        return None, None

    def before_upstream_connection(self, request: Any) -> Any:
        host = (request.host or b"").decode()
        method = (request.method or b"").decode()
        with open(os.environ["PROXY_RECORD"], "a", encoding="utf-8") as record:
            record.write(f"{method} {host}:{request.port}\n")
        return request
