"""youku_tui.textsafe: what every view uses to show text from outside (issue 9, item 4)."""

from __future__ import annotations

import json

from youku_tui.textsafe import clean_for_youku, json_safe, safe_markup, safe_text, unsafe_characters

HOSTILE = "a\x07b\x1b[31mRED\x1b]0;PWNED\x07 caf\udce9 \u202eexe.mp4 旅行"


def test_safe_text_shows_every_control_as_an_escape_and_keeps_the_rest() -> None:
    shown = safe_text(HOSTILE)
    assert shown.isprintable()
    assert "\\x07" in shown and "\\x1b[31m" in shown and "\\xe9" in shown and "\\u202e" in shown
    assert "旅行" in shown
    shown.encode("utf-8")  # printable whatever the terminal's strictness


def test_safe_markup_escapes_textual_markup_too() -> None:
    from textual.content import Content

    for text, plain in [
        ("[red]x[/red] \x1b[1m", "[red]x[/red] \\x1b[1m"),
        ("[, shift+up", "[, shift+up"),  # not tag-like, yet a later tag would misparse
        ("ends in \\", "ends in \\\u200b"),  # must not escape the caller's next tag
    ]:
        assert Content.from_markup(f"[b]{safe_markup(text)}[/b]").plain == plain


def test_json_safe_makes_any_event_encodable() -> None:
    line = json_safe(json.dumps({"path": "/v/caf\udce9.mp4"}, ensure_ascii=False))
    line.encode("utf-8")
    assert json.loads(line)["path"] == "/v/caf\udce9.mp4"


def test_names_are_cleaned_and_typed_fields_refused() -> None:
    assert clean_for_youku(HOSTILE) == "ab[31mRED]0;PWNED caf\ufffd exe.mp4 旅行"
    assert unsafe_characters("line\nnext\ttab", multiline=True) == []
    assert unsafe_characters("line\nnext") == ["\\x0a"]
