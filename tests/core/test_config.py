from __future__ import annotations

import stat
from pathlib import Path

import pytest

from youku_tui import paths
from youku_tui.config import (
    Config,
    Credentials,
    apply_env,
    load_config,
    parse_config,
    save_config,
    update_config,
)
from youku_tui.errors import ConfigError


def test_missing_file_gives_defaults() -> None:
    config = load_config()
    assert config.api_base == "https://api.youku.com"
    assert not config.credentials.is_complete


def test_save_is_0600_and_round_trips(isolated_dirs: Path) -> None:
    config = Config(credentials=Credentials("cid", "tok-secret", "ref-secret", 123.0))
    path = save_config(config)
    assert path == paths.config_file()
    assert str(path).startswith(str(isolated_dirs))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_config() == config
    assert not list(path.parent.glob("*.tmp"))


def test_env_overrides_file(monkeypatch: pytest.MonkeyPatch) -> None:
    save_config(Config(credentials=Credentials("cid", "file-token", "file-refresh", 99.0)))
    monkeypatch.setenv("YOUKU_ACCESS_TOKEN", "env-token")
    monkeypatch.setenv("YOUKU_API_BASE", "http://127.0.0.1:9")
    config = load_config()
    assert config.credentials.access_token == "env-token"
    assert config.credentials.refresh_token == "file-refresh"
    assert config.credentials.expires_at == 0.0
    assert config.api_base == "http://127.0.0.1:9"


def test_update_does_not_write_env_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    save_config(Config(credentials=Credentials("cid", "file-token", "r")))
    monkeypatch.setenv("YOUKU_ACCESS_TOKEN", "env-token")
    update_config(api_base="http://localhost:1")
    text = paths.config_file().read_text()
    assert "env-token" not in text and "file-token" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[youku\n", "not valid TOML"),
        ("[nonsense]\n", "unknown section [nonsense]"),
        ("[engine]\nmax_upload = 3\n", "unknown key engine.max_upload"),
        ("[engine]\nmax_uploads = 'three'\n", "engine.max_uploads must be int"),
        ("[engine]\nmax_uploads = 0\n", "at least 1"),
        ("[engine]\nbandwidth = -5\n", "must not be negative"),
        ("[engine]\npart_size = 1000\n", "at least 102400"),
        ("[tui]\nauto_resume = 1\n", "tui.auto_resume must be bool"),
        ("[tui]\nnotification = 'desktop'\n", "tui.notification must be one of auto, osc9"),
        ("[defaults]\ntags = 'a,b'\n", "defaults.tags must be a list of strings"),
        ("[youku]\napi_base = 'http://api.youku.com'\n", "only for loopback"),
        ("[keys]\npause = 3\n", "[keys]"),
    ],
)
def test_strict_validation_names_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert message in str(info.value)


def test_presets_and_keys_parse() -> None:
    config = parse_config(
        "[presets.travel]\ntitle = 'Trip {index}'\ntags = ['trip', 'vlog']\n[keys]\npause = 'p,space'\n"
    )
    assert config.presets["travel"].tags == ("trip", "vlog")
    assert config.keys == {"pause": "p,space"}


def test_credentials_repr_hides_tokens() -> None:
    creds = Credentials("cid", "tok-secret", "ref-secret")
    assert "tok-secret" not in repr(creds) and "ref-secret" not in repr(creds)
    assert "tok-secret" not in repr(apply_env(Config(credentials=creds), {}))
