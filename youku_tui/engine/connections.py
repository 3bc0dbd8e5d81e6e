"""The OSS connections: one HTTP session per engine, kept open across parts, uploads and STS
renewals (no new TCP or TLS handshake per part), with the best congestion control the host
lets this user pick.

Loss-based congestion control (CUBIC, the usual default) slows a connection down on every
random loss of a long path; BBR does not. Linux lets a process choose it for its own sockets
(``TCP_CONGESTION``) when it is in ``net.ipv4.tcp_allowed_congestion_control`` (or for root when
the module is available). We try once on a throwaway socket: where that is refused nothing
changes but a debug log line. A route that locks its congestion control still wins.
"""

from __future__ import annotations

import functools
import logging
import socket
from typing import Any

import oss2
import requests.adapters
from urllib3.connection import HTTPConnection

log = logging.getLogger(__name__)

PREFERRED_CONGESTION = "bbr"
SocketOption = tuple[int, int, int | bytes]


@functools.cache
def congestion_option(name: str = PREFERRED_CONGESTION) -> SocketOption | None:
    """The socket option that selects ``name``, or None when this user may not pick it."""
    option = getattr(socket, "TCP_CONGESTION", None)
    if option is None:
        log.debug("TCP congestion control cannot be chosen on this system")
        return None
    value = name.encode()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.IPPROTO_TCP, option, value)
    except OSError as exc:
        log.debug("TCP congestion control %s is not available to this user (%s)", name, exc)
        return None
    log.debug("OSS connections ask for TCP congestion control %s", name)
    return (socket.IPPROTO_TCP, option, value)


class _PoolAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter with extra socket options on every new connection."""

    def __init__(self, pool_size: int, socket_options: list[SocketOption]) -> None:
        self._socket_options = socket_options  # read by init_poolmanager, called below
        super().__init__(pool_connections=8, pool_maxsize=pool_size)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["socket_options"] = self._socket_options
        super().init_poolmanager(*args, **kwargs)


def oss_session(pool_size: int) -> oss2.Session:
    """A session keeping up to ``pool_size`` idle connections per host: at least the number
    of parts that may be in flight, or connections would be closed and opened again."""
    options: list[SocketOption] = list(HTTPConnection.default_socket_options)
    preferred = congestion_option()
    if preferred is not None:
        options.append(preferred)
    return oss2.Session(adapter=_PoolAdapter(pool_size, options))
