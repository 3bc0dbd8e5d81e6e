"""Theme files: one TOML file per Textual theme, built in and in the user's config folder.

Textual has no theme-file loader, so each file holds the fields of :class:`textual.theme.Theme`
(plus a ``[variables]`` table). A file that is broken yields a :class:`ThemeProblem` for the
app to show; it never stops the app.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.theme import Theme

import youku_tui
from youku_tui import paths

DEFAULT_THEME = "youku-dark"
_COLOUR_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_KNOWN_FIELDS = {f.name for f in fields(Theme)}


@dataclass(frozen=True, slots=True)
class ThemeProblem:
    path: Path
    message: str

    def __str__(self) -> str:
        return f"theme {self.path.name}: {self.message}"


def builtin_themes_dir() -> Path:
    """The shipped themes: inside the installed package, or the repo's ``themes/`` folder."""
    packaged = Path(youku_tui.__file__).parent / "themes"
    if packaged.is_dir():
        return packaged
    return Path(youku_tui.__file__).parent.parent / "themes"


def _check_colour(value: str) -> bool:
    if value.startswith("ansi_"):
        return True  # Textual resolves ANSI names itself (see its built-in ansi-* themes)
    try:
        Color.parse(value)
    except ColorParseError:
        return False
    return True


def parse_theme(text: str, source: Path) -> Theme:
    """Build a Theme from TOML text; raise ValueError with a message that names the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - _KNOWN_FIELDS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("'name' is required")
    if not isinstance(data.get("primary"), str):
        raise ValueError("'primary' colour is required")
    for key in _COLOUR_FIELDS:
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not _check_colour(value):
            raise ValueError(f"{key} = {value!r} is not a colour")
    for key in ("dark", "ansi"):
        if key in data and not isinstance(data[key], bool):
            raise ValueError(f"{key} must be true or false")
    for key in ("luminosity_spread", "text_alpha"):
        if key in data and not isinstance(data[key], int | float):
            raise ValueError(f"{key} must be a number")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise ValueError("[variables] must map names to strings")
    return Theme(**data)


def load_theme_file(path: Path) -> Theme:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read: {exc.strerror}") from exc
    return parse_theme(text, path)


def discover_themes(
    extra_dirs: list[Path] | None = None,
) -> tuple[list[Theme], list[ThemeProblem]]:
    """Built-in themes first, then the user's (a user file may override a built-in name)."""
    folders = [builtin_themes_dir(), paths.user_themes_dir(), *(extra_dirs or [])]
    themes: dict[str, Theme] = {}
    problems: list[ThemeProblem] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ValueError as exc:
                problems.append(ThemeProblem(path, str(exc)))
                continue
            themes[theme.name] = theme
    return list(themes.values()), problems


class OwnThemesProvider(Provider):
    """The palette's theme chooser, limited to youku-tui's themes (built-in and the user's).

    Textual's own themes stay registered (a config may name one) but are not offered: their
    colours were not checked against the dashboard's states and bars.
    """

    @property
    def commands(self) -> list[tuple[str, Callable[[], None]]]:
        names: list[str] = sorted(getattr(self.app, "own_theme_names", ()))

        def use(name: str) -> None:
            self.app.theme = name

        return [(name, partial(use, name)) for name in names]

    async def discover(self) -> Hits:
        for name, callback in self.commands:
            yield DiscoveryHit(name, callback)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback in self.commands:
            if (score := matcher.match(name)) > 0:
                yield Hit(score, matcher.highlight(name), callback)
