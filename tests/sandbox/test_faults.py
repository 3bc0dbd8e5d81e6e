"""Injected faults: the grammar, determinism under a seed, and what clients see."""

from __future__ import annotations

import time
from typing import Any

import oss2
import pytest

from tests.polling import wait_until
from tests.sandbox.helpers import api_call, create_params, create_upload, youku_code
from youku_tui.sandbox import SandboxThread
from youku_tui.sandbox.faults import FaultPlan, FaultSpecError
from youku_tui.units import MIB, parse_size


def decisions(plan: FaultPlan, route: str, n: int) -> list[bool]:
    return [plan.decide(route, api_route=False).replaces_answer for _ in range(n)]


def test_same_seed_same_decisions_and_rate_is_respected() -> None:
    spec = "oss.upload_part=503@0.3"
    first = decisions(FaultPlan(spec, seed=4), "oss.upload_part", 1000)
    assert first == decisions(FaultPlan(spec, seed=4), "oss.upload_part", 1000)
    assert first != decisions(FaultPlan(spec, seed=5), "oss.upload_part", 1000)
    assert 230 < sum(first) < 370


def test_globs_counts_and_stacking() -> None:
    plan = FaultPlan("oss.*=drop#2,*=latency:50,api.create=youku:1001")
    upload = [plan.decide("oss.upload_part", api_route=False) for _ in range(4)]
    assert [d.drop for d in upload] == [True, True, False, False]
    assert all(d.latency == pytest.approx(0.05) for d in upload)
    assert plan.decide("api.create", api_route=True).youku_code == 1001
    # A Youku code means nothing to OSS: such rules never fire on OSS routes.
    assert FaultPlan("*=youku:1001").decide("oss.get", api_route=False).youku_code is None


@pytest.mark.parametrize(
    "spec",
    [
        "oss.get",
        "oss.get=teapot",
        "oss.get=200",
        "x=503@2",
        "x=bandwidth:fast",
        "x=bandwidth:0",
        "x=bandwidth:2TB",
    ],
)
def test_bad_specs_are_refused(spec: str) -> None:
    with pytest.raises(FaultSpecError):
        FaultPlan(spec)


@pytest.mark.parametrize("size", ["2MB", "2M", "2MiB", "2mb/s", "1.5MB", "512K", "500KB", "500"])
def test_bandwidth_sizes_mean_what_the_apps_sizes_mean(size: str) -> None:
    """One convention (youku_tui.units): the sandbox's ``2MB`` is the config's and --bandwidth's."""
    [rule] = FaultPlan(f"oss.*=bandwidth:{size}").rules
    assert rule.value == parse_size(size)


def test_bandwidth_megabytes_are_binary() -> None:
    [rule] = FaultPlan("oss.*=bandwidth:2MB").rules
    assert rule.value == 2 * MIB


def test_status_and_youku_faults_reach_clients(make_sandbox: Any) -> None:
    sb = make_sandbox(faults="api.create=youku:120010223#1,oss.put_object=503#1")
    params = create_params("0" * 32, 10)
    assert youku_code(api_call(sb, "/uploads/create.json", **params)) == 120010223
    upload = create_upload(sb, "0" * 32, 10)
    with pytest.raises(oss2.exceptions.ServerError) as info:
        upload.bucket().put_object(upload.key, b"x" * 10)
    assert (info.value.status, info.value.code) == (503, "ServiceUnavailable")
    assert upload.bucket().put_object(upload.key, b"x" * 10).status == 200
    sb.set_faults("api.*=500")
    assert api_call(sb, "/uploads/create.json", **params).status_code == 500
    sb.set_faults("")
    assert sb.stats()["api.create"] == 3


def test_drop_cuts_the_connection(sandbox: SandboxThread) -> None:
    upload = create_upload(sandbox, "0" * 32, 10)
    sandbox.set_faults("oss.put_object=drop#1")
    with pytest.raises(oss2.exceptions.RequestError):
        upload.bucket().put_object(upload.key, b"y" * 500_000)
    with pytest.raises(oss2.exceptions.NoSuchKey):
        upload.bucket().get_object(upload.key)
    assert upload.bucket().put_object(upload.key, b"y" * 500_000).status == 200


def test_bandwidth_cap_and_latency(sandbox: SandboxThread) -> None:
    upload = create_upload(sandbox, "0" * 32, 10)
    sandbox.set_faults("oss.put_object=bandwidth:1MB,oss.head=latency:300")
    started = time.monotonic()
    upload.bucket().put_object(upload.key, b"z" * 500_000)
    assert time.monotonic() - started > 0.4  # 500 kB at 1 MiB/s
    started = time.monotonic()
    upload.bucket().head_object(upload.key)
    assert time.monotonic() - started >= 0.3


def test_stopping_does_not_wait_for_a_throttled_upload(make_sandbox: Any) -> None:
    import threading

    sb = make_sandbox(faults="oss.put_object=bandwidth:100KB")
    upload = create_upload(sb, "0" * 32, 10)
    outcome: list[object] = []

    def slow_put() -> None:
        try:
            outcome.append(upload.bucket().put_object(upload.key, b"s" * 3_000_000))
        except oss2.exceptions.OssError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=slow_put, daemon=True)
    worker.start()
    wait_until(lambda: sb.stats()["oss.bytes_received"] > 0, "the throttled body to arrive")
    started = time.monotonic()
    sb.stop()
    assert time.monotonic() - started < 5.0  # 3 MB at 100 KiB/s would take 29 s
    worker.join(timeout=10)
    assert not worker.is_alive(), "the upload still ran 10 s after the sandbox stopped"
    [result] = outcome
    assert isinstance(result, oss2.exceptions.RequestError)  # cut off, not completed
