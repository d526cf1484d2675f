"""Treatment rules on the card and in the database: block, debit and release, the family floater, the
transport allowance caps, the package flags (sex/age, beds, pre-authorisation), and signed statements."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cardlib.model import LogKind
from keymgmt import ecc
from keymgmt.issuance import debit_digest
from station.errors import RuleViolation
from station.hospital import desk, treatment
from station.hospital.models import (
    Admission,
    AdmissionState,
    CardTransaction,
    FlagKind,
    FraudFlag,
    TxnState,
    as_utc,
)
from station.hospital.models import VerifyMethod as VM
from station.hospital.rules import HospitalRules
from tests.station.hospital.conftest import Desk


def verified(check: desk.CardCheck, member: int) -> desk.Verification:
    # The fingerprint paths are tested in test_desk.py; here the patient is taken as verified.
    return desk.Verification(check.serial, member, VM.FINGER, ())


def test_block_debit_release_transport_on_one_floater(hospital: Desk) -> None:
    check = hospital.check("gaya")
    head = treatment.admit(hospital.ctx, check, verified(check, 0), "SUR014")
    assert (head.blocked, head.balance_after) == (900_000, 2_100_000)
    wife = treatment.admit(hospital.ctx, check, verified(check, 1), "OBG002")
    assert wife.balance_after == 1_850_000  # one balance shared by the family
    out = treatment.discharge(hospital.ctx, check, head.ref, 700_000)
    assert (out.released, out.transport) == (200_000, 10_000)
    assert out.balance_after == 1_850_000 + 200_000 - 10_000
    # The card agrees: balance and the log's records, kinds and references.
    policy = check.card.read_policies()[0]
    assert policy is not None and policy.balance == out.balance_after
    mine = [r for r in check.card.read_log() if r.place_id == "H0923001"]
    assert [(r.kind, r.reference, r.amount) for r in mine] == [
        (LogKind.ADMISSION, head.ref, 900_000), (LogKind.ADMISSION, wife.ref, 250_000),
        (LogKind.DISCHARGE, head.ref, 700_000), (LogKind.TRANSPORT, head.ref, 10_000)]
    assert mine[-1].balance_after == out.balance_after
    # Every transaction in the database carries the hospital card's verifiable statement.
    cert = hospital.ctx.hospital_certificate
    with hospital.db.transaction() as s:
        txns = s.scalars(select(CardTransaction)).all()
        assert len(txns) == 4 and all(t.state is TxnState.DONE for t in txns)
        for t in txns:
            digest = debit_digest(cert.card_serial, t.hospital_txn, bytes.fromhex(check.serial), check.urn, t.amount,
                                  as_utc(t.signed_at), f"{t.kind.value}:{t.admission.ref}")
            assert ecc.verify_digest(cert.public_key, digest, t.signature)
        assert s.scalar(select(Admission).where(Admission.ref == head.ref)).state is AdmissionState.DISCHARGED


def test_transport_allowance_per_visit_and_yearly_caps(make_desk) -> None:  # type: ignore[no-untyped-def]
    d = make_desk(rules=HospitalRules("H0923001", transport_per_visit=10_000, transport_yearly_cap=15_000))
    check = d.check("gaya")
    paid = []
    for _ in range(3):
        a = treatment.admit(d.ctx, check, verified(check, 0), "GEN001")
        paid.append(treatment.discharge(d.ctx, check, a.ref, 150_000).transport)
    assert paid == [10_000, 5_000, 0]
    assert treatment.transport_paid_this_year(d.ctx, check) == 15_000


@pytest.mark.parametrize(("member", "code", "why"), [(0, "OBG012", "women only"), (1, "URO007", "men only"),
                                                     (0, "PED003", "ages 0-1")])
def test_package_that_does_not_fit_the_member_is_flagged(hospital: Desk, member: int, code: str, why: str) -> None:
    check = hospital.check("gaya")
    with pytest.raises(treatment.FlagsRaised, match=why) as raised:
        treatment.admit(hospital.ctx, check, verified(check, member), code)
    assert [k for k, _ in raised.value.flags] == [FlagKind.PACKAGE_MISMATCH]
    assert check.card.read_policies()[0].balance == 3_000_000  # nothing blocked
    result = treatment.admit(hospital.ctx, check, verified(check, member), code, accept_flags=True)
    assert result.flags == (FlagKind.PACKAGE_MISMATCH,)
    with hospital.db.transaction() as s:
        flag = s.scalars(select(FraudFlag)).one()
        assert flag.kind is FlagKind.PACKAGE_MISMATCH and flag.admission_id is not None


def test_more_admissions_than_beds_is_flagged(make_desk) -> None:  # type: ignore[no-untyped-def]
    d = make_desk(rules=HospitalRules("H0923001", beds=1))
    check = d.check("gaya")
    treatment.admit(d.ctx, check, verified(check, 0), "GEN001")
    with pytest.raises(treatment.FlagsRaised, match="1 beds"):
        treatment.admit(d.ctx, check, verified(check, 1), "GEN001")
    assert treatment.admit(d.ctx, check, verified(check, 1), "GEN001", accept_flags=True).flags == (
        FlagKind.BEDS_EXCEEDED,)


def test_preauthorisation_and_balance_limits(hospital: Desk) -> None:
    check = hospital.check("gaya")
    with pytest.raises(RuleViolation, match="pre-authorisation"):
        treatment.admit(hospital.ctx, check, verified(check, 0), "ONC900")
    treatment.admit(hospital.ctx, check, verified(check, 0), "ONC900", preauth_ref="NIA/PA/2027/0042")
    second = treatment.admit(hospital.ctx, check, verified(check, 1), "SUR014")
    assert second.balance_after == 100_000
    with pytest.raises(RuleViolation, match="does not cover"):
        treatment.admit(hospital.ctx, check, verified(check, 2), "SUR014")
    with pytest.raises(RuleViolation, match="already admitted"):
        treatment.admit(hospital.ctx, check, verified(check, 1), "GEN001")
    with pytest.raises(RuleViolation, match="between"):
        treatment.discharge(hospital.ctx, check, second.ref, 900_001)
    with pytest.raises(RuleViolation, match="package"):
        treatment.admit(hospital.ctx, check, verified(check, 2), "NOPE01")
    other = hospital.check("other")
    with pytest.raises(RuleViolation, match="another card"):
        treatment.admit(hospital.ctx, other, verified(check, 0), "GEN001")
