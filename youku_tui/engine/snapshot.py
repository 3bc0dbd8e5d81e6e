"""UploadSnapshot: what a view shows of one upload at one moment.

Apart from the engine (``manager.py`` re-exports it) so that views which only read, such as
``youku-tui list`` and ``status`` without a service, start without loading oss2 and httpx.
"""

from __future__ import annotations

from dataclasses import dataclass

from youku_tui.engine.states import UploadState


@dataclass(frozen=True, slots=True)
class UploadSnapshot:
    """Everything a view shows about one upload, at one moment."""

    upload_id: str
    path: str
    title: str
    size: int
    state: UploadState
    bytes_done: int = 0  # confirmed by OSS (parts answered OK); what survives a stop
    bytes_in_flight: int = 0  # sent beyond that, not yet answered
    # Its bytes wait while the bandwidth cap serves uploads earlier in the queue first.
    waiting_for_bandwidth: bool = False
    hashed: int = 0
    parts_done: int = 0
    parts_total: int = 0
    retries: int = 0
    last_error: str = ""
    last_error_code: str = ""
    video_id: str = ""
    position: int = 0  # order in the queue
    speed: float = 0.0  # bytes per second over the last seconds (hashing or uploading)
    md5: str = ""
    needs_password: bool = False  # a retry must bring the watch password (never stored)
