"""What an FKO card signs for each issuance, its ledger entries, and how the district verifies a ledger.

* **Issuance statement** (:func:`issuance_digest`): FKO card serial, the family's URN, the new card's
  serial, the station id, the time and the SHA-256 of the family data written to the card. Everything
  in it can be read back from the family card, so a hospital verifies ``Issuance.signature`` offline
  with the FKO card's certificate. The FKO card signs it with its card-resident P-256 key.
* **Ledger entry** (:class:`LedgerEntry`, 130-150 bytes): the issuance number (monotonic over the FKO
  card's life) plus the statement's fields and its signature.
* **Ledger chain**: ``chain_0 = 32 zero bytes``, ``chain_i = SHA-256("RSBY/ledger-chain\\0" ‖ chain_{i-1}
  ‖ entry_i)``. The card keeps the chain of the entries it holds; at recharge it signs a
  :class:`LedgerSummary` over a fresh district challenge. An entry edited, dropped, inserted or
  reordered — on the card's memory or in the archived file — fails :func:`verify_ledger`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from keymgmt import ecc
from keymgmt.certs import Certificate, Role
from keymgmt.errors import SignatureError

ISSUANCE_DOMAIN = b"RSBY/issuance/v1\x00"
CHAIN_DOMAIN = b"RSBY/ledger-chain\x00"
SUMMARY_DOMAIN = b"RSBY/ledger-summary/v1\x00"
CHAIN_START = bytes(32)
URN_SIZE = 17
CHALLENGE_SIZE = 16


def _lp(value: bytes) -> bytes:
    if len(value) > 255:
        raise SignatureError("a field of the issuance statement is longer than 255 bytes")
    return bytes((len(value),)) + value


def _u32_time(time: datetime) -> int:
    if time.tzinfo is None:
        raise SignatureError("issuance time must be timezone-aware (UTC)")
    return int(time.timestamp())


def issuance_digest(
    fko_serial: bytes, urn: str, card_serial: bytes, station_id: str, time: datetime, data_hash: bytes
) -> bytes:
    """SHA-256 of the issuance statement; the FKO card signs exactly this digest."""
    if len(urn) != URN_SIZE or not urn.isascii():
        raise SignatureError("a URN is 17 ASCII characters")
    if len(data_hash) != 32:
        raise SignatureError("the family data hash is a 32-byte SHA-256")
    return ecc.sha256(
        ISSUANCE_DOMAIN,
        _lp(fko_serial),
        urn.encode("ascii"),
        _lp(card_serial),
        _lp(station_id.encode("ascii")),
        struct.pack(">I", _u32_time(time)),
        data_hash,
    )


def verify_issuance(
    fko_cert: Certificate,
    urn: str,
    card_serial: bytes,
    station_id: str,
    time: datetime,
    data_hash: bytes,
    signature: bytes,
) -> None:
    """Raise SignatureError unless ``signature`` is the FKO card's signature over this issuance.

    The caller verifies ``fko_cert`` itself first (chain to the root, revocation).
    """
    if fko_cert.role is not Role.FKO_CARD:
        raise SignatureError(f"{fko_cert.subject} is not an FKO card; only FKO cards authorise issuance")
    digest = issuance_digest(fko_cert.card_serial, urn, card_serial, station_id, time, data_hash)
    if not ecc.verify_digest(fko_cert.public_key, digest, signature):
        raise SignatureError(
            f"the issuance signature is not {fko_cert.subject}'s: the card data or its issuance record was altered"
        )


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    number: int
    time: datetime
    urn: str
    card_serial: bytes
    station_id: str
    data_hash: bytes = field(repr=False)
    signature: bytes = field(repr=False)

    def encode(self) -> bytes:
        return (
            struct.pack(">II", self.number, _u32_time(self.time))
            + self.urn.encode("ascii")
            + _lp(self.card_serial)
            + _lp(self.station_id.encode("ascii"))
            + self.data_hash
            + self.signature
        )

    @classmethod
    def read(cls, raw: bytes, offset: int = 0) -> tuple[LedgerEntry, int]:
        """Decode the entry at ``offset``; return it and the offset after it."""
        try:
            number, ts = struct.unpack_from(">II", raw, offset)
            i = offset + 8
            urn = raw[i : i + URN_SIZE].decode("ascii")
            i += URN_SIZE
            n = raw[i]
            serial = raw[i + 1 : i + 1 + n]
            i += 1 + n
            n = raw[i]
            station = raw[i + 1 : i + 1 + n].decode("ascii")
            i += 1 + n
            data_hash, signature = raw[i : i + 32], raw[i + 32 : i + 96]
            i += 96
        except (struct.error, IndexError, UnicodeDecodeError):
            raise SignatureError("a ledger entry is malformed: the ledger was damaged or edited") from None
        if i > len(raw) or len(urn) != URN_SIZE or len(signature) != ecc.SIGNATURE_SIZE:
            raise SignatureError("a ledger entry is truncated: the ledger was damaged or edited")
        return cls(number, datetime.fromtimestamp(ts, UTC), urn, serial, station, data_hash, signature), i

    def digest(self, fko_serial: bytes) -> bytes:
        return issuance_digest(fko_serial, self.urn, self.card_serial, self.station_id, self.time, self.data_hash)


def chain_next(chain: bytes, entry: LedgerEntry) -> bytes:
    return ecc.sha256(CHAIN_DOMAIN, chain, entry.encode())


def encode_entries(entries: Sequence[LedgerEntry]) -> bytes:
    return b"".join(e.encode() for e in entries)


def decode_entries(raw: bytes) -> tuple[LedgerEntry, ...]:
    out, i = [], 0
    while i < len(raw):
        entry, i = LedgerEntry.read(raw, i)
        out.append(entry)
    return tuple(out)


OPEN_KEYS_MAX = 8  # card keys an FKO card hands out for cards it has not yet counted (see fko.py)
CARD_SERIAL_SIZE = 8


@dataclass(frozen=True, slots=True)
class LedgerSummary:
    """The FKO card's signed statement of its ledger, over a fresh challenge from the district desk.

    ``open_keys`` are the family-card serials whose key the card derived for personalisation but never
    counted an issuance for: spoilt blanks — or keys taken for a copy. The district accounts for each.
    """

    fko_serial: bytes
    counter: int  # issuances left
    next_number: int  # number the next issuance will get
    count: int  # entries in the ledger
    chain: bytes
    challenge: bytes
    signature: bytes = field(repr=False, default=b"")
    open_keys: tuple[bytes, ...] = ()

    def tbs(self) -> bytes:
        return (
            SUMMARY_DOMAIN
            + _lp(self.fko_serial)
            + struct.pack(">III", self.counter, self.next_number, self.count)
            + self.chain
            + self.challenge
            + bytes((len(self.open_keys),))
            + b"".join(self.open_keys)
        )

    def digest(self) -> bytes:
        return ecc.sha256(self.tbs())

    def encode(self) -> bytes:
        return self.tbs()[len(SUMMARY_DOMAIN) :] + self.signature

    @classmethod
    def decode(cls, raw: bytes) -> LedgerSummary:
        try:
            n = raw[0]
            serial = raw[1 : 1 + n]
            counter, next_number, count = struct.unpack_from(">III", raw, 1 + n)
            i = 1 + n + 12
            chain, challenge = raw[i : i + 32], raw[i + 32 : i + 48]
            i += 48
            k = raw[i]
            open_keys = tuple(raw[i + 1 + CARD_SERIAL_SIZE * j : i + 1 + CARD_SERIAL_SIZE * (j + 1)] for j in range(k))
            sig = raw[i + 1 + CARD_SERIAL_SIZE * k :]
        except (IndexError, struct.error):
            raise SignatureError("the ledger summary is malformed") from None
        if (len(chain) != 32 or len(challenge) != CHALLENGE_SIZE or len(sig) != ecc.SIGNATURE_SIZE
                or k > OPEN_KEYS_MAX or any(len(s) != CARD_SERIAL_SIZE for s in open_keys)):
            raise SignatureError("the ledger summary is malformed")
        return cls(serial, counter, next_number, count, chain, challenge, sig, open_keys)


def verify_ledger(
    entries: Sequence[LedgerEntry], summary: LedgerSummary, fko_cert: Certificate, challenge: bytes
) -> None:
    """Raise SignatureError unless ``entries`` are exactly the ledger the FKO card signed for ``challenge``.

    ``fko_cert`` must already be verified against the root. Checks: the summary's signature and
    challenge (no replayed summary), every entry's issuance signature, consecutive numbers ending just
    before ``next_number``, the count and the hash chain (nothing edited, dropped, added or reordered).
    """
    if fko_cert.role is not Role.FKO_CARD or summary.fko_serial != fko_cert.card_serial:
        raise SignatureError("the ledger summary is not from the FKO card of this certificate")
    if summary.challenge != challenge:
        raise SignatureError("the ledger summary answers another challenge: it is a replay")
    if not ecc.verify_digest(fko_cert.public_key, summary.digest(), summary.signature):
        raise SignatureError("the ledger summary's signature is not the FKO card's: forged or altered")
    if len(entries) != summary.count:
        raise SignatureError(f"the card signed {summary.count} ledger entries but {len(entries)} were read")
    chain = CHAIN_START
    for i, entry in enumerate(entries):
        expected = summary.next_number - summary.count + i
        if entry.number != expected:
            raise SignatureError(f"ledger entry {i} has number {entry.number}, expected {expected}: edited")
        if not ecc.verify_digest(fko_cert.public_key, entry.digest(fko_cert.card_serial), entry.signature):
            raise SignatureError(f"ledger entry {entry.number} fails its signature: the ledger was edited")
        chain = chain_next(chain, entry)
    if chain != summary.chain:
        raise SignatureError("the ledger's hash chain does not match the card's: entries were changed")


DEBIT_DOMAIN = b"RSBY/debit/v1\x00"


def debit_digest(
    hospital_serial: bytes, transaction: int, card_serial: bytes, urn: str, amount: int, time: datetime, reference: str
) -> bytes:
    """SHA-256 of a hospital card's debit statement (what the insurer later checks, offline)."""
    if len(urn) != URN_SIZE or not urn.isascii() or not 0 <= amount < 2**64 or not 0 <= transaction < 2**32:
        raise SignatureError("debit statement: URN is 17 ASCII characters, amount and number non-negative")
    return ecc.sha256(
        DEBIT_DOMAIN,
        _lp(hospital_serial),
        struct.pack(">I", transaction),
        _lp(card_serial),
        urn.encode("ascii"),
        struct.pack(">QI", amount, _u32_time(time)),
        _lp(reference.encode("ascii")),
    )
