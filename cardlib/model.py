"""Typed values held on a family card (see ``docs/card-profile.md`` for their byte layout).

Every value validates itself on construction, so anything that exists can be written to a card:
a value that would not fit raises :class:`InvalidCardValue` saying which field and what limit.
Money is in paise (int), dates are ``datetime.date``, times are timezone-aware UTC ``datetime``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import IntEnum

MAX_MEMBERS = 5
MAX_NAME_BYTES = 120  # 40 Devanagari characters at 3 bytes each
MAX_PHOTO_BYTES = 4096
MAX_TEMPLATE_BYTES = 300
FINGERS_PER_MEMBER = 2
POLICY_SLOTS = 2
LOG_CAPACITY = 32
MAX_SIGNATURE_BYTES = 96
MAX_INSURER_BYTES = 60  # 20 Devanagari characters
MAX_POLICY_NUMBER = 24
MAX_AMOUNT_PAISE = 2**40 - 1  # 5 bytes on the card: Rs 10,995,116,277
MAX_STATION_ID = 16

_URN_RE = re.compile(r"[0-9A-Z]{17}")
_DIGITS_RE = re.compile(r"[0-9]+")
_ASCII_RE = re.compile(r"[\x20-\x7e]*")


class InvalidCardValue(ValueError):
    """A value that cannot be stored on a family card; the message names the field and the limit."""


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise InvalidCardValue(message)


def _check_ascii(name: str, value: str, max_len: int, min_len: int = 0) -> None:
    _check(isinstance(value, str) and _ASCII_RE.fullmatch(value) is not None, f"{name} must be printable ASCII")
    _check(min_len <= len(value) <= max_len, f"{name} must be {min_len}..{max_len} characters, got {len(value)}")


def _check_utc(name: str, value: datetime) -> None:
    _check(isinstance(value, datetime) and value.tzinfo is not None, f"{name} must be a timezone-aware datetime")
    _check(value.microsecond == 0, f"{name} is stored to the second; drop the microseconds")
    _check(0 <= value.timestamp() < 2**32, f"{name} must lie between 1970 and 2106")


@dataclass(frozen=True, slots=True)
class Urn:
    """The household's unique 17-character URN from the eligibility list."""

    value: str

    def __post_init__(self) -> None:
        _check(
            isinstance(self.value, str) and _URN_RE.fullmatch(self.value) is not None,
            "URN must be exactly 17 characters 0-9/A-Z (check the household list)",
        )

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class CardSerial:
    """A chip's 8-byte serial number, fixed at manufacture."""

    value: bytes

    def __post_init__(self) -> None:
        _check(isinstance(self.value, bytes) and len(self.value) == 8, "a card serial is exactly 8 bytes")

    @classmethod
    def from_hex(cls, text: str) -> CardSerial:
        try:
            return cls(bytes.fromhex(text))
        except ValueError as exc:
            raise InvalidCardValue(f"card serial {text!r} is not 16 hex digits") from exc

    def __str__(self) -> str:
        return self.value.hex().upper()


class Gender(IntEnum):
    MALE = 1
    FEMALE = 2
    TRANSGENDER = 3


class Relationship(IntEnum):
    HEAD = 1
    SPOUSE = 2
    SON = 3
    DAUGHTER = 4
    FATHER = 5
    MOTHER = 6
    BROTHER = 7
    SISTER = 8
    GRANDCHILD = 9
    DAUGHTER_IN_LAW = 10
    SON_IN_LAW = 11
    OTHER = 99


@dataclass(frozen=True, slots=True)
class FingerSlot:
    """One on-card fingerprint template with its ISO finger position (1 right thumb ... 10 left little)."""

    position: int
    template: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check(isinstance(self.position, int) and 1 <= self.position <= 10, "finger position must be 1..10")
        _check(isinstance(self.template, bytes), "a template is bytes")
        _check(0 < len(self.template) <= MAX_TEMPLATE_BYTES, f"a template slot holds 1..{MAX_TEMPLATE_BYTES} bytes")


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    gender: Gender
    year_of_birth: int
    relationship: Relationship
    uid: str = ""  # 12-digit national ID (Aadhaar) once known; empty until then
    photo: bytes = field(default=b"", repr=False)  # JPEG
    fingers: tuple[FingerSlot, ...] = ()

    def __post_init__(self) -> None:
        _check(isinstance(self.name, str) and self.name.strip() == self.name and self.name != "", "name is empty or padded")
        _check(len(self.name.encode("utf-8")) <= MAX_NAME_BYTES, f"name is longer than {MAX_NAME_BYTES} UTF-8 bytes")
        _check(isinstance(self.gender, Gender), "gender must be a Gender")
        _check(isinstance(self.relationship, Relationship), "relationship must be a Relationship")
        _check(isinstance(self.year_of_birth, int) and 1900 <= self.year_of_birth <= 2100, "year of birth must be 1900..2100")
        _check(self.uid == "" or (len(self.uid) == 12 and _DIGITS_RE.fullmatch(self.uid) is not None), "UID must be 12 digits or empty")
        _check(isinstance(self.photo, bytes) and len(self.photo) <= MAX_PHOTO_BYTES, f"photo must be ≤ {MAX_PHOTO_BYTES} bytes")
        _check(self.photo == b"" or self.photo.startswith(b"\xff\xd8"), "photo must be a JPEG (starts FF D8)")
        _check(isinstance(self.fingers, tuple) and len(self.fingers) <= FINGERS_PER_MEMBER, "at most two finger slots per member")
        positions = [f.position for f in self.fingers]
        _check(len(set(positions)) == len(positions), "the two finger slots must be different fingers")


@dataclass(frozen=True, slots=True)
class Policy:
    insurer: str
    policy_number: str
    start: date
    end: date
    sum_insured: int  # paise
    balance: int  # paise

    def __post_init__(self) -> None:
        _check(0 < len(self.insurer.encode("utf-8")) <= MAX_INSURER_BYTES, f"insurer must be 1..{MAX_INSURER_BYTES} UTF-8 bytes")
        _check_ascii("policy number", self.policy_number, MAX_POLICY_NUMBER, 1)
        _check(isinstance(self.start, date) and isinstance(self.end, date), "policy start and end are dates")
        _check(self.start <= self.end, "policy ends before it starts")
        for label, amount in (("sum insured", self.sum_insured), ("balance", self.balance)):
            _check(isinstance(amount, int) and 0 <= amount <= MAX_AMOUNT_PAISE, f"{label} must be 0..{MAX_AMOUNT_PAISE} paise")
        _check(self.balance <= self.sum_insured, "balance cannot exceed the sum insured")


class LogKind(IntEnum):
    ISSUED = 1
    ACTIVATED = 2
    POLICY_RENEWED = 3
    ADMISSION = 4  # amount blocked
    DISCHARGE = 5  # amount debited
    TRANSPORT = 6  # transport allowance paid
    CORRECTION = 7


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One transaction; 32 bytes on the card (see the profile's EF.LOG record layout)."""

    time: datetime
    kind: LogKind
    place_id: str  # station or hospital id, ≤ 8 ASCII
    member: int | None = None  # index into Family.members, None for the whole family
    policy_slot: int | None = None  # 0 or 1
    amount: int = 0  # paise
    balance_after: int = 0  # paise
    reference: str = ""  # package / claim code, ≤ 7 ASCII

    def __post_init__(self) -> None:
        _check_utc("log time", self.time)
        _check(isinstance(self.kind, LogKind), "log kind must be a LogKind")
        _check_ascii("place id", self.place_id, 8)
        _check_ascii("reference", self.reference, 7)
        _check(self.member is None or 0 <= self.member < MAX_MEMBERS, "member index must be 0..4 or None")
        _check(self.policy_slot is None or 0 <= self.policy_slot < POLICY_SLOTS, "policy slot must be 0, 1 or None")
        for label, amount in (("amount", self.amount), ("balance after", self.balance_after)):
            _check(isinstance(amount, int) and 0 <= amount <= MAX_AMOUNT_PAISE, f"{label} must be 0..{MAX_AMOUNT_PAISE} paise")


@dataclass(frozen=True, slots=True)
class Issuance:
    """Who issued the card; ``signature`` is over :func:`cardlib.family.signed_payload`."""

    station_id: str
    authority_serial: CardSerial
    time: datetime
    signature: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_ascii("station id", self.station_id, MAX_STATION_ID, 1)
        _check(isinstance(self.authority_serial, CardSerial), "authority serial must be a CardSerial")
        _check_utc("issuance time", self.time)
        _check(isinstance(self.signature, bytes) and 0 < len(self.signature) <= MAX_SIGNATURE_BYTES, f"signature must be 1..{MAX_SIGNATURE_BYTES} bytes")


@dataclass(frozen=True, slots=True)
class Family:
    """Everything a family card holds except its keys; ``members[0]`` is the head."""

    urn: Urn
    scheme: str  # scheme code, e.g. "RSBY"
    state_code: str  # census codes, digits
    district_code: str
    village_code: str
    members: tuple[Member, ...]
    policies: tuple[Policy | None, Policy | None] = (None, None)
    issuance: Issuance | None = None
    log: tuple[LogRecord, ...] = ()  # oldest first

    def __post_init__(self) -> None:
        _check(isinstance(self.urn, Urn), "urn must be a Urn")
        _check_ascii("scheme", self.scheme, 8, 1)
        for label, code, width in (("state", self.state_code, 2), ("district", self.district_code, 4), ("village", self.village_code, 8)):
            _check(_DIGITS_RE.fullmatch(code) is not None and len(code) <= width, f"{label} code must be 1..{width} digits")
        _check(isinstance(self.members, tuple) and 1 <= len(self.members) <= MAX_MEMBERS, "a family has 1..5 insured members")
        _check(all(isinstance(m, Member) for m in self.members), "members must be Member values")
        _check(self.members[0].relationship is Relationship.HEAD, "the first member must be the head")
        _check(all(m.relationship is not Relationship.HEAD for m in self.members[1:]), "only one member can be the head")
        _check(isinstance(self.policies, tuple) and len(self.policies) == POLICY_SLOTS, "policies is a pair of slots")
        _check(all(p is None or isinstance(p, Policy) for p in self.policies), "policy slots hold Policy or None")
        _check(isinstance(self.log, tuple) and len(self.log) <= LOG_CAPACITY, f"the card log keeps at most {LOG_CAPACITY} records")

    @property
    def head(self) -> Member:
        return self.members[0]


@dataclass(frozen=True, slots=True)
class Activation:
    """What the FKO card wrote when it activated the family card (EF.ACTIVATION)."""

    authority_serial: CardSerial
    issuance_number: int  # the FKO card's issuance counter value for this card
    time: datetime
    cryptogram: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check(isinstance(self.authority_serial, CardSerial), "authority serial must be a CardSerial")
        _check(isinstance(self.issuance_number, int) and 0 <= self.issuance_number < 2**32, "issuance number must fit in 32 bits")
        _check_utc("activation time", self.time)
        _check(isinstance(self.cryptogram, bytes) and len(self.cryptogram) == 8, "activation cryptogram is 8 bytes")


def utc_now() -> datetime:
    """The current time to the second, as stored on cards."""
    return datetime.now(UTC).replace(microsecond=0)
