"""Property-based tests (hypothesis) of every parser of something a server or a file hands us:
each Youku answer (through the real client over a mock transport), Youku error codes, the OSS
answers the engine reads itself (ListParts XML, CRC-64 headers) and checkpoints. Whatever the
input, the result is a typed value or one of our own errors - never another exception."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from youku_tui.api.client import YoukuClient, parse_answer
from youku_tui.api.codes import error_for_code
from youku_tui.api.models import (
    CreatedUpload,
    StsCredentials,
    parse_expire_time,
    parse_expires_in,
    parse_sts,
    require_str,
)
from youku_tui.api.retry import RetryPolicy
from youku_tui.config import Credentials
from youku_tui.engine.checkpoint import Checkpoint, FileIdentity, PartRecord
from youku_tui.engine.states import UploadState
from youku_tui.engine.transfer import _header_int, _parse_list_parts
from youku_tui.errors import (
    ApiError,
    CheckpointError,
    OssTransientError,
    TransientError,
    YoukuTuiError,
)
from youku_tui.metadata import VideoMetadata

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.sampled_from(["inf", "-inf", "nan", "1e400", "", " 12 ", "2026-01-01T00:00:00Z", "0x10"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ANSWER_KEYS = (
    "video_id",
    "upload_token",
    "oss_bucket",
    "oss_object",
    "temp_access_id",
    "temp_access_secret",
    "security_token",
    "expire_time",
    "endpoint",
    "access_token",
    "refresh_token",
    "expires_in",
    "error",
)
answers = st.dictionaries(st.sampled_from(ANSWER_KEYS), json_values, max_size=len(ANSWER_KEYS))
error_objects = st.fixed_dictionaries(
    {"code": json_values, "description": json_values}, optional={"type": json_values}
)


@FAST
@given(status=st.integers(min_value=100, max_value=599), body=st.binary(max_size=300))
def test_parse_answer_on_any_bytes(status: int, body: bytes) -> None:
    try:
        result = parse_answer("/x", status, body)
    except ApiError:
        return
    assert isinstance(result, dict)


@FAST
@given(
    status=st.integers(min_value=100, max_value=599),
    doc=answers | st.builds(lambda e: {"error": e}, error_objects) | json_values,
)
def test_parse_answer_on_any_json(status: int, doc: Any) -> None:
    try:
        result = parse_answer("/x", status, json.dumps(doc).encode())
    except ApiError:
        return
    assert isinstance(result, dict) and 200 <= status < 300


@FAST
@given(code=st.integers(min_value=-(2**80), max_value=2**80), text=st.text(max_size=50))
def test_every_error_code_is_classified(code: int, text: str) -> None:
    for status in (None, 400, 503):
        error = error_for_code(code, text, http_status=status)
        assert isinstance(error, ApiError) and error.code == code


@FAST
@given(data=answers)
def test_answer_field_parsers(data: dict[str, Any]) -> None:
    for parse in (
        lambda: parse_sts(data, "call"),
        lambda: require_str(data, "video_id", "call"),
        lambda: parse_expire_time(data.get("expire_time")),
        lambda: parse_expires_in(data.get("expires_in")),
    ):
        refused = ""
        try:
            value = parse()
        except TransientError:
            continue
        except ApiError as exc:  # an unusable OSS endpoint: not worth retrying, but typed
            refused = exc.message
        if refused:
            assert "OSS endpoint" in refused
            continue
        assert isinstance(value, StsCredentials | str | datetime | int)
        if isinstance(value, int):
            assert value >= 0  # expires_in: never negative, never inf


@FAST
@given(doc=answers, status=st.sampled_from([200, 201, 400, 500, 502]))
def test_every_call_through_the_client_on_any_answer(doc: dict[str, Any], status: int) -> None:
    """The four calls, through the real client, whatever a (mock) Youku answers."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=json.dumps(doc).encode())

    async def every_call() -> None:
        client = YoukuClient(
            Credentials(client_id="cid", access_token="at", refresh_token="rt"),
            api_base="http://127.0.0.1:1",
            retry=RetryPolicy(attempts=1),
            transport=httpx.MockTransport(answer),
        )
        calls = (
            client.refresh(),
            client.create(
                file_name="a.mp4",
                file_md5="0" * 32,
                file_size=1,
                metadata=VideoMetadata(title="t", tags=("aa",)),
            ),
            client.get_sts(upload_token="u", oss_bucket="b", oss_object="o"),
            client.commit(upload_token="u"),
        )
        async with client:
            for call in calls:
                try:
                    result = await call
                except YoukuTuiError:
                    continue
                assert isinstance(result, Credentials | CreatedUpload | StsCredentials | str)

    asyncio.run(every_call())


def _list_parts_xml(parts: list[dict[str, str]], truncated: str, marker: str) -> bytes:
    rows = "".join(
        "<Part>" + "".join(f"<{k}>{v}</{k}>" for k, v in part.items()) + "</Part>" for part in parts
    )
    return (
        f"<?xml version='1.0'?><ListPartsResult><IsTruncated>{truncated}</IsTruncated>"
        f"<NextPartNumberMarker>{marker}</NextPartNumberMarker>{rows}</ListPartsResult>"
    ).encode()


xml_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=25).map(
    lambda t: t.replace("&", "&amp;").replace("<", "&lt;")
)
numbers = st.integers(min_value=-(2**70), max_value=2**70).map(str) | xml_text


@FAST
@given(
    parts=st.lists(
        st.dictionaries(
            st.sampled_from(["PartNumber", "Size", "ETag", "HashCrc64ecma", "LastModified"]),
            numbers,
        ),
        max_size=6,
    ),
    truncated=st.sampled_from(["true", "false", "TRUE", "", "maybe"]),
    marker=numbers,
)
def test_list_parts_on_any_listing(
    parts: list[dict[str, str]], truncated: str, marker: str
) -> None:
    try:
        page, more, next_marker = _parse_list_parts(_list_parts_xml(parts, truncated, marker))
    except OssTransientError:
        return
    assert isinstance(more, bool) and isinstance(next_marker, str)
    for number, part in page.items():
        assert number == part.number and isinstance(part.size, int)


@FAST
@given(body=st.binary(max_size=300))
def test_list_parts_on_any_bytes(body: bytes) -> None:
    with contextlib.suppress(OssTransientError):
        _parse_list_parts(body)


@FAST
@given(value=st.none() | st.text(max_size=30))
def test_crc_headers_on_any_text(value: str | None) -> None:
    try:
        parsed = _header_int(value, "x-oss-hash-crc64ecma")
    except OssTransientError:
        return
    assert parsed is None or parsed >= 0


# --- checkpoints ------------------------------------------------------------------------------

toml_scalars = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats()
    | st.text(max_size=20)
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = {
    "": ["schema_version", "upload_id", "state", "position", "created_at", "md5", "parts"],
    "file": ["path", "size", "mtime_ns", "inode", "path_bytes"],
    "oss": ["part_size", "multipart_upload_id", "object_crc64"],
    "youku": ["video_id", "upload_token", "endpoint"],
}


def _valid_checkpoint() -> Checkpoint:
    cp = Checkpoint(
        upload_id="u1",
        identity=FileIdentity(path="/v/clip.mp4", size=5 * 1024 * 1024, mtime_ns=1, inode=2),
        metadata=VideoMetadata(title="t", tags=("aa",)).to_record(),
        state=UploadState.UPLOADING,
        md5="a" * 32,
        part_size=1024 * 1024,
        multipart_upload_id="m",
    )
    cp.parts[1] = PartRecord(1, 1024 * 1024, "etag", 2**64 - 1)
    return cp


@FAST
@given(
    table=st.sampled_from(sorted(FIELDS)),
    data=st.data(),
    value=toml_values,
)
def test_a_checkpoint_with_any_field_spoiled(table: str, data: st.DataObject, value: Any) -> None:
    import tomllib

    import tomli_w

    doc = tomllib.loads(_valid_checkpoint().to_toml())
    key = data.draw(st.sampled_from(FIELDS[table]))
    target = doc if not table else doc[table]
    target[key] = value
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):
        return  # not representable in TOML: cannot be on disk either
    try:
        loaded = Checkpoint.from_toml(text)
    except CheckpointError:
        return
    assert loaded.size > 0 and all(n >= 1 for n in loaded.parts)


@FAST
@given(text=st.text(max_size=400))
def test_a_checkpoint_of_any_text(text: str) -> None:
    with contextlib.suppress(CheckpointError):
        Checkpoint.from_toml(text)


@FAST
@given(
    raw_name=st.binary(min_size=1, max_size=40).filter(lambda b: b"/" not in b and b"\0" not in b),
    size=st.integers(min_value=1, max_value=2**40),
    position=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_valid_checkpoints_round_trip(raw_name: bytes, size: int, position: int) -> None:
    path = os.fsdecode(b"/videos/" + raw_name)
    cp = Checkpoint(
        upload_id="u",
        identity=FileIdentity(path=path, size=size, mtime_ns=5, inode=6),
        metadata=VideoMetadata(title="t", tags=("aa",)).to_record(),
        position=position,
    )
    loaded = Checkpoint.from_toml(cp.to_toml())
    assert loaded.identity == cp.identity and Path(loaded.path) == Path(path)
    assert loaded.position == position
