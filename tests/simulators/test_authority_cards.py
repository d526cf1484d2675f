"""Attacks on the authority cards, each run against the simulated cards through the direct transport."""

from __future__ import annotations

import logging
import os
from datetime import timedelta

import pytest

from cardlib import authority as ca
from cardlib.apdu import CommandApdu, ResponseApdu
from cardlib.errors import (
    AuthenticationBlocked,
    CardRemovedError,
    SecurityStatusNotSatisfied,
    VerificationFailed,
)
from cardlib.family import FamilyCard, family_digest
from cardlib.secure import AuthenticationFailed
from keymgmt import ecc, hierarchy, issuance, revocation, scp
from keymgmt.errors import RevokedError
from simulators.cards.fko import FkoCardOS
from simulators.cards.storage import load_state, save_state
from tests.keymgmt.cards import (
    NOW,
    OFFICER_FINGER,
    PIN,
    district_key,
    family,
    finger,
    inserted,
    issue,
    make_world,
    new_district_card,
    new_family_card,
    new_fko,
    new_hospital_card,
    reinsert,
    unlocked_fko,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return make_world(tmp_path_factory.mktemp("world"))


def test_fko_issuance_end_to_end(world) -> None:
    fko_card, fam = new_fko(world), family()
    fam_card = new_family_card(district_key(world), fam)
    with inserted(fko_card) as ft, inserted(fam_card) as famt:
        fko = unlocked_fko(ft)
        cert = fko.verified_certificate(world.root, NOW)
        auth = issue(fko, famt, fam)
        info = fko.info()
        assert (info.counter, info.next_number, info.ledger_count) == (299, 2, 1)
        assert FamilyCard(famt).read_activation() is not None
        # The issuance signature verifies offline from what the family card holds.
        issuance.verify_issuance(
            cert, fam.urn.value, FamilyCard(famt).serial().value, "CAMP-01", NOW, family_digest(fam), auth.signature
        )
        # One authentication authorises one issuance only.
        with pytest.raises(SecurityStatusNotSatisfied):
            fko.authorise_issuance(FamilyCard(famt).serial().value, fam.urn.value, family_digest(fam), "CAMP-01", NOW)


def test_locked_fko_card_authorises_nothing(world) -> None:
    with inserted(new_fko(world)) as ft:
        fko = ca.FkoCard(ft)
        fko.select()
        with pytest.raises(SecurityStatusNotSatisfied):
            fko.begin(b"\x46" * 8, "0923", bytes(8))
        with pytest.raises(SecurityStatusNotSatisfied):
            fko.derive_card_key(b"\x46" * 8)


def test_wrong_finger_five_times_blocks_until_the_district_unblocks(world) -> None:
    fko_card, desk_card = new_fko(world), new_district_card(world)
    with inserted(fko_card) as ft, inserted(desk_card) as dt:
        fko, desk = ca.FkoCard(ft), ca.DistrictCard(dt)
        fko.select()
        for attempt in range(5):
            with pytest.raises(VerificationFailed) as info:
                fko.unlock(finger(900 + attempt, impression=1))  # other people's fingers
            assert info.value.tries_left == 4 - attempt
        with pytest.raises(AuthenticationBlocked):
            fko.unlock(finger(OFFICER_FINGER, impression=1))  # even the right finger now
        assert not fko.info().unlocked
        # A forged unblock cryptogram is refused.
        fko.get_challenge()
        with pytest.raises(SecurityStatusNotSatisfied):
            fko._send(CommandApdu(0x00, ca.INS_RESET_RETRY, 0x03, ca.P2_FINGER, os.urandom(16)), "forged unblock")
        desk.select()
        desk.verify_pin(PIN)
        ca.unblock_fko(fko, desk)
        fko.unlock(finger(OFFICER_FINGER, impression=2))
        assert fko.info().tries_left == 5


def test_tearing_during_verification_gives_no_verdict_without_spending_a_try(world) -> None:
    """The try is spent before the comparison, so tearing can never yield a free guess."""
    fko_card = new_fko(world)
    with inserted(fko_card) as ft:
        fko = ca.FkoCard(ft)
        fko.select()
        fko_card.faults.tear_after_bytes = 0  # power lost before the try counter is written
        with pytest.raises(CardRemovedError):
            fko.unlock(finger(777, impression=1))
        reinsert(ft, fko_card)
        fko.select()
        assert fko.info().tries_left == 5  # nothing spent, and nothing learned: no answer came back
        fko_card.faults.tear_after_bytes = 1  # counter spent, the reset after a match is torn
        with pytest.raises(CardRemovedError):
            fko.unlock(finger(OFFICER_FINGER, impression=1))
        reinsert(ft, fko_card)
        info = ca.FkoCard(ft).select()
        assert info.tries_left == 4 and not info.unlocked


def _tear_sweep_issue(world, issuances: int):
    """Issue with a tear after k bytes for k = 0, 1, 2, ... until one issuance completes."""
    fko_card = new_fko(world, issuances=issuances)
    fam = family()
    fam_card = new_family_card(district_key(world), fam)
    offsets = 0
    with inserted(fko_card) as ft, inserted(fam_card) as famt:
        fko = ca.FkoCard(ft)
        for k in range(0, 400):
            fko.select()
            fko.unlock(finger(OFFICER_FINGER, impression=1))
            before = fko.info()
            fc = FamilyCard(famt)
            fc.authenticate(fko)
            fko_card.faults.tear_after_bytes = k
            try:
                fko.authorise_issuance(fc.serial().value, fam.urn.value, family_digest(fam), "CAMP-01", NOW)
                torn = False
            except CardRemovedError:
                torn = True
                reinsert(ft, fko_card)
                fko.select()
            fko_card.faults.tear_after_bytes = None
            after = fko.info()
            assert after.counter in (before.counter, before.counter - 1)
            assert after.counter + after.ledger_count == issuances  # counted ⇔ in the ledger
            assert after.next_number - 1 == after.ledger_count
            offsets += 1
            if not torn:
                return fko_card, fko, after, offsets
            if after.counter < before.counter:
                return fko_card, fko, after, offsets
    raise AssertionError("issuance never completed")


def test_fko_counter_tearing_sweep_never_refunds_or_goes_negative(world) -> None:
    fko_card, _, after, offsets = _tear_sweep_issue(world, issuances=1)
    assert offsets > 100  # the sweep reached the ledger write and the journal, byte by byte
    assert after.counter == 0
    fam = family("09230100101000014")
    with inserted(new_family_card(district_key(world), fam)) as famt, inserted(fko_card) as ft:
        fc, fko = FamilyCard(famt), ca.FkoCard(ft)
        fko.select()
        fko.unlock(finger(OFFICER_FINGER, impression=3))
        fc.authenticate(fko)
        with pytest.raises(ca.AuthorityCardError, match="no issuances left"):
            fko.authorise_issuance(fc.serial().value, fam.urn.value, family_digest(fam), "CAMP-01", NOW)
        assert fko.info().counter == 0


def test_recharge_verifies_archives_and_resets(world, tmp_path) -> None:
    fko_card, desk_card = new_fko(world, issuances=3), new_district_card(world)
    with inserted(fko_card) as ft, inserted(desk_card) as dt:
        fko, desk = unlocked_fko(ft), ca.DistrictCard(dt)
        for i in range(2):
            fam = family(f"0923010010100002{i}")
            with inserted(new_family_card(district_key(world), fam)) as famt:
                issue(fko, famt, fam, NOW + timedelta(minutes=i))
        desk.select()
        desk.verify_pin(PIN)
        record = ca.recharge_fko(fko, desk, world.root, tmp_path / "archive", issuances=300)
        assert [e.urn for e in record.entries] == ["09230100101000020", "09230100101000021"]
        info = fko.info()
        assert (info.counter, info.ledger_count, info.next_number) == (300, 0, 3)
        cert, entries = ca.verify_archive(record.path, world.root)
        assert len(entries) == 2 and cert.card_serial == info.serial
        # The archive edited afterwards no longer verifies.
        raw = bytearray(record.path.read_bytes())
        at = raw.index(b"09230100101000021")
        raw[at + 16] = ord("9")
        record.path.write_bytes(bytes(raw))
        with pytest.raises(ca.LedgerRejected):
            ca.verify_archive(record.path, world.root)


def test_second_recharge_never_overwrites_an_archived_ledger(world, tmp_path) -> None:
    """Two recharges with no issuance between them: the first archive (the only record) must survive."""
    fko_card, desk_card = new_fko(world, issuances=3), new_district_card(world)
    with inserted(fko_card) as ft, inserted(desk_card) as dt:
        fko, desk = unlocked_fko(ft), ca.DistrictCard(dt)
        fam = family("09230100101000025")
        with inserted(new_family_card(district_key(world), fam)) as famt:
            issue(fko, famt, fam)
        desk.select()
        desk.verify_pin(PIN)
        first = ca.recharge_fko(fko, desk, world.root, tmp_path / "archive")
        second = ca.recharge_fko(fko, desk, world.root, tmp_path / "archive")
    assert first.path != second.path and len(list((tmp_path / "archive").iterdir())) == 2
    assert [e.urn for e in ca.verify_archive(first.path, world.root)[1]] == [fam.urn.value]
    assert ca.verify_archive(second.path, world.root)[1] == ()


def test_ledger_edited_on_disk_is_detected_at_recharge(world, tmp_path) -> None:
    """The card's state file is edited (URN of an entry changed, file checksum recomputed)."""
    state = tmp_path / "fko.card"
    fko_card, desk_card = new_fko(world, state=state, issuances=5), new_district_card(world)
    with inserted(fko_card) as ft:
        fko = unlocked_fko(ft)
        fam = family("09230100101000031")
        with inserted(new_family_card(district_key(world), fam)) as famt:
            issue(fko, famt, fam)
    image = bytearray(load_state(state, "fko", FkoCardOS.eeprom_size))
    at = image.index(b"09230100101000031")
    image[at : at + 17] = b"09230100101000099"  # a family that never got a card
    save_state(state, "fko", bytes(image))
    edited = FkoCardOS(state)
    with inserted(edited) as ft, inserted(desk_card) as dt:
        fko, desk = ca.FkoCard(ft), ca.DistrictCard(dt)
        fko.select()
        desk.select()
        desk.verify_pin(PIN)
        with pytest.raises(ca.LedgerRejected, match="not recharged"):
            ca.recharge_fko(fko, desk, world.root, tmp_path / "archive")
        assert fko.info().counter == 4  # untouched


def test_recharge_needs_the_district_card(world, tmp_path) -> None:
    """A forged recharge cryptogram (no district card) leaves the counter as it was."""
    fko_card = new_fko(world, issuances=2)
    with inserted(fko_card) as ft:
        fko = ca.FkoCard(ft)
        fko.select()
        summary = fko.ledger_summary(os.urandom(16))
        params = ca.recharge_params(300, summary)
        fko.get_challenge()
        with pytest.raises(SecurityStatusNotSatisfied):
            fko._send(CommandApdu(ca.CLA, ca.INS_RECHARGE, 0, 0, params + os.urandom(16)), "forged recharge")
        assert fko.info().counter == 2


def test_revoked_fko_card_is_refused_offline(world) -> None:
    fko_card = new_fko(world)
    signer = hierarchy.district_signer(world.district)
    with inserted(fko_card) as ft:
        fko = ca.FkoCard(ft)
        info = fko.select()
        signed = revocation.publish(signer, 5, authority_cards=[info.serial], issued_at=NOW)
        rl = revocation.load(signed.to_bytes(), world.root)
        # A station with the list refuses the card's certificate without asking anyone.
        with pytest.raises(ca.AuthorityCardError, match="revoked"):
            fko.verified_certificate(world.root, NOW, rl)
        # And the card itself, once given the list, stops for good.
        fko.install_revocation_list(signed.to_bytes())
        assert fko.info().lifecycle is ca.Lifecycle.TERMINATED
        with pytest.raises(Exception, match="conditions"):
            fko.unlock(finger(OFFICER_FINGER, impression=1))
    with pytest.raises(RevokedError):
        from keymgmt.certs import verify_chain

        verify_chain(hierarchy_chain(fko_card), world.root, NOW, rl.certificate_revoked)


def hierarchy_chain(card):
    from keymgmt.certs import decode_chain

    return decode_chain(card.perso()[ca.T_CHAIN])


def test_revocation_list_rollback_and_forgery_refused_by_card(world) -> None:
    signer = hierarchy.district_signer(world.district)
    with inserted(new_hospital_card(world)) as ht:
        hosp = ca.HospitalCard(ht)
        hosp.select()
        assert hosp.install_revocation_list(revocation.publish(signer, 7, [b"\x46" * 8], issued_at=NOW).to_bytes()) == 7
        with pytest.raises(Exception, match="6A80"):
            hosp.install_revocation_list(revocation.publish(signer, 6, [], issued_at=NOW).to_bytes())
        forged = bytearray(revocation.publish(signer, 8, [b"\x46" * 8], issued_at=NOW).to_bytes())
        forged[forged.index(b"\x46" * 8)] = 0x47
        with pytest.raises(Exception, match="6A80"):
            hosp.install_revocation_list(bytes(forged))
        assert hosp.info().revocation_sequence == 7


def test_expired_or_backdated_fko_refuses(world) -> None:
    fko_card = new_fko(world, days=30)
    fam = family()
    with inserted(fko_card) as ft, inserted(new_family_card(district_key(world), fam)) as famt:
        fko = unlocked_fko(ft)
        fc = FamilyCard(famt)
        fc.authenticate(fko)
        with pytest.raises(ca.AuthorityCardError, match="validity"):
            fko.authorise_issuance(fc.serial().value, fam.urn.value, family_digest(fam), "CAMP-01", NOW + timedelta(days=40))


def test_forged_card_rejected_by_the_hospital_card(world, tmp_path) -> None:
    """A family card keyed from another scheme's master fails against the genuine hospital card."""
    rogue = make_world(tmp_path)
    forged = new_family_card(lambda s: hierarchy.family_card_key(rogue.district, s))
    with inserted(new_hospital_card(world)) as ht, inserted(forged) as famt:
        hosp = ca.HospitalCard(ht)
        hosp.select()
        hosp.verify_pin(PIN)
        with pytest.raises(AuthenticationFailed):
            FamilyCard(famt).authenticate(hosp)


def test_cloned_card_rejected_by_the_hospital_card(world) -> None:
    """Serial and every readable file copied into a blank card: the key cannot be copied."""
    from simulators.cards.family import SYS_SERIAL, FamilyCardOS

    original = new_family_card(district_key(world))
    with inserted(original) as t:
        data = FamilyCard(t).read()
        serial = FamilyCard(t).serial().value
    clone = FamilyCardOS(None)
    clone.eeprom.write(SYS_SERIAL, serial)
    with inserted(clone) as t:
        FamilyCard(t).personalise(data, os.urandom(16))  # the forger's best guess at the key
    with inserted(new_hospital_card(world)) as ht, inserted(clone) as famt:
        hosp = ca.HospitalCard(ht)
        hosp.select()
        hosp.verify_pin(PIN)
        assert FamilyCard(famt).serial().value == serial
        with pytest.raises(AuthenticationFailed):
            FamilyCard(famt).authenticate(hosp)


class ReplayingCard:
    """A fake card that plays back a genuine card's recorded EXTERNAL AUTHENTICATE answer."""

    def __init__(self, inner, recorded: bytes) -> None:
        self.inner, self.recorded = inner, recorded

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def execute(self, apdu: CommandApdu) -> ResponseApdu:
        if apdu.ins == 0x82:
            return ResponseApdu.from_bytes(self.recorded)
        return self.inner.execute(apdu)

    def process(self, raw: bytes) -> bytes:
        return self.execute(CommandApdu.from_bytes(raw)).to_bytes()


def test_replayed_authentication_response_rejected(world) -> None:
    genuine = new_family_card(district_key(world))
    recorded: list[bytes] = []
    real_process = genuine.process

    def recording(raw: bytes) -> bytes:
        out = real_process(raw)
        if raw[1] == 0x82:
            recorded.append(out)
        return out

    genuine.process = recording  # type: ignore[method-assign]
    with inserted(new_hospital_card(world)) as ht:
        hosp = ca.HospitalCard(ht)
        hosp.select()
        hosp.verify_pin(PIN)
        with inserted(genuine) as famt:
            FamilyCard(famt).authenticate(hosp)
        assert recorded and recorded[0].endswith(b"\x90\x00")
        with inserted(ReplayingCard(genuine, recorded[0])) as famt, pytest.raises(AuthenticationFailed):
            FamilyCard(famt).authenticate(hosp)


def test_revoked_family_card_refused_offline_by_hospital_card(world) -> None:
    card = new_family_card(district_key(world))
    with inserted(new_hospital_card(world)) as ht, inserted(card) as famt:
        serial = FamilyCard(famt).serial().value
        hosp = ca.HospitalCard(ht)
        hosp.select()
        hosp.verify_pin(PIN)
        FamilyCard(famt).authenticate(hosp)  # fine before the list
        signed = revocation.publish(hierarchy.district_signer(world.district), 11, [serial], issued_at=NOW)
        hosp.install_revocation_list(signed.to_bytes())
        with pytest.raises(AuthenticationFailed, match="revocation list"):
            FamilyCard(famt).authenticate(hosp)


def test_hospital_debit_signed_offline(world) -> None:
    fam = family()
    card = new_family_card(district_key(world), fam)
    with inserted(new_hospital_card(world)) as ht, inserted(card) as famt:
        hosp = ca.HospitalCard(ht)
        hosp.select()
        with pytest.raises(SecurityStatusNotSatisfied):
            hosp.begin(b"\x46" * 8, "0923", bytes(8))
        hosp.verify_pin(PIN)
        cert = hosp.verified_certificate(world.root, NOW)
        fc = FamilyCard(famt)
        fc.authenticate(hosp)
        serial = fc.serial().value
        debit = hosp.authorise_debit(serial, fam.urn.value, 1_500_00, "P0042", NOW)
        digest = issuance.debit_digest(cert.card_serial, debit.transaction, serial, fam.urn.value, 1_500_00, NOW, "P0042")
        assert debit.transaction == 1 and ecc.verify_digest(cert.public_key, digest, debit.signature)
        with pytest.raises(SecurityStatusNotSatisfied):  # a card not authenticated in this session
            hosp.authorise_debit(b"\x46" * 8, fam.urn.value, 100, "P0042", NOW)


def test_wrong_pin_three_times_blocks_the_hospital_card(world) -> None:
    with inserted(new_hospital_card(world)) as ht:
        hosp = ca.HospitalCard(ht)
        hosp.select()
        for left in (2, 1, 0):
            with pytest.raises(VerificationFailed) as info:
                hosp.verify_pin("000000")
            assert info.value.tries_left == left
        with pytest.raises(AuthenticationBlocked):
            hosp.verify_pin(PIN)


def test_personalisation_refuses_a_certificate_for_another_card(world) -> None:
    donor, target = FkoCardOS(None), FkoCardOS(None)
    with inserted(donor) as t:
        info = ca.FkoCard(t).select()
    chain = hierarchy.certify_authority_card(
        world.district, hierarchy.Role.FKO_CARD, info.public_key, info.serial, "x", NOW, NOW + timedelta(days=9)
    )
    perso = ca.Personalisation(
        hierarchy.Role.FKO_CARD, "x", "x", "0923", NOW, NOW + timedelta(days=9), chain, world.root,
        family_master=hierarchy.district_family_master(world.district), admin_key=bytes(16), templates=(finger(1),),
    )
    with inserted(target) as t:
        ca.FkoCard(t).select()
        with pytest.raises(Exception, match="6A80"):
            ca.FkoCard(t).personalise(perso)
        assert ca.FkoCard(t).info().lifecycle is ca.Lifecycle.BLANK


def test_secrets_never_reach_logs_or_exception_text(world, caplog, tmp_path) -> None:
    caplog.set_level(logging.DEBUG)
    fko_card, desk_card = new_fko(world), new_district_card(world)
    texts: list[str] = []
    fam = family()
    fam_card = new_family_card(district_key(world), fam)
    with inserted(fko_card) as ft, inserted(desk_card) as dt, inserted(fam_card) as famt:
        fko, desk = ca.FkoCard(ft), ca.DistrictCard(dt)
        fko.select()
        desk.select()
        for bad in (lambda: fko.unlock(finger(555, 1)), lambda: desk.verify_pin("135790"),
                    lambda: fko.begin(b"\x46" * 8, "0923", bytes(8)),
                    lambda: FamilyCard(famt).authenticate(scp_sam_with_wrong_key())):
            with pytest.raises(Exception) as info:
                bad()
            texts.append(str(info.value) + repr(info.value))
        fko.unlock(finger(OFFICER_FINGER, impression=1))
        serial = FamilyCard(famt).serial().value
        secrets = [
            hierarchy.district_family_master(world.district), hierarchy.district_admin_master(world.district),
            hierarchy.family_card_key(world.district, serial), hierarchy.authority_admin_key(world.district, fko.info().serial),
            finger(OFFICER_FINGER), finger(555, 1),
        ]
    everything = "\n".join(texts) + caplog.text
    for secret in secrets:
        assert secret.hex() not in everything.lower() and secret.hex().upper() not in everything
        assert repr(secret)[2:40] not in everything
    for pin in (PIN, "135790"):
        assert pin not in everything


def scp_sam_with_wrong_key():
    from cardlib.secure import SoftwareSam

    return SoftwareSam(os.urandom(scp.CARD_KEY_SIZE))


@pytest.mark.parametrize(
    ("holder", "holder_id", "issuances", "message"),
    [("Asha", "FKO-0923-Ö", 300, "holder id"), (" ", "FKO-1", 300, "name"), ("Asha", "FKO-1", 301, "1 to 300"),
     ("Asha", "FKO-1", 0, "1 to 300")],
)
def test_bad_personalisation_values_are_refused_before_the_card_is_touched(world, holder, holder_id, issuances,
                                                                           message) -> None:
    card = FkoCardOS(None)
    with inserted(card) as t:
        with pytest.raises(ca.AuthorityCardError, match=message):
            ca.personalise_fko(ca.FkoCard(t), world.district, holder, holder_id, (finger(OFFICER_FINGER),),
                               NOW, NOW + timedelta(days=30), issuances)
        assert ca.FkoCard(t).select().lifecycle is ca.Lifecycle.BLANK
