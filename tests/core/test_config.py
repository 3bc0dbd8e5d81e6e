from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import pytest

from youku_tui import paths
from youku_tui.cli.main import build_parser
from youku_tui.config import (
    Config,
    Credentials,
    TuiSettings,
    apply_env,
    load_config,
    parse_config,
    save_config,
    update_config,
)
from youku_tui.errors import ConfigError
from youku_tui.metadata import CopyrightType, PublicType
from youku_tui.units import MIB


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


def test_a_save_writes_the_file_plus_the_change_never_the_env_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Refreshed tokens saved while YOUKU_* override the file (runtime.save_tokens): the
    new tokens go in, the environment's API base and CA bundle stay out."""
    save_config(Config(credentials=Credentials("cid", "file-token", "r")))
    before = load_config(use_env=False)
    monkeypatch.setenv("YOUKU_API_BASE", "http://127.0.0.1:9")
    monkeypatch.setenv("YOUKU_CA_BUNDLE", "/env/ca.pem")
    monkeypatch.setenv("YOUKU_REFRESH_TOKEN", "env-refresh")
    running = load_config()
    assert (running.api_base, running.ca_bundle) == ("http://127.0.0.1:9", "/env/ca.pem")
    refreshed = replace(running.credentials, access_token="new-at", refresh_token="new-rt")
    update_config(credentials=refreshed)
    text = paths.config_file().read_text()
    assert "127.0.0.1:9" not in text and "/env/ca.pem" not in text
    assert load_config(use_env=False) == replace(before, credentials=refreshed)


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
        ("[defaults]\npublic_type = 'friends'\n", "defaults.public_type must be one of"),
        ("[presets.x]\ncopyright_type = 'mine'\n", "presets.x.copyright_type must be one of"),
        ("[engine]\nbandwidth = '5 parsecs'\n", "engine.bandwidth = '5 parsecs' is not a size"),
        ("[engine]\nbandwidth = '-5MB'\n", "engine.bandwidth"),
        ("[engine]\npart_size = true\n", "engine.part_size must be int"),
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


def test_choices_load_as_enums() -> None:
    config = parse_config("[defaults]\npublic_type = 'friend'\ncopyright_type = 'reproduced'\n")
    assert config.defaults.public_type is PublicType.FRIEND
    assert config.defaults.copyright_type is CopyrightType.REPRODUCED


@pytest.mark.parametrize("size", ["5MB", "5M", "5MiB", "5 mib", "5120K"])
def test_sizes_in_the_config_read_as_in_the_cli(size: str) -> None:
    config = parse_config(f"[engine]\nbandwidth = {size!r}\npart_size = '16MB'\n")
    args = build_parser().parse_args(["upload", "x.mp4", "--bandwidth", size])
    assert config.engine.bandwidth == args.bandwidth == 5 * MIB
    assert config.engine.part_size == 16 * MIB
    assert parse_config("[engine]\nbandwidth = 1000\n").engine.bandwidth == 1000


USER_FILE = """\
# my youku-tui settings
[engine]
bandwidth = "5MB"  # evenings only
max_uploads = 2

[presets.trip]
# for the summer
title = "Trip {index}"
tags = ["trip", "vlog"]
"""


def test_saving_from_the_app_keeps_comments_and_layout(isolated_dirs: Path) -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(USER_FILE)
    current = load_config(use_env=False)
    presets = {**current.presets, "work": replace(current.defaults, title="Work {stem}")}
    updated = update_config(presets=presets)
    text = path.read_text()
    assert text.startswith(USER_FILE)  # every line the user wrote, untouched
    assert "[presets.work]" in text and "Work {stem}" in text
    assert "[tui]" not in text and "[youku]" not in text  # no tables of defaults added
    assert load_config(use_env=False) == updated
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_saving_changes_only_what_changed(isolated_dirs: Path) -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(USER_FILE)
    current = load_config(use_env=False)
    update_config(engine=replace(current.engine, max_uploads=4), presets={})
    text = path.read_text()
    assert 'bandwidth = "5MB"  # evenings only' in text and "max_uploads = 4" in text
    assert "trip" not in text
    assert load_config(use_env=False).engine.bandwidth == 5 * MIB


def test_update_without_a_file_writes_only_what_was_set(isolated_dirs: Path) -> None:
    update_config(tui=replace(TuiSettings(), theme="youku-light"))
    text = paths.config_file().read_text()
    assert text.strip() == '[tui]\ntheme = "youku-light"'
