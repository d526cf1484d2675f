"""``station [config flags] run [--hospital]`` hands the same station to the desktop app."""

from __future__ import annotations

import argparse
from pathlib import Path

from station.cli import _gui_argv, build_parser
from station.config import add_arguments, from_args


def test_run_passes_hospital_and_config_flags_to_the_app(tmp_path: Path) -> None:
    args = build_parser().parse_args(["--data-dir", str(tmp_path / "d"), "--language", "hi", "run", "--hospital"])
    argv = _gui_argv(args)
    assert argv[-1] == "--hospital"
    # The app's parser (station.ui.app.main) reads them back into the same configuration.
    app_parser = argparse.ArgumentParser()
    add_arguments(app_parser)
    app_parser.add_argument("--hospital", action="store_true")
    again = app_parser.parse_args(argv)
    env: dict[str, str] = {}
    assert again.hospital and from_args(again, env=env) == from_args(args, env=env)
    assert from_args(again, env=env).language == "hi"
    plain = build_parser().parse_args(["run"])
    assert _gui_argv(plain) == [] and not plain.hospital
