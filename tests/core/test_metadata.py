from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from youku_tui.errors import MetadataError
from youku_tui.metadata import (
    PublicType,
    VideoMetadata,
    batch_metadata,
    check_metadata,
    render_title,
    split_tags,
    validate_metadata,
)


def meta(**kw: object) -> VideoMetadata:
    base: dict[str, object] = {"title": "Hello", "tags": ("ab", "cd")}
    base.update(kw)
    return VideoMetadata(**base)  # type: ignore[arg-type]


def fields_of(m: VideoMetadata) -> list[str]:
    return [p.field for p in check_metadata(m) if p.severity == "error"]


def test_valid_metadata_has_no_problems() -> None:
    assert check_metadata(meta()) == []


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 61}, "title"),
        ({"tags": ()}, "tags"),
        ({"tags": tuple(f"t{i:02d}" for i in range(11))}, "tags"),
        ({"tags": ("a",)}, "tags"),
        ({"tags": ("x" * 13,)}, "tags"),
        ({"description": "d" * 2001}, "description"),
        ({"public_type": PublicType.PASSWORD}, "watch_password"),
        ({"public_type": PublicType.PASSWORD, "watch_password": "has space"}, "watch_password"),
        ({"public_type": PublicType.PASSWORD, "watch_password": "a" * 33}, "watch_password"),
    ],
)
def test_each_rule_names_its_field(kw: dict[str, object], field: str) -> None:
    assert fields_of(meta(**kw)) == [field]


def test_limits_are_inclusive_and_cjk_counts_as_one() -> None:
    assert fields_of(meta(title="视" * 60, tags=("ab", "x" * 12))) == []
    assert fields_of(meta(tags=tuple(f"t{i:02d}" for i in range(10)))) == []
    assert fields_of(meta(public_type=PublicType.PASSWORD, watch_password="A1" * 16)) == []


def test_long_description_warns_but_passes() -> None:
    problems = validate_metadata(meta(description="d" * 300))
    assert [(p.field, p.severity) for p in problems] == [("description", "warning")]


def test_validate_raises_with_every_problem() -> None:
    with pytest.raises(MetadataError) as info:
        validate_metadata(meta(title="", tags=()))
    assert [p.field for p in info.value.problems] == ["title", "tags"]
    assert "title: is required" in str(info.value)


def test_password_only_sent_for_password_visibility() -> None:
    assert "watch_password" not in meta(watch_password="abc").form_params()
    params = meta(public_type=PublicType.PASSWORD, watch_password="abc1").form_params()
    assert params["watch_password"] == "abc1"
    assert params["public_type"] == "password"


def test_record_round_trip_drops_the_password() -> None:
    original = meta(public_type=PublicType.PASSWORD, watch_password="secret1", description="d")
    record = original.to_record()
    assert "watch_password" not in record
    assert "secret1" not in repr(record) and "secret1" not in repr(original)
    assert VideoMetadata.from_record(record, watch_password="secret1") == original


def test_split_tags_handles_fullwidth_commas_and_duplicates() -> None:
    assert split_tags(" 旅行，vlog , vlog,,猫 ") == ("旅行", "vlog", "猫")


def test_title_templates() -> None:
    path = Path("/v/holiday clip.mp4")
    day = date(2026, 11, 25)
    assert render_title("{stem} #{index} {date}", path, 3, day) == "holiday clip #3 2026-11-25"
    assert render_title("{name} {{literal}}", path, 1, day) == "holiday clip.mp4 {literal}"
    with pytest.raises(MetadataError, match="unknown placeholder"):
        render_title("{nope}", path, 1, day)
    with pytest.raises(MetadataError, match="title"):
        render_title("{stem", path, 1, day)


def test_batch_reports_per_file_problems() -> None:
    paths = [Path("/v/ok.mp4"), Path("/v/" + "x" * 70 + ".mp4"), Path("/v/noext")]
    with pytest.raises(MetadataError) as info:
        batch_metadata(meta(title="{stem}"), paths)
    messages = [str(p) for p in info.value.problems]
    assert any("title" in m and "x" * 10 in m for m in messages)
    assert any(m.startswith("file:") and "noext" in m for m in messages)
    titles = [m.title for m in batch_metadata(meta(title="Clip {index}"), paths[:1])]
    assert titles == ["Clip 1"]


def test_category_is_sent_only_when_chosen() -> None:
    from youku_tui.metadata import VideoMetadata

    assert "category" not in VideoMetadata(title="t", tags=("ab",)).form_params()
    chosen = VideoMetadata(title="t", tags=("ab",), category="Others").form_params()
    assert chosen["category"] == "Others"
