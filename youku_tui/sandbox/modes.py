"""The production paths the sandbox can reproduce, each off by default, all usable together.

The plain sandbox is the easiest server a client could meet: ``http://`` on an IP address,
any V4 region, the client's own clock, every OSS action granted. Real users meet harder
ones; each mode below brings one of them to loopback.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

STRICT_POLICY_ROUTES = frozenset(
    {"oss.put_object", "oss.initiate", "oss.upload_part", "oss.complete"}
)


@dataclass(frozen=True, slots=True)
class Modes:
    # HTTPS with a CA generated into the data folder; OSS endpoints handed out without a scheme.
    tls: bool = False
    # Host name the OSS endpoint names; clients then put the bucket in front of it
    # (virtual-hosted buckets). Empty: the listening address (path-style requests).
    oss_host: str = ""
    # The region V4 requests must sign for (OSS's real error codes for another one).
    region: str = ""
    # V1 signatures refused, as OSS does for buckets created since September 2025.
    refuse_v1: bool = False
    # Seconds the sandbox's clock is ahead of this machine's (negative: behind). Its Date
    # headers, STS expiry and OSS's 15-minute RequestTimeTooSkewed rule all use it.
    clock_offset: float = 0.0
    # STS grants allow PutObject and the multipart upload calls only (no ListParts,
    # HeadObject, GetObject, AbortMultipartUpload, ListMultipartUploads).
    strict_policy: bool = False
    # API errors as url-encoded text (``error[code]=1009&...``) instead of JSON.
    urlencoded_errors: bool = False
    # A repeated commit answers 120010151 (session gone) instead of the same video_id.
    commit_once: bool = False

    def now(self) -> float:
        """The sandbox's clock."""
        return time.time() + self.clock_offset


PLAIN = Modes()  # the easy server every test used to meet
