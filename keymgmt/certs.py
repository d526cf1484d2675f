"""Compact certificates for the scheme's key hierarchy (small enough to live on an authority card).

Format (all integers big-endian)::

    "RSBYC1"                      6 bytes magic and version
    u16  length of the fields
    fields, each  tag (1) ‖ length (1) ‖ value, in this order, all present:
      01 role               1 byte  (Role)
      02 subject            ASCII, 1-40  ("DISTRICT-0923", "FKO-0923-0001", ...)
      03 issuer             ASCII, 1-40  (the issuer's subject; the root names itself)
      04 district code      ASCII, 0-16  (empty for the root and hospital cards)
      05 holder             UTF-8, 0-80  (officer's or hospital's name)
      06 card serial        0-16 bytes   (the authority card's chip serial; empty for keys in stores)
      07 not before         u32 seconds since 1970 (UTC)
      08 not after          u32 seconds since 1970 (UTC)
      09 public key         65-byte uncompressed P-256 point
    signature               64 bytes r‖s, ECDSA P-256 over SHA-256("RSBY/cert/v1\\0" ‖ magic ‖ u16 ‖ fields)

About 200 bytes with a name. Who may certify whom is fixed by :data:`ISSUER_ROLES`: the scheme root
certifies districts and hospital cards (which hold the scheme-wide family master); a district
certifies its FKO and district-desk cards.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum

from keymgmt import ecc
from keymgmt.errors import CertificateError, RevokedError

MAGIC = b"RSBYC1"
SIGN_DOMAIN = b"RSBY/cert/v1\x00"


class Role(IntEnum):
    ROOT = 1
    DISTRICT = 2
    FKO_CARD = 3
    HOSPITAL_CARD = 4
    DISTRICT_CARD = 5


#: Which role may issue a certificate of each role.
ISSUER_ROLES: dict[Role, Role] = {
    Role.ROOT: Role.ROOT,
    Role.DISTRICT: Role.ROOT,
    Role.HOSPITAL_CARD: Role.ROOT,
    Role.FKO_CARD: Role.DISTRICT,
    Role.DISTRICT_CARD: Role.DISTRICT,
}


def _ts(value: datetime) -> int:
    if value.tzinfo is None:
        raise CertificateError("certificate times must be timezone-aware (UTC)")
    seconds = int(value.timestamp())
    if not 0 <= seconds < 2**32:
        raise CertificateError("certificate times must lie between 1970 and 2106")
    return seconds


@dataclass(frozen=True, slots=True)
class CertificateBody:
    role: Role
    subject: str
    issuer: str
    district_code: str
    holder: str
    card_serial: bytes
    not_before: datetime
    not_after: datetime
    public_key: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.role, Role):
            raise CertificateError("certificate role must be a Role")
        for name, value, lo, hi in (
            ("subject", self.subject, 1, 40),
            ("issuer", self.issuer, 1, 40),
            ("district code", self.district_code, 0, 16),
        ):
            if not isinstance(value, str) or not value.isascii() or not lo <= len(value) <= hi:
                raise CertificateError(f"certificate {name} must be {lo}-{hi} ASCII characters")
        if not isinstance(self.holder, str) or len(self.holder.encode()) > 80:
            raise CertificateError("certificate holder must be at most 80 UTF-8 bytes")
        if not isinstance(self.card_serial, bytes) or len(self.card_serial) > 16:
            raise CertificateError("certificate card serial must be at most 16 bytes")
        if _ts(self.not_after) <= _ts(self.not_before):
            raise CertificateError("certificate validity ends before it starts")
        ecc.load_point(self.public_key)

    def encode(self) -> bytes:
        fields = b"".join(
            bytes((tag, len(value))) + value
            for tag, value in (
                (1, bytes((self.role,))),
                (2, self.subject.encode("ascii")),
                (3, self.issuer.encode("ascii")),
                (4, self.district_code.encode("ascii")),
                (5, self.holder.encode("utf-8")),
                (6, self.card_serial),
                (7, struct.pack(">I", _ts(self.not_before))),
                (8, struct.pack(">I", _ts(self.not_after))),
                (9, self.public_key),
            )
        )
        return MAGIC + struct.pack(">H", len(fields)) + fields

    def digest(self) -> bytes:
        return ecc.sha256(SIGN_DOMAIN, self.encode())


@dataclass(frozen=True, slots=True)
class Certificate:
    body: CertificateBody
    signature: bytes

    # Convenience views of the body.
    role = property(lambda self: self.body.role)
    subject = property(lambda self: self.body.subject)
    issuer = property(lambda self: self.body.issuer)
    district_code = property(lambda self: self.body.district_code)
    holder = property(lambda self: self.body.holder)
    card_serial = property(lambda self: self.body.card_serial)
    not_before = property(lambda self: self.body.not_before)
    not_after = property(lambda self: self.body.not_after)
    public_key = property(lambda self: self.body.public_key)

    def to_bytes(self) -> bytes:
        return self.body.encode() + self.signature

    @classmethod
    def from_bytes(cls, raw: bytes) -> Certificate:
        cert, rest = cls.read(raw)
        if rest:
            raise CertificateError("trailing bytes after the certificate; the file is damaged")
        return cert

    @classmethod
    def read(cls, raw: bytes) -> tuple[Certificate, bytes]:
        """Decode one certificate at the start of ``raw``; return it and the bytes after it."""
        if not isinstance(raw, bytes) or not raw.startswith(MAGIC) or len(raw) < len(MAGIC) + 2:
            raise CertificateError("not a scheme certificate (bad magic); check the file")
        (length,) = struct.unpack_from(">H", raw, len(MAGIC))
        start = len(MAGIC) + 2
        end = start + length
        if len(raw) < end + ecc.SIGNATURE_SIZE:
            raise CertificateError("certificate is truncated; check the file")
        values: list[bytes] = []
        i = start
        for tag in range(1, 10):
            if i + 2 > end or raw[i] != tag:
                raise CertificateError("certificate fields are malformed; the file is damaged")
            n = raw[i + 1]
            values.append(raw[i + 2 : i + 2 + n])
            i += 2 + n
        if i != end or len(values[0]) != 1 or len(values[6]) != 4 or len(values[7]) != 4:
            raise CertificateError("certificate fields are malformed; the file is damaged")
        try:
            body = CertificateBody(
                role=Role(values[0][0]),
                subject=values[1].decode("ascii"),
                issuer=values[2].decode("ascii"),
                district_code=values[3].decode("ascii"),
                holder=values[4].decode("utf-8"),
                card_serial=values[5],
                not_before=datetime.fromtimestamp(struct.unpack(">I", values[6])[0], UTC),
                not_after=datetime.fromtimestamp(struct.unpack(">I", values[7])[0], UTC),
                public_key=values[8],
            )
        except (ValueError, UnicodeDecodeError) as exc:
            raise CertificateError(f"certificate content is invalid: {type(exc).__name__}") from None
        signature = raw[end : end + ecc.SIGNATURE_SIZE]
        return cls(body, signature), raw[end + ecc.SIGNATURE_SIZE :]

    def signed_by(self, issuer_point: bytes) -> bool:
        return ecc.verify_digest(issuer_point, self.body.digest(), self.signature)

    def __repr__(self) -> str:
        return f"Certificate({self.role.name} {self.subject!r} by {self.issuer!r}, until {self.not_after:%Y-%m-%d})"


def issue(body: CertificateBody, sign_digest: Callable[[bytes], bytes]) -> Certificate:
    """Sign ``body`` with the issuer's signing function (store, token or card); see ISSUER_ROLES."""
    return Certificate(body, sign_digest(body.digest()))


def encode_chain(chain: Sequence[Certificate]) -> bytes:
    return b"".join(c.to_bytes() for c in chain)


def decode_chain(raw: bytes) -> tuple[Certificate, ...]:
    out = []
    while raw:
        cert, raw = Certificate.read(raw)
        out.append(cert)
    return tuple(out)


def verify_chain(
    chain: Sequence[Certificate],
    root: Certificate,
    at: datetime | None = None,
    is_revoked: Callable[[Certificate], bool] | None = None,
) -> Certificate:
    """Verify ``chain`` (leaf first, up to but excluding ``root``) and return the leaf.

    Checks each signature, the issuer names, the roles allowed to issue, every validity period at
    time ``at`` (now by default) and, with ``is_revoked``, that no certificate is revoked. Raises
    :class:`CertificateError` or :class:`RevokedError` saying which link failed.
    """
    at = at or datetime.now(UTC)
    if root.role is not Role.ROOT or not root.signed_by(root.public_key) or root.issuer != root.subject:
        raise CertificateError("the trusted root is not a valid self-signed scheme root; reinstall it")
    links = [*chain, root]
    if not chain:
        return root
    for cert, issuer in itertools.pairwise(links):
        if cert.issuer != issuer.subject:
            raise CertificateError(f"{cert.subject} names issuer {cert.issuer}, but the chain has {issuer.subject}")
        if ISSUER_ROLES[cert.role] is not issuer.role:
            raise CertificateError(f"a {issuer.role.name} may not certify a {cert.role.name} ({cert.subject})")
        if not cert.signed_by(issuer.public_key):
            raise CertificateError(f"certificate of {cert.subject} is not validly signed by {issuer.subject}: forged or altered")
    for cert in links:
        if not cert.not_before <= at <= cert.not_after:
            raise CertificateError(
                f"certificate of {cert.subject} is valid {cert.not_before:%Y-%m-%d}..{cert.not_after:%Y-%m-%d}, "
                f"not on {at:%Y-%m-%d}; renew it"
            )
        if is_revoked is not None and is_revoked(cert):
            raise RevokedError(f"{cert.subject} is revoked; its card or key must not be used")
    return chain[0]
