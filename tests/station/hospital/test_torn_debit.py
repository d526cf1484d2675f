"""A card pulled between block and debit — and during the debit itself, after any written byte — is left
consistent (the old state or the new one), and the desk finishes the discharge exactly once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cardlib.family import FamilyCard, NoSecureSession, TransactionRefused
from cardlib.model import LogKind, LogRecord, utc_now
from cardlib.secure import SoftwareSam
from keymgmt import hierarchy
from simulators.cards.family import FamilyCardOS
from station.hospital import desk, treatment
from station.hospital.models import Admission, AdmissionState, CardTransaction, TxnKind, TxnState
from station.hospital.models import VerifyMethod as VM
from tests.station.hospital.conftest import Desk, insert, reinsert

FINAL = 600_000
BLOCK = 900_000


def _state(card: FamilyCardOS) -> tuple[int, list[LogRecord]]:
    t = insert(FamilyCardOS(None, image=card.image()))
    client = FamilyCard(t)
    policy = client.read_policies()[0]
    log = client.read_log()
    t.close()
    assert policy is not None
    return policy.balance, [r for r in log if r.place_id == "H0923001"]


def _discharge_bytes(hospital: Desk) -> int:
    """How many EEPROM bytes the discharge's TRANSACT writes (measured on a throw-away copy)."""
    card, t = hospital.insert_family("gaya")
    check = desk.check_card(hospital.ctx, t)
    a = treatment.admit(hospital.ctx, check, desk.Verification(check.serial, 0, VM.FINGER, ()), "SUR014")
    before = card.eeprom.bytes_written
    treatment.discharge(hospital.ctx, check, a.ref, FINAL, transport=False)
    return card.eeprom.bytes_written - before


def test_torn_discharge_lands_whole_or_not_at_all_and_is_finished_once(hospital: Desk) -> None:
    total = _discharge_bytes(hospital)
    assert 150 < total < 600
    offsets = sorted(set(range(0, total, 23)) | {1, total // 2, total - 2, total - 1})
    outcomes = {"old": 0, "new": 0}
    for n in offsets:
        hospital.cards.pop("gaya", None)  # a fresh copy of the issued card each time
        card, t = hospital.insert_family("gaya")
        check = desk.check_card(hospital.ctx, t)
        a = treatment.admit(hospital.ctx, check, desk.Verification(check.serial, 0, VM.FINGER, ()), "SUR014")
        card.faults.tear_after_bytes = n
        with pytest.raises(treatment.CardPulled):
            treatment.discharge(hospital.ctx, check, a.ref, FINAL, transport=False)
        card.faults.tear_after_bytes = None
        reinsert(t, card)  # power-on: the card's journal recovery runs
        balance, log = _state(card)
        if log[-1].kind is LogKind.DISCHARGE:
            outcomes["new"] += 1
            assert balance == 3_000_000 - FINAL == log[-1].balance_after, f"torn after {n}: mixed state"
        else:
            outcomes["old"] += 1
            assert log[-1].kind is LogKind.ADMISSION and balance == 3_000_000 - BLOCK, f"torn after {n}: mixed"
        with hospital.db.transaction() as s:
            assert s.scalar(select(Admission).where(Admission.ref == a.ref)).state is AdmissionState.DISCHARGING
        # The next check of this card finishes the discharge from what the card holds.
        check = desk.check_card(hospital.ctx, t)
        assert treatment.resume(hospital.ctx, check) == (a.ref,)
        balance, log = _state(card)
        assert balance == 3_000_000 - FINAL
        assert [r.kind for r in log if r.reference == a.ref] == [LogKind.ADMISSION, LogKind.DISCHARGE]
        with hospital.db.transaction() as s:
            row = s.scalar(select(Admission).where(Admission.ref == a.ref))
            assert row.state is AdmissionState.DISCHARGED and row.balance_after == balance
            txn = s.scalar(select(CardTransaction).where(CardTransaction.admission_id == row.id,
                                                         CardTransaction.kind == TxnKind.DISCHARGE))
            assert txn.state is TxnState.DONE and txn.signature
        t.close()
    assert outcomes["old"] > 0 and outcomes["new"] > 0


def test_card_refuses_transactions_that_disagree_with_it(scheme) -> None:  # type: ignore[no-untyped-def]
    card = FamilyCardOS(None, image=scheme.families["gaya"])
    t = insert(card)
    client = FamilyCard(t)
    serial = client.select().serial.value
    now = utc_now()
    record = LogRecord(now, LogKind.ADMISSION, "H0923001", member=0, policy_slot=0, amount=1000,
                       balance_after=2_999_000, reference="A000001")
    with pytest.raises(NoSecureSession):
        client.transact(record)
    client.authenticate(SoftwareSam(hierarchy.family_card_key(scheme.district, serial)))
    for bad in (LogRecord(now, LogKind.ADMISSION, "H0923001", 0, 0, 1000, 2_999_999, "A000001"),  # wrong balance
                LogRecord(now, LogKind.ADMISSION, "H0923001", 0, 0, 4_000_000, 0, "A000001"),  # more than left
                LogRecord(now, LogKind.DISCHARGE, "H0923001", 0, 0, 10, 2_999_990, "A000009"),  # nothing blocked
                LogRecord(now, LogKind.CORRECTION, "H0923001", 0, 0, 10, 2_999_990, "A000001")):
        with pytest.raises(TransactionRefused):
            client.transact(bad)
    client.transact(record)
    # A discharge may not debit more than its admission blocked, and closes it: a second one is refused.
    with pytest.raises(TransactionRefused):
        client.transact(LogRecord(now, LogKind.DISCHARGE, "H0923001", 0, 0, 1001, 2_998_999, "A000001"))
    client.transact(LogRecord(now, LogKind.DISCHARGE, "H0923001", 0, 0, 800, 2_999_200, "A000001"))
    with pytest.raises(TransactionRefused):
        client.transact(LogRecord(now, LogKind.DISCHARGE, "H0923001", 0, 0, 0, 2_999_200, "A000001"))
    assert client.read_policies()[0].balance == 2_999_200
    t.close()


def test_torn_admission_is_finished_on_the_next_check(hospital: Desk) -> None:
    pulled = 0
    for n in (3, 200, 10_000):  # before the journal's commit byte, after it, and no tear at all
        hospital.cards.pop("gaya", None)
        card, t = hospital.insert_family("gaya")
        check = desk.check_card(hospital.ctx, t)
        card.faults.tear_after_bytes = n
        try:
            a = treatment.admit(hospital.ctx, check, desk.Verification(check.serial, 0, VM.FINGER, ()), "SUR014")
            ref = a.ref
        except treatment.CardPulled:
            pulled += 1
            card.faults.tear_after_bytes = None
            reinsert(t, card)
            check = desk.check_card(hospital.ctx, t)
            (ref,) = treatment.resume(hospital.ctx, check)
        card.faults.tear_after_bytes = None
        balance, log = _state(card)
        assert balance == 3_000_000 - BLOCK
        assert [r.kind for r in log if r.reference == ref] == [LogKind.ADMISSION]
        with hospital.db.transaction() as s:
            assert s.scalar(select(Admission).where(Admission.ref == ref)).state is AdmissionState.ADMITTED
        treatment.discharge(hospital.ctx, check, ref, FINAL, transport=False)  # frees the member for the next round
        t.close()
    assert pulled == 2
