"""Units shown alike by the TUI and the CLI: durations (sizes are tested with their parser)."""

from __future__ import annotations

import pytest

from youku_tui.units import format_duration


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0s"),
        (41.6, "42s"),
        (59.4, "59s"),
        (725, "12m05s"),
        (3725, "1h02m"),
        (360000, "100h00m"),
    ],
)
def test_durations_are_short_and_rounded(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown


@pytest.mark.parametrize("seconds", [None, -1.0])
def test_an_unknown_duration_is_a_dash(seconds: float | None) -> None:
    assert format_duration(seconds) == "-"
