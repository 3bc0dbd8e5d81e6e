"""Builds what the CLI and the TUI share: config, API client, checkpoint folder, engine.

    async with open_runtime(sandbox=False) as rt:
        engine = rt.make_engine(sink)
        async with engine: ...

With ``sandbox=True`` a local sandbox (Youku API + OSS on loopback) runs in a background
thread and the runtime talks to it with its own credentials; refreshed tokens are then never
written to the config file, and checkpoints live in their own folder.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from youku_tui import paths
from youku_tui.api.client import YoukuClient
from youku_tui.api.retry import RetryPolicy
from youku_tui.config import Config, Credentials, load_config, update_config
from youku_tui.engine.events import EventSink
from youku_tui.engine.manager import UploadEngine
from youku_tui.errors import ConfigError, LocalFileError, NotLoggedInError

if TYPE_CHECKING:
    from youku_tui.sandbox import SandboxThread

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: Config
    client: YoukuClient
    checkpoint_dir: Path
    sandbox: SandboxThread | None = None

    def make_engine(self, sink: EventSink) -> UploadEngine:
        return UploadEngine(self.client, self.checkpoint_dir, self.config.engine, sink)


def save_tokens(credentials: Credentials) -> None:
    """Store refreshed tokens in the config file (not the environment's overrides)."""
    # The old refresh token is spent once Youku answered: the new pair must be kept even when
    # the old one came from the environment.
    try:
        update_config(credentials=credentials)
    except (LocalFileError, ConfigError) as exc:
        log.error("could not save the refreshed tokens: %s", exc)


@contextlib.asynccontextmanager
async def open_runtime(
    sandbox: bool = False,
    config: Config | None = None,
    *,
    sandbox_options: dict[str, Any] | None = None,
) -> AsyncIterator[Runtime]:
    """Config + client (+ an in-process sandbox); raises NotLoggedInError without tokens."""
    config = config or load_config()
    sandbox_thread: SandboxThread | None = None
    with contextlib.ExitStack() as stack:
        if sandbox:
            from youku_tui.sandbox import SandboxThread
            from youku_tui.sandbox.store import StateFileError

            try:
                sandbox_thread = stack.enter_context(
                    SandboxThread(data_dir=paths.sandbox_data_dir(), **(sandbox_options or {}))
                )
            except StateFileError as exc:  # its folder is in use by another --sandbox
                raise ConfigError(f"the sandbox cannot start: {exc}") from exc
            config = replace(
                config,
                api_base=sandbox_thread.api_base,
                credentials=sandbox_thread.credentials,
                ca_bundle=str(sandbox_thread.ca_file or config.ca_bundle),
            )
        if not config.credentials.is_complete:
            raise NotLoggedInError(
                "not logged in - run `youku-tui login` (or set YOUKU_CLIENT_ID and "
                "YOUKU_ACCESS_TOKEN), or try `--sandbox`"
            )
        client = YoukuClient(
            config.credentials,
            api_base=config.api_base,
            retry=RetryPolicy(attempts=max(1, config.engine.max_retries)),
            on_tokens=None if sandbox else save_tokens,
            ca_bundle=config.ca_bundle,
        )
        async with client:
            yield Runtime(
                config=config,
                client=client,
                checkpoint_dir=paths.uploads_dir(sandbox),
                sandbox=sandbox_thread,
            )
