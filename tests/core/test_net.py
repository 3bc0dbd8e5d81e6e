"""The network path's rules: endpoints, CA bundles, the server's clock, error bodies."""

from __future__ import annotations

import time
from email.utils import formatdate
from pathlib import Path

import certifi
import pytest

from youku_tui.api.client import parse_answer
from youku_tui.api.models import parse_expires_in, parse_sts
from youku_tui.errors import ApiError, ConfigError, TokenExpiredError, TransientError
from youku_tui.net import (
    EndpointError,
    ServerClock,
    oss_endpoint_url,
    resolve_ca_bundle,
    ssl_context,
)


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("oss-cn-shanghai.aliyuncs.com", "https://oss-cn-shanghai.aliyuncs.com"),
        (
            "oss-cn-shanghai-internal.aliyuncs.com:443",
            "https://oss-cn-shanghai-internal.aliyuncs.com:443",
        ),
        ("https://oss-cn-beijing.aliyuncs.com/", "https://oss-cn-beijing.aliyuncs.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://oss-cn-sandbox.localhost:9", "http://oss-cn-sandbox.localhost:9"),
    ],
)
def test_usable_endpoints(endpoint: str, url: str) -> None:
    assert oss_endpoint_url(endpoint) == url


@pytest.mark.parametrize(
    "endpoint",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://oss-cn-shanghai.aliyuncs.com",  # production must use TLS
        "ftp://oss.example.com",
        "https://user@oss.example.com",
        "oss.example.com/path",
        "oss example.com",
        "",
        "https://",
        "[",
        "[]",
    ],
)
def test_unusable_endpoints_are_refused_with_a_clear_error(endpoint: str) -> None:
    with pytest.raises(EndpointError):
        oss_endpoint_url(endpoint)
    answer = {
        "endpoint": endpoint or " ",
        "temp_access_id": "a",
        "temp_access_secret": "b",
        "security_token": "c",
        "expire_time": "2030-01-01T00:00:00Z",
    }
    with pytest.raises(ApiError) as info:
        parse_sts(answer, "uploads/create")
    assert not isinstance(info.value, TransientError)  # the same server would say the same
    assert "uploads/create" in info.value.message


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", -5, "x"])
def test_impossible_expires_in_is_a_clear_transient_error(value: object) -> None:
    with pytest.raises(TransientError, match="expires_in"):
        parse_expires_in(value)


def test_ca_bundle_precedence(tmp_path: Path) -> None:
    mine, system, requests_one = (tmp_path / n for n in ("mine.pem", "sys.pem", "req.pem"))
    for path in (mine, system, requests_one):
        path.write_text("x")
    env = {"SSL_CERT_FILE": str(system), "REQUESTS_CA_BUNDLE": str(requests_one)}
    assert resolve_ca_bundle(str(mine), env) == str(mine)
    assert resolve_ca_bundle("", env) == str(system)
    assert resolve_ca_bundle("", {"REQUESTS_CA_BUNDLE": str(requests_one)}) == str(requests_one)
    assert resolve_ca_bundle("", {}) == ""
    with pytest.raises(ConfigError, match="ca_bundle"):
        resolve_ca_bundle(str(tmp_path / "missing.pem"), env)


def test_one_ssl_context_per_bundle_made_again_when_the_file_changes(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text(Path(certifi.where()).read_text())
    first = ssl_context(str(bundle))
    assert ssl_context(str(bundle)) is first  # loading a bundle is costly: once
    assert first.cert_store_stats()["x509_ca"] > 100
    one_ca = Path(certifi.where()).read_text().split("-----END CERTIFICATE-----")[0]
    bundle.write_text(one_ca + "-----END CERTIFICATE-----\n")  # the user edits the bundle
    again = ssl_context(str(bundle))
    assert again is not first and again.cert_store_stats()["x509_ca"] == 1
    bundle.write_text("not a certificate")
    with pytest.raises(ConfigError, match="cannot load the CA bundle"):
        ssl_context(str(bundle))


def test_server_clock_learns_the_offset_from_date_headers() -> None:
    clock = ServerClock()
    now = time.time()
    clock.observe(formatdate(now + 1800, usegmt=True), received_at=now)
    assert 1799 < clock.offset < 1801
    assert 1799 < clock.now() - time.time() < 1801
    clock.observe("not a date")
    clock.observe(None)
    assert 1799 < clock.offset < 1801


@pytest.mark.parametrize(
    "body",
    [
        b"error%5Bcode%5D=1009&error%5Btype%5D=UploadsException&error%5Bdescription%5D=Expired",
        b"error_code=1009&error_description=Expired",
        b"code=1009&description=Expired",
    ],
)
def test_url_encoded_errors_are_understood(body: bytes) -> None:
    with pytest.raises(TokenExpiredError):
        parse_answer("/uploads/create.json", 400, body)


def test_html_is_still_garbage() -> None:
    with pytest.raises(TransientError):
        parse_answer("/uploads/create.json", 502, b"<html><body>code=1009</body></html>")
