"""How the engine reaches OSS: which signature, on whose clock, trusting which CAs.

- **Signature**: V4 (``OSS4-HMAC-SHA256``) with the region derived from the endpoint
  (``oss-cn-shanghai.aliyuncs.com`` and ``oss-cn-shanghai-internal.aliyuncs.com`` give
  ``cn-shanghai``; OSS refuses a wrong region and one written ``oss-cn-shanghai``). V1 only
  where no region can be derived (an IP address, an accelerate endpoint), with a log line:
  Aliyun retires V1 (no new buckets since September 2025).
- **Clock**: oss2 signs with this machine's clock; ours sign with the servers' (learned from
  their ``Date`` headers), so a clock that is off by more than OSS's 15 minutes still works.
- **Trust**: requests lets ``REQUESTS_CA_BUNDLE`` override a session's CA bundle; ours is the
  one :func:`youku_tui.net.resolve_ca_bundle` chose, always verified. Proxies still come from
  the environment (``HTTPS_PROXY``, ``NO_PROXY``).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

import oss2
import oss2.exceptions
import requests

from youku_tui.net import ServerClock, is_ip

log = logging.getLogger(__name__)

_REGION_LABEL = re.compile(r"oss-(?P<region>[a-z0-9]+(?:-[a-z0-9]+)*?)(?:-internal)?")
_NOT_REGIONS = frozenset({"accelerate", "accelerate-overseas"})
_v1_logged: set[str] = set()
_v1_lock = threading.Lock()


@dataclass(frozen=True)
class OssAccess:
    """What every OSS connection of a process shares (the API client's, see YoukuClient)."""

    ca_bundle: str = ""  # "" = the libraries' default store
    clock: ServerClock = field(default_factory=ServerClock)


def region_of(endpoint_url: str) -> str | None:
    """The V4 signing region an endpoint names, or None when it names none."""
    host = (urlsplit(endpoint_url).hostname or "").lower()
    if is_ip(host):
        return None
    for label in host.split("."):
        match = _REGION_LABEL.fullmatch(label)
        if match and match.group("region") not in _NOT_REGIONS:
            return match.group("region")
    return None


# oss2 internals, reached through oss2_internal and nowhere else; each has no public way:
# - signing on another clock: oss2 (2.19) signs with this machine's - ProviderAuthV4 reads
#   datetime.utcnow(), ProviderAuth utils.http_date() - and cannot be given a time (its issue
#   228, open since 2020; people patch oss2.auth.time for every thread). The signers below
#   override the hook oss2.Bucket calls (``_sign_request``) and reuse oss2's canonicalisation
#   through its name-mangled helpers.
# - ListParts with each part's CRC-64: Bucket.list_parts's parser drops ``HashCrc64ecma``, and
#   only Bucket._do signs a request and hands back the raw answer (sign_url signs on this
#   machine's clock).
# tests/engine/test_oss2_internals.py fails the day an oss2 upgrade renames or changes them.
OSS2_INTERNALS: tuple[tuple[type, str], ...] = (
    (oss2.ProviderAuthV4, "__get_additional_signed_headers"),
    (oss2.ProviderAuthV4, "__get_scope"),
    (oss2.ProviderAuthV4, "__make_signature"),
    (oss2.ProviderAuth, "__make_signature"),
    (oss2.Bucket, "_do"),
)


def oss2_internal(obj: object, owner: type, name: str) -> Callable[..., Any]:
    """oss2's private ``owner.name`` (as oss2's source spells it) bound to ``obj``; only the
    ones listed in OSS2_INTERNALS, so the test of them covers every use."""
    if (owner, name) not in OSS2_INTERNALS:
        raise AssertionError(f"{owner.__name__}.{name} is not in OSS2_INTERNALS")
    attribute = f"_{owner.__name__}{name}" if name.startswith("__") else name
    helper: Callable[..., Any] = getattr(obj, attribute)
    return helper


class ClockedAuthV4(oss2.ProviderAuthV4):  # type: ignore[misc]
    """oss2's V4 signer with the server's clock in ``x-oss-date`` (oss2 reads utcnow())."""

    def __init__(self, provider: Any, clock: ServerClock) -> None:
        super().__init__(provider)
        self._clock = clock

    def _sign_request(
        self, req: Any, bucket_name: str, key: str, in_additional_headers: Any = None
    ) -> None:
        if req.region is None:
            raise oss2.exceptions.ClientError("The region must be set to sign V4.")
        credentials = self.credentials_provider.get_credentials()
        if credentials.get_security_token():
            req.headers[oss2.headers.OSS_SECURITY_TOKEN] = credentials.get_security_token()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self._clock.now()))
        req.headers["x-oss-date"] = stamp
        req.headers["x-oss-content-sha256"] = "UNSIGNED-PAYLOAD"
        v4 = oss2.ProviderAuthV4
        additional = oss2_internal(self, v4, "__get_additional_signed_headers")(
            in_additional_headers
        )
        scope = oss2_internal(self, v4, "__get_scope")(stamp[:8], req)
        signature = oss2_internal(self, v4, "__make_signature")(
            req, bucket_name, key, additional, credentials, stamp
        )
        authorization = (
            f"OSS4-HMAC-SHA256 Credential={credentials.get_access_key_id()}/{scope}, "
            f"Signature={signature}"
        )
        if additional:
            authorization += f", AdditionalHeaders={';'.join(additional)}"
        req.headers["authorization"] = authorization


class ClockedAuthV1(oss2.ProviderAuth):  # type: ignore[misc]
    """oss2's V1 signer with the server's clock in ``Date``."""

    def __init__(self, provider: Any, clock: ServerClock) -> None:
        super().__init__(provider)
        self._clock = clock

    def _sign_request(self, req: Any, bucket_name: str, key: str) -> None:
        credentials = self.credentials_provider.get_credentials()
        if credentials.get_security_token():
            req.headers[oss2.headers.OSS_SECURITY_TOKEN] = credentials.get_security_token()
        req.headers["date"] = formatdate(self._clock.now(), usegmt=True)
        make_signature = oss2_internal(self, oss2.ProviderAuth, "__make_signature")
        signature = make_signature(req, bucket_name, key, credentials)
        req.headers["authorization"] = f"OSS {credentials.get_access_key_id()}:{signature}"


def signer_for(provider: Any, endpoint_url: str, clock: ServerClock) -> tuple[Any, str | None]:
    """(auth, region) for an endpoint: V4 when its region is known, else V1 (logged once)."""
    region = region_of(endpoint_url)
    if region is not None:
        return ClockedAuthV4(provider, clock), region
    with _v1_lock:
        first = endpoint_url not in _v1_logged
        _v1_logged.add(endpoint_url)
    if first:
        log.info(
            "OSS endpoint %s names no region (no oss-REGION label): signing V1, because V4 "
            "needs the region; buckets created since September 2025 refuse V1",
            endpoint_url,
        )
    return ClockedAuthV1(provider, clock), None


class _TrustingSession(requests.Session):
    """A requests session whose CA bundle the environment cannot replace (requests lets
    ``REQUESTS_CA_BUNDLE`` win over ``Session.verify``); verification is never off."""

    def __init__(self, ca_bundle: str) -> None:
        super().__init__()
        self.verify = ca_bundle or True

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        settings["verify"] = self.verify
        return settings


def verifying(session: oss2.Session, access: OssAccess) -> oss2.Session:
    """``session`` (its adapters and pools kept) verifying with ``access.ca_bundle``; every
    answer's ``Date`` teaches ``access.clock`` the server's time (also the answers that
    refuse a skewed request)."""
    trusting = _TrustingSession(access.ca_bundle)
    for prefix, adapter in session.session.adapters.items():
        trusting.mount(prefix, adapter)
    clock = access.clock

    def learn_date(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        clock.observe(response.headers.get("Date"))

    trusting.hooks["response"].append(learn_date)
    session.session = trusting
    return session
