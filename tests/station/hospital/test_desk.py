"""The desk: staff login with the hospital card, the card's authenticity check (genuine, forged, altered,
revoked, no policy), and the fingerprint with its fallbacks — every path in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from biometrics.fingers import FingerPosition
from cardlib.family import FamilyCard
from keymgmt import hierarchy, revocation
from simulators.cards.family import FamilyCardOS
from station.demo.hospital import STAFF, STAFF_PASS, SUPERVISOR, SUPERVISOR_PASS
from station.errors import AuthenticationError, RuleViolation
from station.hospital import desk
from station.hospital.models import FlagKind, FraudFlag, Override, VerifyMethod
from station.hospital.rules import HospitalRules
from station.hospital.trust import HospitalTrustError
from station.storage import audit
from station.storage.models import AuditEvent
from tests.station.hospital.conftest import JPEG, Desk, insert


def actions(d: Desk) -> list[str]:
    with d.db.transaction() as s:
        audit.verify_chain(s)
        return [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.seq))]


def test_genuine_card_is_accepted_within_a_second(hospital: Desk) -> None:
    check = hospital.check("gaya")
    assert check.seconds < hospital.ctx.rules.check_target_seconds
    assert [m.name for m in check.members] == ["Ram Yadav", "Sita Devi", "Ajay Yadav"]
    assert [m.gender for m in check.members] == ["M", "F", "M"] and check.members[2].fingers == ()
    assert check.balance == 3_000_000 and check.policy_slot == 0 and check.issued_by.startswith("FKO-")
    assert check.card.authenticated and "hospital.card_checked" in actions(hospital)


@pytest.mark.parametrize(("name", "reason"), [("forged", "forged"), ("altered", "tampered")])
def test_forged_and_altered_cards_are_refused(hospital: Desk, name: str, reason: str) -> None:
    with pytest.raises(desk.CardRefused) as refused:
        hospital.check(name)
    assert refused.value.reason == reason
    assert "hospital.card_refused" in actions(hospital)


def test_revoked_card_is_refused_offline(scheme, make_desk) -> None:  # type: ignore[no-untyped-def]
    serial = FamilyCardOS(None, image=scheme.families["other"]).serial.value
    d = make_desk(revoked=(serial,))
    with pytest.raises(desk.CardRefused) as refused:
        d.check("other")
    assert refused.value.reason == "revoked"
    d.check("gaya")  # others still pass
    # The hospital card got the list too: it refuses the card even if the station's list were bypassed.
    assert d.ctx.hospital.info().revocation_sequence == 1


def test_older_revocation_list_is_refused(scheme, hospital: Desk) -> None:  # type: ignore[no-untyped-def]
    district = hierarchy.district_signer(scheme.district)
    hospital.ctx.trust.install_revocation_list(revocation.publish(district, 5).to_bytes())
    with pytest.raises(HospitalTrustError, match="older"):
        hospital.ctx.trust.install_revocation_list(revocation.publish(district, 4).to_bytes())
    forged = revocation.publish(hierarchy.district_signer(scheme.district), 6).to_bytes()
    with pytest.raises(HospitalTrustError):
        hospital.ctx.trust.install_revocation_list(forged[:-5] + b"xxxxx")


def test_policy_not_in_force_is_refused(hospital: Desk) -> None:
    hospital.advance(timedelta(days=400))
    with pytest.raises(desk.CardRefused) as refused:
        hospital.check("gaya")
    assert refused.value.reason == "no_policy"


def test_unactivated_card_is_refused(hospital: Desk, scheme) -> None:  # type: ignore[no-untyped-def]
    card = FamilyCardOS(None)
    t = insert(card)
    FamilyCard(t).personalise(scheme.family("10092310010000003", (("X Y", *_head()),)), bytes(16))
    with pytest.raises(desk.CardRefused) as refused:
        desk.check_card(hospital.ctx, t)
    assert refused.value.reason == "not_activated"


def _head():  # type: ignore[no-untyped-def]
    from cardlib.model import Gender, Relationship

    return (Gender.MALE, 1970, Relationship.HEAD, False)


def test_login_needs_the_pin_and_hospital_staff(scheme, hospital: Desk) -> None:  # type: ignore[no-untyped-def]
    from simulators.cards.hospital import HospitalCardOS

    card = insert(HospitalCardOS(None, image=scheme.hospital_images["H0923001"]))
    with pytest.raises(AuthenticationError, match="PIN"):
        desk.open_desk(hospital.db, hospital.data_dir, hospital.ctx.trust, hospital.ctx.rules, card, STAFF,
                       STAFF_PASS, "0000")
    assert "hospital.pin_refused" in actions(hospital)


def test_own_finger_verifies_on_retry(hospital: Desk) -> None:
    check = hospital.check("gaya")
    stranger, sita = hospital.place("stranger"), hospital.place("Sita Devi")

    def prompt(member: int, finger: FingerPosition, attempt: int) -> None:
        # The first placement is smudged beyond recognition (another print); placed again, it is hers.
        (stranger if attempt == 1 else sita)(member, finger, 1)

    v = desk.verify_member(hospital.ctx, check, 1, hospital.scanner, prompt)
    assert v is not None and v.method is VerifyMethod.FINGER and v.member_index == 1
    assert [a.matched for a in v.attempts] == [False, True] and v.attempts[-1].score > v.attempts[0].score
    assert {a.finger for a in v.attempts} == {FingerPosition.RIGHT_INDEX}


def test_fallbacks_retry_other_finger_attendant_override(hospital: Desk) -> None:
    check = hospital.check("gaya")
    # A stranger's finger: both fingers, two tries each, all fail.
    assert desk.verify_member(hospital.ctx, check, 0, hospital.scanner, hospital.place("stranger")) is None
    assert actions(hospital).count("hospital.finger") == 4
    # The spouse comes with him and verifies herself as his attendant.
    v = desk.verify_attendant(hospital.ctx, check, 0, 1, hospital.scanner, hospital.place("Sita Devi"))
    assert v is not None and v.method is VerifyMethod.ATTENDANT and v.attendant_index == 1
    # The son has no fingerprints on the card: straight to the supervisor.
    assert desk.verify_member(hospital.ctx, check, 2, hospital.scanner, hospital.place("stranger")) is None
    with pytest.raises(RuleViolation, match="reason"):
        desk.override(hospital.ctx, check, 2, SUPERVISOR, SUPERVISOR_PASS, JPEG, "no")
    with pytest.raises(AuthenticationError):
        desk.override(hospital.ctx, check, 2, STAFF, STAFF_PASS, JPEG, "child, no prints on the card")
    v = desk.override(hospital.ctx, check, 2, SUPERVISOR, SUPERVISOR_PASS, JPEG, "child, no prints on the card")
    assert v.method is VerifyMethod.OVERRIDE and v.override_id is not None and v.flags == ()
    with hospital.db.transaction() as s:
        row = s.get(Override, v.override_id)
        assert row is not None and row.supervisor == SUPERVISOR and JPEG not in row.photo_ciphertext
    log = actions(hospital)
    assert {"hospital.verify_failed", "hospital.attendant", "hospital.override"} <= set(log)


def test_other_finger_after_retries(hospital: Desk) -> None:
    check = hospital.check("gaya")
    glass_calls: list[FingerPosition] = []
    right = hospital.place("stranger")
    left = hospital.place("Ram Yadav")

    def prompt(member: int, finger: FingerPosition, attempt: int) -> None:
        glass_calls.append(finger)
        (right if finger is FingerPosition.RIGHT_INDEX else left)(member, finger, attempt)

    v = desk.verify_member(hospital.ctx, check, 0, hospital.scanner, prompt)
    assert v is not None and v.method is VerifyMethod.OTHER_FINGER and v.attempts[-1].finger is FingerPosition.LEFT_INDEX
    assert glass_calls == [FingerPosition.RIGHT_INDEX] * 2 + [FingerPosition.LEFT_INDEX]


def test_repeated_overrides_by_one_staff_raise_a_flag(make_desk) -> None:  # type: ignore[no-untyped-def]
    d = make_desk(rules=HospitalRules("H0923001", override_limit=2))
    check = d.check("gaya")
    first = desk.override(d.ctx, check, 0, SUPERVISOR, SUPERVISOR_PASS, JPEG, "worn fingertips, farm labourer")
    second = desk.override(d.ctx, check, 1, SUPERVISOR, SUPERVISOR_PASS, JPEG, "burnt fingers, kitchen accident")
    assert first.flags == () and second.flags == (FlagKind.REPEATED_OVERRIDES,)
    with d.db.transaction() as s:
        flags = s.scalars(select(FraudFlag)).all()
        assert [f.kind for f in flags] == [FlagKind.REPEATED_OVERRIDES] and flags[0].staff == STAFF
