"""`python -m simulators card TYPE --state FILE --port PORT`: a simulated card in a vpcd reader.

Inserts the card into the vpcd virtual reader listening on PORT (see ``python -m simulators pcscd``),
serves it until SIGTERM/SIGINT, then removes it. The card's EEPROM lives in FILE (a blank card when
FILE does not exist yet) and is saved atomically after every command that changes it, so stopping and
starting again gives the same card. TYPE is any card type in ``simulators/cards`` (``family``, and
the authority cards when present); a wrong TYPE names the valid ones.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

import simulators.cards
from simulators.cards.os import CardOS
from simulators.cards.storage import StateFileError
from simulators.signals import stop_event_on_signals
from simulators.vpcd import VpcdBridge, VpcdError

_NOT_CARDS = {"os", "storage", "journal", "cli"}


def card_types() -> dict[str, type[CardOS]]:
    """Every card type defined in ``simulators.cards``, by its ``card_type`` name."""
    for info in pkgutil.iter_modules(simulators.cards.__path__):
        if info.name not in _NOT_CARDS:
            importlib.import_module(f"simulators.cards.{info.name}")
    found: dict[str, type[CardOS]] = {}
    pending = list(CardOS.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("simulators.cards.") and "card_type" in vars(cls):
            found[cls.card_type] = cls
    return found


def make_card(card_type: str, state: Path) -> CardOS:
    types = card_types()
    if card_type not in types:
        raise ValueError(f"unknown card type {card_type!r}; valid choices: {', '.join(sorted(types))}")
    return types[card_type](state)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "card", help="insert a simulated card into a vpcd reader", description=__doc__.splitlines()[0]
    )
    parser.add_argument("type", metavar="TYPE", help="card type, e.g. family")
    parser.add_argument("--state", required=True, type=Path, help="card state file (created blank if missing)")
    parser.add_argument("--port", required=True, type=int, help="TCP port of the vpcd reader")
    parser.add_argument("--host", default="127.0.0.1", help="host of the vpcd reader (default 127.0.0.1)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        card = make_card(args.type, args.state)
    except (ValueError, StateFileError) as exc:
        print(f"cannot make the card: {exc}", file=sys.stderr)
        return 2
    stop = stop_event_on_signals()
    bridge = VpcdBridge(card, args.port, args.host)
    try:
        bridge.insert()
    except VpcdError as exc:
        print(f"cannot insert the card: {exc}", file=sys.stderr)
        return 1
    serial = getattr(card, "serial", None)
    label = f"card {args.type}" + (f" {serial}" if serial is not None else "")
    print(f"{label} inserted into vpcd port {args.port}")
    sys.stdout.flush()
    try:
        stop.wait()
    finally:
        bridge.remove()
    print(f"card {args.type} removed from vpcd port {args.port}")
    return 0
