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


def test_the_station_command_runs_numpy_with_one_blas_thread() -> None:
    # A fresh interpreter without the variables: importing the command sets them before NumPy loads,
    # so OpenBLAS starts with one thread (the default of one per core doubles a comparison's CPU time).
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    code = ("import sys, os, station.cli; loaded = 'numpy' in sys.modules; import numpy; "
            "print(loaded, os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "1", "1"]  # set before NumPy loaded, or it would not apply
