"""The card-OS framework: dispatch and status words, faults, byte-accurate tearing, persistence."""

from __future__ import annotations

import time

import pytest

from cardlib.apdu import CommandApdu, ResponseApdu, StatusWord
from cardlib.errors import CardError
from simulators.cards.os import (
    WRONG_ATR,
    CardNotAnswering,
    CardOS,
    CardStatusError,
    CardTorn,
    command,
    make_atr,
)
from simulators.cards.storage import StateFileError


class CounterCard(CardOS):
    """A tiny card: INS 10 writes its data at offset P1P2, INS 12 reads, INS 14 fails on purpose."""

    card_type = "test-counter"
    eeprom_size = 64
    atr_bytes = make_atr(b"\x80\x54TEST")

    def format(self) -> None:
        self.eeprom.write(0, b"\xaa" * 4)

    @command(0x10, cla=(0x00, 0x80))
    def write(self, apdu: CommandApdu) -> None:
        offset = apdu.p1 << 8 | apdu.p2
        if offset + len(apdu.data) > self.eeprom_size:
            raise CardStatusError(StatusWord.INCORRECT_P1P2, "beyond the end")
        self.eeprom.write(offset, apdu.data)

    @command(0x12)
    def read(self, apdu: CommandApdu) -> bytes:
        return self.eeprom.read(apdu.p1 << 8 | apdu.p2, apdu.ne or 0)

    @command(0x14)
    def fail(self, apdu: CommandApdu) -> bytes:
        raise RuntimeError("a bug")


@pytest.fixture
def card(tmp_path):
    c = CounterCard(tmp_path / "card.state")
    c.power_on()
    return c


def run(card: CardOS, raw: str) -> str:
    return card.process(bytes.fromhex(raw)).hex().upper()


def test_atr_is_well_formed_with_tck():
    atr = make_atr(b"\x80\x54TEST")
    assert atr[0] == 0x3B and atr[1] & 0x0F == 6
    check = 0
    for byte in atr[1:]:
        check ^= byte
    assert check == 0


@pytest.mark.parametrize(
    ("raw", "sw"),
    [
        ("00 10 00 00 02 0102", "9000"),
        ("80 10 00 00 01 01", "9000"),
        ("00 99 00 00", "6D00"),  # unknown INS
        ("A0 10 00 00 01 01", "6E00"),  # CLA no command accepts
        ("80 12 00 00 02", "6E00"),  # CLA known, but not for this INS
        ("00 10 00 3F 02 0102", "6A86"),  # handler's own status word
        ("00 10 00", "6700"),  # too short to be an APDU
        ("00 10 00 00 05 01", "6700"),  # Lc says 5, one byte follows
        ("00 14 00 00", "6F00"),  # a simulator bug answers 6F00, never crashes the reader
    ],
)
def test_status_words(card, raw, sw):
    assert run(card, raw.replace(" ", ""))[-4:] == sw


def test_response_data_and_wrong_le(card):
    run(card, "0010000003112233")
    assert run(card, "0012000003") == "1122339000"
    response = card.execute(CommandApdu(0x00, 0x12, 0, 0, ne=2))
    assert response.data == b"\x11\x22"


def test_state_survives_restart(tmp_path):
    path = tmp_path / "card.state"
    first = CounterCard(path)
    first.power_on()
    first.execute(CommandApdu(0, 0x10, 0, 8, b"persist"))
    second = CounterCard(path)
    second.power_on()
    assert second.execute(CommandApdu(0, 0x12, 0, 8, ne=7)).data == b"persist"
    assert second.execute(CommandApdu(0, 0x12, 0, 0, ne=4)).data == b"\xaa" * 4  # formatted once


def test_state_file_of_another_card_type_is_refused(tmp_path):
    path = tmp_path / "card.state"
    CounterCard(path)

    class OtherCard(CounterCard):
        card_type = "test-other"

    with pytest.raises(StateFileError, match="test-counter"):
        OtherCard(path)
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")
    with pytest.raises(StateFileError, match="damaged"):
        CounterCard(path)


def test_state_file_is_replaced_atomically(tmp_path):
    path = tmp_path / "card.state"
    card = CounterCard(path)
    card.power_on()
    card.execute(CommandApdu(0, 0x10, 0, 0, b"x"))
    assert [p.name for p in tmp_path.iterdir()] == ["card.state"]  # no temp file left behind


@pytest.mark.parametrize("budget", [0, 1, 5, 9])
def test_tear_writes_exactly_the_bytes_so_far_then_goes_mute(tmp_path, budget):
    path = tmp_path / "card.state"
    card = CounterCard(path)
    card.power_on()
    card.faults.tear_after_bytes = budget
    with pytest.raises(CardTorn) as info:
        card.execute(CommandApdu(0, 0x10, 0, 16, bytes(range(1, 11))))
    assert isinstance(info.value, CardError)
    with pytest.raises(CardNotAnswering):
        card.execute(CommandApdu(0, 0x12, 0, 16, ne=10))
    restarted = CounterCard(path)  # the torn image is what was saved
    restarted.power_on()
    assert restarted.execute(CommandApdu(0, 0x12, 0, 16, ne=10)).data == bytes(range(1, budget + 1)) + bytes(
        10 - budget
    )
    card.power_on()  # power cycle brings the same object back, and the tear fault has fired once
    assert card.faults.tear_after_bytes is None
    assert card.execute(CommandApdu(0, 0x10, 0, 16, b"ok")).ok


def test_tear_budget_counts_down_across_commands(card):
    card.faults.tear_after_bytes = 5
    assert card.execute(CommandApdu(0, 0x10, 0, 0, b"abc")).ok
    assert card.faults.tear_after_bytes == 2
    with pytest.raises(CardTorn):
        card.execute(CommandApdu(0, 0x10, 0, 0, b"abc"))


def test_mute_slow_wrong_atr_and_reset(card):
    card.faults.mute = True
    with pytest.raises(CardNotAnswering):
        card.process(bytes.fromhex("00120000"))
    card.faults.mute = False
    card.faults.wrong_atr = True
    assert card.atr() == WRONG_ATR
    card.faults.slow = 0.05


    start = time.perf_counter()
    assert card.execute(CommandApdu(0, 0x12, 0, 0, ne=1)).ok
    assert time.perf_counter() - start >= 0.05
    card.faults.tear_after_bytes = 3
    card.reset()
    assert card.atr() == CounterCard.atr_bytes
    assert (card.faults.mute, card.faults.slow, card.faults.tear_after_bytes) == (False, 0.0, None)
    assert card.powered


def test_unpowered_card_does_not_answer(tmp_path):
    card = CounterCard(None)
    with pytest.raises(CardNotAnswering):
        card.execute(CommandApdu(0, 0x12, 0, 0, ne=1))
    card.power_on()
    card.power_off()
    with pytest.raises(CardNotAnswering):
        card.process(b"\x00")


def test_table_is_keyed_by_ins_and_inherited():
    class Extended(CounterCard):
        @command(0x20)
        def extra(self, apdu: CommandApdu) -> ResponseApdu:
            return ResponseApdu(b"", StatusWord.WARNING_NV_CHANGED)

    assert set(Extended.commands) == {0x10, 0x12, 0x14, 0x20}
    assert set(CounterCard.commands) == {0x10, 0x12, 0x14}
    card = Extended(None)
    card.power_on()
    assert card.execute(CommandApdu(0, 0x20)).sw == 0x6300


def test_card_status_error_message_names_the_word():
    assert "6982" in str(CardStatusError(0x6982, "no session"))
