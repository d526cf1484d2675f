"""ECDSA P-256 on pre-hashed SHA-256 digests, with raw 64-byte r‖s signatures.

Everything that signs in this toolkit (the file key store, a PKCS#11 token with ``CKM_ECDSA``, a
simulated authority card) signs a 32-byte digest and returns ``r ‖ s`` (32 bytes each), so the
verifier never needs to know which one signed. Public keys travel as 65-byte uncompressed points.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from keymgmt.errors import KeyFormatError

POINT_SIZE = 65
SIGNATURE_SIZE = 64
DIGEST_SIZE = 32
CURVE = ec.SECP256R1()


def sha256(*parts: bytes) -> bytes:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.digest()


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(CURVE)


def public_point(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def load_point(point: bytes) -> ec.EllipticCurvePublicKey:
    if not isinstance(point, bytes) or len(point) != POINT_SIZE or point[0] != 0x04:
        raise KeyFormatError("a P-256 public key must be a 65-byte uncompressed point (04 ‖ x ‖ y)")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(CURVE, point)
    except ValueError:
        raise KeyFormatError("the public key is not a point on P-256") from None


def sign_digest(key: ec.EllipticCurvePrivateKey, digest: bytes) -> bytes:
    """Raw r‖s over a 32-byte digest, exactly what a PKCS#11 token's CKM_ECDSA returns."""
    _check_digest(digest)
    der = key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    r, s = utils.decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_digest(point: bytes, digest: bytes, signature: bytes) -> bool:
    """True when ``signature`` (raw r‖s) is valid for ``digest`` under the public key ``point``."""
    _check_digest(digest)
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_SIZE:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (r and s):
        return False
    try:
        load_point(point).verify(
            utils.encode_dss_signature(r, s), digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()))
        )
    except InvalidSignature:
        return False
    return True


def _check_digest(digest: bytes) -> None:
    if not isinstance(digest, bytes) or len(digest) != DIGEST_SIZE:
        raise KeyFormatError("ECDSA here signs a 32-byte SHA-256 digest")
