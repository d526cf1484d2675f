"""Encryption of biometric data at rest, and how the station data key is kept.

Key management (the threat model's *stolen station laptop* in docs/security.md):

* One random 256-bit **station data key** (DEK) encrypts every photo and template with AES-GCM; the
  row's identity (member, kind, finger) is the associated data, so a ciphertext moved to another row
  fails to decrypt.
* The DEK is never stored in clear. Each operator row holds it wrapped (AES-GCM) under a key-encryption
  key derived with HKDF from ``scrypt(password, salt)`` **and** the **station secret** — 32 random
  bytes in ``<data_dir>/station.secret`` (mode 0600, outside the database). A stolen database alone,
  or the secret file alone, opens nothing; the key exists in memory only while an operator is logged in.
* A new operator can only be added from a logged-in session (it needs the DEK to wrap it again); the
  first operator of a fresh station creates the DEK.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from keymgmt.files import write_atomic
from station.errors import AuthenticationError, DecryptionError, StorageError

SECRET_FILE = "station.secret"
NONCE = 12
# scrypt cost: ~40 ms per login on a 2-core field PC; enough to make offline guessing slow.
SCRYPT_N = 2**14


def load_station_secret(data_dir: Path, create: bool = True) -> bytes:
    """The station secret, created on first use."""
    path = data_dir / SECRET_FILE
    if path.is_file():
        secret = path.read_bytes()
        if len(secret) != 32:
            raise StorageError(f"{path} is damaged ({len(secret)} bytes, expected 32); restore it from backup")
        return secret
    if not create:
        raise StorageError(f"{path} is missing; restore it from backup or the station data cannot be read")
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = os.urandom(32)
    write_atomic(path, secret, mode=0o600)
    return secret


def _kek(password: str, salt: bytes, station_secret: bytes) -> bytes:
    stretched = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=8, p=1).derive(password.encode("utf-8"))
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"enrolment-station kek v1")
    return hkdf.derive(stretched + station_secret)


@dataclass(frozen=True)
class WrappedKey:
    salt: bytes
    wrapped: bytes


def wrap_data_key(dek: bytes, login: str, password: str, station_secret: bytes) -> WrappedKey:
    salt = os.urandom(16)
    nonce = os.urandom(NONCE)
    wrapped = nonce + AESGCM(_kek(password, salt, station_secret)).encrypt(nonce, dek, login.encode())
    return WrappedKey(salt, wrapped)


def unwrap_data_key(wrapped: WrappedKey, login: str, password: str, station_secret: bytes) -> bytes:
    kek = _kek(password, wrapped.salt, station_secret)
    try:
        return AESGCM(kek).decrypt(wrapped.wrapped[:NONCE], wrapped.wrapped[NONCE:], login.encode())
    except InvalidTag:
        raise AuthenticationError(f"login {login!r}: wrong password (or this station's secret file changed)") from None


class DataCipher:
    """AES-GCM under the station data key; ``aad`` binds a ciphertext to the row it belongs to."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the station data key must be 32 bytes")
        self._key = key
        self._aead = AESGCM(key)

    @staticmethod
    def new_key() -> bytes:
        return AESGCM.generate_key(bit_length=256)

    def encrypt(self, plaintext: bytes, aad: str) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, aad.encode())

    def decrypt(self, blob: bytes, aad: str) -> bytes:
        try:
            return self._aead.decrypt(blob[:NONCE], blob[NONCE:], aad.encode())
        except InvalidTag:
            raise DecryptionError(
                f"stored biometric data for {aad} does not decrypt: the row was altered or moved, or the "
                "station key differs; re-capture this member"
            ) from None

    def __repr__(self) -> str:  # never show the key
        return "DataCipher(<key hidden>)"


def capture_aad(member_id: int, kind: str, finger: int) -> str:
    return f"capture:{member_id}:{kind}:{finger}"
