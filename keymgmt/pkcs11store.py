"""The PKCS#11 key store: master and signing keys stay inside the token (tested with SoftHSM2).

Every secret object is created with ``CKA_SENSITIVE = true`` and ``CKA_EXTRACTABLE = false``, so the
token refuses to reveal or wrap it. The KDF runs as AES-CMAC inside the token (``CKM_AES_CMAC``)
block by block, and signatures as ``CKM_ECDSA`` over the digest, so both give the same bytes as the
file store (``tests/keymgmt/test_store.py`` checks it).

Module path: ``$KEYMGMT_PKCS11_MODULE``, default SoftHSM2's ``/usr/lib/softhsm/libsofthsm2.so``;
SoftHSM2 reads its token directory from ``$SOFTHSM2_CONF`` when the module is first loaded.
"""

from __future__ import annotations

import os
import threading

import pkcs11
from pkcs11 import KDF, Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.exceptions import NoSuchKey, NoSuchToken, PinIncorrect, PKCS11Error, UserAlreadyLoggedIn
from pkcs11.util.ec import encode_named_curve_parameters

from keymgmt import ecc, scp
from keymgmt.errors import KeyStoreError
from keymgmt.store import KeyStore, check_label

DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so"

_libs: dict[str, pkcs11.lib] = {}
_libs_lock = threading.Lock()

SECRET_TEMPLATE = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
    Attribute.VERIFY: True,
    Attribute.ENCRYPT: False,
    Attribute.DECRYPT: False,
    Attribute.WRAP: False,
    Attribute.UNWRAP: False,
    Attribute.DERIVE: False,
}


def module_path() -> str:
    return os.environ.get("KEYMGMT_PKCS11_MODULE", DEFAULT_MODULE)


def load_module(path: str | None = None) -> pkcs11.lib:
    path = path or module_path()
    with _libs_lock:
        lib = _libs.get(path)
        if lib is None:
            if not os.path.exists(path):
                raise KeyStoreError(f"PKCS#11 module {path} not found; install softhsm2 or set KEYMGMT_PKCS11_MODULE")
            try:
                lib = _libs[path] = pkcs11.lib(path)
            except PKCS11Error as exc:
                raise KeyStoreError(f"PKCS#11 module {path} failed to load ({type(exc).__name__})") from None
        return lib


class Pkcs11KeyStore(KeyStore):
    """A :class:`KeyStore` on one token, through one read-write user session."""

    def __init__(self, token_label: str, session: pkcs11.Session) -> None:
        self.token_label = token_label
        self._session = session
        self._lock = threading.Lock()
        self.description = f"PKCS#11 token {token_label!r}"

    @classmethod
    def open(cls, token_label: str, pin: str, module: str | None = None) -> Pkcs11KeyStore:
        lib = load_module(module)
        try:
            token = lib.get_token(token_label=token_label)
        except NoSuchToken:
            names = ", ".join(repr(t.label) for t in lib.get_tokens() if t.label) or "none"
            raise KeyStoreError(f"no PKCS#11 token labelled {token_label!r}; tokens present: {names}") from None
        try:
            session = token.open(user_pin=pin, rw=True)
        except UserAlreadyLoggedIn:
            # PKCS#11 logs in per application: this process already opened the token with its PIN.
            session = token.open(rw=True)
        except PinIncorrect:
            raise KeyStoreError(f"wrong user PIN for PKCS#11 token {token_label!r}") from None
        except PKCS11Error as exc:
            raise KeyStoreError(f"cannot open PKCS#11 token {token_label!r} ({type(exc).__name__})") from None
        return cls(token_label, session)

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    def _s(self) -> pkcs11.Session:
        if self._session is None:
            raise KeyStoreError(f"{self.description} is closed; open it again")
        return self._session

    # -- lookups ------------------------------------------------------------------------------------
    def labels(self) -> list[str]:
        with self._lock:
            return sorted({obj[Attribute.LABEL] for obj in self._s().get_objects() if obj[Attribute.LABEL]})

    def _key(self, label: str, key_type: KeyType, object_class: ObjectClass, kind: str):
        try:
            return self._s().get_key(object_class=object_class, key_type=key_type, label=label)
        except NoSuchKey:
            raise self._missing(label, kind) from None

    def _sign(
        self, label: str, key_type: KeyType, object_class: ObjectClass, kind: str, message: bytes,
        mechanism: Mechanism, failed_to: str,
    ) -> bytes:
        """C_Sign with a token key; a token error says what failed, never the data or the key."""
        with self._lock:
            key = self._key(label, key_type, object_class, kind)
            try:
                return bytes(key.sign(message, mechanism=mechanism))
            except PKCS11Error as exc:
                failure = f"{self.description} failed to {failed_to} ({type(exc).__name__})"
                raise KeyStoreError(failure) from None

    def _exists(self, label: str) -> bool:
        return any(True for _ in self._s().get_objects({Attribute.LABEL: label}))

    def _new_label(self, label: str) -> None:
        check_label(label)
        if self._exists(label):
            raise KeyStoreError(f"{self.description} already holds {label!r}; keys are never overwritten")

    # -- AES ----------------------------------------------------------------------------------------
    def generate_aes_key(self, label: str, size: int = scp.MASTER_KEY_SIZE) -> None:
        if size not in scp.AES_KEY_SIZES:
            raise KeyStoreError("AES keys are 16, 24 or 32 bytes")
        with self._lock:
            self._new_label(label)
            self._s().generate_key(KeyType.AES, size * 8, label=label, store=True, template=SECRET_TEMPLATE)

    def import_aes_key(self, label: str, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) not in scp.AES_KEY_SIZES:
            raise KeyStoreError("an imported AES key must be 16, 24 or 32 bytes")
        with self._lock:
            self._new_label(label)
            template = dict(SECRET_TEMPLATE)
            template.update(
                {
                    Attribute.CLASS: ObjectClass.SECRET_KEY,
                    Attribute.KEY_TYPE: KeyType.AES,
                    Attribute.VALUE: key,
                    Attribute.LABEL: label,
                }
            )
            self._s().create_object(template)

    def cmac(self, label: str, message: bytes) -> bytes:
        return self._sign(label, KeyType.AES, ObjectClass.SECRET_KEY, "AES key", message, Mechanism.AES_CMAC,
                          "compute a CMAC")

    # -- EC -------------------------------------------------------------------------------------------
    def generate_signing_key(self, label: str) -> bytes:
        with self._lock:
            self._new_label(label)
            params = self._s().create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
            )
            params.generate_keypair(
                store=True,
                label=label,
                public_template={Attribute.TOKEN: True, Attribute.VERIFY: True},
                private_template={
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.SIGN: True,
                    Attribute.DERIVE: True,  # ECDH for opening camp bundles sealed to the district
                },
            )
        return self.public_key(label)

    def public_key(self, label: str) -> bytes:
        with self._lock:
            pub = self._key(label, KeyType.EC, ObjectClass.PUBLIC_KEY, "signing key")
            raw = bytes(pub[Attribute.EC_POINT])
        # CKA_EC_POINT is a DER OCTET STRING around the 65-byte point.
        if len(raw) == ecc.POINT_SIZE + 2 and raw[0] == 0x04 and raw[1] == ecc.POINT_SIZE:
            raw = raw[2:]
        ecc.load_point(raw)
        return raw

    def sign_digest(self, label: str, digest: bytes) -> bytes:
        if not isinstance(digest, bytes) or len(digest) != ecc.DIGEST_SIZE:
            raise KeyStoreError("ECDSA here signs a 32-byte SHA-256 digest")
        return self._sign(label, KeyType.EC, ObjectClass.PRIVATE_KEY, "signing key", digest, Mechanism.ECDSA, "sign")

    def ecdh(self, label: str, peer_point: bytes) -> bytes:
        ecc.load_point(peer_point)
        with self._lock:
            key = self._key(label, KeyType.EC, ObjectClass.PRIVATE_KEY, "signing key")
            try:
                # The shared secret is a session object made readable on purpose: it is per message.
                shared = key.derive_key(
                    KeyType.GENERIC_SECRET,
                    256,
                    mechanism_param=(KDF.NULL, None, peer_point),
                    template={Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True, Attribute.TOKEN: False},
                )
                return bytes(shared[Attribute.VALUE])
            except PKCS11Error as exc:
                raise KeyStoreError(f"{self.description} failed the key agreement ({type(exc).__name__})") from None

    # -- data -----------------------------------------------------------------------------------------
    def put_data(self, label: str, data: bytes) -> None:
        check_label(label)
        with self._lock:
            for obj in list(self._s().get_objects({Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: label})):
                obj.destroy()
            self._s().create_object(
                {
                    Attribute.CLASS: ObjectClass.DATA,
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: False,
                    Attribute.LABEL: label,
                    Attribute.VALUE: bytes(data),
                }
            )

    def get_data(self, label: str) -> bytes:
        with self._lock:
            for obj in self._s().get_objects({Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: label}):
                return bytes(obj[Attribute.VALUE])
        raise self._missing(label, "data object")

    # -- inspection (tests, audits) --------------------------------------------------------------------
    def secret_attributes(self, label: str) -> dict[str, bool]:
        """CKA_SENSITIVE / CKA_EXTRACTABLE / CKA_NEVER_EXTRACTABLE of the secret object ``label``."""
        with self._lock:
            for obj in self._s().get_objects({Attribute.LABEL: label}):
                if obj[Attribute.CLASS] in (ObjectClass.SECRET_KEY, ObjectClass.PRIVATE_KEY):
                    return {
                        "sensitive": bool(obj[Attribute.SENSITIVE]),
                        "extractable": bool(obj[Attribute.EXTRACTABLE]),
                        "never_extractable": bool(obj[Attribute.NEVER_EXTRACTABLE]),
                    }
        raise self._missing(label, "secret key")

    def __repr__(self) -> str:
        return f"Pkcs11KeyStore({self.token_label!r})"
