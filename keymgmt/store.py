"""Key stores: one interface, an encrypted file (default) and a PKCS#11 token (``keymgmt.pkcs11store``).

A store holds labelled objects of three kinds: AES master keys (used only through :meth:`KeyStore.cmac`
and the KDF built on it), P-256 signing keys (used only through :meth:`KeyStore.sign_digest`) and public
data (certificates). No method returns a stored secret: the only key material that leaves a store is
what :meth:`KeyStore.derive` computes — a district master or a card key for personalising one card.

Stores are chosen by one config string, resolved by :func:`open_store`:

* ``file:<path>`` — scrypt-protected AES-GCM file (:class:`FileKeyStore`); the secret is a passphrase;
* ``pkcs11:<token label>`` — a PKCS#11 token (module from ``$KEYMGMT_PKCS11_MODULE``, default
  SoftHSM2's); the secret is the user PIN.
"""

from __future__ import annotations

import base64
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from keymgmt import ecc, scp
from keymgmt.errors import KeyNotFoundError, KeyStoreError
from keymgmt.files import write_atomic


class KeyStore(ABC):
    """See the module docstring. Labels are short ASCII names such as ``scheme/family-master``."""

    #: Human description for messages (never includes a secret).
    description: str = "key store"

    @abstractmethod
    def labels(self) -> list[str]: ...

    def has(self, label: str) -> bool:
        return label in self.labels()

    @abstractmethod
    def generate_aes_key(self, label: str, size: int = scp.MASTER_KEY_SIZE) -> None:
        """Make a random AES master key inside the store (it never leaves)."""

    @abstractmethod
    def import_aes_key(self, label: str, key: bytes) -> None:
        """Store a key derived elsewhere (a district master from the central store); then unreadable."""

    @abstractmethod
    def cmac(self, label: str, message: bytes) -> bytes:
        """AES-CMAC of ``message`` under the stored AES key ``label`` (computed inside the store)."""

    def derive(self, label: str, kdf_label: bytes, context: bytes, length: int) -> bytes:
        """NIST SP 800-108 CMAC KDF under the stored key (same bytes as :func:`keymgmt.scp.kdf_cmac`)."""
        return scp.kdf_with_prf(lambda message: self.cmac(label, message), kdf_label, context, length)

    @abstractmethod
    def generate_signing_key(self, label: str) -> bytes:
        """Make a P-256 key pair inside the store; return the public point."""

    @abstractmethod
    def public_key(self, label: str) -> bytes: ...

    @abstractmethod
    def sign_digest(self, label: str, digest: bytes) -> bytes:
        """Raw r‖s ECDSA P-256 over a 32-byte digest, computed inside the store."""

    @abstractmethod
    def ecdh(self, label: str, peer_point: bytes) -> bytes:
        """The 32-byte ECDH shared secret of the stored P-256 key and a peer's point (opening sealed data)."""

    @abstractmethod
    def put_data(self, label: str, data: bytes) -> None:
        """Store public data (certificates, scheme settings); replaces an existing object."""

    @abstractmethod
    def get_data(self, label: str) -> bytes: ...

    @abstractmethod
    def close(self) -> None:
        """Release the store (token session); safe to call twice."""

    def __enter__(self) -> KeyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def signer(self, label: str) -> Callable[[bytes], bytes]:
        return lambda digest: self.sign_digest(label, digest)

    def _missing(self, label: str, kind: str) -> KeyNotFoundError:
        return KeyNotFoundError(f"{self.description} holds no {kind} labelled {label!r}; create it first")


def check_label(label: str) -> None:
    if not isinstance(label, str) or not label.isascii() or not 1 <= len(label) <= 64 or not label.isprintable():
        raise KeyStoreError("key labels are 1-64 printable ASCII characters")


# --- encrypted file store ---------------------------------------------------------------------------

FILE_FORMAT = "rsby-keystore-1"
DEFAULT_SCRYPT_N = 2**15  # ~0.1 s and 32 MiB per open on a field laptop
MIN_SCRYPT_N = 2**10


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: str  # "aes" | "ec" | "data"
    value: bytes


class FileKeyStore(KeyStore):
    """Keys in one file: JSON header (scrypt parameters, nonce) + AES-256-GCM ciphertext of the keys.

    The header is authenticated as associated data, so changing the scrypt parameters or format is
    detected like any other tampering. Every change is written atomically (temp + fsync + replace).
    """

    def __init__(self, path: Path, entries: dict[str, _Entry], key: bytes, header: dict) -> None:
        self.path = Path(path)
        self._entries = entries
        self._key = key
        self._header = header
        self.description = f"key store file {self.path}"

    # -- life cycle ---------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path | str, passphrase: str, scrypt_n: int = DEFAULT_SCRYPT_N) -> FileKeyStore:
        path = Path(path)
        if path.exists():
            raise KeyStoreError(f"{path} already exists; choose another file or open it instead")
        _check_passphrase(passphrase)
        if scrypt_n < MIN_SCRYPT_N or scrypt_n & (scrypt_n - 1):
            raise KeyStoreError(f"scrypt N must be a power of two ≥ {MIN_SCRYPT_N}")
        header = {"format": FILE_FORMAT, "kdf": "scrypt", "n": scrypt_n, "r": 8, "p": 1,
                  "salt": base64.b64encode(os.urandom(16)).decode()}
        store = cls(path, {}, _scrypt(passphrase, header), header)
        store._save()
        return store

    @classmethod
    def open(cls, path: Path | str, passphrase: str) -> FileKeyStore:
        path = Path(path)
        try:
            doc = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise KeyStoreError(f"no key store at {path}; create it first (python -m keymgmt scheme create)") from None
        except (OSError, ValueError):
            raise KeyStoreError(f"{path} is not a key store file (unreadable or not JSON)") from None
        header = doc.get("header") if isinstance(doc, dict) else None
        if not isinstance(header, dict) or header.get("format") != FILE_FORMAT:
            raise KeyStoreError(f"{path} is not a {FILE_FORMAT} key store")
        try:
            if int(header["n"]) < MIN_SCRYPT_N:
                raise KeyStoreError(f"{path} uses a scrypt cost below {MIN_SCRYPT_N}; refusing it")
            key = _scrypt(passphrase, header)
            nonce = base64.b64decode(doc["nonce"])
            blob = AESGCM(key).decrypt(nonce, base64.b64decode(doc["ciphertext"]), _aad(header))
            raw = json.loads(blob)
            entries = {k: _Entry(v["kind"], base64.b64decode(v["value"])) for k, v in raw.items()}
        except InvalidTag:
            raise KeyStoreError(f"wrong passphrase for {path}, or the file was altered") from None
        except (KeyError, TypeError, ValueError):
            raise KeyStoreError(f"{path} is damaged (its structure is not a key store's)") from None
        return cls(path, entries, key, header)

    def _save(self) -> None:
        plain = json.dumps(
            {k: {"kind": e.kind, "value": base64.b64encode(e.value).decode()} for k, e in self._entries.items()}
        ).encode()
        nonce = os.urandom(12)
        doc = {
            "header": self._header,
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(AESGCM(self._key).encrypt(nonce, plain, _aad(self._header))).decode(),
        }
        write_atomic(self.path, json.dumps(doc, indent=1).encode(), mode=0o600)

    # -- objects ------------------------------------------------------------------------------------
    def labels(self) -> list[str]:
        return sorted(self._entries)

    def _put(self, label: str, kind: str, value: bytes, replace: bool = False) -> None:
        check_label(label)
        if label in self._entries and not replace:
            raise KeyStoreError(f"{self.description} already holds {label!r}; keys are never overwritten")
        self._entries[label] = _Entry(kind, value)
        self._save()

    def _get(self, label: str, kind: str) -> bytes:
        entry = self._entries.get(label)
        if entry is None or entry.kind != kind:
            raise self._missing(label, {"aes": "AES key", "ec": "signing key", "data": "data object"}[kind])
        return entry.value

    def generate_aes_key(self, label: str, size: int = scp.MASTER_KEY_SIZE) -> None:
        if size not in scp.AES_KEY_SIZES:
            raise KeyStoreError("AES keys are 16, 24 or 32 bytes")
        self._put(label, "aes", os.urandom(size))

    def import_aes_key(self, label: str, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) not in scp.AES_KEY_SIZES:
            raise KeyStoreError("an imported AES key must be 16, 24 or 32 bytes")
        self._put(label, "aes", key)

    def cmac(self, label: str, message: bytes) -> bytes:
        return scp.aes_cmac(self._get(label, "aes"), message)

    def generate_signing_key(self, label: str) -> bytes:
        key = ecc.generate_private_key()
        self._put(label, "ec", key.private_numbers().private_value.to_bytes(32, "big"))
        return ecc.public_point(key)

    def _ec(self, label: str) -> ec.EllipticCurvePrivateKey:
        return ec.derive_private_key(int.from_bytes(self._get(label, "ec"), "big"), ecc.CURVE)

    def public_key(self, label: str) -> bytes:
        return ecc.public_point(self._ec(label))

    def sign_digest(self, label: str, digest: bytes) -> bytes:
        return ecc.sign_digest(self._ec(label), digest)

    def ecdh(self, label: str, peer_point: bytes) -> bytes:
        return self._ec(label).exchange(ec.ECDH(), ecc.load_point(peer_point))

    def put_data(self, label: str, data: bytes) -> None:
        self._put(label, "data", bytes(data), replace=True)

    def get_data(self, label: str) -> bytes:
        return self._get(label, "data")

    def close(self) -> None:
        self._entries = {}
        self._key = b""

    def __repr__(self) -> str:
        return f"FileKeyStore({str(self.path)!r})"


def _check_passphrase(passphrase: str) -> None:
    if not isinstance(passphrase, str) or len(passphrase) < 8:
        raise KeyStoreError("the passphrase must be at least 8 characters")


def _scrypt(passphrase: str, header: dict) -> bytes:
    if not isinstance(passphrase, str):
        raise KeyStoreError("the passphrase must be text")
    return Scrypt(
        salt=base64.b64decode(header["salt"]), length=32, n=int(header["n"]), r=int(header["r"]), p=int(header["p"])
    ).derive(passphrase.encode("utf-8"))


def _aad(header: dict) -> bytes:
    return json.dumps(header, sort_keys=True).encode()


# --- registry ------------------------------------------------------------------------------------------

StoreFactory = Callable[[str, str, bool], KeyStore]


def _open_file(argument: str, secret: str, create: bool) -> KeyStore:
    return FileKeyStore.create(argument, secret) if create else FileKeyStore.open(argument, secret)


def _open_pkcs11(argument: str, secret: str, create: bool) -> KeyStore:
    from keymgmt.pkcs11store import Pkcs11KeyStore  # needs python-pkcs11 and a module: load on use

    return Pkcs11KeyStore.open(argument, secret)


_BACKENDS: dict[str, tuple[StoreFactory, str]] = {
    "file": (_open_file, "file:<path>"),
    "pkcs11": (_open_pkcs11, "pkcs11:<token label>"),
}


def open_store(config: str, secret: str, create: bool = False) -> KeyStore:
    """Resolve ``file:<path>`` or ``pkcs11:<token label>``; ``secret`` is the passphrase or user PIN."""
    scheme, sep, argument = str(config).partition(":")
    backend = _BACKENDS.get(scheme.strip().lower())
    if not sep or backend is None or not argument:
        choices = ", ".join(form for _, form in _BACKENDS.values())
        raise KeyStoreError(f"key store setting {config!r} is not understood; use one of: {choices}")
    return backend[0](argument, secret, create)
