"""The Transport contract, run on every backend: ``direct:`` (in-process) and ``pcsc:`` (private
pcscd + vpcd, see tests/pcsc_fixtures.py), with the same ISO test card behind both."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import threading
from collections.abc import Iterator

import pytest

from cardlib import direct
from cardlib.apdu import CommandApdu, ResponseApdu, StatusWord
from cardlib.errors import (
    CardMuteError,
    CardRemovedError,
    FileNotFound,
    NoCardError,
    ReaderNotFoundError,
    TransportConfigError,
    TransportError,
    raise_for_status,
)
from cardlib.transport import CardEvent, Transport, open_transport
from simulators.cards.testcard import TEST_AID, TestCard, pattern
from tests.pcsc_fixtures import PcscReader, wait_until

_names = itertools.count()


class Slot:
    """A card slot of one backend: insert/remove the test card, open a transport onto it."""

    def __init__(self, backend: str, card: TestCard, reader: PcscReader | None = None) -> None:
        self.backend = backend
        self.card = card
        self.reader = reader
        self.name = f"contract-{next(_names)}"
        self.transports: list[Transport] = []

    @property
    def config(self) -> str:
        return self.reader.config if self.reader is not None else f"direct:{self.name}"

    def insert(self) -> None:
        if self.reader is not None:
            self.reader.insert(self.card, mute_timeout=0.2)
        else:
            direct.register_card(self.name, self.card)

    def remove(self) -> None:
        if self.reader is not None:
            self.reader.remove()
        else:
            direct.remove_card(self.name)

    def transport(self) -> Transport:
        transport = open_transport(self.config)
        self.transports.append(transport)
        return transport

    def connected(self) -> Transport:
        transport = self.transport()
        assert transport.wait_for_card(5), "the inserted card never showed up in the reader"
        transport.connect()
        return transport

    def close(self) -> None:
        for transport in self.transports:
            transport.close()
        if self.reader is None:
            direct.unregister(self.name)


@pytest.fixture(params=["direct", pytest.param("pcsc", marks=pytest.mark.pcsc)])
def slot(request: pytest.FixtureRequest) -> Iterator[Slot]:
    reader = request.getfixturevalue("pcsc_reader") if request.param == "pcsc" else None
    slot = Slot(request.param, TestCard(), reader)
    if reader is None:
        # A direct slot exists once something registered into it; make it and leave it empty.
        direct.register_card(slot.name, slot.card)
        direct.remove_card(slot.name)
    try:
        yield slot
    finally:
        slot.close()


@pytest.fixture
def card(slot: Slot) -> Transport:
    """A transport connected to the inserted test card."""
    slot.insert()
    return slot.connected()


def apdu(ins: int, p1: int = 0, p2: int = 0, data: bytes = b"", ne: int | None = None) -> CommandApdu:
    return CommandApdu(0x00, ins, p1, p2, data, ne)


# -- connection ------------------------------------------------------------------------------------------
def test_connect_reads_the_atr(slot: Slot, card: Transport) -> None:
    assert card.connected
    assert card.atr == TestCard.atr_bytes
    assert card.config == slot.config or slot.config.endswith(card.reader_name)


def test_connect_to_an_empty_reader_says_no_card(slot: Slot) -> None:
    transport = slot.transport()
    assert not transport.card_present()
    with pytest.raises(NoCardError, match="insert"):
        transport.connect()


def test_transmit_before_connect_is_refused(slot: Slot) -> None:
    slot.insert()
    transport = slot.transport()
    with pytest.raises(TransportError, match="connect"):
        transport.transmit(apdu(0x14))


def test_context_manager_connects_and_disconnects(slot: Slot) -> None:
    slot.insert()
    transport = slot.transport()
    assert transport.wait_for_card(5)
    with transport as connected:
        assert connected.transmit(apdu(0x14)).ok
    assert not transport.connected


# -- the four ISO cases, short and extended --------------------------------------------------------------
def test_case_1(card: Transport) -> None:
    assert card.transmit(apdu(0x14)) == ResponseApdu(b"", StatusWord.SUCCESS)


def test_case_2_short(card: Transport) -> None:
    assert card.transmit(apdu(0x12, 0, 200, ne=256)) == ResponseApdu(pattern(200), 0x9000)


def test_case_3_then_read_back(card: Transport) -> None:
    assert card.transmit(apdu(0x10, data=b"kept")).data == b""
    assert card.transmit(apdu(0x16, ne=256)).data == b"kept"


def test_case_4_short(card: Transport) -> None:
    assert card.transmit(apdu(0x10, data=bytes(range(255)), ne=256)).data == bytes(range(255))


@pytest.mark.parametrize("size", [4096, 60_000])
def test_case_4_extended(card: Transport, size: int) -> None:
    data = pattern(size)[::-1]
    response = card.transmit(apdu(0x10, data=data, ne=65536))
    assert response.ok and response.data == data


def test_case_3_extended(card: Transport) -> None:
    assert card.transmit(apdu(0x10, data=pattern(4096))).ok
    assert card.transmit(apdu(0x16, ne=65536)).data == pattern(4096)


def test_case_2_extended(card: Transport) -> None:
    assert card.transmit(apdu(0x12, 60_000 >> 8, 60_000 & 0xFF, ne=65536)).data == pattern(60_000)


def test_malformed_command_bytes_get_6700(card: Transport) -> None:
    assert card.transmit_raw(bytes.fromhex("0010000005AA")) == bytes.fromhex("6700")


def test_status_words_become_errors(card: Transport) -> None:
    response = card.transmit(apdu(0xA4, 0x04, 0x00, b"\xa0\x00\x00\x00\x00", ne=256))
    assert response.sw == StatusWord.FILE_NOT_FOUND
    with pytest.raises(FileNotFound, match="selecting the test application"):
        raise_for_status(response, "selecting the test application")
    fci = raise_for_status(card.transmit(apdu(0xA4, 0x04, 0x00, TEST_AID, ne=256))).data
    assert TEST_AID in fci


# -- T=0 conventions ---------------------------------------------------------------------------------------
def test_61xx_chain_is_collected_by_get_response(card: Transport) -> None:
    # 1000 bytes: 61 00 → four pieces of 256, 61 E8 → GET RESPONSE 232; ends in 9000.
    assert card.transmit(apdu(0x18, 1000 >> 8, 1000 & 0xFF)) == ResponseApdu(pattern(1000), 0x9000)


def test_6cxx_resends_with_the_right_le(card: Transport) -> None:
    assert card.transmit(apdu(0x12, 0, 0x20, ne=0x10)) == ResponseApdu(pattern(0x20), 0x9000)


def test_get_response_asking_too_much_is_resent_with_6cxx_length(card: Transport) -> None:
    # T0 PATTERN of 100 bytes answers 61 64; a GET RESPONSE for 256 gets 6C 64 and is resent with Le=64.
    assert card.transmit_raw(apdu(0x18, 0, 100).to_bytes()) == bytes.fromhex("6164")
    assert card.transmit(CommandApdu(0x00, 0xC0, 0, 0, ne=256)) == ResponseApdu(pattern(100), 0x9000)


# -- removal, reinsertion, events --------------------------------------------------------------------------
def test_card_removed_mid_session_raises_card_removed(slot: Slot, card: Transport) -> None:
    assert card.transmit(apdu(0x14)).ok
    slot.remove()
    with pytest.raises(CardRemovedError, match="reinsert"):
        card.transmit(apdu(0x10, data=b"x" * 300, ne=65536))
    assert not card.connected


def test_reconnect_after_reinsertion(slot: Slot, card: Transport) -> None:
    card.transmit(apdu(0x10, data=b"session"))
    slot.remove()
    assert card.wait_for_removal(5)
    with pytest.raises(CardRemovedError):
        card.transmit(apdu(0x14))
    slot.insert()
    assert card.wait_for_card(5)
    card.connect()
    assert card.atr == TestCard.atr_bytes
    assert card.transmit(apdu(0x14)).ok
    assert card.transmit(apdu(0x16, ne=256)).data == b""  # a reinserted card starts a new session


def test_insertion_and_removal_events(slot: Slot) -> None:
    transport = slot.transport()
    events: list[CardEvent] = []
    transport.add_listener(events.append)
    try:
        slot.insert()
        assert wait_until(lambda: CardEvent.INSERTED in events, 5), events
        slot.remove()
        assert wait_until(lambda: events[-1:] == [CardEvent.REMOVED], 5), events
    finally:
        transport.remove_listener(events.append)
    assert events == [CardEvent.INSERTED, CardEvent.REMOVED]


def test_wait_for_card_times_out_on_an_empty_reader(slot: Slot) -> None:
    transport = slot.transport()
    assert transport.wait_for_card(0.3) is False
    assert transport.wait_for_removal(0.3) is True


def test_wait_for_card_wakes_on_insertion(slot: Slot) -> None:
    transport = slot.transport()
    timer = threading.Timer(0.2, slot.insert)
    timer.start()
    try:
        assert transport.wait_for_card(5)
    finally:
        timer.join()
    assert transport.card_present()


def test_mute_card_raises_card_mute(slot: Slot, card: Transport) -> None:
    slot.card.faults.mute = True
    with pytest.raises(CardMuteError, match="answer"):
        card.transmit(apdu(0x14))
    slot.card.faults.mute = False
    # As the error says: connect again and carry on. Through vpcd the reader drops the mute card's
    # link and re-attaches it at its next poll, so the card may need a moment to answer again.
    card.disconnect()
    assert wait_until(lambda: _answers_after_connect(card), timeout=8), "the card never answered again"


def _answers_after_connect(card: Transport) -> bool:
    try:
        card.connect()
        return card.transmit(apdu(0x14)).ok
    except (NoCardError, CardRemovedError, CardMuteError, TransportError):
        return False


def test_exclusive_transaction(card: Transport) -> None:
    with card.transaction():
        assert card.transmit(apdu(0x10, data=b"in transaction", ne=256)).data == b"in transaction"
    assert card.transmit(apdu(0x14)).ok


# -- the registry -------------------------------------------------------------------------------------------
def test_unknown_reader_lists_the_choices(slot: Slot) -> None:
    slot.insert()
    scheme = slot.backend
    with pytest.raises(ReaderNotFoundError) as excinfo:
        open_transport(f"{scheme}:no such reader")
    message = str(excinfo.value)
    assert "no such reader" in message
    if scheme == "pcsc":
        assert slot.reader is not None and slot.reader.reader.name in message
    else:
        assert f"direct:{slot.name}" in message


def test_reader_index_out_of_range_lists_readers(private_pcscd) -> None:
    with pytest.raises(ReaderNotFoundError, match="Virtual PCD 00 00"):
        open_transport("pcsc:99")


def test_pcsc_reader_by_index_and_by_part_of_its_name(private_pcscd) -> None:
    first = private_pcscd.readers[0].name
    assert open_transport("pcsc:0").reader_name == first
    assert open_transport("pcsc:virtual pcd 1 00 01").reader_name == private_pcscd.readers[3].name
    with pytest.raises(ReaderNotFoundError, match="several"):
        open_transport("pcsc:Virtual PCD")


@pytest.mark.parametrize("config", ["", "card", "usb:0", "sim-family"])
def test_unknown_scheme_names_the_valid_forms(config: str) -> None:
    with pytest.raises(TransportConfigError) as excinfo:
        open_transport(config)
    assert "pcsc:<reader name or index>" in str(excinfo.value)
    assert "direct:<card name>" in str(excinfo.value)


# -- outside tools ------------------------------------------------------------------------------------------
@pytest.mark.pcsc
@pytest.mark.skipif(shutil.which("opensc-tool") is None, reason="opensc-tool is not installed")
def test_opensc_tool_lists_readers_and_selects_the_test_aid(private_pcscd, pcsc_reader: PcscReader) -> None:
    pcsc_reader.insert(TestCard())
    transport = open_transport(pcsc_reader.config)
    assert transport.wait_for_card(5)
    listing = subprocess.run(["opensc-tool", "-l"], capture_output=True, text=True, timeout=30, check=True)
    for reader in private_pcscd.readers:
        assert reader.name in listing.stdout
    select = "00A40400" + f"{len(TEST_AID):02X}" + TEST_AID.hex().upper() + "00"
    sent = subprocess.run(
        ["opensc-tool", "-r", str(pcsc_reader.reader.index), "-s", select],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "Received (SW1=0x90, SW2=0x00)" in sent.stdout, sent.stdout + sent.stderr
    assert " ".join(f"{b:02X}" for b in TEST_AID[:4]) in sent.stdout
