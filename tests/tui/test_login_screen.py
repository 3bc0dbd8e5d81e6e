"""The login screen saves the login the user typed, not the environment's overrides."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from youku_tui import paths
from youku_tui.config import Credentials, load_config
from youku_tui.tui.launch import LoginApp
from youku_tui.tui.screens.login import LoginResult

USER_FILE = """\
# my settings
[youku]
api_base = "https://api.youku.com"

[engine]
max_uploads = 2
"""


async def test_saving_a_login_writes_the_login_but_not_the_environments_api_base(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(USER_FILE)
    before = load_config(use_env=False)
    monkeypatch.setenv("YOUKU_API_BASE", "http://127.0.0.1:9")
    monkeypatch.setenv("YOUKU_CA_BUNDLE", str(tmp_path / "env-ca.pem"))
    monkeypatch.setenv("YOUKU_ACCESS_TOKEN", "env-token")
    app = LoginApp(load_config(), "")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"cid", "tab", *"AT-typed", "ctrl+s")
        await pilot.pause()
    result = app.return_value
    assert isinstance(result, LoginResult)
    assert result.config.api_base == "http://127.0.0.1:9"  # this run still uses the env's
    text = path.read_text()
    assert "127.0.0.1:9" not in text and "env-ca.pem" not in text and "env-token" not in text
    assert text.startswith("# my settings\n[youku]\n")  # the user's lines, untouched
    typed = Credentials(client_id="cid", access_token="AT-typed")
    assert load_config(use_env=False) == replace(before, credentials=typed)


async def test_an_api_base_the_user_typed_is_saved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOUKU_API_BASE", "http://127.0.0.1:9")
    app = LoginApp(load_config(), "")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"cid", "tab", *"AT", "tab", "tab", "ctrl+u", *"http://[::1]:8", "ctrl+s")
        await pilot.pause()
    assert isinstance(app.return_value, LoginResult)
    assert load_config(use_env=False).api_base == "http://[::1]:8"
