"""The views subscribed to an owner: both owners (in process, remote) fan events out alike."""

from __future__ import annotations

import pytest

from youku_tui.engine.events import EngineEvent, UploadLog
from youku_tui.service.control import Subscribers


def test_every_view_gets_every_event_and_a_broken_one_starves_nobody(
    caplog: pytest.LogCaptureFixture,
) -> None:
    subscribers = Subscribers()
    seen: list[EngineEvent] = []

    def broken(event: EngineEvent) -> None:
        raise RuntimeError("a view's bug")

    subscribers.add(broken)
    subscribers.add(seen.append)
    event = UploadLog(upload_id="u1", level="info", message="hello")
    subscribers(event)
    assert seen == [event]
    assert "subscriber" in caplog.text and "a view's bug" in caplog.text
    subscribers.remove(broken)
    subscribers.remove(broken)  # twice: a view that leaves twice is not an error
    subscribers(event)
    assert seen == [event, event]


def test_a_view_that_leaves_while_events_are_delivered_gets_no_more() -> None:
    subscribers = Subscribers()
    seen: list[str] = []

    def leaving(event: EngineEvent) -> None:
        seen.append("leaving")
        subscribers.remove(leaving)

    subscribers.add(leaving)
    subscribers.add(lambda event: seen.append("staying"))
    event = UploadLog(upload_id="u1", level="info", message="hello")
    subscribers(event)
    subscribers(event)
    assert seen == ["leaving", "staying", "staying"]
