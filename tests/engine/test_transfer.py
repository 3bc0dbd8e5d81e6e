from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import oss2.exceptions
import pytest

from youku_tui.api.models import StsCredentials
from youku_tui.engine.hashing import crc64
from youku_tui.engine.limits import Bandwidth
from youku_tui.engine.transfer import (
    SliceReader,
    StsBox,
    TransferStopped,
    _parse_list_parts,
    classify,
    same_etag,
)
from youku_tui.errors import (
    OssCredentialsError,
    OssError,
    OssIntegrityError,
    OssTransientError,
    OssUploadGoneError,
)


def _server_error(status: int, code: str) -> oss2.exceptions.OssError:
    return oss2.exceptions.ServerError(status, {"x-oss-request-id": "rid"}, b"", {"Code": code})


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (403, "SecurityTokenExpired", OssCredentialsError),
        (403, "InvalidAccessKeyId", OssCredentialsError),
        (403, "InvalidSecurityToken", OssCredentialsError),
        (404, "NoSuchUpload", OssUploadGoneError),
        (400, "InvalidDigest", OssIntegrityError),
        (503, "ServiceUnavailable", OssTransientError),
        (500, "", OssTransientError),
        (429, "", OssTransientError),
        (403, "AccessDenied", OssError),
        (400, "InvalidArgument", OssError),
    ],
)
def test_oss_errors_are_classified_by_code_and_status(
    status: int, code: str, expected: type[OssError]
) -> None:
    error = classify(_server_error(status, code), "UploadPart 3")
    assert type(error) is expected
    assert error.status == status and error.code == code and error.request_id == "rid"
    assert error.message.startswith("UploadPart 3: OSS answered")


def test_connection_problems_are_transient() -> None:
    error = classify(oss2.exceptions.RequestError(ConnectionResetError("reset")), "PutObject")
    assert isinstance(error, OssTransientError)
    assert "connection problem" in error.message


def _slice(tmp_path: Path, data: bytes, **kwargs: object) -> tuple[SliceReader, list[int]]:
    path = tmp_path / "v.mp4"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    counted: list[int] = []
    defaults: dict[str, object] = {"bandwidth": Bandwidth(0), "stop": threading.Event()}
    defaults.update(kwargs)
    reader = SliceReader(fd, 100, len(data) - 200, on_bytes=counted.append, **defaults)  # type: ignore[arg-type]
    return reader, counted


def test_slice_reader_streams_its_slice_and_its_crc(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024)
    reader, counted = _slice(tmp_path, data)
    assert len(reader) == len(data) - 200
    body = b"".join(reader)
    assert body == data[100:-100]
    assert reader.crc == crc64(data[100:-100])
    assert sum(counted) == reader.sent == len(body)
    assert max(counted) <= 1024 * 1024  # chunks, never the whole part at once


def test_slice_reader_stops_mid_part(tmp_path: Path) -> None:
    stop = threading.Event()
    reader, _ = _slice(tmp_path, os.urandom(3 * 1024 * 1024), stop=stop)
    chunks = iter(reader)
    next(chunks)
    stop.set()
    with pytest.raises(TransferStopped):
        next(chunks)


def test_list_parts_parsing_with_and_without_crc() -> None:
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult><IsTruncated>true</IsTruncated><NextPartNumberMarker>2</NextPartNumberMarker>
<Part><PartNumber>1</PartNumber><ETag>"AB12"</ETag><Size>102400</Size>
<HashCrc64ecma>18446744073709551615</HashCrc64ecma></Part>
<Part><PartNumber>2</PartNumber><ETag>"CD34"</ETag><Size>5</Size></Part>
</ListPartsResult>"""
    parts, truncated, marker = _parse_list_parts(body)
    assert truncated and marker == "2"
    assert parts[1].crc64 == 2**64 - 1 and parts[1].etag == "AB12" and parts[1].size == 102400
    assert parts[2].crc64 is None
    with pytest.raises(OssTransientError, match="unreadable"):
        _parse_list_parts(b"<html>proxy error")


def test_etags_compare_without_quotes_or_case() -> None:
    assert same_etag('"ABCDEF"', "abcdef")
    assert not same_etag("abc", "abd")


def test_sts_box_hands_oss2_the_current_credentials() -> None:
    def sts(n: int) -> StsCredentials:
        return StsCredentials(
            access_key_id=f"id{n}",
            access_key_secret=f"secret{n}",
            security_token=f"token{n}",
            expire_time=datetime.now(UTC) + timedelta(hours=1),
            endpoint="oss-cn-shanghai.aliyuncs.com",
        )

    box = StsBox(sts(1))
    assert box.get_credentials().get_access_key_id() == "id1"
    box.update(sts(2))
    creds = box.get_credentials()
    assert (creds.get_access_key_id(), creds.get_security_token()) == ("id2", "token2")
    assert box.generation == 1
    assert box.sts.endpoint_url == "https://oss-cn-shanghai.aliyuncs.com"
    assert "secret" not in repr(box.sts)
