"""The simulated family card at the APDU level: ISO/IEC 7816-4 status words for each fault, the
journal, secure-messaging errors, persistence, and the command-line entry point."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cardlib.apdu import CommandApdu
from cardlib.family import FamilyCard
from cardlib.family_profile import AID, FID_HOUSEHOLD, FID_LOG, FID_POLICY, encode_policy
from cardlib.secure import CLA_SM, SoftwareSam, authenticate
from keymgmt import scp
from simulators.cards.cli import card_types, make_card
from simulators.cards.family import FILE_OFFSETS, JOURNAL_BASE, FamilyCardOS
from simulators.cards.journal import Journal
from tests.cardlib.family_samples import full_family, inserted, small_family

KEY = bytes(range(16))
SELECT_AID = "00A404000" + "9" + AID.hex()
SELECT_HOUSEHOLD = "00A4020C020101"


def send(card: FamilyCardOS, *apdus: str) -> list[str]:
    return [card.process(bytes.fromhex(a.replace(" ", ""))).hex().upper() for a in apdus]


def sw(card: FamilyCardOS, *apdus: str) -> str:
    return send(card, *apdus)[-1][-4:]


@pytest.fixture
def blank():
    card = FamilyCardOS(None)
    card.power_on()
    return card


@pytest.fixture(scope="module")
def personalised_image() -> bytes:
    card = FamilyCardOS(None)
    with inserted(card) as t:
        FamilyCard(t).personalise(small_family(), KEY)
    return card.image()


@pytest.fixture
def card(personalised_image):
    c = FamilyCardOS(None, image=personalised_image)
    c.power_on()
    return c


@pytest.mark.parametrize(
    ("apdus", "expected"),
    [
        ((SELECT_AID,), "9000"),
        (("00A4040C09F05253425946414D02",), "6A82"),  # another application
        (("00A4040C00",), "6700"),  # case 1 with P1=04: no AID (the parser sees no Lc)
        (("00A4080C023F00",), "6A86"),  # select by path: not supported
        (("00A4041009" + AID.hex(),), "6A86"),  # P2 10: not a response option we offer
        (("00A4000C023F00",), "9000"),  # the MF
        (("00A4020C020101",), "6A82"),  # EF before the application is selected
        ((SELECT_AID, "00A4020C03010101"), "6700"),  # a file id is two bytes
        ((SELECT_AID, "00A4020C029999"), "6A82"),  # no such EF
        ((SELECT_AID, "00B0000010"), "6986"),  # no current EF
        ((SELECT_AID, SELECT_HOUSEHOLD, "00B0000010"), "6985"),  # blank: nothing to read
        ((SELECT_AID, "00A4020C020001", "00B0000000"), "9000"),  # EF.CARDINFO always readable
        ((SELECT_AID, "00A4020C020001", "00B0000040"), "6282"),  # asked 64, the file is shorter
        ((SELECT_AID, "00A4020C020001", "00B0400001"), "6B00"),  # offset beyond the file
        ((SELECT_AID, "00A4020C020001", "00B0810001"), "6A86"),  # SFI addressing
        ((SELECT_AID, "00A4020C020001", "00B00000"), "6700"),  # READ BINARY without Le
        ((SELECT_AID, "00A4020C020001", "00D6000001AA"), "6982"),  # CARDINFO is read-only
        ((SELECT_AID, "00A4020C020150", "00B0000010"), "6981"),  # READ BINARY on the cyclic log
        ((SELECT_AID, SELECT_HOUSEHOLD, "00B2010420"), "6981"),  # READ RECORD on a transparent EF
        ((SELECT_AID, SELECT_HOUSEHOLD, "00D6003601AA"), "6B00"),  # UPDATE offset past the end (54)
        ((SELECT_AID, SELECT_HOUSEHOLD, "00D6003502AAAA"), "6A84"),  # data runs past the end
        ((SELECT_AID, "00A4020C020150", "00E2000001AA"), "6700"),  # log record not 32 bytes
        ((SELECT_AID, "00A4020C020150", "00E20104" + "20" + "00" * 32), "6A86"),
        (("0084000008",), "9000"),
        (("0084000004",), "6700"),
        (("0084010008",), "6A86"),
        (("0082000110" + "00" * 16,), "6300"),  # no challenge pending
        (("0084000008", "0082000110" + "00" * 16), "6300"),  # blank card: no usable key
        (("0084000008", "0082000108" + "00" * 8), "6700"),
        (("0082000010" + "00" * 16,), "6A86"),  # key reference must be 01
        (("00440000024E00",), "6985"),  # activation of a blank card
        (("801C0000",), "6985"),  # commit without a key
        (("80D8000108" + "00" * 8,), "6700"),  # key not 16 bytes
        (("80D8000210" + "00" * 16,), "6A86"),
        (("801A0001",), "6A86"),
        (("0C D6 00 00 0A 8E 08 0000000000000000",), "6982"),  # SM without a session
        (("0C B0 00 00 00",), "6882"),  # SM for a command that does not take it
        (("00CA000000",), "6D00"),  # unknown INS
        (("A0A4040009" + AID.hex(),), "6E00"),  # unknown CLA
        (("801A",), "6700"),  # not an APDU at all
        (("0044000002E700",), "6985"),
    ],
)
def test_status_words_on_a_blank_card(blank, apdus, expected):
    assert sw(blank, *apdus) == expected


@pytest.mark.parametrize(
    ("apdus", "expected"),
    [
        ((SELECT_AID, SELECT_HOUSEHOLD, "00B0000000"), "9000"),  # Le 00 = up to 256: no warning
        ((SELECT_AID, SELECT_HOUSEHOLD, "00B0000040"), "6282"),  # asked 64 of a 54-byte file
        ((SELECT_AID, SELECT_HOUSEHOLD, "00D6000001AA"), "6982"),  # identity files are frozen
        ((SELECT_AID, "00A4020C020141", "00D6000001AA"), "6982"),  # policy needs SM
        ((SELECT_AID, "00A4020C020150", "00E2000020" + "00" * 32), "6982"),  # log needs SM
        ((SELECT_AID, "00A4020C020150", "00B2010420"), "6A83"),  # empty log
        ((SELECT_AID, "00A4020C020150", "00B2000420"), "6A86"),
        ((SELECT_AID, "00A4020C020170", "00D6000001AA"), "6982"),  # only ACTIVATE writes it
        (("801A0000",), "6985"),  # personalisation is over
        (("80D8000110" + "00" * 16,), "6985"),
        (("801C0000",), "6985"),
        (("0044000005E703800100",), "6A80"),  # malformed activation
    ],
)
def test_status_words_on_a_personalised_card(card, apdus, expected):
    assert sw(card, *apdus) == expected


def test_fcp_and_fci(blank):
    fci = send(blank, "00A4040009" + AID.hex() + "00")[0]
    assert fci.startswith("6F") and AID.hex().upper() in fci and "8A0103" in fci and fci.endswith("9000")
    fcp = send(blank, "00A4020002015000")[0]
    assert "80020400" in fcp and "82050621002020" in fcp and "83020150" in fcp


def test_extended_read_of_a_whole_photo(personalised_image):
    card = FamilyCardOS(None)
    family = full_family()
    with inserted(card) as t:
        FamilyCard(t).personalise(family, KEY)
        t.transmit(CommandApdu(0, 0xA4, 0x04, 0x0C, AID))
        t.transmit(CommandApdu(0, 0xA4, 0x02, 0x0C, b"\x01\x21"))
        response = t.transmit(CommandApdu(0, 0xB0, 0, 8, ne=4096))
        assert response.ok and response.data == family.members[0].photo


def sm_session(card: FamilyCardOS):
    with inserted(card) as t:
        FamilyCard(t).select()
        return authenticate(t, SoftwareSam(KEY), card.serial.value, "923")


def test_bad_mac_answers_6988_in_plain_and_ends_the_session(card):
    with inserted(card) as t:
        FamilyCard(t).select()
        channel = authenticate(t, SoftwareSam(KEY), card.serial.value, "923")
        t.transmit(CommandApdu(0, 0xA4, 0x02, 0x0C, FID_POLICY[0].to_bytes(2, "big")))
        header = bytes((CLA_SM, 0xD6, 0, 0))
        protected = bytearray(scp.protect_command(channel._keys, 1, header, b"\xe5\x00"))
        protected[-1] ^= 1
        response = t.transmit(CommandApdu(CLA_SM, 0xD6, 0, 0, bytes(protected), ne=256))
        assert (response.sw, response.data) == (0x6988, b"")
        good = scp.protect_command(channel._keys, 2, header, b"\xe5\x00")
        assert t.transmit(CommandApdu(CLA_SM, 0xD6, 0, 0, good, ne=256)).sw == 0x6982  # session gone


def test_replayed_protected_command_is_refused(card):
    with inserted(card) as t:
        FamilyCard(t).select()
        channel = authenticate(t, SoftwareSam(KEY), card.serial.value, "923")
        t.transmit(CommandApdu(0, 0xA4, 0x02, 0x0C, FID_LOG.to_bytes(2, "big")))
        protected = scp.protect_command(channel._keys, 1, bytes((CLA_SM, 0xE2, 0, 0)), bytes(32))
        first = t.transmit(CommandApdu(CLA_SM, 0xE2, 0, 0, protected, ne=256))
        assert first.sw == 0x9000
        assert t.transmit(CommandApdu(CLA_SM, 0xE2, 0, 0, protected, ne=256)).sw == 0x6988
    card.power_on()
    assert send(card, SELECT_AID, "00A4020C020150", "00B2020420")[-1][-4:] == "6A83"  # one record only


def test_protected_error_status_is_carried_inside_sm(card):
    with inserted(card) as t:
        family_card = FamilyCard(t)
        family_card.authenticate(SoftwareSam(KEY))
        family_card._select_ef(FID_HOUSEHOLD, "EF.HOUSEHOLD")
        response = family_card._channel.transmit(CommandApdu(0, 0xD6, 0, 0, b"\xe1\x00"))
        assert response.sw == 0x6982 and family_card._channel.open


def test_journal_replays_a_committed_transaction_after_power_loss(card):
    target = FILE_OFFSETS[FID_POLICY[1]]
    journal = Journal(card.eeprom, JOURNAL_BASE, 512)
    card.faults.tear_after_bytes = 4 + 3 + 3 + 1 + 2  # entry, count/used, commit byte, 2 of 3 target bytes
    with pytest.raises(Exception, match="power lost"):
        journal.commit([(target, b"\xe5\x01\x00")])
    assert card.eeprom.read(target, 3)[:2] == b"\xe5\x01"
    card.power_off()
    card.power_on()
    assert card.eeprom.read(target, 3) == b"\xe5\x01\x00"
    assert card.eeprom.read(JOURNAL_BASE, 1) == b"\x00"
    assert not journal.recover()


def test_journal_refuses_a_transaction_too_big(card):
    with inserted(card) as t:
        family_card = FamilyCard(t)
        family_card.authenticate(SoftwareSam(KEY))
        family_card._select_ef(FID_LOG, "EF.LOG")
        assert family_card._channel.transmit(CommandApdu(0, 0xE2, 0, 0, bytes(32))).sw == 0x9000
    big = Journal(card.eeprom, JOURNAL_BASE, 512)
    with pytest.raises(Exception, match="exceed"):
        big.commit([(0, bytes(600))])


def test_torn_state_file_restarts_as_the_torn_card(tmp_path):
    path = tmp_path / "family.card"
    card = FamilyCardOS(path)
    with inserted(card) as t:
        FamilyCard(t).personalise(small_family(), KEY)
        family_card = FamilyCard(t)
        family_card.authenticate(SoftwareSam(KEY))
        entry = 4 + len(encode_policy(full_family().policies[0]))
        card.faults.tear_after_bytes = entry + 3 + 1 + 10  # past the journal's commit point, mid-apply
        with pytest.raises(Exception, match="reinsert"):
            family_card.update_policy(0, full_family().policies[0])
    restarted = FamilyCardOS(path)  # the simulator process died with the card torn
    assert restarted.eeprom.read(JOURNAL_BASE, 1) == b"\xa5"
    with inserted(restarted) as t:
        assert FamilyCard(t).read_policies()[0] == full_family().policies[0]


def test_card_types_registry_names_the_choices(tmp_path):
    assert card_types()["family"] is FamilyCardOS
    with pytest.raises(ValueError, match=r"valid choices: .*family"):
        make_card("famly", tmp_path / "x.card")


def test_cli_reports_a_missing_reader_and_a_bad_state_file(tmp_path):
    bad = tmp_path / "bad.card"
    bad.write_bytes(b"not a card")
    args = [sys.executable, "-m", "simulators", "card", "family", "--state", str(bad), "--port", "9"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "not a simulated-card state file" in result.stderr
    assert bad.read_bytes() == b"not a card"  # bad input loses nothing
