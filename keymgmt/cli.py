"""``python -m keymgmt``: the key operations of the scheme and of a district (no card is touched here).

Commands (each prints what it made; none ever prints a key, passphrase or PIN)::

    create-scheme       --store file:central.keys --code RSBY [--name N] [--root-out scheme-root.cert]
    create-district     --central file:central.keys --store file:district-0923.keys --code 0923 [--name N]
    export-root         --store STORE --out scheme-root.cert
    show                --store STORE
    sign-list           --store file:district-0923.keys LIST [--out LIST.sig]
    verify-list         --root scheme-root.cert LIST [--sig LIST.sig]
    publish-revocation  --store STORE --sequence N [--family-card HEX ...] [--authority-card HEX ...] --out FILE
    show-revocation     --root scheme-root.cert FILE

Personalising authority cards needs ``cardlib`` and the card simulators, which this package never
imports (``docs/ARCHITECTURE``: keymgmt is the bottom layer). Those commands — make-fko,
make-hospital-card, make-district-card, recharge-fko, unblock-fko, install-revocation, card-info —
live in ``python -m station.district``, which also offers every command above.

Secrets: a store's passphrase (or PKCS#11 user PIN) is read from ``--passphrase-file FILE`` (first
line), else from ``$KEYMGMT_PASSPHRASE``, else asked on the terminal without echo. The central store of
``create-district`` uses ``--central-passphrase-file`` / ``$KEYMGMT_CENTRAL_PASSPHRASE`` the same way.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from keymgmt import hierarchy, revocation, scp
from keymgmt.certs import Certificate, Role
from keymgmt.errors import KeyManagementError
from keymgmt.files import write_atomic
from keymgmt.signing import SignedDocument, sign_document, verify_document
from keymgmt.store import KeyStore, open_store

PROG = "python -m keymgmt"
DESCRIPTION = "Key operations of the scheme and of a district (no card is touched here)."
LIST_PURPOSE = "household-list"  # what station.trust verifies a household list's signature for
ENV_PASSPHRASE = "KEYMGMT_PASSPHRASE"
ENV_CENTRAL_PASSPHRASE = "KEYMGMT_CENTRAL_PASSPHRASE"


class CliError(Exception):
    """A problem with the command line or its files; the message says what to do."""


# --- secrets -----------------------------------------------------------------------------------------


def read_secret(file: Path | None, env_var: str, prompt: str, confirm: bool = False) -> str:
    """A secret from a file (first line), an environment variable, or the terminal (no echo)."""
    if file is not None:
        try:
            lines = Path(file).read_text("utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            raise CliError(f"cannot read the secret file {file}; check its path and permissions") from None
        if not lines or not lines[0]:
            raise CliError(f"the secret file {file} is empty; put the secret on its first line")
        return lines[0]
    value = os.environ.get(env_var)
    if value:
        return value
    if not sys.stdin.isatty():
        raise CliError(f"no secret given: use the --*-file option or set ${env_var} (never a command argument)")
    value = getpass.getpass(f"{prompt}: ")
    if confirm and getpass.getpass(f"{prompt} (again): ") != value:
        raise CliError("the two entries differ; nothing was created")
    return value


def store_secret(args: argparse.Namespace, confirm: bool = False) -> str:
    return read_secret(args.passphrase_file, ENV_PASSPHRASE, f"passphrase or PIN for {args.store}", confirm)


def open_from_args(args: argparse.Namespace, create: bool = False) -> KeyStore:
    return open_store(args.store, store_secret(args, confirm=create and args.store.startswith("file:")), create)


def open_central(args: argparse.Namespace) -> KeyStore:
    secret = read_secret(
        args.central_passphrase_file, ENV_CENTRAL_PASSPHRASE, f"passphrase or PIN for {args.central}"
    )
    return open_store(args.central, secret)


def add_store_arguments(parser: argparse.ArgumentParser, what: str = "key store") -> None:
    parser.add_argument("--store", required=True, help=f"{what}: file:<path> or pkcs11:<token label>")
    parser.add_argument(
        "--passphrase-file", type=Path, help=f"file whose first line is the passphrase/PIN (else ${ENV_PASSPHRASE})"
    )


def add_central_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--central", required=True, help="the central (scheme) store: file:<path> or pkcs11:<label>")
    parser.add_argument(
        "--central-passphrase-file", type=Path, help=f"its passphrase/PIN file (else ${ENV_CENTRAL_PASSPHRASE})"
    )


# --- small helpers --------------------------------------------------------------------------------------


def write_new(path: Path, data: bytes, force: bool = False) -> None:
    """Write ``data`` to ``path`` atomically; refuse to replace an existing file unless ``force``."""
    if path.exists() and not force:
        raise CliError(f"{path} already exists; choose another name or pass --force")
    # Certificates, requests and signed lists are for others to read: the mode a plain open() would
    # give, not the temp file's owner-only one.
    umask = os.umask(0)
    os.umask(umask)
    write_atomic(path, data, mode=0o666 & ~umask)


def read_file(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        raise CliError(f"cannot read the {what} {path}; check the path") from None


def load_root(path: Path) -> Certificate:
    return Certificate.from_bytes(read_file(path, "scheme root certificate"))


def parse_serial(text: str) -> bytes:
    try:
        raw = bytes.fromhex(text.replace(":", "").replace(" ", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a card serial in hex (e.g. 4B01020304050607)") from None
    if not 1 <= len(raw) <= 32:
        raise argparse.ArgumentTypeError("a card serial is 1-32 bytes")
    return raw


def describe(cert: Certificate) -> str:
    serial = f" card {cert.card_serial.hex().upper()}" if cert.card_serial else ""
    holder = f" ({cert.holder})" if cert.holder else ""
    return (f"{cert.role.name} {cert.subject}{holder}{serial}, issued by {cert.issuer}, "
            f"valid {cert.not_before:%Y-%m-%d}..{cert.not_after:%Y-%m-%d}")


# --- commands -----------------------------------------------------------------------------------------------


def cmd_create_scheme(args: argparse.Namespace) -> int:
    scp.district_context(args.code)  # checked before the new store file is made
    with open_from_args(args, create=True) as store:
        cert = hierarchy.create_scheme(store, args.code, args.name, years=args.years)
    print(f"scheme created in {args.store}: {describe(cert)}")
    if args.root_out:
        write_new(args.root_out, cert.to_bytes(), args.force)
        print(f"root certificate written to {args.root_out} (install it on every station and desk)")
    return 0


def cmd_create_district(args: argparse.Namespace) -> int:
    scp.district_context(args.code)
    with open_central(args) as central, open_from_args(args, create=True) as district:
        cert = hierarchy.create_district(central, district, args.code, args.name, years=args.years)
    print(f"district created in {args.store}: {describe(cert)}")
    return 0


def cmd_export_root(args: argparse.Namespace) -> int:
    with open_from_args(args) as store:
        cert = hierarchy.root_certificate(store)
    write_new(args.out, cert.to_bytes(), args.force)
    print(f"root certificate {cert.subject} written to {args.out}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with open_from_args(args) as store:
        print(f"{store.description}: objects {', '.join(store.labels()) or 'none'}")
        for label in (hierarchy.ROOT_CERT, hierarchy.DISTRICT_CERT):
            if store.has(label):
                print(f"  {label}: {describe(Certificate.from_bytes(store.get_data(label)))}")
    return 0


def cmd_sign_list(args: argparse.Namespace) -> int:
    payload = read_file(args.list, "household list")
    out = args.out or args.list.with_name(args.list.name + ".sig")
    with open_from_args(args) as store:
        signer = hierarchy.district_signer(store)
        doc = sign_document(signer, payload, LIST_PURPOSE)
    write_new(out, doc.to_text().encode("ascii"), args.force)
    print(f"{args.list} ({len(payload)} bytes) signed by {signer.chain[0].subject}; signature in {out}")
    return 0


def cmd_verify_list(args: argparse.Namespace) -> int:
    payload = read_file(args.list, "household list")
    sig_path = args.sig or args.list.with_name(args.list.name + ".sig")
    raw = read_file(sig_path, "signature file")
    doc = SignedDocument.from_text(raw.decode("ascii", "replace")) if raw.lstrip().startswith(b"-----") else (
        SignedDocument.from_bytes(raw))
    signer = verify_document(payload, doc, load_root(args.root), LIST_PURPOSE, roles=(Role.DISTRICT,))
    print(f"valid: {args.list} signed {doc.signed_at:%Y-%m-%d %H:%M} UTC by {describe(signer)}")
    return 0


def cmd_publish_revocation(args: argparse.Namespace) -> int:
    if not args.family_card and not args.authority_card and not args.allow_empty:
        raise CliError("name at least one --family-card or --authority-card (or pass --allow-empty)")
    with open_from_args(args) as store:
        if store.has(hierarchy.DISTRICT_SIGNING):
            signer = hierarchy.district_signer(store)
        elif store.has(hierarchy.ROOT_SIGNING):
            signer = hierarchy.root_signer(store)
        else:
            raise CliError(f"{args.store} holds neither a district nor a scheme; it cannot revoke")
        signed = revocation.publish(signer, args.sequence, args.family_card, args.authority_card)
    write_new(args.out, signed.to_bytes(), args.force)
    print(f"revocation list {args.sequence} ({len(args.family_card)} family cards, {len(args.authority_card)} "
          f"authority cards) written to {args.out}")
    return 0


def cmd_show_revocation(args: argparse.Namespace) -> int:
    rl = revocation.load(read_file(args.file, "revocation list"), load_root(args.root), args.min_sequence)
    print(f"revocation list {rl.sequence}, issued {rl.issued_at:%Y-%m-%d %H:%M} UTC by {rl.issuer}")
    for name, group in (("family card", rl.family_cards), ("authority card", rl.authority_cards)):
        for serial in sorted(group):
            print(f"  {name} {serial.hex().upper()}")
    return 0


# --- parser ------------------------------------------------------------------------------------------------


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add the key commands to ``sub`` (``station.district`` adds them to its own parser too)."""

    def command(name: str, func: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text, description=help_text)
        parser.set_defaults(func=func)
        return parser

    p = command("create-scheme", cmd_create_scheme, "create the scheme root keys in a new central store")
    add_store_arguments(p, "the new central store")
    p.add_argument("--code", required=True, help="scheme code, letters/digits (e.g. RSBY)")
    p.add_argument("--name", default="", help="scheme name for the root certificate")
    p.add_argument("--years", type=int, default=20, help="validity of the root certificate (default 20)")
    p.add_argument("--root-out", type=Path, help="also write the root certificate to this file")
    p.add_argument("--force", action="store_true", help="replace an existing --root-out file")

    p = command("create-district", cmd_create_district, "create a district's store, keys and certificate")
    add_central_arguments(p)
    add_store_arguments(p, "the new district store")
    p.add_argument("--code", required=True, help="district code, letters/digits (e.g. 0923)")
    p.add_argument("--name", default="", help="district name for its certificate")
    p.add_argument("--years", type=int, default=10, help="validity of the district certificate (default 10)")

    p = command("export-root", cmd_export_root, "write the scheme root certificate from a store to a file")
    add_store_arguments(p)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--force", action="store_true")

    p = command("show", cmd_show, "list a store's objects and certificates (never key bytes)")
    add_store_arguments(p)

    p = command("sign-list", cmd_sign_list, "sign a household list (detached LIST.sig) with the district key")
    add_store_arguments(p, "the district store")
    p.add_argument("list", type=Path, help="the household list file (JSON Lines)")
    p.add_argument("--out", type=Path, help="signature file (default LIST.sig)")
    p.add_argument("--force", action="store_true")

    p = command("verify-list", cmd_verify_list, "verify a household list's signature against the scheme root")
    p.add_argument("--root", type=Path, required=True, help="scheme root certificate file")
    p.add_argument("list", type=Path)
    p.add_argument("--sig", type=Path, help="signature file (default LIST.sig)")

    p = command("publish-revocation", cmd_publish_revocation, "sign a revocation list (district or scheme)")
    add_store_arguments(p, "the district (or central) store")
    p.add_argument("--sequence", type=int, required=True, help="list number; must grow with every list")
    p.add_argument("--family-card", type=parse_serial, action="append", default=[], metavar="HEX")
    p.add_argument("--authority-card", type=parse_serial, action="append", default=[], metavar="HEX")
    p.add_argument("--allow-empty", action="store_true", help="publish a list revoking nothing (a fresh sequence)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--force", action="store_true")

    p = command("show-revocation", cmd_show_revocation, "verify a revocation list and print it")
    p.add_argument("--root", type=Path, required=True, help="scheme root certificate file")
    p.add_argument("--min-sequence", type=int, default=0, help="refuse lists older than this one")
    p.add_argument("file", type=Path)


def build_parser(prog: str = PROG, extra: Sequence[Callable[[argparse._SubParsersAction], None]] = ()) -> (
        argparse.ArgumentParser):
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_commands(sub)
    for add in extra:
        add(sub)
    return parser


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None, errors: tuple[type[Exception], ...] = ()) -> int:
    """Parse and run; known failures print one line (never a traceback, never a secret) and exit 1."""
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CliError, KeyManagementError, *errors) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130


#: Commands that need a card: they live one layer up (this package never imports cardlib or simulators).
CARD_COMMANDS = ("make-fko", "make-district-card", "make-hospital-card", "recharge-fko", "unblock-fko",
                 "install-revocation", "card-info")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in CARD_COMMANDS:
        print(f"{PROG}: {argv[0]} personalises or talks to a card; run it as: python -m station.district "
              f"{argv[0]} ... (that command also offers every key command)", file=sys.stderr)
        return 2
    return run(build_parser(), argv)
