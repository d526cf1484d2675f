"""`python -m simulators <command>`: the simulators that tests, demos and outside tools start.

Each command lives in its own module exposing ``add_parser(subparsers)``; the module is imported
only when present so that one broken simulator cannot take the others down.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "simulators.pcsc.cli",  # pcscd: a private pcscd with virtual readers
    "simulators.cards.cli",  # card: insert a simulated card into a vpcd reader
    "simulators.scanner.cli",  # scanner: a ZFM fingerprint module on a pty
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # that simulator is not part of this build
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
