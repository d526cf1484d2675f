"""Sample families for the family-card tests: the largest family the profile allows, and a small one."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from cardlib import direct
from cardlib.direct import CardObject
from cardlib.model import (
    MAX_PHOTO_BYTES,
    MAX_TEMPLATE_BYTES,
    CardSerial,
    Family,
    FingerSlot,
    Gender,
    Issuance,
    LogKind,
    LogRecord,
    Member,
    Policy,
    Relationship,
    Urn,
)
from cardlib.transport import Transport, open_transport

NAMES = (
    ("रामेश्वर प्रसाद यादव", Gender.MALE, 1968, Relationship.HEAD),
    ("सुनीता देवी यादव", Gender.FEMALE, 1972, Relationship.SPOUSE),
    ("अजय कुमार यादव", Gender.MALE, 1995, Relationship.SON),
    ("प्रियंका कुमारी", Gender.FEMALE, 1999, Relationship.DAUGHTER),
    ("कमला देवी", Gender.FEMALE, 1941, Relationship.MOTHER),
)
T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def jpeg(rng: random.Random, size: int = MAX_PHOTO_BYTES) -> bytes:
    return b"\xff\xd8\xff\xe0" + rng.randbytes(size - 6) + b"\xff\xd9"


def full_family(seed: int = 7, log_records: int = 32) -> Family:
    """Five members, 4 KB photos, two 300-byte templates each, two policies, a full log."""
    rng = random.Random(seed)
    members = tuple(
        Member(
            name=name,
            gender=gender,
            year_of_birth=year,
            relationship=rel,
            uid=f"{rng.randrange(10**11, 10**12)}" if i % 2 == 0 else "",
            photo=jpeg(rng),
            fingers=(
                FingerSlot(2, rng.randbytes(MAX_TEMPLATE_BYTES)),
                FingerSlot(7, rng.randbytes(MAX_TEMPLATE_BYTES)),
            ),
        )
        for i, (name, gender, year, rel) in enumerate(NAMES)
    )
    policies = (
        Policy("न्यू इंडिया एश्योरेंस", "RSBY/UP/2026/000123", date(2026, 12, 1), date(2027, 11, 30), 3_000_000, 2_345_600),
        Policy("ICICI Lombard", "RSBY/UP/2027/000456", date(2027, 12, 1), date(2028, 11, 30), 3_000_000, 3_000_000),
    )
    log = tuple(
        LogRecord(
            time=T0 + timedelta(hours=i),
            kind=LogKind.DISCHARGE if i % 3 else LogKind.TRANSPORT,
            place_id=f"H{i:07d}",
            member=i % 5,
            policy_slot=0,
            amount=1000 * (i + 1),
            balance_after=3_000_000 - 1000 * i,
            reference=f"P{i:04d}",
        )
        for i in range(log_records)
    )
    issuance = Issuance("STN-0923-01", CardSerial(bytes.fromhex("4B00000000000042")), T0, rng.randbytes(72))
    return Family(
        urn=Urn("09230100101000013"),
        scheme="RSBY",
        state_code="09",
        district_code="0923",
        village_code="00101000",
        members=members,
        policies=policies,
        issuance=issuance,
        log=log,
    )


def small_family() -> Family:
    """A head alone, no photo or fingers (biometric exception), no policies, no issuance, no log."""
    return Family(
        urn=Urn("09230100101000099"),
        scheme="RSBY",
        state_code="9",
        district_code="923",
        village_code="1",
        members=(Member("गोपाल", Gender.MALE, 1950, Relationship.HEAD),),
    )


_slots = itertools.count()


@contextmanager
def inserted(card: CardObject, name: str | None = None) -> Iterator[Transport]:
    """``card`` in a fresh ``direct:`` slot, connected; the slot is forgotten afterwards."""
    name = name or f"family-test-{next(_slots)}"
    direct.register_card(name, card)
    transport = open_transport(f"direct:{name}")
    transport.connect()
    try:
        yield transport
    finally:
        transport.close()
        direct.unregister(name)


def reinsert(transport: Transport, card: CardObject) -> None:
    """Put a card that was pulled (torn) back into the transport's slot and connect again."""
    direct.register_card(transport.reader_name, card)
    transport.connect()
