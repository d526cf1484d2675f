"""The family card client against the simulated card, in process (``direct:``)."""

from __future__ import annotations

import dataclasses

import pytest

from cardlib.apdu import CommandApdu
from cardlib.errors import (
    CardRemovedError,
    ConditionsNotSatisfied,
    SecurityStatusNotSatisfied,
)
from cardlib.family import (
    ActivationRefused,
    CardBlank,
    CardNotBlank,
    FamilyCard,
    NoSecureSession,
    NotAFamilyCard,
    family_data,
    family_digest,
)
from cardlib.family_profile import FID_POLICY, Lifecycle
from cardlib.model import Activation, CardSerial, LogKind, LogRecord
from cardlib.secure import AuthenticationFailed, SoftwareSam
from keymgmt import scp
from simulators.cards.family import FamilyCardOS
from simulators.cards.os import CardOS, CardStatusError, command
from tests.cardlib.family_samples import T0, full_family, inserted, reinsert, small_family

DISTRICT_MASTER = bytes(range(32))


def card_key(card: FamilyCardOS) -> bytes:
    return scp.derive_card_key(DISTRICT_MASTER, card.serial.value)


@pytest.fixture
def sim():
    return FamilyCardOS(None)  # in memory: persistence has its own test (fsync per APDU is slow here)


@pytest.fixture
def transport(sim):
    with inserted(sim) as t:
        yield t


@pytest.fixture
def personalised(sim, transport):
    card = FamilyCard(transport)
    card.personalise(full_family(), card_key(sim))
    return card


def test_full_family_round_trip_with_progress(sim, transport):
    family = full_family()
    card = FamilyCard(transport)
    assert card.select().lifecycle is Lifecycle.BLANK
    seen: list[tuple[int, int]] = []
    card.personalise(family, card_key(sim), progress=lambda done, total: seen.append((done, total)))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1][0] == seen[-1][1] > 25_000
    assert card.info().lifecycle is Lifecycle.PERSONALISED
    assert card.read() == family
    assert card.read().members[0].name == "रामेश्वर प्रसाद यादव"


@pytest.mark.parametrize("chunk", [1, 255, 4096])
def test_small_family_any_chunk_size(sim, transport, chunk):
    card = FamilyCard(transport, chunk=chunk, read_chunk=chunk)
    card.personalise(small_family(), card_key(sim))
    assert card.read() == small_family()


def test_state_survives_a_simulator_restart(tmp_path):
    first = FamilyCardOS(tmp_path / "family.card")
    with inserted(first) as t:
        FamilyCard(t).personalise(full_family(), card_key(first))
    restarted = FamilyCardOS(tmp_path / "family.card")
    with inserted(restarted) as t:
        card = FamilyCard(t)
        assert card.serial() == first.serial
        assert card.read() == full_family()
        card.authenticate(SoftwareSam(card_key(first)))  # the key survived too


def test_blank_card_reads_as_blank(transport):
    with pytest.raises(CardBlank, match="personalise"):
        FamilyCard(transport).read()


def test_second_personalisation_is_refused(sim, personalised):
    with pytest.raises(CardNotBlank, match="blank card"):
        personalised.personalise(small_family(), card_key(sim))
    assert personalised.read() == full_family()


class OtherCard(CardOS):
    card_type = "other"

    @command(0xA4)
    def select(self, apdu: CommandApdu) -> None:
        raise CardStatusError(0x6A82, "no such application")


def test_other_card_is_not_a_family_card():
    with inserted(OtherCard(None)) as t, pytest.raises(NotAFamilyCard, match="insert an RSBY family card"):
        FamilyCard(t).select()


def test_protected_writes_need_a_session(sim, personalised, transport):
    policy = dataclasses.replace(full_family().policies[0], balance=0)
    with pytest.raises(NoSecureSession, match="authenticate"):
        personalised.update_policy(0, policy)
    transport.transmit(CommandApdu(0x00, 0xA4, 0x02, 0x0C, FID_POLICY[0].to_bytes(2, "big")))
    plain = transport.transmit(CommandApdu(0x00, 0xD6, 0, 0, b"\xe5\x00"))
    assert plain.sw == 0x6982
    assert personalised.read_policies() == full_family().policies


def test_policy_update_and_log_append_under_secure_messaging(sim, personalised):
    personalised.authenticate(SoftwareSam(card_key(sim)))
    assert personalised.authenticated
    old = full_family().policies
    debit = dataclasses.replace(old[0], balance=old[0].balance - 50_000)
    personalised.update_policy(0, debit)
    personalised.update_policy(1, None)
    assert personalised.read_policies() == (debit, None)
    extra = [LogRecord(T0, LogKind.ADMISSION, "HOSP0001", member=1, policy_slot=0, amount=i) for i in range(5)]
    for record in extra:
        personalised.append_log(record)
    log = personalised.read_log()
    assert len(log) == 32
    assert log == full_family().log[5:] + tuple(extra)  # cyclic: the five oldest made room


def test_identity_files_stay_frozen_even_under_sm(sim, personalised):
    personalised.authenticate(SoftwareSam(card_key(sim)))
    personalised._select_ef(0x0101, "EF.HOUSEHOLD")
    with pytest.raises(SecurityStatusNotSatisfied):
        personalised._protected(CommandApdu(0x00, 0xD6, 0, 0, b"\xe1\x00"), "overwriting EF.HOUSEHOLD")
    assert personalised.read() == full_family()


def test_wrong_key_fails_authentication(personalised):
    with pytest.raises(AuthenticationFailed, match="forged"):
        personalised.authenticate(SoftwareSam(bytes(16)))
    assert not personalised.authenticated


def test_clone_of_every_readable_file_does_not_authenticate(sim, personalised):
    """The cloner copies everything readable into a blank card; without the key it is useless."""
    copied = personalised.read()
    clone_sim = FamilyCardOS(None)
    with inserted(clone_sim) as t:
        clone = FamilyCard(t)
        clone.personalise(copied, bytes(16))  # the cloner must pick some key: not the real one
        assert clone.read() == copied
        with pytest.raises(AuthenticationFailed):
            clone.authenticate(SoftwareSam(card_key(clone_sim)))  # the station derives for the clone's serial
        with pytest.raises(AuthenticationFailed):
            clone.authenticate(SoftwareSam(card_key(sim)))  # or the original's key


def activation_for(sim: FamilyCardOS, number: int = 17, urn: bytes = b"09230100101000013") -> Activation:
    cryptogram = scp.activation_cryptogram(card_key(sim), sim.serial.value, urn, number)
    return Activation(CardSerial(bytes.fromhex("4B00000000000042")), number, T0, cryptogram)


def test_activation(sim, personalised):
    assert personalised.read_activation() is None
    with pytest.raises(ActivationRefused, match="another card"):
        personalised.activate(activation_for(sim, urn=b"09230100101000014"))
    with pytest.raises(ActivationRefused):
        personalised.activate(dataclasses.replace(activation_for(sim), issuance_number=18))
    assert personalised.info().lifecycle is Lifecycle.PERSONALISED
    activation = activation_for(sim)
    personalised.activate(activation)
    assert personalised.info().lifecycle is Lifecycle.ACTIVATED
    assert personalised.read_activation() == activation
    with pytest.raises(ConditionsNotSatisfied):
        personalised.activate(activation)
    assert personalised.read() == full_family()


def test_blank_card_cannot_be_activated(sim, transport):
    with pytest.raises(ConditionsNotSatisfied):
        FamilyCard(transport).activate(activation_for(sim))


def test_card_pulled_mid_personalisation_is_blank_then_personalisable(sim, transport):
    card = FamilyCard(transport)
    sim.faults.tear_after_bytes = 9_000  # inside EF.PHOTO2
    with pytest.raises(CardRemovedError, match=r"writing EF\.PHOTO2 .*still blank: reinsert"):
        card.personalise(full_family(), card_key(sim))
    reinsert(transport, sim)
    with pytest.raises(CardBlank):
        card.read()
    card.personalise(full_family(), card_key(sim))
    assert card.read() == full_family()


def test_card_pulled_mid_policy_update_reads_old_or_new(sim, personalised, transport):
    old = full_family().policies[0]
    new = dataclasses.replace(old, balance=1)
    outcomes = set()
    for budget in (0, 40, 80, 140, 200, 400):  # before, inside and after the commit point
        personalised.authenticate(SoftwareSam(card_key(sim)))
        sim.faults.tear_after_bytes = budget
        try:
            personalised.update_policy(0, new if budget % 80 else old)
        except CardRemovedError as exc:
            assert "old or the new value" in str(exc)
            reinsert(transport, sim)
        sim.faults.tear_after_bytes = None
        outcomes.add(personalised.read_policies()[0].balance)
        assert personalised.read() is not None
    assert outcomes <= {old.balance, new.balance}


def test_family_digest_covers_identity_data_only():
    family = full_family()
    assert len(family_digest(family)) == 32
    assert family_data(family).startswith(b"\xe1")
    renewed = dataclasses.replace(family, policies=(None, None), log=())
    assert family_digest(renewed) == family_digest(family)
    renamed = dataclasses.replace(family, village_code="00101001")
    assert family_digest(renamed) != family_digest(family)
