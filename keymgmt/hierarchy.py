"""The key hierarchy on top of key stores: scheme (central) → district → authority cards → family cards.

Central store (the ministry's key generation authority)::

    scheme/root-key     AES-256, random, never leaves    → scheme family master (hospital cards)
    scheme/signing      P-256, random, never leaves      → signs district and hospital-card certificates
    scheme/root-cert    the self-signed root certificate (every station trusts it)
    scheme/info         {"scheme": code, "name": ...}

District store (one per district key management authority)::

    district/root-key   AES-256 = KDF(scheme family master, district code), imported once, never leaves
                        → district family master (FKO and district cards) → family card keys
                        → district admin master (district cards) → one admin key per authority card
    district/signing    P-256, generated in the store      → signs FKO and district-card certificates,
                                                             household lists, revocation lists
    district/cert       its certificate, signed by the scheme root
    scheme/root-cert    copy of the root certificate

The only key bytes that ever leave a store are derived ones being loaded onto a card (or, once, the
district root into a new district store): see ``docs/authentication.md`` and ``docs/security.md``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from keymgmt import scp
from keymgmt.certs import Certificate, CertificateBody, Role, issue
from keymgmt.errors import KeyStoreError
from keymgmt.signing import FunctionSigner
from keymgmt.store import KeyStore

ROOT_KEY = "scheme/root-key"
ROOT_SIGNING = "scheme/signing"
ROOT_CERT = "scheme/root-cert"
SCHEME_INFO = "scheme/info"
DISTRICT_ROOT = "district/root-key"
DISTRICT_SIGNING = "district/signing"
DISTRICT_CERT = "district/cert"

CARD_SUBJECT_PREFIX = {Role.FKO_CARD: "FKO", Role.HOSPITAL_CARD: "HOSP", Role.DISTRICT_CARD: "DESK"}


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).replace(microsecond=0)


# --- scheme (central) -----------------------------------------------------------------------------------


def create_scheme(
    store: KeyStore, scheme_code: str, name: str = "", years: int = 20, now: datetime | None = None
) -> Certificate:
    """Generate the scheme root keys in ``store`` and return the self-signed root certificate."""
    scp.district_context(scheme_code)  # same validation: short ASCII code
    if store.has(ROOT_KEY) or store.has(ROOT_SIGNING):
        raise KeyStoreError(f"{store.description} already holds a scheme; use a new store")
    store.generate_aes_key(ROOT_KEY, 32)
    point = store.generate_signing_key(ROOT_SIGNING)
    start = _now(now)
    subject = f"SCHEME-{scheme_code}"
    body = CertificateBody(Role.ROOT, subject, subject, "", name, b"", start, start + timedelta(days=365 * years), point)
    cert = issue(body, store.signer(ROOT_SIGNING))
    store.put_data(ROOT_CERT, cert.to_bytes())
    store.put_data(SCHEME_INFO, json.dumps({"scheme": scheme_code, "name": name}).encode())
    return cert


def scheme_code(store: KeyStore) -> str:
    return json.loads(store.get_data(SCHEME_INFO))["scheme"]


def root_certificate(store: KeyStore) -> Certificate:
    return Certificate.from_bytes(store.get_data(ROOT_CERT))


def root_signer(store: KeyStore) -> FunctionSigner:
    return FunctionSigner((), store.signer(ROOT_SIGNING))


def scheme_family_master(central: KeyStore) -> bytes:
    """The scheme family master, derived inside the central store, for loading onto a hospital card."""
    return central.derive(ROOT_KEY, scp.LABEL_SCHEME_FAMILY, scp.district_context(scheme_code(central)), 32)


# --- district ---------------------------------------------------------------------------------------------


def create_district(
    central: KeyStore,
    district: KeyStore,
    district_code: str,
    name: str = "",
    years: int = 10,
    now: datetime | None = None,
) -> Certificate:
    """Set up a district's store: its root key (from the scheme), its signing key and certificate."""
    if district.has(DISTRICT_ROOT) or district.has(DISTRICT_SIGNING):
        raise KeyStoreError(f"{district.description} already holds a district; use a new store")
    root = root_certificate(central)
    point = district.generate_signing_key(DISTRICT_SIGNING)
    district.import_aes_key(DISTRICT_ROOT, scp.derive_district_root(scheme_family_master(central), district_code))
    start = _now(now)
    end = min(start + timedelta(days=365 * years), root.not_after)
    body = CertificateBody(
        Role.DISTRICT, f"DISTRICT-{district_code}", root.subject, district_code, name, b"", start, end, point
    )
    cert = issue(body, central.signer(ROOT_SIGNING))
    district.put_data(DISTRICT_CERT, cert.to_bytes())
    district.put_data(ROOT_CERT, root.to_bytes())
    return cert


def district_certificate(store: KeyStore) -> Certificate:
    return Certificate.from_bytes(store.get_data(DISTRICT_CERT))


def district_signer(store: KeyStore) -> FunctionSigner:
    return FunctionSigner((district_certificate(store),), store.signer(DISTRICT_SIGNING))


def district_family_master(store: KeyStore) -> bytes:
    """For loading onto the district's FKO and district cards (derived inside the store)."""
    return store.derive(DISTRICT_ROOT, scp.LABEL_DISTRICT_FAMILY, b"", 32)


def district_admin_master(store: KeyStore) -> bytes:
    """For loading onto district (desk) cards only."""
    return store.derive(DISTRICT_ROOT, scp.LABEL_DISTRICT_ADMIN, b"", 32)


def family_card_key(store: KeyStore, serial: bytes) -> bytes:
    """One family card's key (district desk: duplicates, tests)."""
    return scp.derive_card_key(district_family_master(store), serial)


def authority_admin_key(store: KeyStore, card_serial: bytes) -> bytes:
    return scp.derive_authority_admin_key(district_admin_master(store), card_serial)


# --- authority cards --------------------------------------------------------------------------------------


def certify_authority_card(
    issuer: KeyStore,
    role: Role,
    public_key: bytes,
    card_serial: bytes,
    holder: str,
    not_before: datetime,
    not_after: datetime,
) -> tuple[Certificate, ...]:
    """Certify a card-resident key; return the card's chain (its certificate, then the issuer's if any).

    FKO and district cards are certified by their district store, hospital cards by the central store
    (they carry the scheme-wide family master).
    """
    prefix = CARD_SUBJECT_PREFIX.get(role)
    if prefix is None:
        raise KeyStoreError(f"{role.name} is not an authority-card role")
    subject = f"{prefix}-{card_serial.hex().upper()}"
    if role is Role.HOSPITAL_CARD:
        root = root_certificate(issuer)
        end = min(not_after, root.not_after)
        body = CertificateBody(role, subject, root.subject, "", holder, card_serial, not_before, end, public_key)
        return (issue(body, issuer.signer(ROOT_SIGNING)),)
    dcert = district_certificate(issuer)
    end = min(not_after, dcert.not_after)
    body = CertificateBody(
        role, subject, dcert.subject, dcert.district_code, holder, card_serial, not_before, end, public_key
    )
    return issue(body, issuer.signer(DISTRICT_SIGNING)), dcert
