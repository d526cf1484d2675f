"""The family card profile as code: AID, files, tags, sizes, and the TLV codec of every file.

``docs/card-profile.md`` is the human contract; this module is the same contract for programs (the
card client in :mod:`cardlib.family` and the simulator in ``simulators.cards.family`` both use it, and
a test checks the document's numbers against it). Every encoder produces the one canonical encoding
(fixed tag order, minimal lengths), and every decoder is strict.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum, IntEnum
from typing import ParamSpec, TypeVar

from cardlib import tlv
from cardlib.model import (
    Activation,
    CardSerial,
    FingerSlot,
    Gender,
    InvalidCardValue,
    Issuance,
    LogKind,
    LogRecord,
    Member,
    Policy,
    Relationship,
    Urn,
)
from cardlib.tlv import TlvError

AID = bytes.fromhex("F05253425946414D01")  # F0 (proprietary RID range) "RSBYFAM" v1
PROFILE_VERSION = 1
CARD_SIZE = 32768  # EEPROM of the chip, every byte counted in the budget below
LOG_RECORD_SIZE = 32
LOG_RECORDS = 32

# Instructions (CLA 00 = ISO, CLA 80 = proprietary, CLA 0C = ISO secure messaging)
INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_UPDATE_BINARY = 0xD6
INS_READ_RECORD = 0xB2
INS_APPEND_RECORD = 0xE2
INS_GET_CHALLENGE = 0x84
INS_EXTERNAL_AUTHENTICATE = 0x82
INS_ACTIVATE = 0x44
INS_START_PERSONALISATION = 0x1A
INS_PUT_KEY = 0xD8
INS_END_PERSONALISATION = 0x1C
INS_TRANSACT = 0x30  # hospital transaction: policy balance + log record in one write (secure messaging only)
CLA_ISO = 0x00
CLA_PROPRIETARY = 0x80
CLA_SM = 0x0C
SW_AUTH_FAILED = 0x6300  # EXTERNAL AUTHENTICATE / ACTIVATE: cryptogram wrong
SW_BALANCE_TOO_LOW = 0x6985  # TRANSACT: the policy balance cannot cover the amount
SW_NO_OPEN_ADMISSION = 0x6A88  # TRANSACT discharge: no open admission with this reference in EF.LOG
SW_TRANSACTION_INCONSISTENT = 0x6A80  # TRANSACT: record does not agree with the card (slot, balance, kind)


class Lifecycle(IntEnum):
    BLANK = 0  # made; accepts personalisation, data files unreadable
    PERSONALISED = 1  # data frozen, key set; waits for the FKO's activation cryptogram
    ACTIVATED = 2  # valid card


class Access(Enum):
    ALWAYS = "always"
    NEVER = "never"
    BLANK = "blank card only (personalisation)"
    SM = "secure messaging session"


@dataclass(frozen=True, slots=True)
class EfSpec:
    fid: int
    name: str
    size: int  # bytes allocated in EEPROM
    write: Access  # after personalisation; every data EF is writable while BLANK
    cyclic: bool = False


# -- tags ---------------------------------------------------------------------------------------------
T_CARD_INFO, T_HOUSEHOLD, T_MEMBER, T_PHOTO, T_FINGERS, T_POLICY, T_ISSUANCE, T_ACTIVATION = (
    0xE0, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7,
)  # fmt: skip
T_SLOT = 0xA1
C0, C1, C2, C3, C4, C5 = 0x80, 0x81, 0x82, 0x83, 0x84, 0x85  # context tags inside each template

MEMBER_SLOTS = 5
FID_CARD_INFO = 0x0001
FID_HOUSEHOLD = 0x0101
FID_MEMBER = (0x0111, 0x0112, 0x0113, 0x0114, 0x0115)
FID_PHOTO = (0x0121, 0x0122, 0x0123, 0x0124, 0x0125)
FID_FINGERS = (0x0131, 0x0132, 0x0133, 0x0134, 0x0135)
FID_POLICY = (0x0141, 0x0142)
FID_LOG = 0x0150
FID_ISSUANCE = 0x0160
FID_ACTIVATION = 0x0170

# Allocation of each EF = the largest canonical encoding its values allow (tests check both ways).
SIZE_HOUSEHOLD = 54
SIZE_MEMBER = 149
SIZE_PHOTO = 4104
SIZE_FINGERS = 626
SIZE_POLICY = 116
SIZE_ISSUANCE = 135
SIZE_ACTIVATION = 34

DATA_FILES: tuple[EfSpec, ...] = (
    EfSpec(FID_HOUSEHOLD, "EF.HOUSEHOLD", SIZE_HOUSEHOLD, Access.NEVER),
    *(EfSpec(f, f"EF.MEMBER{i + 1}", SIZE_MEMBER, Access.NEVER) for i, f in enumerate(FID_MEMBER)),
    *(EfSpec(f, f"EF.PHOTO{i + 1}", SIZE_PHOTO, Access.NEVER) for i, f in enumerate(FID_PHOTO)),
    *(EfSpec(f, f"EF.FINGERS{i + 1}", SIZE_FINGERS, Access.NEVER) for i, f in enumerate(FID_FINGERS)),
    *(EfSpec(f, f"EF.POLICY{i + 1}", SIZE_POLICY, Access.SM) for i, f in enumerate(FID_POLICY)),
    EfSpec(FID_LOG, "EF.LOG", LOG_RECORDS * LOG_RECORD_SIZE, Access.SM, cyclic=True),
    EfSpec(FID_ISSUANCE, "EF.ISSUANCE", SIZE_ISSUANCE, Access.NEVER),
    EfSpec(FID_ACTIVATION, "EF.ACTIVATION", SIZE_ACTIVATION, Access.NEVER),
)
FILES_BY_FID = {spec.fid: spec for spec in DATA_FILES}


# -- primitive field codecs ----------------------------------------------------------------------------
def _utf8(value: bytes, what: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TlvError(f"{what} on the card is not UTF-8") from exc


def _ascii(value: bytes, what: str) -> str:
    try:
        return value.decode("ascii")
    except UnicodeDecodeError as exc:
        raise TlvError(f"{what} on the card is not ASCII") from exc


def _uint(value: bytes, size: int, what: str) -> int:
    if len(value) != size:
        raise TlvError(f"{what} must be {size} bytes, found {len(value)}")
    return int.from_bytes(value, "big")


def encode_date(d: date) -> bytes:
    return d.year.to_bytes(2, "big") + bytes((d.month, d.day))


def decode_date(raw: bytes) -> date:
    if len(raw) != 4:
        raise TlvError("a date is 4 bytes (year, month, day)")
    try:
        return date(int.from_bytes(raw[:2], "big"), raw[2], raw[3])
    except ValueError as exc:
        raise TlvError("a date on the card is not a calendar date") from exc


def encode_time(t: datetime) -> bytes:
    return int(t.timestamp()).to_bytes(4, "big")


def decode_time(raw: bytes) -> datetime:
    return datetime.fromtimestamp(_uint(raw, 4, "time"), UTC)


def _fields(raw: bytes, tag: int, allowed: tuple[int, ...]) -> dict[int, bytes]:
    return tlv.children(tlv.decode_single(raw, tag).value, allowed)


def _need(fields: dict[int, bytes], tag: int, what: str) -> bytes:
    try:
        return fields[tag]
    except KeyError:
        raise TlvError(f"{what} is missing from the card file") from None


def _enum(cls, value: int, what: str):
    try:
        return cls(value)
    except ValueError:
        raise TlvError(f"{what} code {value} is not defined by the card profile") from None


P = ParamSpec("P")
R = TypeVar("R")


def _card_data(decode: Callable[P, R]) -> Callable[P, R]:
    """Values that decode but break a model rule are damaged card data too: raise TlvError for them."""

    @functools.wraps(decode)
    def strict(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return decode(*args, **kwargs)
        except InvalidCardValue as exc:
            raise TlvError(f"the card holds an invalid value: {exc}") from exc

    return strict


# -- file codecs ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Household:
    urn: Urn
    scheme: str
    state_code: str
    district_code: str
    village_code: str
    member_count: int


def encode_household(h: Household) -> bytes:
    return tlv.constructed(T_HOUSEHOLD, (
        tlv.encode(C0, h.urn.value.encode("ascii")),
        tlv.encode(C1, h.scheme.encode("ascii")),
        tlv.encode(C2, h.state_code.encode("ascii")),
        tlv.encode(C3, h.district_code.encode("ascii")),
        tlv.encode(C4, h.village_code.encode("ascii")),
        tlv.encode(C5, bytes((h.member_count,))),
    ))  # fmt: skip


@_card_data
def decode_household(raw: bytes) -> Household:
    f = _fields(raw, T_HOUSEHOLD, (C0, C1, C2, C3, C4, C5))
    count = _uint(_need(f, C5, "member count"), 1, "member count")
    if not 1 <= count <= MEMBER_SLOTS:
        raise TlvError(f"member count {count} is outside 1..{MEMBER_SLOTS}")
    return Household(
        Urn(_ascii(_need(f, C0, "URN"), "URN")),
        _ascii(_need(f, C1, "scheme"), "scheme"),
        _ascii(_need(f, C2, "state code"), "state code"),
        _ascii(_need(f, C3, "district code"), "district code"),
        _ascii(_need(f, C4, "village code"), "village code"),
        count,
    )


def encode_member(m: Member) -> bytes:
    parts = [
        tlv.encode(C0, m.name.encode("utf-8")),
        tlv.encode(C1, bytes((m.gender,))),
        tlv.encode(C2, m.year_of_birth.to_bytes(2, "big")),
        tlv.encode(C3, bytes((m.relationship,))),
    ]
    if m.uid:
        parts.append(tlv.encode(C4, m.uid.encode("ascii")))
    return tlv.constructed(T_MEMBER, parts)


@_card_data
def decode_member(raw: bytes, photo: bytes, fingers: tuple[FingerSlot, ...]) -> Member:
    f = _fields(raw, T_MEMBER, (C0, C1, C2, C3, C4))
    return Member(
        name=_utf8(_need(f, C0, "name"), "name"),
        gender=_enum(Gender, _uint(_need(f, C1, "gender"), 1, "gender"), "gender"),
        year_of_birth=_uint(_need(f, C2, "year of birth"), 2, "year of birth"),
        relationship=_enum(Relationship, _uint(_need(f, C3, "relationship"), 1, "relationship"), "relationship"),
        uid=_ascii(f.get(C4, b""), "UID"),
        photo=photo,
        fingers=fingers,
    )


def encode_photo(jpeg: bytes) -> bytes:
    return tlv.constructed(T_PHOTO, (tlv.encode(C0, jpeg),) if jpeg else ())


@_card_data
def decode_photo(raw: bytes) -> bytes:
    return _fields(raw, T_PHOTO, (C0,)).get(C0, b"")


def encode_fingers(fingers: tuple[FingerSlot, ...]) -> bytes:
    return tlv.constructed(T_FINGERS, (
        tlv.constructed(T_SLOT, (tlv.encode(C0, bytes((s.position,))), tlv.encode(C1, s.template)))
        for s in fingers
    ))  # fmt: skip


@_card_data
def decode_fingers(raw: bytes) -> tuple[FingerSlot, ...]:
    slots = []
    for item in tlv.iter_tlvs(tlv.decode_single(raw, T_FINGERS).value):
        if item.tag != T_SLOT:
            raise TlvError(f"unexpected tag {item.tag:X} among finger slots")
        f = tlv.children(item.value, (C0, C1))
        slots.append(FingerSlot(_uint(_need(f, C0, "finger position"), 1, "finger position"), _need(f, C1, "template")))
    return tuple(slots)


def encode_policy(p: Policy | None) -> bytes:
    if p is None:
        return tlv.constructed(T_POLICY, ())
    return tlv.constructed(T_POLICY, (
        tlv.encode(C0, p.insurer.encode("utf-8")),
        tlv.encode(C1, p.policy_number.encode("ascii")),
        tlv.encode(C2, encode_date(p.start)),
        tlv.encode(C3, encode_date(p.end)),
        tlv.encode(C4, p.sum_insured.to_bytes(5, "big")),
        tlv.encode(C5, p.balance.to_bytes(5, "big")),
    ))  # fmt: skip


@_card_data
def decode_policy(raw: bytes) -> Policy | None:
    f = _fields(raw, T_POLICY, (C0, C1, C2, C3, C4, C5))
    if not f:
        return None
    return Policy(
        insurer=_utf8(_need(f, C0, "insurer"), "insurer"),
        policy_number=_ascii(_need(f, C1, "policy number"), "policy number"),
        start=decode_date(_need(f, C2, "policy start")),
        end=decode_date(_need(f, C3, "policy end")),
        sum_insured=_uint(_need(f, C4, "sum insured"), 5, "sum insured"),
        balance=_uint(_need(f, C5, "balance"), 5, "balance"),
    )


def encode_issuance(i: Issuance | None) -> bytes:
    if i is None:
        return tlv.constructed(T_ISSUANCE, ())
    return tlv.constructed(T_ISSUANCE, (
        tlv.encode(C0, i.station_id.encode("ascii")),
        tlv.encode(C1, i.authority_serial.value),
        tlv.encode(C2, encode_time(i.time)),
        tlv.encode(C3, i.signature),
    ))  # fmt: skip


@_card_data
def decode_issuance(raw: bytes) -> Issuance | None:
    f = _fields(raw, T_ISSUANCE, (C0, C1, C2, C3))
    if not f:
        return None
    return Issuance(
        station_id=_ascii(_need(f, C0, "station id"), "station id"),
        authority_serial=CardSerial(_need(f, C1, "authority serial")),
        time=decode_time(_need(f, C2, "issuance time")),
        signature=_need(f, C3, "signature"),
    )


def encode_activation(a: Activation) -> bytes:
    return tlv.constructed(T_ACTIVATION, (
        tlv.encode(C0, a.authority_serial.value),
        tlv.encode(C1, a.issuance_number.to_bytes(4, "big")),
        tlv.encode(C2, encode_time(a.time)),
        tlv.encode(C3, a.cryptogram),
    ))  # fmt: skip


@_card_data
def decode_activation(raw: bytes) -> Activation:
    f = _fields(raw, T_ACTIVATION, (C0, C1, C2, C3))
    return Activation(
        authority_serial=CardSerial(_need(f, C0, "authority serial")),
        issuance_number=_uint(_need(f, C1, "issuance number"), 4, "issuance number"),
        time=decode_time(_need(f, C2, "activation time")),
        cryptogram=_need(f, C3, "activation cryptogram"),
    )


@dataclass(frozen=True, slots=True)
class CardInfo:
    serial: CardSerial
    lifecycle: Lifecycle
    version: int


def encode_card_info(info: CardInfo) -> bytes:
    return tlv.constructed(T_CARD_INFO, (
        tlv.encode(C0, info.serial.value),
        tlv.encode(C1, bytes((info.lifecycle,))),
        tlv.encode(C2, bytes((info.version,))),
    ))  # fmt: skip


@_card_data
def decode_card_info(raw: bytes) -> CardInfo:
    f = _fields(raw, T_CARD_INFO, (C0, C1, C2))
    return CardInfo(
        CardSerial(_need(f, C0, "card serial")),
        _enum(Lifecycle, _uint(_need(f, C1, "life-cycle state"), 1, "life-cycle state"), "life-cycle state"),
        _uint(_need(f, C2, "profile version"), 1, "profile version"),
    )


# Log record: fixed 32 bytes, big-endian (a cyclic record file, so no TLV).
_NONE = 0xFF


def encode_log_record(r: LogRecord) -> bytes:
    out = (
        encode_time(r.time)
        + bytes((r.kind, _NONE if r.member is None else r.member, _NONE if r.policy_slot is None else r.policy_slot))
        + r.amount.to_bytes(5, "big")
        + r.balance_after.to_bytes(5, "big")
        + r.place_id.encode("ascii").ljust(8, b"\x00")
        + r.reference.encode("ascii").ljust(7, b"\x00")
    )
    assert len(out) == LOG_RECORD_SIZE
    return out


@_card_data
def decode_log_record(raw: bytes) -> LogRecord:
    if len(raw) != LOG_RECORD_SIZE:
        raise TlvError(f"a log record is {LOG_RECORD_SIZE} bytes, found {len(raw)}")
    member, slot = raw[5], raw[6]
    try:
        return LogRecord(
            time=decode_time(raw[0:4]),
            kind=_enum(LogKind, raw[4], "log kind"),
            member=None if member == _NONE else member,
            policy_slot=None if slot == _NONE else slot,
            amount=int.from_bytes(raw[7:12], "big"),
            balance_after=int.from_bytes(raw[12:17], "big"),
            place_id=_ascii(raw[17:25].rstrip(b"\x00"), "place id"),
            reference=_ascii(raw[25:32].rstrip(b"\x00"), "reference"),
        )
    except OverflowError as exc:
        raise TlvError("a log record on the card holds an impossible time") from exc
