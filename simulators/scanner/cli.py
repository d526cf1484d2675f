"""`python -m simulators scanner --link PATH [--bank DIR]`: a ZFM fingerprint module on a pty."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "scanner",
        help="a ZhianTec ZFM fingerprint module (R30x/R503/AS608) on a pty",
        description="Serve the ZFM serial protocol on a pseudo-terminal; PATH becomes a symlink to it. "
        "Control the finger on the glass through the JSON-lines socket PATH.ctl.",
    )
    parser.add_argument("--link", required=True, type=Path, help="symlink to create for the device side")
    parser.add_argument(
        "--bank", type=Path, default=None,
        help="folder for the module's flash (template library) and for PNG/TIFF finger images",
    )  # fmt: skip
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from simulators.scanner.control import ControlServer
    from simulators.scanner.server import ScannerSimulator
    from simulators.signals import stop_event_on_signals

    stop = stop_event_on_signals()
    if args.bank is not None:
        args.bank.mkdir(parents=True, exist_ok=True)
    sim = ScannerSimulator(args.link, args.bank).start()
    control = ControlServer(sim).start()
    print(f"scanner ready: {args.link} -> {sim.device_path}; control {control.path}", flush=True)
    try:
        stop.wait()
    finally:
        control.stop()
        sim.stop()
    print("scanner stopped", file=sys.stderr, flush=True)
    return 0
