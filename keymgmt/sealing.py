"""Sealing data to a district (camp bundles): ECDH P-256 + HKDF-SHA256 + AES-256-GCM.

The station seals to the public key in the district's certificate (which it already trusts through
the root); only the district store can open it (the key agreement runs inside the store or token).
Sign first, then seal: ``seal(signed bundle bytes, district certificate)``.

Format::

    "RSBYE1" ‖ ephemeral point (65) ‖ nonce (12) ‖ AES-GCM ciphertext+tag

``key = HKDF-SHA256(ECDH(ephemeral, district), salt = 32 zero bytes, info = "RSBY/seal/v1" ‖ eph ‖
district point)``; the associated data is the magic, the ephemeral point and the district's subject,
so a bundle sealed to one district does not open as another's.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keymgmt import ecc
from keymgmt.certs import Certificate, Role
from keymgmt.errors import KeyManagementError
from keymgmt.store import KeyStore

MAGIC = b"RSBYE1"
INFO = b"RSBY/seal/v1"


class SealingError(KeyManagementError):
    """Sealed data that cannot be opened: wrong district, damaged or altered."""


def _key(shared: bytes, eph: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, bytes(32), INFO + eph + recipient).derive(shared)


def seal(plaintext: bytes, recipient: Certificate) -> bytes:
    """Encrypt ``plaintext`` so that only the holder of ``recipient``'s private key can read it."""
    if recipient.role not in (Role.DISTRICT, Role.ROOT):
        raise SealingError(f"data is sealed to a district or the scheme, not to a {recipient.role.name}")
    eph_key = ec.generate_private_key(ecc.CURVE)
    eph = ecc.public_point(eph_key)
    shared = eph_key.exchange(ec.ECDH(), ecc.load_point(recipient.public_key))
    nonce = os.urandom(12)
    aad = MAGIC + eph + recipient.subject.encode("ascii")
    return MAGIC + eph + nonce + AESGCM(_key(shared, eph, recipient.public_key)).encrypt(nonce, plaintext, aad)


def open_sealed(sealed: bytes, store: KeyStore, label: str, recipient: Certificate) -> bytes:
    """Decrypt with the store's key ``label`` (the one ``recipient`` certifies)."""
    if not isinstance(sealed, bytes) or not sealed.startswith(MAGIC) or len(sealed) < len(MAGIC) + 65 + 12 + 16:
        raise SealingError("not a sealed bundle (bad magic or too short)")
    eph = sealed[len(MAGIC) : len(MAGIC) + 65]
    nonce = sealed[len(MAGIC) + 65 : len(MAGIC) + 77]
    try:
        shared = store.ecdh(label, eph)
    except KeyManagementError:
        raise
    except ValueError:
        raise SealingError("the sealed bundle's ephemeral key is invalid; it is damaged") from None
    aad = MAGIC + eph + recipient.subject.encode("ascii")
    try:
        return AESGCM(_key(shared, eph, recipient.public_key)).decrypt(nonce, sealed[len(MAGIC) + 77 :], aad)
    except InvalidTag:
        raise SealingError(
            f"the bundle does not open with {recipient.subject}'s key: sealed to another district, or altered"
        ) from None
