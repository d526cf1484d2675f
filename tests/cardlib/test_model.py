"""Typed family-card values: each limit of the card profile is refused with a clear message."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cardlib.model import (
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
from tests.cardlib.family_samples import full_family, small_family

HEAD = Member("गोपाल", Gender.MALE, 1950, Relationship.HEAD)


def test_urn_is_17_characters():
    assert str(Urn("09230100101000013")) == "09230100101000013"
    for bad in ("0923010010100001", "092301001010000134", "0923010010100001a", "09230100101 00013"):
        with pytest.raises(InvalidCardValue, match="17 characters"):
            Urn(bad)


def test_card_serial():
    serial = CardSerial.from_hex("46000000000000AB")
    assert str(serial) == "46000000000000AB"
    with pytest.raises(InvalidCardValue, match="8 bytes"):
        CardSerial(b"\x00" * 7)
    with pytest.raises(InvalidCardValue, match="16 hex digits"):
        CardSerial.from_hex("zz")


def test_values_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        HEAD.name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "empty"),
        ({"name": " राम"}, "padded"),
        ({"name": "क" * 41}, "120 UTF-8 bytes"),
        ({"year_of_birth": 1899}, "1900..2100"),
        ({"uid": "12345"}, "12 digits"),
        ({"photo": b"GIF89a"}, "JPEG"),
        ({"photo": b"\xff\xd8" + bytes(4095)}, "4096"),
        ({"fingers": (FingerSlot(1, b"x"), FingerSlot(1, b"y"))}, "different fingers"),
        ({"fingers": (FingerSlot(1, b"x"), FingerSlot(2, b"y"), FingerSlot(3, b"z"))}, "two finger slots"),
        ({"gender": 1}, "Gender"),
    ],
)
def test_member_limits(change, message):
    with pytest.raises(InvalidCardValue, match=message):
        dataclasses.replace(HEAD, **change)


def test_devanagari_name_at_the_limit_is_accepted():
    assert dataclasses.replace(HEAD, name="क" * 40).name == "क" * 40


@pytest.mark.parametrize(
    ("position", "template", "message"),
    [(0, b"x", "1..10"), (11, b"x", "1..10"), (1, b"", "1..300"), (1, bytes(301), "1..300")],
)
def test_finger_slot_limits(position, template, message):
    with pytest.raises(InvalidCardValue, match=message):
        FingerSlot(position, template)


def test_policy_limits():
    good = Policy("ICICI Lombard", "P-1", date(2026, 12, 1), date(2027, 11, 30), 3_000_000, 3_000_000)
    for change, message in (
        ({"end": date(2026, 11, 30)}, "ends before"),
        ({"balance": 3_000_001}, "exceed"),
        ({"sum_insured": -1}, "paise"),
        ({"policy_number": "P" * 25}, "1..24"),
        ({"policy_number": "नीति"}, "ASCII"),
        ({"insurer": "न" * 21}, "60 UTF-8"),
    ):
        with pytest.raises(InvalidCardValue, match=message):
            dataclasses.replace(good, **change)


def test_times_must_be_aware_whole_seconds():
    t = datetime(2026, 1, 1, tzinfo=UTC)
    LogRecord(t.astimezone(timezone(timedelta(hours=5, minutes=30))), LogKind.ISSUED, "STN1")
    with pytest.raises(InvalidCardValue, match="timezone-aware"):
        LogRecord(datetime(2026, 1, 1), LogKind.ISSUED, "STN1")
    with pytest.raises(InvalidCardValue, match="microseconds"):
        LogRecord(t.replace(microsecond=5), LogKind.ISSUED, "STN1")
    with pytest.raises(InvalidCardValue, match="place id"):
        LogRecord(t, LogKind.ISSUED, "HOSPITAL-1")
    with pytest.raises(InvalidCardValue, match="member index"):
        LogRecord(t, LogKind.ISSUED, "H1", member=5)
    with pytest.raises(InvalidCardValue, match="signature"):
        Issuance("STN", CardSerial(bytes(8)), t, bytes(97))


def test_family_rules():
    family = small_family()
    spouse = Member("सीता", Gender.FEMALE, 1955, Relationship.SPOUSE)
    with pytest.raises(InvalidCardValue, match="first member must be the head"):
        dataclasses.replace(family, members=(spouse, HEAD))
    with pytest.raises(InvalidCardValue, match="only one member"):
        dataclasses.replace(family, members=(HEAD, HEAD))
    with pytest.raises(InvalidCardValue, match=r"1\.\.5"):
        dataclasses.replace(family, members=(HEAD,) + (spouse,) * 5)
    with pytest.raises(InvalidCardValue, match="at most 32"):
        dataclasses.replace(full_family(log_records=32), log=full_family(log_records=33).log)
    with pytest.raises(InvalidCardValue, match="district code"):
        dataclasses.replace(family, district_code="09234")
    assert full_family().head.relationship is Relationship.HEAD
