"""The production paths, end to end: the engine (real httpx and oss2) against the sandbox's
modes - TLS with a private CA, virtual-hosted buckets, V4 regions, V1 refused, skewed clocks,
a strict STS policy, url-encoded errors, an ambiguous commit, a real proxy, a SIGKILL."""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.cli_helpers import wait_for_stored_parts
from tests.e2e.e2e_helpers import MIB, make_video, wait_for_parts
from tests.sandbox.helpers import loopback_resolver
from youku_tui.engine import transfer
from youku_tui.engine.oss_access import ClockedAuthV4, region_of, signer_for
from youku_tui.engine.states import UploadState
from youku_tui.metadata import VideoMetadata
from youku_tui.net import ServerClock

META = VideoMetadata(title="Clip", tags=("test", "prod"))
OSS_HOST = "oss-cn-sandbox.localhost"
REGION = "cn-sandbox"
E2E_DIR = Path(__file__).parent
REPO = E2E_DIR.parent.parent


@pytest.fixture
def names_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolver hook: ``*.localhost`` reaches 127.0.0.1 (patched socket.getaddrinfo)."""
    monkeypatch.setattr(socket, "getaddrinfo", loopback_resolver(".localhost"))


MODES: dict[str, dict[str, Any]] = {
    "tls+virtual-host": {"tls": True, "oss_host": OSS_HOST},
    "v4-region": {"region": REGION, "oss_host": OSS_HOST},
    "v1-refused": {"refuse_v1": True, "oss_host": OSS_HOST},
    # Our clock 30 minutes ahead of the servers': 10-minute credentials look long expired.
    "clock-ahead": {"clock_offset": -1800.0, "sts_ttl": 600.0},
    "clock-behind": {"clock_offset": 1800.0},
    "strict-policy": {"strict_policy": True},
    "urlencoded-errors": {"urlencoded_errors": True},
}


@pytest.mark.parametrize("mode", sorted(MODES))
async def test_upload_through_each_mode_arrives_identical(
    mode: str, make_sandbox: Any, harness: Any, tmp_path: Path, names_to_loopback: None
) -> None:
    # ~3 s of transfer, so a renewal storm (4 a second) could not hide.
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB", **MODES[mode])
    if mode == "urlencoded-errors":
        sandbox.expire_access_tokens()  # the first call meets 1009 in url-encoded text
    path, md5 = make_video(tmp_path / "videos", "clip.mp4", 3 * MIB)
    h = harness(sandbox, max_parts=4)
    snap = await h.upload_one(path, META, 60)
    assert snap.state is UploadState.DONE, snap.last_error
    [video] = sandbox.videos()
    assert (video["md5"], video["size"]) == (md5, 3 * MIB)
    stats = sandbox.stats()
    assert stats["oss.upload_part"] == 12 and stats["api.create"] == 1, stats
    if mode.startswith("clock"):
        assert abs(h.client.clock.offset - MODES[mode]["clock_offset"]) < 2
        assert stats["api.get_sts"] == 0, "credentials renewed for nothing"
        # Lifetimes read on the server's clock: nothing looked expired on arrival.
        assert not [e for e in h.of_kind("log") if "expire at" in e.message]
    if mode == "urlencoded-errors":
        assert h.client.refresh_count == 1  # understood as 1009, not retried as garbage
    if mode == "tls+virtual-host":
        assert sandbox.api_base.startswith("https://")


async def test_credentials_born_expired_are_renewed_at_most_every_30_s(
    make_sandbox: Any, harness: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our clock 700 s ahead and 600 s credentials, and no Date header to learn from (a
    proxy that strips it): each expire_time is in the past on arrival. Still valid for OSS
    (within its 15 minutes), they must not be renewed about 4 times a second."""
    monkeypatch.setattr(ServerClock, "observe", lambda self, *args, **kwargs: None)
    sandbox = make_sandbox(
        clock_offset=-700.0, sts_ttl=600.0, faults="oss.upload_part=bandwidth:1MB"
    )
    path, md5 = make_video(tmp_path / "videos", "early.mp4", 3 * MIB)
    h = harness(sandbox, max_parts=4)
    snap = await h.upload_one(path, META, 60)
    assert snap.state is UploadState.DONE, snap.last_error
    assert sandbox.videos()[0]["md5"] == md5
    assert sandbox.stats()["api.get_sts"] <= 1
    assert [e for e in h.of_kind("log") if "expire at" in e.message]


async def test_all_modes_at_once_with_a_kill_and_resume(make_sandbox: Any, tmp_path: Path) -> None:
    """TLS + virtual host + V4 region + V1 refused + our clock 30 min ahead + strict policy;
    the uploader is SIGKILLed halfway and resumed (ListParts refused: the checkpoint's parts)."""
    sandbox = make_sandbox(
        tls=True,
        oss_host=OSS_HOST,
        region=REGION,
        refuse_v1=True,
        clock_offset=-1800.0,
        strict_policy=True,
        sts_ttl=1200.0,
        faults="oss.upload_part=bandwidth:1MB",
    )
    path, md5 = make_video(tmp_path / "v", "all.mp4", 12 * MIB)  # 48 parts
    upload = _cli(
        sandbox,
        "upload",
        str(path),
        "--tags",
        "all,modes",
        "--part-size",
        "256K",
        "--parts",
        "2",
        "--json",
        background=True,
    )
    assert isinstance(upload, subprocess.Popen)
    stored = wait_for_stored_parts(12, upload, within=60).multipart_upload_id
    upload.send_signal(signal.SIGKILL)
    upload.communicate()
    sandbox.set_faults("")
    result = _cli(sandbox, "resume", "--json")
    assert isinstance(result, subprocess.CompletedProcess)
    assert result.returncode == 0, result.stderr
    [video] = sandbox.videos()
    assert (video["md5"], video["size"]) == (md5, 12 * MIB)
    stats = sandbox.stats()
    assert stats["oss.list_parts"] >= 1  # asked, refused, and carried on from the checkpoint
    assert stats["oss.initiate"] == 1 and stats["api.create"] == 1, stats
    sent = collections.Counter(sandbox.part_requests(stored))
    assert set(sent) == set(range(1, 49))
    assert sum(n - 1 for n in sent.values()) <= 2 + 1, sent  # in flight at the kill, plus one


def _cli(sandbox: Any, *args: str, background: bool = False) -> Any:
    # The resolver hook reaches the subprocess through a one-line prelude.
    code = (
        "import sys; from tests.sandbox.helpers import install_loopback_resolver; "
        "install_loopback_resolver('.localhost'); from youku_tui.cli.main import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    env = {**os.environ, **sandbox.env(), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", code, *args]
    if background:
        return subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def recording_proxy(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """proxy.py in its own process on a free port; yields (port, file of upstreams seen)."""
    record = tmp_path / "proxy.log"
    port = _free_port()
    proxy = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "proxy",
            "--hostname",
            "127.0.0.1",
            "--port",
            str(port),
            "--num-workers",
            "1",
            "--num-acceptors",
            "1",
            "--plugins",
            "proxy_recorder.Recorder",
        ],
        env={**os.environ, "PYTHONPATH": str(E2E_DIR), "PROXY_RECORD": str(record)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_listening(port, proxy)
        yield port, record
    finally:
        proxy.terminate()
        proxy.communicate(timeout=10)


@pytest.mark.parametrize(
    ("no_proxy", "api_proxied", "oss_proxied"),
    [("", True, True), (OSS_HOST, True, False), ("example.org, 127.0.0.1", False, True)],
    ids=["both-proxied", "no-proxy-names-oss", "no-proxy-names-the-api"],
)
async def test_proxies_from_the_environment(
    make_sandbox: Any,
    harness: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    recording_proxy: tuple[int, Path],
    request: pytest.FixtureRequest,
    no_proxy: str,
    api_proxied: bool,
    oss_proxied: bool,
) -> None:
    """proxy.py, found through HTTPS_PROXY, carries the API (httpx) and OSS (oss2) traffic:
    TLS to a virtual-hosted bucket name that only the proxy resolves. NO_PROXY (a list, as
    people write it) sends the hosts it names direct, the proxy seeing nothing of them: each
    client reads it for its own host."""
    port, record = recording_proxy
    if not oss_proxied:
        request.getfixturevalue("names_to_loopback")  # OSS direct: its name must resolve here
    sandbox = make_sandbox(tls=True, oss_host=OSS_HOST, region=REGION)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    if no_proxy:
        monkeypatch.setenv("NO_PROXY", no_proxy)
    path, md5 = make_video(tmp_path / "videos", "proxied.mp4", 2 * MIB)
    snap = await harness(sandbox, max_parts=2).upload_one(path, META, 60)
    assert snap.state is UploadState.DONE, snap.last_error
    assert sandbox.videos()[0]["md5"] == md5
    seen = record.read_text().splitlines()
    api = f"CONNECT 127.0.0.1:{sandbox.port}"  # the Youku API
    oss = f"CONNECT yk-source-upload.{OSS_HOST}:{sandbox.port}"
    assert ((api in seen), (oss in seen)) == (api_proxied, oss_proxied), seen
    assert set(seen) <= {api, oss}, seen


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the proxy never listened")


async def test_a_signer_naming_a_wrong_region_is_refused_with_the_real_code(
    make_sandbox: Any,
    harness: Any,
    tmp_path: Path,
    names_to_loopback: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A test double of the signer writes the region the classic way (``oss-cn-sandbox``)."""

    def oss_prefixed(provider: Any, endpoint_url: str, clock: ServerClock) -> tuple[Any, str]:
        return ClockedAuthV4(provider, clock), f"oss-{region_of(endpoint_url)}"

    monkeypatch.setattr(transfer, "signer_for", oss_prefixed)
    sandbox = make_sandbox(region=REGION, oss_host=OSS_HOST)
    path, _ = make_video(tmp_path / "videos", "wrong.mp4", 300 * 1024)
    h = harness(sandbox)
    snap = await h.upload_one(path, META, 30)
    assert snap.state is UploadState.FAILED
    assert "400 InvalidArgument (EC 0002-00000226)" in snap.last_error
    assert sandbox.videos() == []


def test_region_comes_from_the_endpoint_and_v1_only_without_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert region_of("https://oss-cn-shanghai.aliyuncs.com") == "cn-shanghai"
    assert region_of("https://oss-cn-shanghai-internal.aliyuncs.com") == "cn-shanghai"
    assert region_of("https://bucket.oss-ap-southeast-1.aliyuncs.com:443") == "ap-southeast-1"
    assert region_of("https://oss-accelerate.aliyuncs.com") is None
    assert region_of("http://127.0.0.1:8080") is None
    clock = ServerClock()
    auth, region = signer_for(object(), "https://oss-cn-shanghai.aliyuncs.com", clock)
    assert (type(auth).__name__, region) == ("ClockedAuthV4", "cn-shanghai")
    with caplog.at_level(logging.INFO, logger="youku_tui.engine.oss_access"):
        auth, region = signer_for(object(), "http://127.0.0.1:9", clock)
    assert (type(auth).__name__, region) == ("ClockedAuthV1", None)
    assert "signing V1, because V4 needs the region" in caplog.text


async def test_strict_policy_resume_uses_the_checkpoints_parts(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(strict_policy=True, faults="oss.upload_part=bandwidth:1MB")
    path, md5 = make_video(tmp_path / "videos", "strict.mp4", 6 * MIB)
    h = harness(sandbox, max_parts=2)
    async with h as engine:
        upload_id = engine.add(path, META)
        await wait_for_parts(engine, upload_id, 6, within=30)
        engine.pause(upload_id)
        await asyncio.wait_for(engine.wait_idle(), 10)
        sandbox.set_faults("")
        engine.resume(upload_id)
        await asyncio.wait_for(engine.wait_idle(), 30)
        snap = engine.snapshot(upload_id)
    assert snap.state is UploadState.DONE, snap.last_error
    assert sandbox.videos()[0]["md5"] == md5
    stats = sandbox.stats()
    assert stats["oss.list_parts"] == 1 and stats["oss.initiate"] == 1, stats
    assert stats["oss.upload_part"] <= 24 + 2  # only parts in flight at the pause again


class _LoseFirstCommitAnswer(httpx.AsyncHTTPTransport):
    """The first commit reaches Youku and is processed; its answer never arrives."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.url.path.endswith("/commit.json") and not self.lost:
            await response.aread()
            self.lost += 1
            raise httpx.ReadError("connection reset while reading the answer")
        return response


async def test_ambiguous_commit_then_session_gone_is_committed_unconfirmed(
    make_sandbox: Any, harness: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(commit_once=True)
    transport = _LoseFirstCommitAnswer()
    path, md5 = make_video(tmp_path / "videos", "once.mp4", 300 * 1024)
    h = harness(sandbox)
    h.client_options = {"transport": transport}
    snap = await h.upload_one(path, META, 30)
    assert transport.lost == 1
    assert snap.state is UploadState.DONE, snap.last_error
    [video] = sandbox.videos()
    assert (video["md5"], video["video_id"]) == (md5, snap.video_id)
    [done] = h.of_kind("done")
    assert done.unconfirmed and done.video_id == snap.video_id and snap.video_id in done.url
    stats = sandbox.stats()
    assert (stats["api.create"], stats["api.commit"]) == (1, 2)  # never a second create
    text = (h.checkpoint_dir / f"{snap.upload_id}.toml").read_text()
    assert "commit_unconfirmed = true" in text
