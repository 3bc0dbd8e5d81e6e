"""StsSession alone: when credentials are renewed, how often Youku is asked, which target.

A real YoukuClient answers ``get_sts_inf`` through httpx's MockTransport; the end-to-end
tests drive the same session against the sandbox during real uploads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import oss2
import pytest

from tests.polling import until
from youku_tui.api.client import YoukuClient
from youku_tui.api.models import StsCredentials
from youku_tui.api.retry import RetryPolicy
from youku_tui.config import Credentials, EngineSettings
from youku_tui.engine.checkpoint import Checkpoint, CheckpointStore, FileIdentity
from youku_tui.engine.concurrency import ConcurrencyControl
from youku_tui.engine.context import EngineContext
from youku_tui.engine.events import CredentialsRenewed, EngineEvent
from youku_tui.engine.limits import AsyncSlots, Bandwidth
from youku_tui.engine.sts import PLANNED_RENEWAL_FLOOR, StsSession

ENDPOINT = "oss-cn-shanghai.aliyuncs.com"


def credentials(seconds_left: float, name: str = "first") -> StsCredentials:
    return StsCredentials(
        access_key_id=f"STS.{name}",
        access_key_secret=f"secret-{name}",
        security_token=f"token-{name}",
        expire_time=datetime.now(UTC) + timedelta(seconds=seconds_left),
        endpoint=ENDPOINT,
    )


@dataclass
class Youku:
    """Answers ``get_sts_inf`` with credentials living ``ttl`` seconds, and counts the asks."""

    ttl: float = 3600.0
    asked: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/uploads/get_sts_inf.json"
        self.asked += 1
        await self.release.wait()  # racing renewals all start before the first answer
        expire = datetime.now(UTC) + timedelta(seconds=self.ttl)
        return httpx.Response(
            200,
            json={
                "temp_access_id": f"STS.renewed{self.asked}",
                "temp_access_secret": "renewed-secret",
                "security_token": "renewed-token",
                "expire_time": expire.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "endpoint": ENDPOINT,
            },
        )


@dataclass
class Setup:
    session: StsSession
    cp: Checkpoint
    youku: Youku
    events: list[EngineEvent]
    notes: list[tuple[str, str]]


@pytest.fixture
async def make_session(tmp_path: Path) -> AsyncIterator[Callable[..., Setup]]:
    """A session on a real client and a real EngineContext; nothing touches the disk."""
    youku = Youku()
    client = YoukuClient(
        Credentials(client_id="cid", access_token="token", refresh_token="refresh"),
        api_base="https://api.youku.test",
        retry=RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.002),
        transport=httpx.MockTransport(youku.handle),
    )
    executor = ThreadPoolExecutor(max_workers=1)

    def make(sts_margin: float = 300.0) -> Setup:
        slots = AsyncSlots(1)
        events: list[EngineEvent] = []
        ctx = EngineContext(
            client=client,
            store=CheckpointStore(tmp_path),
            settings=EngineSettings(sts_margin=sts_margin),
            part_slots=slots,
            concurrency=ConcurrencyControl(slots, ceiling=1, fixed=1),
            oss_session=oss2.Session(),
            bandwidth=Bandwidth(0),
            executor=executor,
            emit=events.append,
            retry=RetryPolicy(),
        )
        cp = Checkpoint(
            upload_id="20261126-000000-00000001",
            identity=FileIdentity(path=str(tmp_path / "v.mp4"), size=1, mtime_ns=0, inode=1),
            metadata={},
            upload_token="ut-1",
            bucket="bucket-1",
            object="dir/one.mp4",
        )
        notes: list[tuple[str, str]] = []
        session = StsSession(
            cp,
            ctx,
            log=lambda level, message: notes.append((level, message)),
            on_api_retry=lambda attempt, delay, exc: None,
        )
        return Setup(session, cp, youku, events, notes)

    yield make
    await client.aclose()
    executor.shutdown()


async def test_parts_refused_together_renew_the_credentials_once(
    make_session: Callable[..., Setup],
) -> None:
    s = make_session()
    s.session.start(credentials(3600))
    seen = s.session.generation
    renewals = [
        asyncio.create_task(s.session.renew("SecurityTokenExpired", seen)) for _ in range(4)
    ]
    # The first is at Youku; the others, started before it could get there, wait for it.
    await until(lambda: s.youku.asked == 1, "the first renewal at Youku")
    s.youku.release.set()
    await asyncio.gather(*renewals)
    assert s.youku.asked == 1
    assert s.session.generation == seen + 1
    renewed = [e for e in s.events if isinstance(e, CredentialsRenewed)]
    assert [e.reason for e in renewed] == ["SecurityTokenExpired"]
    # A refusal seen under the new credentials renews again.
    await s.session.renew("InvalidSecurityToken", s.session.generation)
    assert s.youku.asked == 2


async def test_planned_renewal_leaves_the_margin_or_a_third_of_a_short_life(
    make_session: Callable[..., Setup],
) -> None:
    s = make_session(sts_margin=300.0)
    s.session.start(credentials(3600))
    assert 3290 < s.session.renew_delay() <= 3300
    s.session.accept(credentials(3))  # 3 s credentials: renewed after 2 s, not at once
    assert 1.8 < s.session.renew_delay() <= 2.0
    assert s.notes == []


async def test_credentials_born_expired_are_renewed_at_most_every_floor(
    make_session: Callable[..., Setup],
) -> None:
    s = make_session()
    s.session.start(credentials(-60))
    assert PLANNED_RENEWAL_FLOOR - 1 < s.session.renew_delay() <= PLANNED_RENEWAL_FLOOR
    [(level, message)] = s.notes
    assert level == "warning" and "before the server's own time" in message


async def test_the_target_reads_renewed_credentials_and_changes_with_the_session(
    make_session: Callable[..., Setup],
) -> None:
    s = make_session()
    s.youku.release.set()
    first = await s.session.target_for_transfer()  # none yet (a resume): fetched
    assert s.youku.asked == 1
    assert [e.reason for e in s.events if isinstance(e, CredentialsRenewed)] == ["resuming"]
    assert (first.bucket_name, first.key) == ("bucket-1", "dir/one.mp4")
    assert s.cp.endpoint == ENDPOINT

    s.session.accept(credentials(3600, "second"))  # a renewal: same target, new credentials
    assert s.session.current_target() is first
    assert first.box.get_credentials().access_key_id == "STS.second"

    s.cp.bucket, s.cp.object = "bucket-2", "dir/two.mp4"
    s.session.start(credentials(3600, "third"))  # a new upload session: a new object
    second = await s.session.target("cancelling")
    assert second is not first
    assert (second.bucket_name, second.key) == ("bucket-2", "dir/two.mp4")
    assert s.youku.asked == 1  # it had credentials: nothing fetched


async def test_a_transfer_resumed_just_before_expiry_renews_first(
    make_session: Callable[..., Setup],
) -> None:
    s = make_session()
    s.youku.release.set()
    s.session.start(credentials(0.3))
    await s.session.target_for_transfer()
    assert s.youku.asked == 1
    assert [e.reason for e in s.events if isinstance(e, CredentialsRenewed)] == ["before expiry"]
