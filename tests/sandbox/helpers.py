"""Shared helpers for the sandbox tests: API calls over httpx and oss2 buckets from STS."""

from __future__ import annotations

import hashlib
import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import oss2

from youku_tui.sandbox import SandboxThread


def make_file(path: Path, size: int, seed: int = 0) -> str:
    """Write ``size`` pseudo-random bytes (deterministic per seed); return their MD5."""
    digest = hashlib.md5()
    block = hashlib.sha256(str(seed).encode()).digest() * 32768  # 1 MiB pattern
    # Vary each MiB so misplaced parts cannot go unnoticed.
    with path.open("wb") as out:
        written = 0
        index = 0
        while written < size:
            chunk = (index.to_bytes(8, "big") + block)[: min(len(block), size - written)]
            out.write(chunk)
            digest.update(chunk)
            written += len(chunk)
            index += 1
    return digest.hexdigest()


def random_bytes(size: int) -> bytes:
    return os.urandom(size)


def api_call(sb: SandboxThread, path: str, **params: str) -> httpx.Response:
    creds = sb.credentials
    form = {"client_id": creds.client_id, "access_token": creds.access_token, **params}
    return httpx.post(f"{sb.api_base}{path}", data=form, timeout=30)


def create_params(file_md5: str, file_size: int, **extra: str) -> dict[str, str]:
    params = {
        "file_name": "clip.mp4",
        "file_md5": file_md5,
        "file_size": str(file_size),
        "title": "A sandbox video",
        "tags": "sandbox,test",
        "isnew": "1",
    }
    params.update(extra)
    return params


@dataclass
class Upload:
    answer: dict[str, Any]

    @property
    def bucket_name(self) -> str:
        return str(self.answer["oss_bucket"])

    @property
    def key(self) -> str:
        return str(self.answer["oss_object"])

    @property
    def upload_token(self) -> str:
        return str(self.answer["upload_token"])

    def auth(self, **override: str) -> oss2.StsAuth:
        return oss2.StsAuth(
            override.get("temp_access_id", self.answer["temp_access_id"]),
            override.get("temp_access_secret", self.answer["temp_access_secret"]),
            override.get("security_token", self.answer["security_token"]),
        )

    def bucket(self, bucket_name: str | None = None, **override: str) -> oss2.Bucket:
        return oss2.Bucket(
            self.auth(**override), self.answer["endpoint"], bucket_name or self.bucket_name
        )


def create_upload(sb: SandboxThread, file_md5: str, file_size: int, **extra: str) -> Upload:
    response = api_call(sb, "/uploads/create.json", **create_params(file_md5, file_size, **extra))
    assert response.status_code == 201, response.text
    return Upload(response.json())


def youku_code(response: httpx.Response) -> int:
    assert response.status_code >= 400, response.text
    return int(response.json()["error"]["code"])


def start_process(data_dir: Path, *extra: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "youku_tui",
            "sandbox",
            "--print-env",
            "--data",
            str(data_dir),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    env: dict[str, str] = {}
    for line in proc.stdout:  # the export lines, then EOF: the sandbox detaches its stdout
        assert line.startswith("export "), line
        name, _eq, value = line[len("export ") :].strip().partition("=")
        env[name] = shlex.split(value)[0]
    assert env, proc.communicate()
    return proc, env


_real_getaddrinfo = socket.getaddrinfo


def loopback_resolver(suffix: str) -> Callable[..., Any]:
    """A ``socket.getaddrinfo`` that sends every host name ending in ``suffix`` to 127.0.0.1.

    The resolver hook of the TLS / virtual-host tests: host names such as
    ``yk-source-upload.oss-cn-sandbox.localhost`` reach the sandbox without touching
    /etc/hosts or DNS, and TLS still checks the certificate against the name.
    """

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and name.rstrip(".").endswith(suffix):
            host = "127.0.0.1"
        return _real_getaddrinfo(host, *args, **kwargs)

    return resolve


def install_loopback_resolver(suffix: str) -> None:
    """For subprocesses (``python -c``): patch the resolver for the whole process."""
    socket.getaddrinfo = loopback_resolver(suffix)
