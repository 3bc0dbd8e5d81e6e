"""A local Youku upload API and OSS server that real Aliyun clients accept unchanged.

Start it with ``youku-tui sandbox`` (a process) or, in Python, :class:`Sandbox` (on the
current event loop) or :class:`SandboxThread` (its own loop). See docs/architecture.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from youku_tui.sandbox.server import Sandbox, SandboxThread
    from youku_tui.sandbox.youku_api import SANDBOX_BUCKET, SANDBOX_CLIENT_ID

__all__ = ["SANDBOX_BUCKET", "SANDBOX_CLIENT_ID", "Sandbox", "SandboxThread"]

_HOMES = {
    "Sandbox": "youku_tui.sandbox.server",
    "SandboxThread": "youku_tui.sandbox.server",
    "SANDBOX_BUCKET": "youku_tui.sandbox.youku_api",
    "SANDBOX_CLIENT_ID": "youku_tui.sandbox.youku_api",
}


def __getattr__(name: str) -> Any:
    # Lazy: importing the package (as `youku-tui --help` does to register the subcommand)
    # must not load aiohttp, which costs ~0.4 s of start-up.
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOMES[name]), name)
