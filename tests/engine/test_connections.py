"""The OSS session: socket options for every connection; BBR only where the host allows it."""

from __future__ import annotations

import logging
import socket

import pytest
from urllib3.connection import HTTPConnection

from youku_tui.engine.connections import congestion_option, oss_session


@pytest.fixture(autouse=True)
def fresh_probe() -> None:
    congestion_option.cache_clear()


def test_refused_congestion_control_changes_nothing_but_a_debug_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Refusing(socket.socket):
        def setsockopt(self, *args: object) -> None:
            raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(socket, "socket", Refusing)
    with caplog.at_level(logging.DEBUG, logger="youku_tui.engine.connections"):
        assert congestion_option() is None
        session = oss_session(4)
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
    assert "not available" in caplog.records[0].getMessage()
    adapter = session.session.get_adapter("https://oss.example.com")
    assert adapter.poolmanager.connection_pool_kw["socket_options"] == list(
        HTTPConnection.default_socket_options
    )
    congestion_option.cache_clear()


def test_allowed_congestion_control_is_asked_for_on_every_connection() -> None:
    option = congestion_option()
    if option is None:
        pytest.skip("this kernel does not let this user pick BBR")
    session = oss_session(300)
    adapter = session.session.get_adapter("http://127.0.0.1")
    kw = adapter.poolmanager.connection_pool_kw
    assert option in kw["socket_options"]
    assert (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1) in kw["socket_options"]
    assert kw["maxsize"] == 300  # idle connections kept for every part in flight
