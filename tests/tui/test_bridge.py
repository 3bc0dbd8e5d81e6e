"""The engine bridge: progress coalesced per upload, logs kept, nothing painted per event."""

from __future__ import annotations

from youku_tui.engine.events import (
    Progress,
    Retrying,
    StateChanged,
    UploadDone,
    UploadFailed,
)
from youku_tui.engine.states import FailureKind, UploadState
from youku_tui.tui.bridge import EngineBridge
from youku_tui.tui.format import progress_bar
from youku_tui.units import format_size, parse_size


def test_a_flood_of_progress_keeps_only_the_latest_per_upload() -> None:
    bridge = EngineBridge()
    for i in range(1000):
        bridge.sink(Progress(upload_id=f"u{i % 50}", phase="uploading", done=i, total=10_000))
    drained = bridge.drain()
    assert len(drained.progress) == 50
    assert drained.progress["u0"].done == 950
    assert drained.events == []
    assert not bridge.drain()  # empty until something new arrives


def test_events_are_logged_with_youku_code_and_renewals() -> None:
    bridge = EngineBridge()
    bridge.sink(StateChanged(upload_id="a", old=UploadState.QUEUED, new=UploadState.HASHING, at=0))
    bridge.sink(Retrying(upload_id="a", attempt=2, delay=1.5, error="busy", code="1002", at=0))
    bridge.sink(
        UploadFailed(
            upload_id="a",
            error="Expired upload token",
            error_class="UploadSessionGoneError",
            code="120010223",
            at=0,
        )
    )
    bridge.sink(UploadDone(upload_id="b", video_id="XNABC", at=0))
    drained = bridge.drain()
    assert len(drained.events) == 4
    log = list(bridge.log_lines("a"))
    assert log[0].endswith("queued → hashing")
    assert "retry 2 in 1.5s: busy [1002]" in log[1]
    assert "FAILED: Youku 120010223: Expired upload token" in log[2]
    assert bridge.video_ids["b"] == "XNABC"
    assert "https://v.youku.com/v_show/id_XNABC.html" in next(iter(bridge.log_lines("b")))


def test_not_logged_in_is_noticed_by_the_failure_kind_not_the_class_name() -> None:
    bridge = EngineBridge()
    bridge.sink(UploadFailed(upload_id="a", error="no", error_class="NotLoggedInError"))
    bridge.drain()
    assert not bridge.not_logged_in  # the name alone decides nothing
    bridge.sink(
        UploadFailed(
            upload_id="a",
            error="refused",
            error_class="TokenRevokedError",
            failure=FailureKind.NEEDS_LOGIN,
        )
    )
    bridge.drain()
    assert bridge.not_logged_in


def test_formatters() -> None:
    assert format_size(0) == "0 B"
    assert format_size(1536) == "1.5 KiB"
    assert parse_size("2MB") == 2 * 1024 * 1024
    assert parse_size("500k") == 500 * 1024
    assert parse_size("0") == 0
    assert progress_bar(0.5, 0, 10).text == "█████     "
    assert len(progress_bar(0.33, 0, 10).text) == 10
