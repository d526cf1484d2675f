"""Detached signatures over any bytes (household lists, camp bundles, revocation lists, card data).

A :class:`SignedDocument` carries no payload: the purpose ("household-list", "camp-bundle", ...), the
signing time, the payload's SHA-256, the signature and the signer's certificate chain (leaf first, up
to but excluding the scheme root). Anyone holding the root certificate verifies it offline with
:func:`verify_document`.

The signed digest is ``SHA-256("RSBY/doc/v1\\0" ‖ purpose ‖ 0 ‖ u32 time ‖ SHA-256(payload))`` so a
signature made for one purpose can never be passed off as another (a camp bundle signature is not a
household list signature). Signatures are ECDSA P-256, raw r‖s (``keymgmt.ecc``), so a file store,
a PKCS#11 token and an authority card all sign the same way.

File form (``to_text``): ``-----BEGIN RSBY SIGNATURE-----``, base64 of the binary form, ``-----END…``.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from keymgmt import ecc
from keymgmt.certs import Certificate, Role, decode_chain, encode_chain, verify_chain
from keymgmt.errors import CertificateError, SignatureError

MAGIC = b"RSBYS1"
DOMAIN = b"RSBY/doc/v1\x00"
BEGIN = "-----BEGIN RSBY SIGNATURE-----"
END = "-----END RSBY SIGNATURE-----"


class Signer(Protocol):
    """Anything that signs a 32-byte digest with a certified P-256 key (store key, token, card)."""

    @property
    def chain(self) -> tuple[Certificate, ...]:
        """The signer's certificate first, then its issuers, excluding the root."""
        ...

    def sign_digest(self, digest: bytes) -> bytes:
        """Raw r‖s ECDSA P-256 signature over ``digest``."""
        ...


@dataclass(frozen=True)
class FunctionSigner:
    """A :class:`Signer` from a certificate chain and a signing function (store, token or card)."""

    chain: tuple[Certificate, ...]
    sign: Callable[[bytes], bytes]

    def sign_digest(self, digest: bytes) -> bytes:
        return self.sign(digest)

    def __repr__(self) -> str:
        return f"FunctionSigner({self.chain[0].subject if self.chain else 'root'})"


def _digest(purpose: str, signed_at: int, payload_hash: bytes) -> bytes:
    return ecc.sha256(DOMAIN, purpose.encode("ascii"), b"\x00", struct.pack(">I", signed_at), payload_hash)


def document_digest(purpose: str, signed_at: int, payload_hash: bytes) -> bytes:
    """The digest a :class:`SignedDocument` signs (for signers that build it themselves, e.g. a card)."""
    _check_purpose(purpose)
    return _digest(purpose, signed_at, payload_hash)


def _check_purpose(purpose: str) -> None:
    if not isinstance(purpose, str) or not purpose.isascii() or not 1 <= len(purpose) <= 40 or "\x00" in purpose:
        raise SignatureError("document purpose must be 1-40 ASCII characters")


@dataclass(frozen=True, slots=True)
class SignedDocument:
    purpose: str
    signed_at: datetime
    payload_sha256: bytes
    signature: bytes
    chain: tuple[Certificate, ...]

    @property
    def signer(self) -> Certificate | None:
        return self.chain[0] if self.chain else None

    def to_bytes(self) -> bytes:
        p = self.purpose.encode("ascii")
        return (
            MAGIC
            + bytes((len(p),))
            + p
            + struct.pack(">I", int(self.signed_at.timestamp()))
            + self.payload_sha256
            + self.signature
            + encode_chain(self.chain)
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> SignedDocument:
        if not isinstance(raw, bytes) or not raw.startswith(MAGIC) or len(raw) < len(MAGIC) + 1:
            raise SignatureError("not a scheme signature (bad magic); check the .sig file")
        n = raw[len(MAGIC)]
        i = len(MAGIC) + 1
        fixed = n + 4 + 32 + ecc.SIGNATURE_SIZE
        if len(raw) < i + fixed:
            raise SignatureError("signature is truncated; check the .sig file")
        try:
            purpose = raw[i : i + n].decode("ascii")
        except UnicodeDecodeError:
            raise SignatureError("signature purpose is not ASCII; the file is damaged") from None
        i += n
        (ts,) = struct.unpack_from(">I", raw, i)
        i += 4
        payload_hash, signature = raw[i : i + 32], raw[i + 32 : i + 32 + ecc.SIGNATURE_SIZE]
        try:
            chain = decode_chain(raw[i + 32 + ecc.SIGNATURE_SIZE :])
        except CertificateError as exc:
            raise SignatureError(f"certificate chain in the signature is damaged: {exc}") from None
        return cls(purpose, datetime.fromtimestamp(ts, UTC), payload_hash, signature, chain)

    def to_text(self) -> str:
        body = base64.b64encode(self.to_bytes()).decode("ascii")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return "\n".join([BEGIN, *lines, END]) + "\n"

    @classmethod
    def from_text(cls, text: str) -> SignedDocument:
        text = text.strip()
        if not text.startswith(BEGIN) or not text.endswith(END):
            raise SignatureError("not an RSBY signature file (missing BEGIN/END lines)")
        try:
            raw = base64.b64decode("".join(text[len(BEGIN) : -len(END)].split()), validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError("signature file is not valid base64; it is damaged") from None
        return cls.from_bytes(raw)


def sign_document(
    signer: Signer, payload: bytes, purpose: str = "document", signed_at: datetime | None = None
) -> SignedDocument:
    """Sign ``payload`` (detached) for ``purpose``."""
    _check_purpose(purpose)
    if not isinstance(payload, bytes):
        raise SignatureError("the payload to sign must be bytes")
    when = (signed_at or datetime.now(UTC)).replace(microsecond=0)
    payload_hash = ecc.sha256(payload)
    signature = signer.sign_digest(_digest(purpose, int(when.timestamp()), payload_hash))
    return SignedDocument(purpose, when, payload_hash, signature, tuple(signer.chain))


def verify_document(
    payload: bytes,
    document: SignedDocument,
    root: Certificate,
    purpose: str | None = None,
    roles: tuple[Role, ...] | None = None,
    at: datetime | None = None,
    is_revoked: Callable[[Certificate], bool] | None = None,
) -> Certificate:
    """Check that ``document`` signs exactly ``payload`` for ``purpose`` under a valid chain.

    ``roles`` limits who may sign this kind of document; ``at`` is the time at which the chain must be
    valid (defaults to the signing time, so an old list stays verifiable after its signer's renewal).
    Returns the signer's certificate; raises :class:`SignatureError` (or a subclass) otherwise.
    """
    if purpose is not None and document.purpose != purpose:
        raise SignatureError(f"this is a {document.purpose!r} signature, not a {purpose!r} one")
    if ecc.sha256(payload) != document.payload_sha256:
        raise SignatureError("the file does not match its signature: it was altered after signing")
    signer = verify_chain(document.chain, root, at or document.signed_at, is_revoked)
    if roles is not None and signer.role not in roles:
        raise SignatureError(f"{signer.subject} ({signer.role.name}) may not sign a {document.purpose!r}")
    digest = _digest(document.purpose, int(document.signed_at.timestamp()), document.payload_sha256)
    if not ecc.verify_digest(signer.public_key, digest, document.signature):
        raise SignatureError(f"the signature is not valid for {signer.subject}: forged or altered")
    return signer
