"""The key and card commands, each run as a subprocess end to end (what a desk officer types).

``python -m keymgmt`` does the pure key operations; ``python -m station.district`` adds the commands
that personalise or talk to authority cards (keymgmt may not import cardlib or the simulators).
Secrets go in through files or environment variables only, and must never come back out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cardlib import authority as ca
from cardlib.errors import CardError
from cardlib.family import FamilyCard, family_digest
from cardlib.model import Activation, CardSerial
from keymgmt import hierarchy, revocation
from keymgmt.certs import Certificate
from keymgmt.signing import SignedDocument
from keymgmt.store import FileKeyStore
from simulators.cards.authority import SYS_COUNTER
from simulators.cards.fko import FkoCardOS
from simulators.cards.storage import load_state, save_state
from tests.keymgmt.cards import OFFICER_FINGER, family, finger, inserted, new_family_card

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "district desk passphrase 7"
CENTRAL_PASSPHRASE = "central store passphrase 9"
PIN = "864209"
SECRETS = (PASSPHRASE, CENTRAL_PASSPHRASE, PIN)


def run(module: str, *args: str | Path, cwd: Path, env: dict[str, str] | None = None,
        expect: int = 0) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KEYMGMT_") or k == "KEYMGMT_PKCS11_MODULE"}
    full_env["PYTHONPATH"] = str(REPO)
    full_env.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", module, *map(str, args)], cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == expect, f"{module} {args[0]}: rc {result.returncode}\n{result.stdout}\n{result.stderr}"
    for secret in SECRETS:  # nothing secret is ever echoed, on success or failure
        assert secret not in result.stdout + result.stderr
    return result


def keymgmt(*args: str | Path, **kw) -> subprocess.CompletedProcess[str]:
    return run("keymgmt", *args, **kw)


def desk(*args: str | Path, **kw) -> subprocess.CompletedProcess[str]:
    return run("station.district", *args, **kw)


@pytest.fixture(scope="module")
def scheme(tmp_path_factory) -> Path:
    """central.keys + district.keys + scheme-root.cert made by the CLI (passphrases by file and by env)."""
    base = tmp_path_factory.mktemp("cli")
    (base / "pass").write_text(PASSPHRASE + "\n")
    (base / "central-pass").write_text(CENTRAL_PASSPHRASE + "\n")
    (base / "pin").write_text(PIN + "\n")
    out = keymgmt("create-scheme", "--store", "file:central.keys", "--passphrase-file", "central-pass",
                  "--code", "RSBY", "--name", "Test scheme", "--root-out", "scheme-root.cert", cwd=base)
    assert "SCHEME-RSBY" in out.stdout
    out = keymgmt("create-district", "--central", "file:central.keys", "--store", "file:district.keys",
                  "--passphrase-file", "pass", "--code", "0923", "--name", "Test district", cwd=base,
                  env={"KEYMGMT_CENTRAL_PASSPHRASE": CENTRAL_PASSPHRASE})
    assert "DISTRICT-0923" in out.stdout
    for name in ("central.keys", "district.keys"):
        raw = (base / name).read_bytes()
        assert PASSPHRASE.encode() not in raw and CENTRAL_PASSPHRASE.encode() not in raw
    return base


def test_store_commands_and_root_export(scheme: Path) -> None:
    out = keymgmt("show", "--store", "file:district.keys", cwd=scheme, env={"KEYMGMT_PASSPHRASE": PASSPHRASE})
    assert "district/root-key" in out.stdout and "DISTRICT-0923" in out.stdout
    keymgmt("export-root", "--store", "file:district.keys", "--passphrase-file", "pass", "--out", "root2.cert",
            cwd=scheme)
    assert (scheme / "root2.cert").read_bytes() == (scheme / "scheme-root.cert").read_bytes()
    # A second scheme in the same store, or overwriting a file, is refused.
    out = keymgmt("export-root", "--store", "file:district.keys", "--passphrase-file", "pass", "--out", "root2.cert",
                  cwd=scheme, expect=1)
    assert "already exists" in out.stderr


def test_wrong_or_missing_passphrase_is_refused_without_echo(scheme: Path) -> None:
    (scheme / "wrong").write_text("not the passphrase\n")
    out = keymgmt("show", "--store", "file:district.keys", "--passphrase-file", "wrong", cwd=scheme, expect=1)
    assert "wrong passphrase" in out.stderr and "not the passphrase" not in out.stderr
    assert "Traceback" not in out.stderr
    out = keymgmt("show", "--store", "file:district.keys", cwd=scheme, expect=1)  # stdin is not a terminal
    assert "KEYMGMT_PASSPHRASE" in out.stderr


def test_bad_district_code_makes_no_store(scheme: Path) -> None:
    out = keymgmt("create-district", "--central", "file:central.keys", "--central-passphrase-file", "central-pass",
                  "--store", "file:bad.keys", "--passphrase-file", "pass", "--code", "09-23", cwd=scheme, expect=1)
    assert "letters or digits" in out.stderr and not (scheme / "bad.keys").exists()


def test_household_list_signed_and_verified(scheme: Path) -> None:
    from station.trust import SchemeTrust

    lst = scheme / "village.jsonl"
    lst.write_text('{"format": "household-list", "version": 1}\n{"urn": "09230100101000013"}\n')
    keymgmt("sign-list", "--store", "file:district.keys", "--passphrase-file", "pass", lst.name, cwd=scheme)
    sig = (scheme / "village.jsonl.sig").read_bytes()
    assert SignedDocument.from_text(sig.decode()).purpose == "household-list"
    out = keymgmt("verify-list", "--root", "scheme-root.cert", lst.name, cwd=scheme)
    assert out.stdout.startswith("valid:")
    # What the station imports with: the same signature verifies against the installed root.
    root = Certificate.from_bytes((scheme / "scheme-root.cert").read_bytes())
    assert SchemeTrust(root).district_signer(lst.read_bytes(), sig).district_code == "0923"
    lst.write_text(lst.read_text().replace("13", "14"))  # one household changed after signing
    out = keymgmt("verify-list", "--root", "scheme-root.cert", lst.name, cwd=scheme, expect=1)
    assert "altered" in out.stderr


def test_revocation_list_published_and_checked(scheme: Path) -> None:
    keymgmt("publish-revocation", "--store", "file:district.keys", "--passphrase-file", "pass", "--sequence", "4",
            "--family-card", "4601020304050607", "--authority-card", "4b00000000000001", "--out", "rl4.bin",
            cwd=scheme)
    root = Certificate.from_bytes((scheme / "scheme-root.cert").read_bytes())
    rl = revocation.load((scheme / "rl4.bin").read_bytes(), root)
    assert rl.family_card_revoked(bytes.fromhex("4601020304050607")) and rl.sequence == 4
    out = keymgmt("show-revocation", "--root", "scheme-root.cert", "rl4.bin", cwd=scheme)
    assert "4601020304050607" in out.stdout and "DISTRICT-0923" in out.stdout
    out = keymgmt("show-revocation", "--root", "scheme-root.cert", "--min-sequence", "5", "rl4.bin", cwd=scheme,
                  expect=1)
    assert "older" in out.stderr


def test_card_commands_point_to_the_district_desk_command(scheme: Path) -> None:
    out = keymgmt("make-fko", "--card", "x.card", cwd=scheme, expect=2)
    assert "python -m station.district make-fko" in out.stderr


def _issue(fko_state: Path, district: FileKeyStore, urns: list[str]) -> None:
    """Issue family cards with the CLI-made FKO card, in process (the camp station's part)."""
    now = datetime.now(UTC).replace(microsecond=0)
    with inserted(FkoCardOS(fko_state)) as ft:
        fko = ca.FkoCard(ft)
        fko.select()
        fko.unlock(finger(OFFICER_FINGER, impression=1))
        for urn in urns:
            fam = family(urn)
            card = new_family_card(lambda s: hierarchy.family_card_key(district, s), fam)
            with inserted(card) as famt:
                fc = FamilyCard(famt)
                fc.authenticate(fko)
                auth = fko.authorise_issuance(fc.serial().value, urn, family_digest(fam), "CAMP-01", now)
                fc.activate(Activation(CardSerial(fko.info().serial), auth.number, now, auth.activation_cryptogram))


def test_authority_cards_made_recharged_and_revoked(scheme: Path) -> None:
    (scheme / "officer.tpl").write_bytes(finger(OFFICER_FINGER))
    out = desk("make-fko", "--store", "file:district.keys", "--passphrase-file", "pass", "--card", "fko.card",
               "--holder", "Asha Verma", "--holder-id", "FKO-0923-07", "--template", "officer.tpl",
               "--issuances", "5", cwd=scheme)
    assert "FKO-" in out.stdout
    desk("make-district-card", "--store", "file:district.keys", "--passphrase-file", "pass", "--card", "desk.card",
         "--holder", "Desk officer", "--holder-id", "DESK-0923", "--pin-file", "pin", cwd=scheme)
    out = desk("make-hospital-card", "--store", "file:central.keys", "--card", "hosp.card", "--hospital",
               "District Hospital", "--hospital-id", "HOSP-0923-01", cwd=scheme,
               env={"KEYMGMT_PASSPHRASE": CENTRAL_PASSPHRASE, "KEYMGMT_CARD_PIN": PIN})
    assert "issued by SCHEME-RSBY" in out.stdout
    # A personalised card cannot be made again.
    out = desk("make-district-card", "--store", "file:district.keys", "--passphrase-file", "pass", "--card",
               "desk.card", "--holder", "X", "--holder-id", "X", "--pin-file", "pin", cwd=scheme, expect=1)
    assert "already personalised" in out.stderr
    out = desk("card-info", "--type", "hospital", "--card", "hosp.card", "--root", "scheme-root.cert", cwd=scheme)
    assert "ACTIVE" in out.stdout and "certificate verified" in out.stdout

    with FileKeyStore.open(scheme / "district.keys", PASSPHRASE) as district:
        _issue(scheme / "fko.card", district, ["09230100101000041", "09230100101000042"])
    # A blank spoilt at the camp: its key was given out, its issuance never counted.
    with inserted(FkoCardOS(scheme / "fko.card")) as ft:
        fko = ca.FkoCard(ft)
        fko.select()
        fko.unlock(finger(OFFICER_FINGER, impression=2))
        spoilt = os.urandom(8)
        fko.derive_card_key(spoilt)
    recharge = ("recharge-fko", "--root", "scheme-root.cert", "--fko-card", "fko.card", "--desk-card", "desk.card",
                "--pin-file", "pin", "--archive", "archive", "--issuances", "200")
    out = desk(*recharge, cwd=scheme, expect=1)
    assert spoilt.hex().upper() in out.stderr and "--spoilt" in out.stderr
    out = desk(*recharge, "--spoilt", "12345", cwd=scheme, expect=2)
    assert "16 hex digits" in out.stderr
    out = desk(*recharge, "--spoilt", spoilt.hex(), cwd=scheme)
    assert "ledger of 2 issuances" in out.stdout and "counter 3 -> 200" in out.stdout
    assert f"spoilt blanks accounted for: {spoilt.hex().upper()}" in out.stdout
    root = Certificate.from_bytes((scheme / "scheme-root.cert").read_bytes())
    (archived,) = (scheme / "archive").iterdir()  # the refused attempt archived nothing
    _, entries = ca.verify_archive(archived, root)
    assert [e.urn for e in entries] == ["09230100101000041", "09230100101000042"]
    # A wrong desk PIN stops the recharge before anything changes.
    out = desk("recharge-fko", "--root", "scheme-root.cert", "--fko-card", "fko.card", "--desk-card", "desk.card",
               "--archive", "archive", cwd=scheme, env={"KEYMGMT_CARD_PIN": "000000"}, expect=1)
    assert "PIN not accepted" in out.stderr

    # Five wrong fingers block the card; the desk unblocks it with the CLI.
    with inserted(FkoCardOS(scheme / "fko.card")) as ft:
        fko = ca.FkoCard(ft)
        fko.select()
        for attempt in range(5):
            with pytest.raises(CardError):
                fko.unlock(finger(700 + attempt, impression=1))
        assert fko.info().tries_left == 0
    out = desk("unblock-fko", "--root", "scheme-root.cert", "--fko-card", "fko.card", "--desk-card", "desk.card",
               "--pin-file", "pin", cwd=scheme)
    assert "unblocked: 5 finger tries" in out.stdout

    serial = FkoCardOS(scheme / "fko.card").serial.hex()
    keymgmt("publish-revocation", "--store", "file:district.keys", "--passphrase-file", "pass", "--sequence", "9",
            "--authority-card", serial, "--out", "rl9.bin", cwd=scheme)
    out = desk("install-revocation", "--type", "fko", "--card", "fko.card", "--list", "rl9.bin", cwd=scheme)
    assert "terminated" in out.stdout
    out = desk("card-info", "--type", "fko", "--card", "fko.card", cwd=scheme)
    assert "TERMINATED" in out.stdout


def test_recharge_command_refuses_a_ledger_edited_on_disk(scheme: Path) -> None:
    (scheme / "officer.tpl").write_bytes(finger(OFFICER_FINGER))
    desk("make-fko", "--store", "file:district.keys", "--passphrase-file", "pass", "--card", "fko2.card",
         "--holder", "B. Rao", "--holder-id", "FKO-0923-08", "--template", "officer.tpl", "--issuances", "4",
         cwd=scheme)
    if not (scheme / "desk2.card").exists():
        desk("make-district-card", "--store", "file:district.keys", "--passphrase-file", "pass", "--card",
             "desk2.card", "--holder", "Desk", "--holder-id", "DESK-2", "--pin-file", "pin", cwd=scheme)
    with FileKeyStore.open(scheme / "district.keys", PASSPHRASE) as district:
        _issue(scheme / "fko2.card", district, ["09230100101000051"])
    image = bytearray(load_state(scheme / "fko2.card", "fko", FkoCardOS.eeprom_size))
    at = image.index(b"09230100101000051")
    image[at : at + 17] = b"09230100101000059"  # the ledger now names a family that never got a card
    save_state(scheme / "fko2.card", "fko", bytes(image))
    out = desk("recharge-fko", "--root", "scheme-root.cert", "--fko-card", "fko2.card", "--desk-card", "desk2.card",
               "--pin-file", "pin", "--archive", "archive2", cwd=scheme, expect=1)
    assert "not recharged" in out.stderr
    assert FkoCardOS(scheme / "fko2.card").u32(SYS_COUNTER) == 3  # untouched: 4 - 1
    assert not (scheme / "archive2").exists() or not any((scheme / "archive2").iterdir())


def test_the_same_commands_work_on_pkcs11_tokens(softhsm, tmp_path: Path) -> None:
    """Scheme and district keys on SoftHSM2 tokens (non-extractable), an FKO card made from the token."""
    token_pin = "5827164"
    suffix = os.urandom(3).hex()
    central, district = f"cli-central-{suffix}", f"cli-district-{suffix}"
    for label in (central, district):
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", token_pin,
                        "--so-pin", "87654321"], check=True, capture_output=True, env=dict(os.environ))
    env = {"KEYMGMT_PASSPHRASE": token_pin, "KEYMGMT_CENTRAL_PASSPHRASE": token_pin}
    outputs = [
        keymgmt("create-scheme", "--store", f"pkcs11:{central}", "--code", "RSBY", "--root-out", "root.cert",
                cwd=tmp_path, env=env),
        keymgmt("create-district", "--central", f"pkcs11:{central}", "--store", f"pkcs11:{district}",
                "--code", "0923", cwd=tmp_path, env=env),
        keymgmt("show", "--store", f"pkcs11:{district}", cwd=tmp_path, env=env),
    ]
    assert "district/root-key" in outputs[-1].stdout
    (tmp_path / "officer.tpl").write_bytes(finger(OFFICER_FINGER))
    outputs.append(desk("make-fko", "--store", f"pkcs11:{district}", "--card", "fko.card", "--holder", "C. Das",
                        "--holder-id", "FKO-0923-09", "--template", "officer.tpl", cwd=tmp_path, env=env))
    outputs.append(desk("card-info", "--type", "fko", "--card", "fko.card", "--root", "root.cert", cwd=tmp_path))
    assert "certificate verified" in outputs[-1].stdout
    (tmp_path / "list.jsonl").write_text('{"format": "household-list"}\n')
    outputs.append(keymgmt("sign-list", "--store", f"pkcs11:{district}", "list.jsonl", cwd=tmp_path, env=env))
    outputs.append(keymgmt("verify-list", "--root", "root.cert", "list.jsonl", cwd=tmp_path))
    out = keymgmt("show", "--store", f"pkcs11:{district}", cwd=tmp_path, env={"KEYMGMT_PASSPHRASE": "0000000"},
                  expect=1)
    assert "wrong user PIN" in out.stderr
    for result in [*outputs, out]:
        assert token_pin not in result.stdout + result.stderr and "0000000" not in out.stderr


def test_make_fko_through_a_pcsc_reader(scheme: Path, pcsc_reader) -> None:
    """The same command on a card in a PC/SC reader (private pcscd + vpcd), as with a USB reader."""
    (scheme / "officer.tpl").write_bytes(finger(OFFICER_FINGER))
    card = FkoCardOS(scheme / "pcsc-fko.card")
    pcsc_reader.insert(card)
    out = desk("make-fko", "--store", "file:district.keys", "--passphrase-file", "pass", "--reader",
               pcsc_reader.config, "--holder", "D. Iyer", "--holder-id", "FKO-0923-10", "--template", "officer.tpl",
               cwd=scheme)
    assert card.serial.hex().upper() in out.stdout
    pcsc_reader.remove()
    assert FkoCardOS(scheme / "pcsc-fko.card").lifecycle is ca.Lifecycle.ACTIVE


def test_make_fko_from_a_finger_image(scheme: Path) -> None:
    """--finger-image runs the real extraction; the card then unlocks with that finger only."""
    import cv2

    from biometrics import cardtemplate, pipeline
    from simulators.fingers import SyntheticFinger

    image = SyntheticFinger(31337).impression(0)
    cv2.imwrite(str(scheme / "officer.png"), image)
    desk("make-fko", "--store", "file:district.keys", "--passphrase-file", "pass", "--card", "img-fko.card",
         "--holder", "E. Khan", "--holder-id", "FKO-0923-11", "--finger-image", "officer.png", cwd=scheme)
    with inserted(FkoCardOS(scheme / "img-fko.card")) as ft:
        fko = ca.FkoCard(ft)
        fko.select()
        with pytest.raises(CardError):
            fko.unlock(finger(OFFICER_FINGER, impression=1))  # someone else's finger
        fko.unlock(cardtemplate.encode(pipeline.extract(image)))
        assert fko.info().unlocked
