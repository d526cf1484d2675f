"""Station configuration: ``station.toml``, then ``STATION_*`` environment variables, then CLI flags.

Later sources win. Every device is one config string resolved by its package's registry, and the
defaults run everything on simulators, so a fresh checkout works with no file at all::

    # station.toml
    station_id = "CAMP-PC-01"
    data_dir = "/var/lib/enrolment-station"
    database_url = "sqlite:////var/lib/enrolment-station/station.db"   # or postgresql+psycopg://...
    reader_family = "pcsc:0"            # reader for the family card being written
    reader_authority = "pcsc:1"         # reader for the FKO / hospital authority card
    scanner = "zfm:/dev/ttyUSB0"
    camera = "opencv:0"
    language = "hi"

The environment variable for a key is ``STATION_`` + the key in capitals (``STATION_SCANNER``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from station.errors import ConfigError

DEFAULT_FILE_NAME = "station.toml"
ENV_PREFIX = "STATION_"
LANGUAGES = ("en", "hi")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "enrolment-station"


@dataclass(frozen=True)
class StationConfig:
    """Everything the station needs to start; build it with :func:`load_config`."""

    station_id: str = "STATION-01"
    data_dir: Path = field(default_factory=default_data_dir)
    # Empty means "a SQLite file inside data_dir" (see ``effective_database_url``).
    database_url: str = ""
    reader_family: str = "direct:family"
    reader_authority: str = "direct:authority"
    scanner: str = "sim:default"
    camera: str = "sim:faces"
    language: str = "en"
    log_level: str = "INFO"
    # Fingerprint quality gate tries per finger before moving on to the next finger.
    capture_tries: int = 3

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'station.db'}"

    @property
    def sqlite_path(self) -> Path | None:
        url = self.effective_database_url
        if url.startswith("sqlite:///"):
            return Path(url.removeprefix("sqlite:///"))
        return None


_FIELDS = {f.name: f for f in dataclasses.fields(StationConfig)}


def _coerce(key: str, value: Any, source: str) -> Any:
    """Turn a raw value from TOML, the environment or a flag into the field's type, or say why not."""
    kind = _FIELDS[key].type
    if kind == "Path":
        if not isinstance(value, str | Path) or not str(value):
            raise ConfigError(f"{source}: {key} must be a directory path, got {value!r}")
        return Path(value).expanduser()
    if kind == "int":
        if isinstance(value, bool):
            raise ConfigError(f"{source}: {key} must be a whole number, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{source}: {key} must be a whole number, got {value!r}") from None
    if not isinstance(value, str):
        raise ConfigError(f"{source}: {key} must be a string, got {type(value).__name__} {value!r}")
    return value


def _check(cfg: StationConfig) -> StationConfig:
    for key in ("reader_family", "reader_authority", "scanner", "camera"):
        value = getattr(cfg, key)
        if ":" not in value or not value.split(":", 1)[0]:
            raise ConfigError(
                f"{key} = {value!r} is not a device string; write '<backend>:<name>', e.g. 'sim:faces' or 'pcsc:0'"
            )
    if cfg.language not in LANGUAGES:
        raise ConfigError(f"language = {cfg.language!r} is not supported; choose one of {', '.join(LANGUAGES)}")
    if cfg.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(f"log_level = {cfg.log_level!r}; choose one of {', '.join(LOG_LEVELS)}")
    if not 1 <= cfg.capture_tries <= 10:
        raise ConfigError(f"capture_tries = {cfg.capture_tries} must be between 1 and 10")
    if not cfg.station_id.strip():
        raise ConfigError("station_id must not be empty")
    if cfg.database_url and "://" not in cfg.database_url:
        raise ConfigError(
            f"database_url = {cfg.database_url!r} is not a URL; write e.g. 'sqlite:///path/station.db' "
            "or 'postgresql+psycopg://user@host/db'"
        )
    return cfg


def _from_file(path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file or remove it to use defaults") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from None
    # A [station] table is accepted too, so the file can grow other sections later.
    if isinstance(raw.get("station"), dict):
        raw = {**{k: v for k, v in raw.items() if k != "station"}, **raw["station"]}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _FIELDS:
            raise ConfigError(f"{path}: unknown key {key!r}; valid keys: {', '.join(_FIELDS)}")
        values[key] = _coerce(key, value, str(path))
    return values


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == "STATION_CONFIG" or name == "STATION_SHARED_DATA":
            continue
        key = name.removeprefix(ENV_PREFIX).lower()
        if key not in _FIELDS:
            # Other STATION_* variables may belong to tools; only ones that look like ours are errors.
            continue
        values[key] = _coerce(key, value, f"environment {name}")
    return values


def load_config(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> StationConfig:
    """Read the file (``path``, else ``$STATION_CONFIG``, else ``./station.toml`` if present), then the
    environment, then ``overrides`` (CLI flags; ``None`` values are ignored)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    if path is None and env.get("STATION_CONFIG"):
        path = Path(env["STATION_CONFIG"])
        if not path.is_file():
            raise ConfigError(f"STATION_CONFIG points to {path}, which does not exist")
    elif path is None and Path(DEFAULT_FILE_NAME).is_file():
        path = Path(DEFAULT_FILE_NAME)
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        values.update(_from_file(path))
    values.update(_from_env(env))
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in _FIELDS:
            raise ConfigError(f"unknown setting {key!r}; valid keys: {', '.join(_FIELDS)}")
        values[key] = _coerce(key, value, _flag(key))
    return _check(StationConfig(**values))


def _flag(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags that override any config key; unset flags leave the file/environment value alone."""
    parser.add_argument("--config", type=Path, default=None, help="station.toml to read")
    for name, f in _FIELDS.items():
        parser.add_argument(
            _flag(name), dest=f"cfg_{name}", default=None, metavar=name.upper(),
            help=f"override '{name}' (default {f.default if f.default is not dataclasses.MISSING else '...'})",
        )


def _overrides(args: argparse.Namespace) -> dict[str, str | None]:
    return {name: getattr(args, f"cfg_{name}", None) for name in _FIELDS}


def from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> StationConfig:
    return load_config(getattr(args, "config", None), env=env, overrides=_overrides(args))


def to_argv(args: argparse.Namespace) -> list[str]:
    """The flags of :func:`add_arguments` that ``args`` set, as a command line for another process or
    parser (``station run`` handing its configuration to the desktop app)."""
    argv: list[str] = []
    if getattr(args, "config", None) is not None:
        argv += ["--config", str(args.config)]
    for name, value in _overrides(args).items():
        if value is not None:
            argv += [_flag(name), str(value)]
    return argv
