"""``python -m station.district``: the district desk's command — key operations *and* authority cards.

It offers every ``python -m keymgmt`` command (create-scheme, create-district, sign-list,
publish-revocation, ...) plus the ones that need a card, which ``keymgmt`` cannot offer because it may
not import ``cardlib`` or the simulators (the layering of ARCHITECTURE.md; ``station`` may import all)::

    make-fko            --store file:district-0923.keys --card fko.card --holder NAME --holder-id ID
                        --template T.bin [--template T2.bin] | --finger-image F.png  [--days 365] [--issuances 300]
    make-district-card  --store file:district-0923.keys --card desk.card --holder NAME --holder-id ID
    make-hospital-card  --store file:central.keys --card hosp.card --hospital NAME --hospital-id ID
    recharge-fko        --root scheme-root.cert --fko-card fko.card --desk-card desk.card --archive DIR
    unblock-fko         --root scheme-root.cert --fko-card fko.card --desk-card desk.card
    install-revocation  --card X.card --type fko|hospital|district --list revocation.bin
    card-info           --card X.card --type fko|hospital|district [--root scheme-root.cert]
    reconcile           --store file:district-0923.keys --root scheme-root.cert BUNDLE [BUNDLE ...]
    duplicates          --store file:district-0923.keys --root scheme-root.cert BUNDLE [BUNDLE ...]

A card is either a **simulated card's state file** (``--card PATH``, a blank card when it does not
exist yet — the same file ``python -m simulators card TYPE --state PATH`` serves, but not while that
process runs) or a **reader** (``--reader pcsc:<name>``, any ``cardlib`` transport). Card PINs come
from ``--pin-file`` or ``$KEYMGMT_CARD_PIN`` (else asked without echo); store passphrases as in
``python -m keymgmt``. Nothing secret is ever printed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from biometrics import cardtemplate, iso19794
from biometrics.errors import BiometricsError
from cardlib import authority as ca
from cardlib import direct
from cardlib.errors import CardError
from cardlib.transport import Transport, open_transport
from keymgmt import cli as keycli
from keymgmt.certs import Certificate
from keymgmt.revocation import SignedRevocationList
from simulators.cards.cli import make_card
from simulators.cards.storage import StateFileError
from station.errors import BundleError, StationError

if TYPE_CHECKING:
    from station.district.bundle import CampBundle

PROG = "python -m station.district"
ENV_PIN = "KEYMGMT_CARD_PIN"
CARD_WAIT = 10.0  # seconds to wait for a card in a reader
CLIENTS: dict[str, type[ca.AuthorityCard]] = {
    "fko": ca.FkoCard, "hospital": ca.HospitalCard, "district": ca.DistrictCard,
}


# --- cards ---------------------------------------------------------------------------------------------


@contextmanager
def card_transport(card_type: str, state: Path | None, reader: str | None) -> Iterator[Transport]:
    """A connected transport to the simulated card in ``state`` or to the card in ``reader``."""
    if (state is None) == (reader is None):
        raise keycli.CliError(f"name the {card_type} card with exactly one of --card FILE or --reader CONFIG")
    if reader is not None:
        transport = open_transport(reader)
        if not transport.wait_for_card(CARD_WAIT):
            transport.close()
            raise keycli.CliError(f"no card in {reader} after {CARD_WAIT:.0f} s; insert the {card_type} card")
        transport.connect()
        try:
            yield transport
        finally:
            transport.close()
        return
    try:
        card = make_card(card_type, state)  # type: ignore[arg-type]
    except ValueError as exc:
        raise keycli.CliError(str(exc)) from None
    with direct.inserted(card, "district-cli") as transport:  # type: ignore[arg-type]
        yield transport


def card_pin(args: argparse.Namespace, confirm: bool = False) -> str:
    return keycli.read_secret(args.pin_file, ENV_PIN, "card PIN", confirm)


def validity(args: argparse.Namespace) -> tuple[datetime, datetime]:
    if not 1 <= args.days <= 3650:
        raise keycli.CliError("--days must be 1..3650")
    start = datetime.now(UTC).replace(microsecond=0)
    return start, start + timedelta(days=args.days)


def load_templates(args: argparse.Namespace) -> tuple[bytes, ...]:
    """The officer's 1-2 templates: card-template or ISO/IEC 19794-2 files, or extracted from images."""
    templates: list[bytes] = []
    for path in args.template:
        raw = keycli.read_file(path, "fingerprint template")
        try:
            (cardtemplate.decode if raw[:1] == bytes((cardtemplate.FORMAT_BYTE,)) else iso19794.decode)(raw)
        except (BiometricsError, ValueError):
            raise keycli.CliError(f"{path} is not a card template or ISO/IEC 19794-2 record") from None
        templates.append(raw)
    for path in args.finger_image:
        import cv2  # only this option needs OpenCV

        from biometrics import pipeline

        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise keycli.CliError(f"cannot read the fingerprint image {path} (PNG, BMP or JPEG, greyscale)")
        templates.append(cardtemplate.encode(pipeline.extract(image, dpi=args.dpi)))
    if not 1 <= len(templates) <= 2:
        raise keycli.CliError("an FKO card holds one or two of the officer's fingers: give --template or "
                              "--finger-image once or twice")
    return tuple(templates)


def _make_card(
    args: argparse.Namespace, card_type: str, label: str, personalise: Callable[..., Certificate],
    holder: str, holder_id: str, secret: object, **options: int,
) -> None:
    """Personalise the blank card of ``card_type`` from the store, valid for --days, and say what was made:
    the make-* commands differ only in the card and what it carries (``secret``: templates or PIN)."""
    not_before, not_after = validity(args)
    with keycli.open_from_args(args) as store, card_transport(card_type, args.card, args.reader) as transport:
        cert = personalise(CLIENTS[card_type](transport), store, holder, holder_id, secret,
                           not_before, not_after, **options)
    print(f"{label} card made in {args.card or args.reader}: {keycli.describe(cert)}")


# --- commands ------------------------------------------------------------------------------------------


def cmd_make_fko(args: argparse.Namespace) -> int:
    _make_card(args, "fko", "FKO", ca.personalise_fko, args.holder, args.holder_id, load_templates(args),
               issuances=args.issuances)
    print(f"  issuances: {args.issuances}; unlocks with the officer's finger only")
    return 0


def cmd_make_district_card(args: argparse.Namespace) -> int:
    _make_card(args, "district", "district desk", ca.personalise_district_card, args.holder, args.holder_id,
               card_pin(args, confirm=True))
    return 0


def cmd_make_hospital_card(args: argparse.Namespace) -> int:
    _make_card(args, "hospital", "hospital", ca.personalise_hospital, args.hospital, args.hospital_id,
               card_pin(args, confirm=True))
    return 0


@contextmanager
def fko_and_desk(args: argparse.Namespace) -> Iterator[tuple[ca.FkoCard, ca.DistrictCard]]:
    """The FKO card and the desk card, the desk card unlocked with its PIN."""
    pin = card_pin(args)
    with (
        card_transport("fko", args.fko_card, args.fko_reader) as ft,
        card_transport("district", args.desk_card, args.desk_reader) as dt,
    ):
        fko, desk = ca.FkoCard(ft), ca.DistrictCard(dt)
        fko.select()
        desk.select()
        desk.verify_pin(pin)
        yield fko, desk


def _card_serial(text: str) -> bytes:
    try:
        serial = bytes.fromhex(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a card serial in hex (16 hex digits)") from None
    if len(serial) != 8:
        raise argparse.ArgumentTypeError(f"{text!r}: a card serial is 8 bytes (16 hex digits)")
    return serial


def cmd_recharge_fko(args: argparse.Namespace) -> int:
    root = keycli.load_root(args.root)
    with fko_and_desk(args) as (fko, desk):
        before = fko.info()
        record = ca.recharge_fko(fko, desk, root, args.archive, args.issuances, spoilt=args.spoilt)
        after = fko.info()
    print(f"FKO card {after.serial.hex().upper()} ({after.holder}): ledger of {len(record.entries)} issuances "
          f"verified and archived in {record.path}")
    if record.summary.open_keys:
        print(f"  spoilt blanks accounted for: {', '.join(k.hex().upper() for k in record.summary.open_keys)}")
    print(f"  counter {before.counter} -> {after.counter}")
    return 0


def cmd_unblock_fko(args: argparse.Namespace) -> int:
    root = keycli.load_root(args.root)
    with fko_and_desk(args) as (fko, desk):
        fko.verified_certificate(root)
        ca.unblock_fko(fko, desk)
        info = fko.info()
    print(f"FKO card {info.serial.hex().upper()} ({info.holder}) unblocked: {info.tries_left} finger tries")
    return 0


def cmd_install_revocation(args: argparse.Namespace) -> int:
    raw = keycli.read_file(args.list, "revocation list")
    SignedRevocationList.from_bytes(raw)  # a clear message for a file that is not a list at all
    with card_transport(args.type, args.card, args.reader) as transport:
        card = CLIENTS[args.type](transport)
        card.select()
        sequence = card.install_revocation_list(raw)
        info = card.info()
    state = "the card is revoked and has terminated itself" if info.lifecycle is ca.Lifecycle.TERMINATED else (
        "installed")
    print(f"revocation list {sequence} on {args.type} card {info.serial.hex().upper()}: {state}")
    return 0


def cmd_card_info(args: argparse.Namespace) -> int:
    with card_transport(args.type, args.card, args.reader) as transport:
        card = CLIENTS[args.type](transport)
        info = card.select()
        print(f"{args.type} card {info.serial.hex().upper()}: {info.lifecycle.name}")
        if info.lifecycle is not ca.Lifecycle.BLANK:
            print(f"  holder {info.holder} ({info.holder_id}), district {info.district_code or '-'}, "
                  f"valid {info.not_before:%Y-%m-%d}..{info.not_after:%Y-%m-%d}")
            print(f"  tries left {info.tries_left}, revocation list {info.revocation_sequence}")
            if args.type == "fko":
                print(f"  issuances left {info.counter}, ledger entries {info.ledger_count}, "
                      f"next number {info.next_number}")
            if args.root:
                cert = card.verified_certificate(keycli.load_root(args.root))
                print(f"  certificate verified: {keycli.describe(cert)}")
    return 0


# --- parser ----------------------------------------------------------------------------------------------


def camp_bundles(
    args: argparse.Namespace, refused: Callable[[Path, BundleError], None] | None = None
) -> Iterator[tuple[Path, CampBundle]]:
    """The camp bundles named on the command line, each opened (decrypted, its station's and FKO card's
    signatures verified) with the district store ``--store`` against the scheme root ``--root``.

    A refused bundle ends the command, unless ``refused`` is given: it is told, and the next bundles are
    still opened. The store stays open while the caller uses each bundle, and closes after the last.
    """
    from station.district.bundle import open_bundle  # its imports are only needed by these two commands

    root = keycli.load_root(args.root)
    with keycli.open_from_args(args) as store:
        for path in args.bundles:
            try:
                bundle = open_bundle(path, store, root)
            except BundleError as exc:
                if refused is None:
                    raise
                refused(path, exc)
                continue
            yield path, bundle


def cmd_reconcile(args: argparse.Namespace) -> int:
    """Open each camp bundle and check its cards against the FKO ledger inside it; exit 1 if any bundle
    has a problem or is refused."""
    from station.district.bundle import reconcile

    refused: list[Path] = []

    def refuse(path: Path, exc: BundleError) -> None:
        print(f"{path}: REFUSED: {exc}")
        refused.append(path)

    failed = 0
    for path, bundle in camp_bundles(args, refuse):
        result = reconcile(bundle)
        print(f"{path}: {result.cards_in_bundle} cards in the bundle, {result.matched} matched to the ledger of "
              f"FKO card {bundle.fko.card_serial.hex().upper()} ({result.ledger_entries_at_station} issuances at "
              f"this station), {len(bundle.households)} households")
        for problem in result.problems:
            print(f"  PROBLEM: {problem}")
        failed += not result.ok
    return 1 if failed or refused else 0


def cmd_duplicates(args: argparse.Namespace) -> int:
    """The same person in two households, across the given camp bundles; exit 1 if any is found."""
    from station.district.duplicates import find_duplicates, fingers_of

    households = [h for _, bundle in camp_bundles(args) for h in bundle.households]
    report = find_duplicates(fingers_of(households))
    print(f"{report.people} people, {report.fingers} fingers searched in {len(args.bundles)} bundle(s)")
    for line in report.unreadable:
        print(f"  UNREADABLE template: {line}")
    for d in report.duplicates:
        print(f"  POSSIBLE DUPLICATE: {d.first.urn} member {d.first.member} ({d.first.name}) and {d.second.urn} "
              f"member {d.second.member} ({d.second.name}): {d.fingers} finger(s) match, best score {d.best_score:.3f}")
    if not report.duplicates:
        print("  no person is enrolled in two households")
    return 1 if report.duplicates else 0


def _card_arguments(parser: argparse.ArgumentParser, prefix: str = "", what: str = "the card") -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument(f"--{prefix}card", type=Path, metavar="FILE",
                       help=f"{what}: a simulated card's state file (made blank if missing)")
    group.add_argument(f"--{prefix}reader", metavar="CONFIG", help=f"{what} in a reader, e.g. pcsc:<reader name>")


def _pin_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--pin-file", type=Path, help=f"file whose first line is {what} (else ${ENV_PIN})")


def add_card_commands(sub: argparse._SubParsersAction) -> None:
    def command(name: str, func, help_text: str) -> argparse.ArgumentParser:  # type: ignore[no-untyped-def]
        parser = sub.add_parser(name, help=help_text, description=help_text)
        parser.set_defaults(func=func)
        return parser

    p = command("make-fko", cmd_make_fko, "personalise a blank FKO card from the district store")
    keycli.add_store_arguments(p, "the district store")
    _card_arguments(p)
    p.add_argument("--holder", required=True, help="the officer's name")
    p.add_argument("--holder-id", required=True, help="the officer's id, ASCII (e.g. FKO-0923-0007)")
    p.add_argument("--template", type=Path, action="append", default=[], help="officer's finger template file")
    p.add_argument("--finger-image", type=Path, action="append", default=[], help="officer's finger image")
    p.add_argument("--dpi", type=int, default=500, help="resolution of --finger-image (default 500)")
    p.add_argument("--days", type=int, default=365, help="validity from today (default 365)")
    p.add_argument("--issuances", type=int, default=ca.DEFAULT_ISSUANCES, help="issuance counter (default 300)")

    p = command("make-district-card", cmd_make_district_card, "personalise a blank district desk card")
    keycli.add_store_arguments(p, "the district store")
    _card_arguments(p)
    p.add_argument("--holder", required=True)
    p.add_argument("--holder-id", required=True)
    p.add_argument("--days", type=int, default=365)
    _pin_arguments(p, "the new card's PIN (4-12 digits)")

    p = command("make-hospital-card", cmd_make_hospital_card, "personalise a blank hospital card (central store)")
    keycli.add_store_arguments(p, "the central store")
    _card_arguments(p)
    p.add_argument("--hospital", required=True, help="the hospital's name")
    p.add_argument("--hospital-id", required=True, help="the hospital's id, ASCII")
    p.add_argument("--days", type=int, default=365)
    _pin_arguments(p, "the new card's PIN (4-12 digits)")

    for name, func, text in (
        ("recharge-fko", cmd_recharge_fko, "verify and archive an FKO card's ledger, then reset its counter"),
        ("unblock-fko", cmd_unblock_fko, "reset a blocked FKO card's finger tries (officer present)"),
    ):
        p = command(name, func, text)
        p.add_argument("--root", type=Path, required=True, help="scheme root certificate file")
        _card_arguments(p, "fko-", "the FKO card")
        _card_arguments(p, "desk-", "the district desk card")
        _pin_arguments(p, "the desk card's PIN")
        if name == "recharge-fko":
            p.add_argument("--archive", type=Path, required=True, help="folder for the verified ledger")
            p.add_argument("--issuances", type=int, default=ca.DEFAULT_ISSUANCES, help="new counter (default 300)")
            p.add_argument("--spoilt", type=_card_serial, action="append", default=[], metavar="SERIAL",
                           help="a spoilt blank handed in (its serial in hex; repeat for each): the FKO card "
                                "gave out its key but never issued it")

    p = command("install-revocation", cmd_install_revocation, "give an authority card the newest revocation list")
    p.add_argument("--type", choices=sorted(CLIENTS), required=True)
    _card_arguments(p)
    p.add_argument("--list", type=Path, required=True, help="signed revocation list (publish-revocation)")

    p = command("reconcile", cmd_reconcile, "open camp bundles and check their cards against the FKO ledgers")
    keycli.add_store_arguments(p, "the district store")
    p.add_argument("--root", type=Path, required=True, help="scheme root certificate file")
    p.add_argument("bundles", type=Path, nargs="+", metavar="BUNDLE", help="camp bundle files")

    p = command("duplicates", cmd_duplicates, "find anyone enrolled in two households (1:N over every finger)")
    keycli.add_store_arguments(p, "the district store")
    p.add_argument("--root", type=Path, required=True, help="scheme root certificate file")
    p.add_argument("bundles", type=Path, nargs="+", metavar="BUNDLE", help="camp bundle files")

    p = command("card-info", cmd_card_info, "show an authority card's public state (never a secret)")
    p.add_argument("--type", choices=sorted(CLIENTS), required=True)
    _card_arguments(p)
    p.add_argument("--root", type=Path, help="also verify the card's certificate against this root")


def build_parser() -> argparse.ArgumentParser:
    parser = keycli.build_parser(PROG, extra=(add_card_commands,))
    parser.description = "The district desk's command: every key operation, plus the authority cards."
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return keycli.run(build_parser(), argv, errors=(CardError, StateFileError, BiometricsError, StationError))


if __name__ == "__main__":
    sys.exit(main())
