"""The network path both clients share: whom to trust, the server's clock, OSS endpoints.

- Trust: certificate checks are always on. The CA bundle is the config's ``ca_bundle``
  (or ``YOUKU_CA_BUNDLE``), else ``SSL_CERT_FILE``, else ``REQUESTS_CA_BUNDLE``, else the
  libraries' own (certifi). httpx (the Youku API) and requests (oss2) get the same one.
- Proxies: both clients read ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY`` themselves
  (``trust_env``); nothing here turns that off.
- Clock: :class:`ServerClock` learns the servers' time from the ``Date`` header of their
  answers, so STS lifetimes and OSS signatures hold on a machine whose clock is off.
- Endpoints: production hands out ``oss-cn-shanghai.aliyuncs.com`` (no scheme: https);
  plain http is accepted for loopback hosts only (the sandbox), anything else is refused.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import re
import ssl
import threading
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from youku_tui.config import is_loopback
from youku_tui.errors import ConfigError

log = logging.getLogger(__name__)

CA_ENV_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
# A clock this far from the server's is worth a log line (OSS refuses 15 minutes).
NOTABLE_SKEW = 60.0
_HOST_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*")


# --- trust ------------------------------------------------------------------------------------


def resolve_ca_bundle(configured: str = "", environ: Mapping[str, str] | None = None) -> str:
    """The CA bundle to verify servers with; "" means the libraries' default (certifi)."""
    env = os.environ if environ is None else environ
    candidates = [("ca_bundle", configured.strip())]
    candidates += [(name, env.get(name, "").strip()) for name in CA_ENV_VARIABLES]
    for source, value in candidates:
        if not value:
            continue
        path = os.path.expanduser(value)
        if not os.path.isfile(path):
            raise ConfigError(f"{source} names {value!r}, which is not a readable file")
        return path
    return ""


def ssl_context(ca_bundle: str) -> ssl.SSLContext:
    """A verifying client context (hostname and chain checked) trusting ``ca_bundle``.

    Made once per bundle (and again when its file changes): loading a bundle costs tens of
    milliseconds of CPU (300 ms on a busy machine), and every YoukuClient asks for one.
    """
    try:
        version = os.stat(ca_bundle) if ca_bundle else None
    except OSError:
        version = None  # loading it says why, below
    key = (version.st_mtime_ns, version.st_size, version.st_ino) if version else None
    try:
        return _context_for(ca_bundle, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the CA bundle {ca_bundle!r}: {exc}") from exc


@functools.lru_cache(maxsize=8)
def _context_for(ca_bundle: str, _version: tuple[int, int, int] | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_bundle or None)


# --- the server's clock -----------------------------------------------------------------------


class ServerClock:
    """This machine's clock corrected by what the servers' ``Date`` headers say.

    ``Date`` has whole seconds and is truncated, so the server's time at that moment is about
    half a second later; offsets within a second of the known one are left alone (jitter).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._reported = 0.0

    @property
    def offset(self) -> float:
        """Seconds the server's clock is ahead of this machine's (negative: behind)."""
        with self._lock:
            return self._offset

    def now(self) -> float:
        return time.time() + self.offset

    def observe(self, date_header: str | None, received_at: float | None = None) -> None:
        if not date_header:
            return
        try:
            server = parsedate_to_datetime(date_header).timestamp() + 0.5
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        local = time.time() if received_at is None else received_at
        offset = server - local
        with self._lock:
            if abs(offset - self._offset) <= 1.0:
                return
            self._offset = offset
            notable = abs(offset) >= NOTABLE_SKEW and abs(offset - self._reported) >= 30.0
            if notable:
                self._reported = offset
        if notable:
            side = "ahead of" if offset > 0 else "behind"
            log.warning(
                "the server's clock is %.0f s %s this machine's: using the server's time for "
                "credential lifetimes and OSS signatures",
                abs(offset),
                side,
            )


# --- OSS endpoints ----------------------------------------------------------------------------


class EndpointError(ValueError):
    """An OSS endpoint the engine refuses to send bytes to."""


def oss_endpoint_url(endpoint: str) -> str:
    """The URL to reach ``endpoint`` at: https unless it is an ``http://`` loopback one."""
    text = endpoint.strip()
    if not text or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise EndpointError(f"the OSS endpoint {endpoint!r} is empty or has blanks in it")
    url = text if "://" in text else f"https://{text}"
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "[" and other broken IPv6 literals
        raise EndpointError(f"the OSS endpoint {endpoint!r} does not name a host") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise EndpointError(f"the OSS endpoint {endpoint!r} is not an https host")
    try:
        host, port = parts.hostname or "", parts.port
    except ValueError as exc:
        raise EndpointError(f"the OSS endpoint {endpoint!r} has an invalid port") from exc
    if not host or not (is_ip(host) or _HOST_RE.fullmatch(host)) or parts.username:
        raise EndpointError(f"the OSS endpoint {endpoint!r} does not name a host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise EndpointError(f"the OSS endpoint {endpoint!r} is more than a host")
    if scheme == "http" and not is_loopback(host):
        raise EndpointError(
            f"the OSS endpoint {endpoint!r} is plain http: only https is used outside loopback"
        )
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{netloc}" + (f":{port}" if port is not None else "")


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
