"""Certificates, detached signatures, revocation lists, ledgers and sealing: each against an attack."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from keymgmt import ecc, hierarchy, issuance, revocation, sealing
from keymgmt.certs import Certificate, CertificateBody, Role, issue, verify_chain
from keymgmt.errors import CertificateError, RevokedError, SignatureError
from keymgmt.signing import FunctionSigner, SignedDocument, sign_document, verify_document
from keymgmt.store import FileKeyStore
from tests.keymgmt.conftest import TEST_PASSPHRASE

NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def scheme(tmp_path_factory):
    base: Path = tmp_path_factory.mktemp("scheme")
    central = FileKeyStore.create(base / "central.json", TEST_PASSPHRASE, scrypt_n=2**10)
    district = FileKeyStore.create(base / "d0923.json", TEST_PASSPHRASE, scrypt_n=2**10)
    other = FileKeyStore.create(base / "d0924.json", TEST_PASSPHRASE, scrypt_n=2**10)
    root = hierarchy.create_scheme(central, "RSBY", "Scheme", now=NOW - timedelta(days=30))
    hierarchy.create_district(central, district, "0923", "District A", now=NOW - timedelta(days=30))
    hierarchy.create_district(central, other, "0924", "District B", now=NOW - timedelta(days=30))
    return {"central": central, "district": district, "other": other, "root": root}


def _fko(scheme, serial: bytes = b"\xf0" * 8):
    key = ecc.generate_private_key()
    chain = hierarchy.certify_authority_card(
        scheme["district"], Role.FKO_CARD, ecc.public_point(key), serial, "Officer", NOW - timedelta(days=1),
        NOW + timedelta(days=365),
    )
    return key, chain


def test_certificate_round_trip_and_chain(scheme) -> None:
    _key, chain = _fko(scheme)
    assert len(chain[0].to_bytes()) < 260
    assert Certificate.from_bytes(chain[0].to_bytes()) == chain[0]
    leaf = verify_chain(chain, scheme["root"], NOW)
    assert leaf.role is Role.FKO_CARD and leaf.district_code == "0923" and leaf.card_serial == b"\xf0" * 8


def test_forged_certificate_is_rejected(scheme) -> None:
    """A forger makes an FKO certificate with their own 'district' key."""
    fake_district = ecc.generate_private_key()
    _, chain = _fko(scheme)
    body = replace(chain[0].body, public_key=ecc.public_point(ecc.generate_private_key()))
    forged = issue(body, lambda d: ecc.sign_digest(fake_district, d))
    with pytest.raises(CertificateError, match="not validly signed"):
        verify_chain((forged, chain[1]), scheme["root"], NOW)


def test_district_cannot_certify_a_hospital_card(scheme) -> None:
    _, chain = _fko(scheme)
    body = replace(chain[0].body, role=Role.HOSPITAL_CARD)
    wrong = issue(body, scheme["district"].signer(hierarchy.DISTRICT_SIGNING))
    with pytest.raises(CertificateError, match="may not certify"):
        verify_chain((wrong, chain[1]), scheme["root"], NOW)


def test_expired_certificate_is_rejected(scheme) -> None:
    _, chain = _fko(scheme)
    with pytest.raises(CertificateError, match="renew"):
        verify_chain(chain, scheme["root"], NOW + timedelta(days=400))


@pytest.mark.parametrize("cut", [0, 5, 20, 100, -1])
def test_damaged_certificate_bytes_are_rejected(scheme, cut: int) -> None:
    _, chain = _fko(scheme)
    raw = chain[0].to_bytes()
    with pytest.raises(CertificateError):
        Certificate.from_bytes(raw[:cut])


def test_household_list_signature(scheme) -> None:
    payload = b"URN,name\n09230000000000001,Ram Lal\n"
    doc = sign_document(hierarchy.district_signer(scheme["district"]), payload, "household-list")
    again = SignedDocument.from_text(doc.to_text())
    signer = verify_document(payload, again, scheme["root"], "household-list", roles=(Role.DISTRICT,))
    assert signer.subject == "DISTRICT-0923"


def test_tampered_household_list_is_rejected(scheme) -> None:
    payload = b"URN,name\n09230000000000001,Ram Lal\n"
    doc = sign_document(hierarchy.district_signer(scheme["district"]), payload, "household-list")
    with pytest.raises(SignatureError, match="altered"):
        verify_document(payload.replace(b"Ram", b"Sam"), doc, scheme["root"], "household-list")
    # Altering the hash inside the .sig to match the new payload breaks the signature instead.
    forged = replace(doc, payload_sha256=ecc.sha256(payload.replace(b"Ram", b"Sam")))
    with pytest.raises(SignatureError, match="forged or altered"):
        verify_document(payload.replace(b"Ram", b"Sam"), forged, scheme["root"], "household-list")


def test_signature_for_another_purpose_is_rejected(scheme) -> None:
    payload = b"bundle"
    doc = sign_document(hierarchy.district_signer(scheme["district"]), payload, "camp-bundle")
    with pytest.raises(SignatureError, match="not a 'household-list'"):
        verify_document(payload, doc, scheme["root"], "household-list")
    relabelled = replace(doc, purpose="household-list")
    with pytest.raises(SignatureError):
        verify_document(payload, relabelled, scheme["root"], "household-list")


def test_signature_under_a_foreign_root_is_rejected(scheme, tmp_path: Path) -> None:
    rogue = FileKeyStore.create(tmp_path / "rogue.json", TEST_PASSPHRASE, scrypt_n=2**10)
    rogue_district = FileKeyStore.create(tmp_path / "rd.json", TEST_PASSPHRASE, scrypt_n=2**10)
    hierarchy.create_scheme(rogue, "RSBY")
    hierarchy.create_district(rogue, rogue_district, "0923")
    doc = sign_document(hierarchy.district_signer(rogue_district), b"x", "household-list")
    with pytest.raises(CertificateError):
        verify_document(b"x", doc, scheme["root"], "household-list")


def test_damaged_signature_file_is_rejected() -> None:
    for text in ("", "-----BEGIN RSBY SIGNATURE-----\n!!!\n-----END RSBY SIGNATURE-----", "hello"):
        with pytest.raises(SignatureError):
            SignedDocument.from_text(text)


# --- revocation -------------------------------------------------------------------------------------


def test_revocation_list_round_trip_and_refusal(scheme) -> None:
    _, chain = _fko(scheme, b"\x0a" * 8)
    signed = revocation.publish(
        hierarchy.district_signer(scheme["district"]), 3, [b"\x01" * 8], [b"\x0a" * 8], issued_at=NOW
    )
    rl = revocation.load(revocation.SignedRevocationList.from_bytes(signed.to_bytes()).to_bytes(), scheme["root"])
    assert rl.sequence == 3 and rl.family_card_revoked(b"\x01" * 8) and not rl.family_card_revoked(b"\x02" * 8)
    with pytest.raises(RevokedError, match="revoked"):
        verify_chain(chain, scheme["root"], NOW, rl.certificate_revoked)


def test_revocation_list_rollback_and_tamper_are_rejected(scheme) -> None:
    signer = hierarchy.district_signer(scheme["district"])
    old = revocation.publish(signer, 2, [b"\x01" * 8], issued_at=NOW)
    with pytest.raises(SignatureError, match="older"):
        revocation.load(old.to_bytes(), scheme["root"], min_sequence=3)
    # Dropping a revoked serial from the payload breaks the signature.
    emptied = revocation.RevocationList(2, NOW, frozenset(), frozenset()).encode()
    with pytest.raises(SignatureError, match="altered"):
        revocation.load(revocation.SignedRevocationList(emptied, old.signature).to_bytes(), scheme["root"])


def test_only_root_or_district_may_revoke(scheme) -> None:
    key, chain = _fko(scheme)
    fko_signer = FunctionSigner(chain, lambda d: ecc.sign_digest(key, d))
    signed = revocation.publish(fko_signer, 9, [b"\x01" * 8], issued_at=NOW)
    with pytest.raises(SignatureError, match="may not sign"):
        revocation.load(signed.to_bytes(), scheme["root"])


# --- issuance and ledger -----------------------------------------------------------------------------


def _ledger(key, serial: bytes, n: int, first: int = 1):
    entries, chain = [], issuance.CHAIN_START
    for i in range(n):
        fields = dict(
            number=first + i, time=NOW + timedelta(minutes=i), urn=f"{i:017d}", card_serial=os.urandom(8),
            station_id="CAMP-01", data_hash=os.urandom(32),
        )
        digest = issuance.issuance_digest(serial, fields["urn"], fields["card_serial"], "CAMP-01", fields["time"], fields["data_hash"])
        entry = issuance.LedgerEntry(**fields, signature=ecc.sign_digest(key, digest))
        entries.append(entry)
        chain = issuance.chain_next(chain, entry)
    challenge = os.urandom(16)
    summary = issuance.LedgerSummary(serial, 300 - n, first + n, n, chain, challenge)
    summary = replace(summary, signature=ecc.sign_digest(key, summary.digest()))
    return entries, summary, challenge


def test_ledger_verifies_and_round_trips(scheme) -> None:
    key, chain = _fko(scheme)
    entries, summary, challenge = _ledger(key, chain[0].card_serial, 5)
    decoded = issuance.decode_entries(issuance.encode_entries(entries))
    assert list(decoded) == entries
    issuance.verify_ledger(decoded, issuance.LedgerSummary.decode(summary.encode()), chain[0], challenge)


@pytest.mark.parametrize("attack", ["edit-urn", "drop-last", "drop-first", "swap", "replay-summary"])
def test_edited_ledger_is_detected(scheme, attack: str) -> None:
    key, chain = _fko(scheme)
    entries, summary, challenge = _ledger(key, chain[0].card_serial, 4)
    if attack == "edit-urn":
        entries[2] = replace(entries[2], urn="99999999999999999")
    elif attack == "drop-last":
        entries.pop()
    elif attack == "drop-first":
        entries.pop(0)
    elif attack == "swap":
        entries[0], entries[1] = entries[1], entries[0]
    else:
        challenge = os.urandom(16)
    with pytest.raises(SignatureError):
        issuance.verify_ledger(entries, summary, chain[0], challenge)


def test_issuance_signature_binds_the_card_data(scheme) -> None:
    key, chain = _fko(scheme)
    data_hash = ecc.sha256(b"family data")
    serial = b"\x11" * 8
    digest = issuance.issuance_digest(chain[0].card_serial, "0" * 17, serial, "CAMP-01", NOW, data_hash)
    sig = ecc.sign_digest(key, digest)
    issuance.verify_issuance(chain[0], "0" * 17, serial, "CAMP-01", NOW, data_hash, sig)
    with pytest.raises(SignatureError):
        issuance.verify_issuance(chain[0], "0" * 17, serial, "CAMP-01", NOW, ecc.sha256(b"edited"), sig)
    with pytest.raises(SignatureError):
        issuance.verify_issuance(chain[0], "0" * 17, b"\x12" * 8, "CAMP-01", NOW, data_hash, sig)


# --- sealing -------------------------------------------------------------------------------------------


def test_camp_bundle_sealed_to_the_district_opens_only_there(scheme) -> None:
    bundle = os.urandom(3000)
    dcert = hierarchy.district_certificate(scheme["district"])
    sealed = sealing.seal(bundle, dcert)
    assert bundle not in sealed
    assert sealing.open_sealed(sealed, scheme["district"], hierarchy.DISTRICT_SIGNING, dcert) == bundle
    other_cert = hierarchy.district_certificate(scheme["other"])
    with pytest.raises(sealing.SealingError, match="another district"):
        sealing.open_sealed(sealed, scheme["other"], hierarchy.DISTRICT_SIGNING, other_cert)
    tampered = bytearray(sealed)
    tampered[-5] ^= 1
    with pytest.raises(sealing.SealingError):
        sealing.open_sealed(bytes(tampered), scheme["district"], hierarchy.DISTRICT_SIGNING, dcert)


def test_certificate_body_validation() -> None:
    point = ecc.public_point(ecc.generate_private_key())
    with pytest.raises(CertificateError):
        CertificateBody(Role.FKO_CARD, "", "x", "", "", b"", NOW, NOW + timedelta(1), point)
    with pytest.raises(CertificateError, match="ends before"):
        CertificateBody(Role.FKO_CARD, "s", "x", "", "", b"", NOW, NOW, point)
