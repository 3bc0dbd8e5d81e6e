"""Upload ids: the short form people read, and unique prefixes of either form."""

from __future__ import annotations

import pytest

from youku_tui.engine.ids import new_upload_id, resolve_id, short_id
from youku_tui.errors import UnknownUploadError

BATCH = ["20261126-140000-ab12cd34", "20261126-140000-ab99ef00", "20261126-140001-77aa0011"]


def test_short_id_is_the_random_tail() -> None:
    upload_id = new_upload_id()
    assert len(short_id(upload_id)) == 8
    assert upload_id.endswith("-" + short_id(upload_id))
    assert short_id("odd") == "odd"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ab12", BATCH[0]),  # a prefix of the short form
        ("77", BATCH[2]),
        ("20261126-140001", BATCH[2]),  # a prefix of the whole id
        (BATCH[1], BATCH[1]),
        (" ab99 ", BATCH[1]),
    ],
)
def test_a_unique_prefix_names_one_upload(given: str, expected: str) -> None:
    assert resolve_id(given, BATCH) == expected


def test_an_ambiguous_or_unknown_prefix_is_refused_with_the_candidates() -> None:
    with pytest.raises(UnknownUploadError, match=r"names 2 uploads \(ab12cd34, ab99ef00\)"):
        resolve_id("ab", BATCH)
    with pytest.raises(UnknownUploadError, match="names 2 uploads"):
        resolve_id("20261126-140000", BATCH)
    with pytest.raises(UnknownUploadError, match="no upload 'zz'"):
        resolve_id("zz", BATCH)
    with pytest.raises(UnknownUploadError):
        resolve_id("", BATCH)
