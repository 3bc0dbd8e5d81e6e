"""Shared fixtures. Every test runs with its own XDG folders: no test touches ~."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from youku_tui.sandbox import SandboxThread

CA_VARIABLES = ("YOUKU_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        folder = home / sub
        folder.mkdir(parents=True)
        monkeypatch.setenv(var, str(folder))
    monkeypatch.setenv("HOME", str(home))
    for var in ("YOUKU_API_BASE", "YOUKU_CLIENT_ID", "YOUKU_ACCESS_TOKEN", "YOUKU_REFRESH_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    # The machine's CA bundle and proxy settings must not decide what a test sees; the tests
    # of those paths set them themselves.
    for var in (*CA_VARIABLES, *PROXY_VARIABLES):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.lower(), raising=False)
    return home


# --- sandbox (youku_tui.sandbox) --------------------------------------------------------------
# `sandbox`: a running SandboxThread with its data under tmp (starts in well under 100 ms).
# `make_sandbox(**options)`: more of them with custom sts_ttl/token_ttl/faults/seed/data_dir;
# all are stopped when the test ends.


@pytest.fixture
def make_sandbox(tmp_path: Path) -> Iterator[Callable[..., SandboxThread]]:
    started: list[SandboxThread] = []

    def make(**options: object) -> SandboxThread:
        options.setdefault("data_dir", tmp_path / f"sandbox-{len(started)}")
        thread = SandboxThread(**options)  # type: ignore[arg-type]
        thread.start()
        started.append(thread)
        return thread

    yield make
    for thread in reversed(started):
        thread.stop()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., SandboxThread]) -> SandboxThread:
    return make_sandbox()
