"""Signed revocation lists: family-card serials and authority-card serials that must be refused.

Payload (big-endian)::

    "RSBYR1" ‖ u32 sequence ‖ u32 issued (seconds since 1970, UTC)
    ‖ u32 n ‖ n × (u8 len ‖ family-card serial) ‖ u32 m ‖ m × (u8 len ‖ authority-card serial)

signed with :func:`keymgmt.signing.sign_document` (purpose ``revocation-list``) by the scheme root or
a district. The file form is ``u32 payload length ‖ payload ‖ signature``. Verification is offline and
refuses a list older than the newest one already seen (``min_sequence``), so an attacker cannot roll a
station back to a list that predates a revocation.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from keymgmt.certs import Certificate, Role
from keymgmt.errors import SignatureError
from keymgmt.signing import SignedDocument, Signer, sign_document, verify_document

MAGIC = b"RSBYR1"
PURPOSE = "revocation-list"


@dataclass(frozen=True, slots=True)
class RevocationList:
    sequence: int
    issued_at: datetime
    family_cards: frozenset[bytes]
    authority_cards: frozenset[bytes]
    issuer: str = ""

    def encode(self) -> bytes:
        out = MAGIC + struct.pack(">II", self.sequence, int(self.issued_at.timestamp()))
        for group in (self.family_cards, self.authority_cards):
            out += struct.pack(">I", len(group))
            for serial in sorted(group):
                out += bytes((len(serial),)) + serial
        return out

    @classmethod
    def decode(cls, raw: bytes, issuer: str = "") -> RevocationList:
        if not raw.startswith(MAGIC):
            raise SignatureError("not a revocation list (bad magic)")
        try:
            sequence, ts = struct.unpack_from(">II", raw, len(MAGIC))
            i = len(MAGIC) + 8
            groups = []
            for _ in range(2):
                (n,) = struct.unpack_from(">I", raw, i)
                i += 4
                group = set()
                for _ in range(n):
                    length = raw[i]
                    serial = raw[i + 1 : i + 1 + length]
                    if len(serial) != length:
                        raise IndexError
                    group.add(serial)
                    i += 1 + length
                groups.append(frozenset(group))
        except (struct.error, IndexError):
            raise SignatureError("the revocation list is truncated or malformed") from None
        if i != len(raw):
            raise SignatureError("the revocation list has trailing bytes")
        return cls(sequence, datetime.fromtimestamp(ts, UTC), groups[0], groups[1], issuer)

    def family_card_revoked(self, serial: bytes) -> bool:
        return bytes(serial) in self.family_cards

    def authority_revoked(self, serial: bytes) -> bool:
        return bytes(serial) in self.authority_cards

    def certificate_revoked(self, cert: Certificate) -> bool:
        """For :func:`keymgmt.certs.verify_chain`: authority cards by serial, keys by subject."""
        if cert.card_serial:
            return self.authority_revoked(cert.card_serial)
        return cert.subject.encode("ascii") in self.authority_cards


@dataclass(frozen=True, slots=True)
class SignedRevocationList:
    payload: bytes
    signature: SignedDocument

    def to_bytes(self) -> bytes:
        return struct.pack(">I", len(self.payload)) + self.payload + self.signature.to_bytes()

    @classmethod
    def from_bytes(cls, raw: bytes) -> SignedRevocationList:
        if len(raw) < 4:
            raise SignatureError("the revocation list file is truncated")
        (n,) = struct.unpack_from(">I", raw)
        if len(raw) < 4 + n:
            raise SignatureError("the revocation list file is truncated")
        return cls(raw[4 : 4 + n], SignedDocument.from_bytes(raw[4 + n :]))


def publish(
    signer: Signer,
    sequence: int,
    family_cards: Iterable[bytes] = (),
    authority_cards: Iterable[bytes] = (),
    issued_at: datetime | None = None,
) -> SignedRevocationList:
    """Make and sign revocation list number ``sequence`` (must grow with every publication)."""
    if not isinstance(sequence, int) or not 0 < sequence < 2**32:
        raise SignatureError("the revocation list sequence must be 1..2**32-1")
    when = (issued_at or datetime.now(UTC)).replace(microsecond=0)
    serials = [frozenset(bytes(s) for s in group) for group in (family_cards, authority_cards)]
    for group in serials:
        if any(not 1 <= len(s) <= 32 for s in group):
            raise SignatureError("revoked serials must be 1-32 bytes")
    rl = RevocationList(sequence, when, serials[0], serials[1])
    payload = rl.encode()
    return SignedRevocationList(payload, sign_document(signer, payload, PURPOSE, when))


def load(raw: bytes | SignedRevocationList, root: Certificate, min_sequence: int = 0) -> RevocationList:
    """Verify a signed list against the root (offline) and decode it.

    Raises SignatureError when it is forged, altered, signed by someone who may not revoke, or older
    than ``min_sequence`` (a rollback).
    """
    signed = raw if isinstance(raw, SignedRevocationList) else SignedRevocationList.from_bytes(raw)
    signer = verify_document(signed.payload, signed.signature, root, PURPOSE, roles=(Role.ROOT, Role.DISTRICT))
    rl = RevocationList.decode(signed.payload, issuer=signer.subject)
    if rl.issued_at != signed.signature.signed_at:
        raise SignatureError("the revocation list's date differs from its signature's")
    if rl.sequence < min_sequence:
        raise SignatureError(
            f"revocation list {rl.sequence} is older than list {min_sequence} already installed; "
            "install the newest list from the district"
        )
    return rl
