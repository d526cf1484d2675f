"""The tearing proof: a card torn after ANY written byte reads as the previous state or the new one.

Tearing is in process (``direct:``, no pcscd): the simulated EEPROM stops after exactly N bytes and the
card goes mute; the card is then reinserted (power-on runs journal recovery) and read back.

* personalisation of the full five-member family (25,406 EEPROM bytes in 74 commands): in CI a dense
  sample — every offset within 3 bytes of each command's first written byte, the last 64 bytes before
  the commit, and every 53rd offset (1,030 offsets, counted in ``test_sample_size``); under ``-m slow``
  every offset (25,407: from 0 bytes written to all of them; ~40 s on one core);
* a policy update, a log append (with its pointer) and an activation: every offset, always (each is
  one journal transaction of a few hundred bytes), plus tears during the recovery itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from cardlib.errors import CardRemovedError
from cardlib.family import CardBlank, FamilyCard
from cardlib.family_profile import Lifecycle
from cardlib.model import Activation, CardSerial, LogKind, LogRecord
from cardlib.secure import SoftwareSam
from keymgmt import scp
from simulators.cards.family import FamilyCardOS
from tests.cardlib.family_samples import T0, full_family, inserted, reinsert

FAMILY = full_family()
KEY = bytes(range(16))
STRIDE = 53
NEAR = 3


def personalisation_trace() -> tuple[int, list[int], bytes]:
    """Total bytes a full personalisation writes, the byte count at the start of each command, and a
    personalised EEPROM image (serial and all) to start the update sweeps from."""
    card = FamilyCardOS(None)
    starts: list[int] = []
    process = card.process

    def tracing(raw: bytes) -> bytes:
        starts.append(card.eeprom.bytes_written)
        return process(raw)

    card.process = tracing  # type: ignore[method-assign]
    with inserted(card) as t:
        base = card.eeprom.bytes_written
        FamilyCard(t).personalise(FAMILY, KEY)
        total = card.eeprom.bytes_written - base
    return total, sorted({s - base for s in starts}), card.image()


TOTAL, COMMAND_STARTS, PERSONALISED = personalisation_trace()


def dense_sample() -> list[int]:
    offsets = set(range(0, TOTAL, STRIDE)) | set(range(max(0, TOTAL - 64), TOTAL + 1))
    for start in COMMAND_STARTS:
        offsets.update(range(max(0, start - NEAR), min(TOTAL, start + NEAR + 1)))
    return sorted(offsets)


def tear_personalisation(offsets: list[int]) -> dict[str, int]:
    outcomes = {"blank": 0, "personalised": 0}
    with inserted(FamilyCardOS(None)) as transport:
        for n in offsets:
            card = FamilyCardOS(None)
            reinsert(transport, card)
            card.faults.tear_after_bytes = n
            client = FamilyCard(transport)
            try:
                client.personalise(FAMILY, KEY)
            except CardRemovedError:
                reinsert(transport, card)
            card.faults.tear_after_bytes = None
            try:
                assert client.read() == FAMILY, f"torn after {n} bytes: a mix of old and new"
                outcomes["personalised"] += 1
            except CardBlank:
                outcomes["blank"] += 1
    return outcomes


def test_sample_size():
    sample = dense_sample()
    assert TOTAL > 25_000 and len(COMMAND_STARTS) > 40
    assert 900 <= len(sample) <= 1500, len(sample)
    print(f"personalisation: {TOTAL} EEPROM bytes, {len(COMMAND_STARTS)} commands, {len(sample)} offsets in CI")


def test_personalisation_torn_at_a_dense_sample_of_offsets():
    sample = dense_sample()
    outcomes = tear_personalisation(sample)
    # The commit is the very last byte written: every tear before it leaves a blank card.
    assert outcomes == {"blank": len(sample) - 1, "personalised": 1}


@pytest.mark.slow
def test_personalisation_torn_at_every_offset():
    outcomes = tear_personalisation(list(range(TOTAL + 1)))
    assert outcomes == {"blank": TOTAL, "personalised": 1}


def test_torn_personalisation_can_be_redone():
    for n in (0, 3, 1000, TOTAL // 2, TOTAL - 1):
        card = FamilyCardOS(None)
        with inserted(card) as transport:
            card.faults.tear_after_bytes = n
            with pytest.raises(CardRemovedError):
                FamilyCard(transport).personalise(FAMILY, KEY)
            reinsert(transport, card)
            FamilyCard(transport).personalise(FAMILY, KEY)
            assert FamilyCard(transport).read() == FAMILY
            FamilyCard(transport).authenticate(SoftwareSam(KEY))


def sweep_update(
    update: Callable[[FamilyCard, FamilyCardOS], None], read: Callable[[FamilyCard], object], authenticate: bool = True
) -> tuple[object, object, int]:
    """Tear ``update`` after every byte it writes; each outcome must equal the old or the new value."""
    card = FamilyCardOS(None, image=PERSONALISED)
    with inserted(card) as transport:
        client = FamilyCard(transport)
        old = read(client)
        if authenticate:
            client.authenticate(SoftwareSam(KEY))
        before = card.eeprom.bytes_written
        update(client, card)
        size = card.eeprom.bytes_written - before
        new = read(client)
    assert old != new
    seen = {"old": 0, "new": 0}
    for n in range(size + 1):
        for recovery_tear in (None, 0, 5):  # and tears during the power-on recovery itself
            card = FamilyCardOS(None, image=PERSONALISED)
            with inserted(card) as transport:
                client = FamilyCard(transport)
                if authenticate:
                    client.authenticate(SoftwareSam(KEY))
                card.faults.tear_after_bytes = n
                try:
                    update(client, card)
                except CardRemovedError:
                    card.faults.tear_after_bytes = recovery_tear
                    try:
                        reinsert(transport, card)
                    except CardRemovedError:
                        reinsert(transport, card)
                card.faults.tear_after_bytes = None
                value = read(client)
                assert value in (old, new), f"torn after {n} bytes: neither old nor new"
                seen["old" if value == old else "new"] += 1
                if n % 16 == 0 and recovery_tear is None:
                    assert client.read() is not None  # the rest of the card still parses
    assert seen["old"] and seen["new"]
    return old, new, size


def test_policy_update_torn_at_every_offset():
    new_policy = dataclasses.replace(FAMILY.policies[0], balance=FAMILY.policies[0].balance - 123_456)
    _, new, size = sweep_update(lambda c, _: c.update_policy(0, new_policy), lambda c: c.read_policies())
    assert new[0] == new_policy and size > 100
    print(f"policy update: {size} EEPROM bytes, {3 * (size + 1)} torn runs")


def test_log_append_torn_at_every_offset():
    record = LogRecord(T0, LogKind.ADMISSION, "HOSP0042", member=3, policy_slot=0, amount=999_00, reference="PKG17")
    _, new, size = sweep_update(lambda c, _: c.append_log(record), lambda c: c.read_log())
    assert new[-1] == record and new[:-1] == FAMILY.log[1:] and size > 32
    print(f"log append: {size} EEPROM bytes, {3 * (size + 1)} torn runs")


def test_activation_torn_at_every_offset():
    def activate(client: FamilyCard, card: FamilyCardOS) -> None:
        cryptogram = scp.activation_cryptogram(KEY, card.serial.value, FAMILY.urn.value.encode(), 5)
        client.activate(Activation(CardSerial(bytes(8)), 5, T0, cryptogram))

    def state(client: FamilyCard) -> tuple[Lifecycle, Activation | None]:
        return client.info().lifecycle, client.read_activation()

    old, new, size = sweep_update(activate, state, authenticate=False)
    print(f"activation: {size} EEPROM bytes, {3 * (size + 1)} torn runs")
    assert old == (Lifecycle.PERSONALISED, None) and new[0] is Lifecycle.ACTIVATED
