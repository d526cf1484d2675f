"""The ``station`` command: ``station run`` (the app, or the headless demo without a display) and
``station demo --headless --families N --out DIR``."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
import time
from pathlib import Path

from station.config import add_arguments, from_args, to_argv
from station.errors import StationError

# NumPy's OpenBLAS starts a thread per core for every matrix product, even the ~50 x 260 ones of a
# fingerprint comparison; on a two-core station the hand-offs cost more than the work (one comparison:
# 0.104 ms wall and 0.155 ms CPU with the default threads, 0.070 ms with one). Must precede NumPy's
# import (neither module above loads it).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


STEPS = ("capture", "intent", "personalised", "counted", "activated", "authorised")


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _gui_available() -> bool:
    try:
        return importlib.util.find_spec("station.ui.app") is not None
    except ImportError:
        return False


def _gui_argv(args: argparse.Namespace) -> list[str]:
    """The app's own command line from ``station [config flags] run [--hospital]``: the same station."""
    return to_argv(args) + (["--hospital"] if getattr(args, "hospital", False) else [])


def cmd_run(args: argparse.Namespace) -> int:
    hospital = bool(getattr(args, "hospital", False))
    if _has_display() and _gui_available():
        from station.ui.app import main as gui_main  # the UI engineer's entry point

        return int(gui_main(_gui_argv(args)) or 0)
    reason = "no display" if not _has_display() else "the desktop app (station.ui.app) is not installed"
    what = "hospital counter demo" if hospital else "demo camp"
    print(f"station: {reason}; running the headless {what} instead", file=sys.stderr)
    # A new folder each time, so that `make run` can be run again and again.
    stamp = time.strftime("%Y%m%d-%H%M%S")
    args.families, args.members, args.out, args.hospital = 3, 3, Path("demo-out") / stamp, hospital
    args.resume, args.kill_after = False, None
    return cmd_demo(args)


def cmd_demo(args: argparse.Namespace) -> int:
    if args.hospital:
        return _hospital_demo(args)
    if args.families < 1 or args.families > 200:
        print("station demo: --families must be 1..200", file=sys.stderr)
        return 2
    if not 1 <= args.members <= 5:
        print("station demo: --members must be 1..5", file=sys.stderr)
        return 2
    from station.demo.camp import run_demo  # imports the simulators: only the demo needs them

    out: Path = args.out
    if out.exists() and any(out.iterdir()) and not args.resume:
        print(f"station demo: {out} is not empty; choose a new --out or pass --resume", file=sys.stderr)
        return 2
    summary = run_demo(out, families=args.families, members=args.members, resume=args.resume,
                       stop_after=args.kill_after)
    print("\n".join(summary.lines()))
    return 0


def _hospital_demo(args: argparse.Namespace) -> int:
    from station.demo.hospital import run_hospital_demo  # imports the simulators: only the demo needs them

    out: Path = args.out
    if out.exists() and any(out.iterdir()):
        print(f"station demo: {out} is not empty; choose a new --out for the hospital demo", file=sys.stderr)
        return 2
    families = args.families if 2 <= args.families <= 20 else 3
    members = max(2, min(args.members, 5))
    summary = run_hospital_demo(out, families=families, members=members)
    print("\n".join(summary.lines()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="station", description="Enrolment camp station (RSBY-style cards)")
    add_arguments(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="the desktop app on the configured devices (headless demo without a display)")
    run.add_argument("--hospital", action="store_true",
                     help="the hospital insurance desk (without a display: the headless hospital demo)")
    run.set_defaults(func=cmd_run)
    demo = sub.add_parser("demo", help="a whole camp on the simulators")
    demo.add_argument("--headless", action="store_true", help="no GUI (the only mode of the core demo)")
    demo.add_argument("--families", type=int, default=3)
    demo.add_argument("--members", type=int, default=3, help="people per household (1..5)")
    demo.add_argument("--out", type=Path, default=Path("demo-out"))
    demo.add_argument("--hospital", action="store_true", help="also run the hospital counter (issue 8)")
    demo.add_argument("--resume", action="store_true", help="continue a demo that was interrupted")
    demo.add_argument("--kill-after", choices=[f"{s}:{i}" for s in STEPS for i in range(1, 201)],
                      metavar="STEP:N", help=argparse.SUPPRESS)
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = from_args(args)
    except StationError as exc:
        print(f"station: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=config.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if logging.getLogger().level > logging.DEBUG:
        # Alembic narrates every migration step at INFO; the station's own log says what matters.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    args.config_obj = config
    try:
        return int(args.func(args))
    except StationError as exc:
        print(f"station: {exc}", file=sys.stderr)
        return 1
