"""`python -m simulators pcscd --dir DIR [--readers N]`: a private pcscd with virtual readers.

Prints ``PCSCLITE_CSOCK_NAME=<socket>`` and one ``reader <index> port <port>`` line per reader, then
runs until SIGTERM/SIGINT and cleans up. Give clients the socket (``export`` the first line) and put
cards into readers with ``python -m simulators card ... --port <port>``.
"""

from __future__ import annotations

import argparse
import sys

from simulators.pcsc.runner import PcscdError, PrivatePcscd
from simulators.signals import stop_event_on_signals


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pcscd",
        help="start a private pcscd with virtual (vpcd) readers",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--dir", required=True, help="directory for the socket, reader.conf and pcscd.log")
    parser.add_argument(
        "--readers", type=int, default=2, help="number of readers (vpcd makes them in pairs; default 2)"
    )
    parser.add_argument("--debug", action="store_true", help="pcscd debug log into DIR/pcscd.log")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.readers < 1:
        print(f"--readers must be at least 1, got {args.readers}", file=sys.stderr)
        return 2
    stop = stop_event_on_signals()
    daemon = PrivatePcscd(args.dir, args.readers, debug=args.debug)
    try:
        daemon.start()
    except PcscdError as exc:
        print(f"cannot start a private pcscd: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"PCSCLITE_CSOCK_NAME={daemon.socket_path}")
        # Exactly the N readers asked for; vpcd makes them in pairs, so an odd N has one spare.
        for reader in daemon.readers[: args.readers]:
            print(f"reader {reader.index} port {reader.port}")
        sys.stdout.flush()
        for spare in daemon.readers[args.readers :]:
            print(f"note: vpcd readers come in pairs; pcscd also lists spare reader {spare.index} "
                  f"({spare.name!r}, port {spare.port})", file=sys.stderr)
        while not stop.wait(0.5):
            if not daemon.running:
                print(f"pcscd exited unexpectedly; its log:\n{daemon.log_tail()}", file=sys.stderr)
                return 1
        return 0
    finally:
        daemon.stop()
