"""Configuration: file, environment and flags, in that order; errors name the bad key."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from station.config import StationConfig, add_arguments, from_args, load_config
from station.errors import ConfigError


def test_defaults_run_on_simulators(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_config(env={"XDG_DATA_HOME": str(tmp_path)})
    assert cfg.scanner.startswith("sim:") and cfg.camera == "sim:faces"
    assert cfg.reader_family.startswith(("direct:", "pcsc:"))
    assert cfg.effective_database_url.startswith("sqlite:///")
    with pytest.raises(AttributeError):
        cfg.scanner = "x"  # type: ignore[misc]


def test_file_then_env_then_flags(tmp_path: Path) -> None:
    f = tmp_path / "station.toml"
    f.write_text('scanner = "zfm:/dev/ttyUSB0"\ncamera = "opencv:0"\ncapture_tries = 2\n'
                 f'data_dir = "{tmp_path}"\n')
    env = {"STATION_CAMERA": "opencv:1", "STATION_CAPTURE_TRIES": "4"}
    cfg = load_config(f, env=env, overrides={"camera": "opencv:2", "scanner": None})
    assert cfg.scanner == "zfm:/dev/ttyUSB0"  # file
    assert cfg.capture_tries == 4  # env beat file
    assert cfg.camera == "opencv:2"  # flag beat env
    assert cfg.sqlite_path == tmp_path / "station.db"


def test_cli_flags(tmp_path: Path) -> None:
    p = argparse.ArgumentParser()
    add_arguments(p)
    args = p.parse_args(["--scanner", "sim:worn", "--data-dir", str(tmp_path)])
    cfg = from_args(args, env={})
    assert cfg.scanner == "sim:worn" and cfg.data_dir == tmp_path
    assert cfg == StationConfig(scanner="sim:worn", data_dir=tmp_path)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('scannr = "sim:x"', "scannr"),
        ("scanner = 5", "scanner"),
        ('scanner = "nocolon"', "scanner"),
        ('capture_tries = "many"', "capture_tries"),
        ("capture_tries = 0", "capture_tries"),
        ('language = "fr"', "language"),
        ('database_url = "station.db"', "database_url"),
        ("scanner = ", "TOML"),
    ],
)
def test_bad_file_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    f = tmp_path / "station.toml"
    f.write_text(text + "\n")
    with pytest.raises(ConfigError, match=key):
        load_config(f, env={})


def test_bad_env_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="STATION_CAPTURE_TRIES"):
        load_config(env={"STATION_CAPTURE_TRIES": "x", "XDG_DATA_HOME": str(tmp_path)})


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", env={})
    with pytest.raises(ConfigError, match="STATION_CONFIG"):
        load_config(env={"STATION_CONFIG": str(tmp_path / "nope.toml")})
