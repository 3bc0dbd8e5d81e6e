"""The service's wire format: JSON lines over a Unix stream socket (see docs/protocol.md).

Every message is one JSON object on one line, UTF-8, ending in ``\\n``. The service speaks
first (``hello``, then ``snapshot``), then sends ``event`` messages and ``reply`` messages;
a client sends ``hello`` once, then ``request`` messages. Nothing here touches a socket:
the server and the client (``server.py``, ``remote.py``) share these encoders.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from youku_tui.config import Credentials, EngineSettings
from youku_tui.engine.manager import CheckpointProblem, UploadSnapshot
from youku_tui.engine.states import UploadState
from youku_tui.errors import YoukuTuiError
from youku_tui.service.control import OwnerInfo

VERSION = 2  # 2: `failed` events carry `failure`; see docs/protocol.md
MAX_LINE = 1024 * 1024  # a longer line is a broken peer: the connection is closed

# Requests a client may send; "args" holds their keyword arguments.
COMMANDS = frozenset(
    {
        "add",
        "resume_unfinished",
        "cancel",
        "wait_idle",
        "pause",
        "resume",
        "retry",
        "move",
        "remove",
        "pause_all",
        "resume_all",
        "set_limits",
        "log_in",
        "snapshot",
        "stop",
    }
)


class ProtocolError(YoukuTuiError):
    """The other side sent something this version does not understand."""


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not a JSON line: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("a message must be a JSON object with a 'type'")
    return message


# --- values --------------------------------------------------------------------------------


def snapshot_to_dict(snap: UploadSnapshot) -> dict[str, Any]:
    data = dataclasses.asdict(snap)
    data["state"] = str(snap.state)
    return data


def snapshot_from_dict(data: dict[str, Any]) -> UploadSnapshot:
    known = {f.name for f in dataclasses.fields(UploadSnapshot)}
    values = {k: v for k, v in data.items() if k in known}
    values["state"] = UploadState(values["state"])
    return UploadSnapshot(**values)


def limits_to_dict(settings: EngineSettings) -> dict[str, Any]:
    return dataclasses.asdict(settings)


def limits_from_dict(data: dict[str, Any]) -> EngineSettings:
    known = {f.name for f in dataclasses.fields(EngineSettings)}
    return EngineSettings(**{k: v for k, v in data.items() if k in known})


def owner_to_dict(owner: OwnerInfo) -> dict[str, Any]:
    return dataclasses.asdict(owner)


def owner_from_dict(data: dict[str, Any]) -> OwnerInfo:
    return OwnerInfo(
        pid=int(data["pid"]),
        in_service=bool(data["in_service"]),
        sandbox=bool(data["sandbox"]),
        state_dir=str(data["state_dir"]),
    )


def problem_to_dict(problem: CheckpointProblem) -> dict[str, str]:
    return {"path": str(problem.path), "message": problem.message}


def credentials_to_dict(credentials: Credentials) -> dict[str, Any]:
    return dataclasses.asdict(credentials)


def credentials_from_dict(data: dict[str, Any]) -> Credentials:
    return Credentials(
        client_id=str(data.get("client_id", "")),
        access_token=str(data.get("access_token", "")),
        refresh_token=str(data.get("refresh_token", "")),
        expires_at=float(data.get("expires_at", 0.0)),
    )
