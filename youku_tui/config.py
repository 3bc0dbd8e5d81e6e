"""Configuration: one TOML file, read with tomllib into typed values, written atomically.

Loading checks every key against the dataclasses below: unknown keys, wrong types, choices
outside their enum and sizes that do not parse are refused with a :class:`ConfigError` naming
the key. Sizes are written as in the CLI (``bandwidth = "5MB"``, see :mod:`youku_tui.units`).
Saving from the app (:func:`update_config`) edits only what changed, with tomlkit, so the
user's comments and layout survive. Binding ids under ``[keys]`` belong to the TUI, which
checks them when it loads the keymap (this module stays headless).

``$XDG_CONFIG_HOME/youku-tui/config.toml`` holds the client id and tokens, so it is written
with mode 0600. Environment variables ``YOUKU_API_BASE``, ``YOUKU_CLIENT_ID``,
``YOUKU_ACCESS_TOKEN``, ``YOUKU_REFRESH_TOKEN`` and ``YOUKU_CA_BUNDLE`` override the file for
the run and are never written back to it: :func:`update_config` reads the file without them and
writes only what the caller changed (a login the user typed, tokens Youku refreshed).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

import tomli_w
import tomlkit
import tomlkit.container
import tomlkit.items

from youku_tui import paths
from youku_tui.errors import ConfigError
from youku_tui.fsutil import atomic_write
from youku_tui.metadata import CopyrightType, PublicType
from youku_tui.units import SIZE_EXAMPLES, parse_size

DEFAULT_API_BASE = "https://api.youku.com"
ENV_API_BASE = "YOUKU_API_BASE"
ENV_CLIENT_ID = "YOUKU_CLIENT_ID"
ENV_ACCESS_TOKEN = "YOUKU_ACCESS_TOKEN"
ENV_REFRESH_TOKEN = "YOUKU_REFRESH_TOKEN"
ENV_CA_BUNDLE = "YOUKU_CA_BUNDLE"
# The engine's default ceiling of parts in flight: a setting's default lives with the setting
# (the core), and the engine's part planner reads it from here.
DEFAULT_CONNECTIONS = 256


@dataclass(frozen=True, slots=True)
class Credentials:
    """The API login. ``repr`` hides the tokens so a log line can never leak them."""

    client_id: str = ""
    access_token: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)
    expires_at: float = 0.0  # unix time the access token expires; 0 when unknown

    @property
    def is_complete(self) -> bool:
        return bool(self.client_id and self.access_token)


class ByteSize:
    """Marks an ``int`` field that the file may also give as a size string (``"5MB"``)."""


Bytes = Annotated[int, ByteSize]


@dataclass(frozen=True, slots=True)
class EngineSettings:
    max_uploads: int = 3  # uploads at once
    max_parts: int = 0  # parts in flight, across all uploads; 0 = as many as the path rewards
    max_connections: int = DEFAULT_CONNECTIONS  # ceiling of parts in flight (and connections)
    bandwidth: Bytes = 0  # bytes per second across all uploads; 0 = no cap
    part_size: Bytes = 0  # bytes; 0 = chosen from the file size
    sts_margin: float = 300.0  # renew STS credentials this many seconds before they expire
    max_retries: int = 6  # per API call and per part


@dataclass(frozen=True, slots=True)
class TuiSettings:
    theme: str = "youku-dark"
    auto_resume: bool = True  # resume unfinished uploads when the dashboard opens
    show_all_files: bool = False
    show_hidden: bool = False
    animations: bool = False
    # Bell + terminal notification (OSC 9 / OSC 777) when an upload is committed / fails.
    notify_done: bool = True
    notify_failed: bool = True
    notification: str = "auto"  # "auto", "osc9", "osc777" or "bell" (the bell alone)


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """The per-user service that owns the uploads (``youku-tui service``)."""

    auto_start: bool = True  # `youku-tui` and `upload --detach` start it when none runs
    idle_exit: float = 600.0  # seconds with nothing queued and no client before it exits; 0 never
    # The same for a service youku-tui started by itself (auto_start, `upload --detach`): it
    # was started for that work, so it goes soon after the work is done and no view is left.
    auto_idle_exit: float = 30.0


@dataclass(frozen=True, slots=True)
class HooksSettings:
    """Commands run (by ``sh -c``) when an upload ends; YOUKU_VIDEO_ID etc. in the environment."""

    on_done: str = ""
    on_failed: str = ""
    timeout: float = 60.0  # seconds before a hook is killed


@dataclass(frozen=True, slots=True)
class MetadataDefaults:
    """Pre-filled values of the metadata form and of ``youku-tui upload``."""

    title: str = "{stem}"
    tags: tuple[str, ...] = ()
    description: str = ""
    category: str = ""  # none: Youku's own default
    copyright_type: CopyrightType = CopyrightType.ORIGINAL
    public_type: PublicType = PublicType.ALL


@dataclass(frozen=True, slots=True)
class Config:
    api_base: str = DEFAULT_API_BASE
    credentials: Credentials = Credentials()
    engine: EngineSettings = EngineSettings()
    tui: TuiSettings = TuiSettings()
    defaults: MetadataDefaults = MetadataDefaults()
    service: ServiceSettings = ServiceSettings()
    hooks: HooksSettings = HooksSettings()
    presets: Mapping[str, MetadataDefaults] = field(default_factory=dict)
    keys: Mapping[str, str] = field(default_factory=dict)  # binding id -> key list
    # A CA bundle (PEM file) to verify the API and OSS with, e.g. a company's private CA.
    ca_bundle: str = ""


def check_api_base(url: str) -> str:
    """Accept https anywhere, plain http only for loopback hosts (the sandbox, tests)."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url.strip().rstrip("/")
    if parts.scheme == "http" and host and is_loopback(host):
        return url.strip().rstrip("/")
    raise ConfigError(
        f"api_base {url!r} must be https:// (plain http:// is allowed only for loopback hosts)"
    )


def is_loopback(host: str) -> bool:
    """Loopback addresses and ``localhost`` names (RFC 6761 keeps ``*.localhost`` local)."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_T = TypeVar("_T")


def _section(cls: type[_T], data: object, where: str) -> _T:
    """Build dataclass ``cls`` from a TOML table, refusing unknown keys and wrong types."""
    if not isinstance(data, dict):
        raise ConfigError(f"[{where}] must be a table")
    known = get_type_hints(cls, include_extras=True)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"unknown key {where}.{unknown[0]} (known: {', '.join(sorted(known))})")
    values = {name: _coerce(raw, known[name], f"{where}.{name}") for name, raw in data.items()}
    return cls(**values)


def _coerce(value: object, expected: Any, key: str) -> Any:
    """``value`` as the field type ``expected``, or a :class:`ConfigError` naming ``key``."""
    if get_origin(expected) is Annotated:
        base, *marks = get_args(expected)
        if ByteSize in marks and isinstance(value, str):
            try:
                return parse_size(value)
            except ValueError:
                raise ConfigError(f"{key} = {value!r} is not a size ({SIZE_EXAMPLES})") from None
        expected = base
    if isinstance(expected, type) and issubclass(expected, Enum):
        choices = [member.value for member in expected]
        if value not in choices:
            raise ConfigError(f"{key} must be one of {', '.join(choices)}, not {value!r}")
        return expected(value)
    if get_origin(expected) is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key} must be a list of strings")
        return tuple(value)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(f"{key} must be {expected.__name__}, not {type(value).__name__}")
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        raise ConfigError(f"{key} must not be negative")
    return value


_TOP_LEVEL = {"youku", "engine", "tui", "defaults", "service", "hooks", "presets", "keys"}


def parse_config(text: str, source: str = "config") -> Config:
    """Parse and validate config TOML; :class:`ConfigError` names the bad key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - _TOP_LEVEL)
    if unknown:
        raise ConfigError(f"{source}: unknown section [{unknown[0]}]")
    youku = dict(data.get("youku", {}))
    api_base = youku.pop("api_base", DEFAULT_API_BASE)
    if not isinstance(api_base, str):
        raise ConfigError("youku.api_base must be a string")
    ca_bundle = youku.pop("ca_bundle", "")
    if not isinstance(ca_bundle, str):
        raise ConfigError("youku.ca_bundle must be a string (the path of a PEM file)")
    presets_data = data.get("presets", {})
    if not isinstance(presets_data, dict):
        raise ConfigError("[presets] must be a table of tables")
    keys = data.get("keys", {})
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise ConfigError('[keys] maps binding ids to key names, e.g. "dashboard.pause" = "z"')
    return Config(
        api_base=check_api_base(api_base),
        credentials=_section(Credentials, youku, "youku"),
        engine=_validate_engine(_section(EngineSettings, data.get("engine", {}), "engine")),
        tui=_validate_tui(_section(TuiSettings, data.get("tui", {}), "tui")),
        defaults=_section(MetadataDefaults, data.get("defaults", {}), "defaults"),
        service=_section(ServiceSettings, data.get("service", {}), "service"),
        hooks=_section(HooksSettings, data.get("hooks", {}), "hooks"),
        presets={
            name: _section(MetadataDefaults, table, f"presets.{name}")
            for name, table in presets_data.items()
        },
        keys=dict(keys),
        ca_bundle=ca_bundle,
    )


def _validate_engine(settings: EngineSettings) -> EngineSettings:
    if settings.max_uploads < 1 or settings.max_connections < 1:
        raise ConfigError("engine.max_uploads and engine.max_connections must be at least 1")
    if settings.part_size and settings.part_size < 100 * 1024:
        raise ConfigError("engine.part_size must be at least 102400 bytes (OSS's minimum)")
    return settings


NOTIFICATION_STYLES = ("auto", "osc9", "osc777", "bell")


def _validate_tui(settings: TuiSettings) -> TuiSettings:
    if settings.notification not in NOTIFICATION_STYLES:
        raise ConfigError(
            f"tui.notification must be one of {', '.join(NOTIFICATION_STYLES)}, "
            f"not {settings.notification!r}"
        )
    return settings


def apply_env(config: Config, environ: Mapping[str, str] | None = None) -> Config:
    """Environment overrides on top of the file."""
    env = os.environ if environ is None else environ
    creds = config.credentials
    overrides = {
        "client_id": env.get(ENV_CLIENT_ID),
        "access_token": env.get(ENV_ACCESS_TOKEN),
        "refresh_token": env.get(ENV_REFRESH_TOKEN),
    }
    changed = {k: v for k, v in overrides.items() if v}
    if changed:
        # A token given by hand has an unknown lifetime: forget the stored expiry.
        creds = replace(creds, **changed, expires_at=0.0)
    api_base = env.get(ENV_API_BASE)
    return replace(
        config,
        credentials=creds,
        api_base=check_api_base(api_base) if api_base else config.api_base,
        ca_bundle=env.get(ENV_CA_BUNDLE) or config.ca_bundle,
    )


def load_config(path: Path | None = None, *, use_env: bool = True) -> Config:
    """Read the config file (missing file = defaults), then the environment overrides."""
    path = path or paths.config_file()
    text = _read(path)
    config = Config() if text is None else parse_config(text, str(path))
    return apply_env(config) if use_env else config


def config_to_dict(config: Config) -> dict[str, Any]:
    """The config as plain TOML values (enums as their strings, tuples as lists)."""

    def table(obj: object) -> dict[str, Any]:
        data = dataclasses.asdict(obj)  # type: ignore[call-overload]
        return {k: _plain(v) for k, v in data.items()}

    doc: dict[str, Any] = {
        "youku": {
            "api_base": config.api_base,
            **table(config.credentials),
            **({"ca_bundle": config.ca_bundle} if config.ca_bundle else {}),
        },
        "engine": table(config.engine),
        "tui": table(config.tui),
        "defaults": table(config.defaults),
        "service": table(config.service),
        "hooks": table(config.hooks),
    }
    if config.presets:
        doc["presets"] = {name: table(p) for name, p in config.presets.items()}
    if config.keys:
        doc["keys"] = dict(config.keys)
    return doc


def _plain(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


def config_to_toml(config: Config) -> str:
    return tomli_w.dumps(config_to_dict(config))


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write the whole config atomically with mode 0600 (it holds tokens)."""
    path = path or paths.config_file()
    atomic_write(path, config_to_toml(config).encode("utf-8"), mode=0o600)
    return path


def update_config(path: Path | None = None, **changes: Any) -> Config:
    """Load the file *without* env overrides, change top-level fields, save it back.

    Env overrides are left out so that a token given in the environment is not written to disk
    as a side effect of, say, choosing a theme. Only the values that changed are written, into
    the file as the user laid it out: comments, order and untouched values stay as they were.
    """
    path = path or paths.config_file()
    text = _read(path)
    current = Config() if text is None else parse_config(text, str(path))
    updated = replace(current, **changes)
    doc = tomlkit.document() if text is None else tomlkit.parse(text)
    _apply_changes(doc, config_to_dict(current), config_to_dict(updated))
    atomic_write(path, tomlkit.dumps(doc).encode("utf-8"), mode=0o600)
    return updated


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc


_Table = tomlkit.container.Container | tomlkit.items.Table | tomlkit.items.InlineTable


def _apply_changes(doc: _Table, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Write into ``doc`` the leaves where ``new`` differs from ``old``; drop removed entries.

    A table is created only when a value under it changed, so saving one preset into a file
    that has no ``[engine]`` table does not add one full of defaults.
    """
    for key in old.keys() - new.keys():
        if key in doc:
            del doc[key]
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, dict):
            if key not in doc:
                if value == before:
                    continue
                doc[key] = tomlkit.table(is_super_table=key == "presets")
            child = doc[key]
            assert isinstance(child, tomlkit.items.Table | tomlkit.items.InlineTable)
            _apply_changes(child, before if isinstance(before, dict) else {}, value)
        elif value != before:
            doc[key] = value
