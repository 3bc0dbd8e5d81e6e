"""Theme files: the shipped ones load, broken ones give a message, user ones are found."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette

from tests.tui.helpers import wait_for
from youku_tui import paths
from youku_tui.tui.themes import builtin_themes_dir, discover_themes, parse_theme

REPO = Path(__file__).resolve().parents[2]


def test_builtin_themes_load_dark_light_and_ansi() -> None:
    themes, problems = discover_themes()
    by_name = {t.name: t for t in themes}
    assert problems == []
    assert {"youku-dark", "youku-light", "youku-ansi"} <= set(by_name)
    assert by_name["youku-dark"].dark and not by_name["youku-light"].dark
    ansi = by_name["youku-ansi"]
    assert ansi.ansi
    colours = [ansi.primary, ansi.secondary, ansi.accent, ansi.error, ansi.background]
    assert all(str(c).startswith("ansi_") for c in colours)


def test_builtin_folder_is_found_and_forced_into_the_wheel() -> None:
    assert (builtin_themes_dir() / "youku-dark.toml").is_file()
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    force = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force["themes"] == "youku_tui/themes"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = 'x'\nprimary = 'nope'\n", "primary = 'nope' is not a colour"),
        ("primary = '#fff'\n", "'name' is required"),
        ("name = 'x'\nprimary = '#fff'\nsparkle = 1\n", "unknown key 'sparkle'"),
        ("name = 'x'\nprimary = '#fff'\ndark = 'yes'\n", "dark must be true or false"),
        ("name = [", "not valid TOML"),
    ],
)
def test_broken_theme_text_is_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        parse_theme(text, Path("x.toml"))


def test_user_themes_are_found_and_broken_ones_reported() -> None:
    folder = paths.user_themes_dir()
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text('name = "mine"\nprimary = "#123456"\ndark = false\n')
    (folder / "broken.toml").write_text('name = "broken"\nprimary = "purplish"\n')
    themes, problems = discover_themes()
    assert "mine" in {t.name for t in themes}
    assert [p.path.name for p in problems] == ["broken.toml"]
    assert "not a colour" in str(problems[0])


async def test_app_shows_broken_theme_as_a_message_and_keeps_running(make_app) -> None:  # type: ignore[no-untyped-def]
    folder = paths.user_themes_dir()
    folder.mkdir(parents=True)
    (folder / "broken.toml").write_text("this is not toml [")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("broken.toml" in m for m in messages)
        assert app.theme == "youku-dark"


async def test_theme_choice_is_remembered_in_the_config(make_app) -> None:  # type: ignore[no-untyped-def]
    from youku_tui.config import load_config

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = "youku-ansi"
        await pilot.pause()
        await pilot.pause()
    assert load_config().tui.theme == "youku-ansi"


async def test_palette_offers_only_youku_tui_themes(make_app) -> None:  # type: ignore[no-untyped-def]
    folder = paths.user_themes_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mine.toml").write_text('name = "mine"\nprimary = "#ff8800"\n')
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.search_themes()
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        results = app.screen.query_one(CommandList)
        gathering = "--textual-command-palette-gather-commands"  # the palette's worker group

        def gathered() -> bool:  # results shown, and no worker still adding to them
            busy = any(w.group == gathering and not w.is_finished for w in app.workers)
            return results.option_count > 0 and not busy

        await wait_for(pilot, gathered, "the palette to gather its themes")
        shown = {str(results.get_option_at_index(i).prompt) for i in range(results.option_count)}
        assert shown == {"mine", "youku-ansi", "youku-dark", "youku-light"}
        assert "textual-dark" in app.available_themes  # still usable from the config
        await pilot.press(*"light", "enter")
        await pilot.pause()
        assert app.theme == "youku-light"
