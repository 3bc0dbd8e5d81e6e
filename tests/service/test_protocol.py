"""The service's wire format: what crosses the socket comes back as the same typed values."""

from __future__ import annotations

from youku_tui.engine.events import UploadFailed, event_from_dict
from youku_tui.engine.states import FailureKind
from youku_tui.service import protocol


def test_a_login_failure_crosses_the_socket_as_its_kind() -> None:
    event = UploadFailed(
        upload_id="u1",
        error="refused",
        error_class="TokenRevokedError",
        failure=FailureKind.NEEDS_LOGIN,
    )
    message = protocol.decode(protocol.encode({"type": "event", **event.to_dict()}))
    assert message["failure"] == "needs_login"
    del message["type"]
    received = event_from_dict(message)
    assert received == event
    assert received.failure is FailureKind.NEEDS_LOGIN  # the enum, not a bare string
