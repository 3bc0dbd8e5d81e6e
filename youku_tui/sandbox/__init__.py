"""A local Youku upload API and OSS server that real Aliyun clients accept unchanged.

Start it with ``youku-tui sandbox`` (a process) or, in Python, :class:`Sandbox` (on the
current event loop) or :class:`SandboxThread` (its own loop). See docs/team-contracts.md.
"""

from __future__ import annotations

from youku_tui.sandbox.server import Sandbox, SandboxThread
from youku_tui.sandbox.youku_api import SANDBOX_BUCKET, SANDBOX_CLIENT_ID

__all__ = ["SANDBOX_BUCKET", "SANDBOX_CLIENT_ID", "Sandbox", "SandboxThread"]
