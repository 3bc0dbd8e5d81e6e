"""Widths in terminal cells: CJK and emoji take two, combining marks none, escapes are shown."""

from __future__ import annotations

import pytest

from youku_tui.textwidth import cells, clip, fit, fit_middle, printable


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("clip.mp4", 8),
        ("旅行.mp4", 8),  # two wide characters
        ("e\u0301te\u0301", 3),  # combining accents take no cell
        ("👨\u200d👩\u200d👧 ok", 5),  # one family emoji: one grapheme, two cells
        ("ＡＢ", 4),  # fullwidth Latin
    ],
)
def test_cells_counts_what_a_terminal_shows(text: str, width: int) -> None:
    assert cells(text) == width


@pytest.mark.parametrize("width", range(1, 14))
def test_fit_always_takes_exactly_the_width(width: int) -> None:
    for text in ("旅行旅行旅行.mp4", "plain-name.mp4", "e\u0301" * 10, "👍🏽👍🏽x"):
        fitted = fit(text, width)
        assert cells(fitted) == width, (text, fitted)
        assert cells(fit(text, width, align="right")) == width
        assert cells(fit_middle(text, width)) == width


def test_fit_cuts_with_an_ellipsis_and_never_splits_a_wide_character() -> None:
    assert fit("旅行旅行.mp4", 5) == "旅行…"
    assert fit("旅行旅行.mp4", 4) == "旅… "  # 旅 + … = 3 cells; the next 行 would need 2
    assert fit("abc", 5, align="right") == "  abc"
    assert clip("旅行", 3) == "旅"
    assert clip("e\u0301x", 1) == "e\u0301"  # the accent stays with its letter


def test_fit_middle_keeps_the_extension() -> None:
    fitted = fit_middle("旅行的第一天和第二天的视频.mp4", 16)
    assert fitted.rstrip().endswith(".mp4")
    assert "…" in fitted
    assert cells(fitted) == 16


def test_printable_escapes_what_would_act_on_the_terminal() -> None:
    hostile = "a\x07b\x1b[31mRED\x1b]0;PWNED\x07"
    shown = printable(hostile)
    assert "\x1b" not in shown and "\x07" not in shown
    assert shown == "a\\x07b\\x1b[31mRED\\x1b]0;PWNED\\x07"
    assert cells(hostile) == len(shown)  # measured as shown


def test_undecodable_bytes_show_as_the_byte_and_can_be_printed() -> None:
    name = b"caf\xe9-\xff.mp4".decode("utf-8", "surrogateescape")
    shown = printable(name)
    assert shown == "caf\\xe9-\\xff.mp4"
    shown.encode("utf-8")  # a lone surrogate would raise UnicodeEncodeError here
    assert fit(name, 8).encode("utf-8")
