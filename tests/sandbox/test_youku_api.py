"""The four API calls: parameters, field rules, tokens, duplicates and commit integrity."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from tests.sandbox.helpers import api_call, create_params, create_upload, youku_code
from youku_tui.sandbox import SANDBOX_CLIENT_ID, SandboxThread

DATA = b"video bytes " * 20_000
MD5 = hashlib.md5(DATA).hexdigest()


def create(sb: SandboxThread, **extra: str) -> httpx.Response:
    params = {**create_params(MD5, len(DATA)), **extra}
    return api_call(sb, "/uploads/create.json", **params)


def test_create_answers_201_with_sts(sandbox: SandboxThread) -> None:
    response = create(sandbox)
    assert response.status_code == 201
    body = response.json()
    for name in (
        "video_id",
        "upload_token",
        "oss_bucket",
        "oss_object",
        "temp_access_id",
        "temp_access_secret",
        "security_token",
        "expire_time",
    ):
        assert body[name]
    assert body["endpoint"] == sandbox.api_base
    assert body["expire_time"].endswith("Z")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("title", "", 120010101),
        ("title", "x" * 61, 120010102),
        ("tags", "", 120010121),
        ("tags", ",".join(f"t{n}" for n in range(11)), 120010122),
        ("tags", "ok,a", 120010124),
        ("tags", "x" * 13, 120010125),
        ("description", "d" * 2001, 120010142),
        ("copyright_type", "stolen", 1013),
        ("public_type", "secret", 1013),
        ("deshake", "2", 1013),
        ("isnew", "0", 1013),
        ("file_md5", "ABC", 1013),
        ("file_size", "0", 1013),
        ("file_size", str(10**12), 120010113),
        ("file_name", "noextension", 1013),
    ],
)
def test_field_rules(sandbox: SandboxThread, field: str, value: str, code: int) -> None:
    response = create(sandbox, **{field: value})
    assert response.status_code == 400
    assert youku_code(response) == code
    assert response.json()["error"]["type"] == "UploadsException"
    assert response.json()["error"]["description"]


def test_watch_password_rule(sandbox: SandboxThread) -> None:
    assert youku_code(create(sandbox, public_type="password")) == 120010145
    assert (
        youku_code(create(sandbox, public_type="password", watch_password="no way!")) == 120010145
    )
    assert create(sandbox, public_type="password", watch_password="abc123").status_code == 201
    assert "watch_password" not in str(sandbox.videos())


@pytest.mark.parametrize("missing", ["file_name", "file_md5", "file_size", "title", "tags"])
def test_missing_parameter(sandbox: SandboxThread, missing: str) -> None:
    params = create_params(MD5, len(DATA))
    del params[missing]
    assert youku_code(api_call(sandbox, "/uploads/create.json", **params)) == 1012


def test_client_and_token_checks(sandbox: SandboxThread) -> None:
    url = f"{sandbox.api_base}/uploads/create.json"
    params = create_params(MD5, len(DATA))
    token = sandbox.credentials.access_token
    cases: list[tuple[dict[str, str], int]] = [
        ({}, 1004),
        ({"client_id": "someone-else", "access_token": token}, 1005),
        ({"client_id": SANDBOX_CLIENT_ID}, 1007),
        ({"client_id": SANDBOX_CLIENT_ID, "access_token": "forged"}, 1008),
    ]
    for auth, code in cases:
        assert youku_code(httpx.post(url, data={**params, **auth})) == code
    assert youku_code(httpx.put(url)) == 1010  # GET is accepted, as Youku does


def test_token_expiry_and_refresh(make_sandbox: Any) -> None:
    sb = make_sandbox(token_ttl=600.0)
    old = sb.credentials
    sb.expire_access_tokens()
    assert youku_code(create(sb)) == 1009
    refresh = httpx.post(
        f"{sb.api_base}/oauth2/token.json",
        data={
            "client_id": old.client_id,
            "grant_type": "refresh_token",
            "refresh_token": old.refresh_token,
        },
    )
    assert refresh.status_code == 200
    body = refresh.json()
    assert body["expires_in"] == "600"  # a string, as the real service sends it
    assert body["token_type"] == "bearer"
    assert body["access_token"] != old.access_token
    assert sb.credentials.access_token == body["access_token"]
    assert create(sb).status_code == 201
    bad = httpx.post(
        f"{sb.api_base}/oauth2/token.json",
        data={"client_id": old.client_id, "grant_type": "refresh_token", "refresh_token": "x"},
    )
    assert youku_code(bad) == 130011207
    wrong_grant = httpx.post(
        f"{sb.api_base}/oauth2/token.json",
        data={"client_id": old.client_id, "grant_type": "password"},
    )
    assert youku_code(wrong_grant) == 130011202


def test_commit_checks_size_and_md5(sandbox: SandboxThread) -> None:
    upload = create_upload(sandbox, MD5, len(DATA))
    commit = {"upload_token": upload.upload_token}
    assert youku_code(api_call(sandbox, "/uploads/commit.json", **commit)) == 120010301
    bucket = upload.bucket()
    bucket.put_object(upload.key, DATA[:-1])
    assert youku_code(api_call(sandbox, "/uploads/commit.json", **commit)) == 120010301
    tampered = b"X" + DATA[1:]
    bucket.put_object(upload.key, tampered)
    assert youku_code(api_call(sandbox, "/uploads/commit.json", **commit)) == 12001010225
    assert sandbox.videos() == []
    bucket.put_object(upload.key, DATA)
    first = api_call(sandbox, "/uploads/commit.json", **commit)
    assert first.status_code == 200
    assert first.json()["video_id"] == upload.answer["video_id"]
    again = api_call(sandbox, "/uploads/commit.json", **commit)  # idempotent
    assert again.json() == first.json()
    assert len(sandbox.videos()) == 1
    listed = httpx.get(f"{sandbox.api_base}/sandbox/videos.json").json()
    assert listed["videos"][0]["md5"] == MD5
    assert listed["videos"][0]["size"] == len(DATA)
    # The same bytes again, by the same user: a duplicate.
    assert youku_code(create(sandbox)) == 120010111


def test_get_sts_inf_checks(sandbox: SandboxThread) -> None:
    upload = create_upload(sandbox, MD5, len(DATA))
    good = {
        "upload_token": upload.upload_token,
        "oss_bucket": upload.bucket_name,
        "oss_object": upload.key,
    }
    answer = api_call(sandbox, "/uploads/get_sts_inf.json", **good)
    assert answer.status_code == 200
    assert answer.json()["upload_token"] == upload.upload_token
    assert (
        youku_code(
            api_call(sandbox, "/uploads/get_sts_inf.json", **{**good, "upload_token": "nope"})
        )
        == 120010005
    )
    assert (
        youku_code(
            api_call(sandbox, "/uploads/get_sts_inf.json", **{**good, "oss_object": "other"})
        )
        == 1013
    )
    assert (
        youku_code(api_call(sandbox, "/uploads/get_sts_inf.json", upload_token=upload.upload_token))
        == 1012
    )
