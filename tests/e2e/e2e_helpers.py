"""Helpers for end-to-end tests: real engine, real httpx and oss2, the sandbox on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import oss2
import pytest

from tests.polling import until
from youku_tui.api.client import YoukuClient
from youku_tui.api.retry import RetryPolicy
from youku_tui.config import EngineSettings
from youku_tui.engine.checkpoint import Checkpoint, CheckpointStore
from youku_tui.engine.events import EngineEvent
from youku_tui.engine.manager import UploadEngine
from youku_tui.engine.owner import OwnerLock
from youku_tui.sandbox import SandboxThread

KIB = 1024
MIB = 1024 * 1024
SMALL_PARTS = 256 * KIB  # many parts from modest files keeps the suite fast


def make_video(folder: Path, name: str, size: int) -> tuple[Path, str]:
    """A file of random bytes (unique, so the sandbox never sees a duplicate upload)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    digest = hashlib.md5()
    with path.open("wb") as handle:
        remaining = size
        while remaining:
            chunk = os.urandom(min(remaining, 4 * MIB))
            handle.write(chunk)
            digest.update(chunk)
            remaining -= len(chunk)
    return path, digest.hexdigest()


@dataclass
class Harness:
    """An UploadEngine wired to a sandbox, recording every event."""

    sandbox: SandboxThread
    checkpoint_dir: Path
    settings: EngineSettings
    events: list[EngineEvent] = field(default_factory=list)
    client: YoukuClient | None = None
    engine: UploadEngine | None = None
    client_options: dict[str, Any] = field(default_factory=dict)

    async def __aenter__(self) -> UploadEngine:
        self.client = YoukuClient(
            self.sandbox.credentials,
            api_base=self.sandbox.api_base,
            retry=RetryPolicy(attempts=5, base_delay=0.05, max_delay=0.5),
            ca_bundle=str(self.sandbox.ca_file or ""),  # the sandbox's CA in its TLS mode
            **self.client_options,
        )
        self.engine = UploadEngine(
            self.client, self.checkpoint_dir, self.settings, self.events.append
        )
        await self.engine.__aenter__()
        return self.engine

    async def __aexit__(self, *exc: Any) -> None:
        assert self.engine is not None and self.client is not None
        await self.engine.__aexit__(*exc)
        await self.client.aclose()

    async def upload_one(self, path: Path, metadata: Any, seconds: float = 60) -> Any:
        """Start the engine, upload ``path``, wait (``seconds`` at most) until idle; return
        its snapshot."""
        async with self as engine:
            upload_id = engine.add(path, metadata)
            await asyncio.wait_for(engine.wait_idle(), seconds)
            return engine.snapshot(upload_id)

    async def resume_saved(self, upload_id: str, seconds: float = 30) -> Any:
        """Start the engine on the saved checkpoints (every one loads), wait (``seconds`` at
        most) until idle; the snapshot of ``upload_id``."""
        async with self as engine:
            assert engine.load_checkpoints(start=True) == []
            await asyncio.wait_for(engine.wait_idle(), seconds)
            return engine.snapshot(upload_id)

    def of_kind(self, kind: str) -> list[Any]:
        return [e for e in self.events if e.kind == kind]


@pytest.fixture
def harness(tmp_path: Path) -> Any:
    def make(sandbox: SandboxThread, **settings: Any) -> Harness:
        settings.setdefault("part_size", SMALL_PARTS)
        settings.setdefault("max_parts", 4)
        return Harness(sandbox, tmp_path / "checkpoints", EngineSettings(**settings))

    return make


async def wait_for_parts(
    engine: UploadEngine, upload_id: str, count: int, within: float = 30.0
) -> None:
    """Poll until ``count`` parts are stored (the engine has no event per part, by design)."""
    await until(
        lambda: engine.snapshot(upload_id).parts_done >= count,
        f"{count} parts of {upload_id} stored",
        within=within,
    )


async def pause_after_parts(h: Harness, path: Path, metadata: Any, parts: int) -> str:
    """Upload ``path`` until ``parts`` parts are stored, pause it and stop the engine (its
    checkpoint saved); the upload's id."""
    async with h as engine:
        upload_id = engine.add(path, metadata)
        await wait_for_parts(engine, upload_id, parts)
        engine.pause(upload_id)
        await asyncio.wait_for(engine.wait_idle(), 10)
    return upload_id


@contextmanager
def owned_checkpoints(h: Harness) -> Iterator[CheckpointStore]:
    """The harness's checkpoint folder, owned (so a checkpoint can be saved) until the block
    ends; the next engine owns it then."""
    store = CheckpointStore(h.checkpoint_dir, OwnerLock.acquire(h.checkpoint_dir))
    assert store.owner is not None
    try:
        yield store
    finally:
        store.owner.release()


async def overwrite_part_on_oss(
    sandbox: SandboxThread, checkpoint: Checkpoint, number: int
) -> None:
    """Store other bytes of the same size as part ``number`` of the checkpoint's multipart
    upload, with credentials of its own: OSS then holds a part the checkpoint does not
    describe (what a damaged transfer looks like to the engine)."""
    async with YoukuClient(sandbox.credentials, api_base=sandbox.api_base) as client:
        sts = await client.get_sts(
            upload_token=checkpoint.upload_token,
            oss_bucket=checkpoint.bucket,
            oss_object=checkpoint.object,
        )
    auth = oss2.StsAuth(sts.access_key_id, sts.access_key_secret, sts.security_token)
    bucket = oss2.Bucket(auth, sts.endpoint_url, checkpoint.bucket)
    garbage = os.urandom(checkpoint.parts[number].size)
    await asyncio.to_thread(
        bucket.upload_part, checkpoint.object, checkpoint.multipart_upload_id, number, garbage
    )
