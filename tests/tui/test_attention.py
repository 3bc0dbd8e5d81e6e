"""Terminal notifications: OSC 9 / OSC 777, safe text, tmux passthrough."""

from __future__ import annotations

from youku_tui.tui.attention import clean, notification_sequence, resolve_style


def test_osc9_and_osc777() -> None:
    env = {"TERM": "xterm-256color"}
    assert notification_sequence("t", "b", "osc9", env) == "\x1b]9;t: b\x1b\\"
    assert notification_sequence("t", "b", "osc777", env) == "\x1b]777;notify;t;b\x1b\\"
    assert notification_sequence("t", "b", "bell", env) == ""


def test_auto_picks_osc777_for_vte_foot_and_urxvt_else_osc9() -> None:
    assert resolve_style("auto", {"VTE_VERSION": "7600", "TERM": "xterm-256color"}) == "osc777"
    assert resolve_style("auto", {"TERM": "foot"}) == "osc777"
    assert resolve_style("auto", {"TERM": "rxvt-unicode-256color"}) == "osc777"
    assert resolve_style("auto", {"TERM": "xterm-256color"}) == "osc9"
    assert resolve_style("osc777", {"TERM": "xterm"}) == "osc777"


def test_text_cannot_break_out_of_the_sequence() -> None:
    title = "evil\x1b]0;owned\x07;x\n"
    assert clean(title) == "evil ]0,owned ,x "
    sequence = notification_sequence(title, "a;b", "osc777", {})
    assert sequence.count("\x1b") == 2  # the opening ESC ] and the closing ST only
    assert sequence.count(";") == 3


def test_inside_tmux_the_sequence_is_wrapped_for_passthrough() -> None:
    sequence = notification_sequence("t", "b", "osc9", {"TMUX": "/tmp/tmux-1/default,1,0"})
    assert sequence == "\x1bPtmux;\x1b\x1b]9;t: b\x1b\x1b\\\x1b\\"
