"""APDU bytes as ISO/IEC 7816-4 section 5.1 spells them (the four cases, short and extended), status
word texts, and the status-word → exception mapping."""

from __future__ import annotations

import pytest

from cardlib.apdu import ApduFormatError, CommandApdu, ResponseApdu, StatusWord
from cardlib.errors import (
    ClaNotSupported,
    FileNotFound,
    IncorrectP1P2,
    InsNotSupported,
    SecurityStatusNotSatisfied,
    UnexpectedStatus,
    VerificationFailed,
    WrongLength,
    error_class_for,
    raise_for_status,
)

D300 = bytes(range(256)) + bytes(44)

VECTORS = [
    # (apdu, hex encoding, case, extended)
    (CommandApdu(0x00, 0xA4, 0x00, 0x00), "00A40000", 1, False),
    (CommandApdu(0x00, 0xB0, 0x01, 0x02, ne=16), "00B0010210", 2, False),
    (CommandApdu(0x00, 0xB0, 0, 0, ne=256), "00B0000000", 2, False),  # Le 00 = 256
    (CommandApdu(0x00, 0xD6, 0, 0, b"\xaa\xbb\xcc"), "00D6000003AABBCC", 3, False),
    (CommandApdu(0x00, 0xA4, 0x04, 0x00, b"\x3f\x00", ne=256), "00A40400023F0000", 4, False),
    (CommandApdu(0x00, 0xB0, 0, 0, ne=257), "00B00000000101", 2, True),  # 00 marker + 2-byte Le
    (CommandApdu(0x00, 0xB0, 0, 0, ne=65536), "00B00000000000", 2, True),  # Le 0000 = 65,536
    (CommandApdu(0x00, 0xD6, 0, 0, D300), "00D60000" + "00012C" + D300.hex().upper(), 3, True),
    (CommandApdu(0x00, 0xD6, 0, 0, D300, ne=65536), "00D60000" + "00012C" + D300.hex().upper() + "0000", 4, True),
    (CommandApdu(0x00, 0xB0, 0, 0, ne=16, force_extended=True), "00B00000000010", 2, True),
]


@pytest.mark.parametrize(("apdu", "encoded", "case", "extended"), VECTORS)
def test_encoding_and_parsing(apdu: CommandApdu, encoded: str, case: int, extended: bool) -> None:
    assert apdu.to_bytes().hex().upper() == encoded
    assert (apdu.case, apdu.extended) == (case, extended)
    parsed = CommandApdu.from_bytes(bytes.fromhex(encoded))
    assert (parsed.cla, parsed.ins, parsed.p1, parsed.p2, parsed.data, parsed.ne) == (
        apdu.cla, apdu.ins, apdu.p1, apdu.p2, apdu.data, apdu.ne)
    assert parsed.to_bytes() == apdu.to_bytes()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("00A400", "at least 4 bytes"),
        ("00D6000005AABB", "Lc=5"),
        ("00D60000000003AABB", "Lc=3"),
        ("00D60000000000AA", "Lc=0"),
        ("00D600000000", "truncated"),
    ],
)
def test_malformed_bytes_are_refused(raw: str, message: str) -> None:
    with pytest.raises(ApduFormatError, match=message):
        CommandApdu.from_bytes(bytes.fromhex(raw))


def test_values_out_of_range_are_refused() -> None:
    with pytest.raises(ApduFormatError, match="CLA"):
        CommandApdu(0x100, 0xA4)
    with pytest.raises(ApduFormatError, match="Ne"):
        CommandApdu(0, 0xB0, ne=65537)
    with pytest.raises(ApduFormatError, match="exceeds"):
        CommandApdu(0, 0xD6, data=bytes(65536))


def test_repr_never_shows_data() -> None:
    secret = bytes.fromhex("DEADBEEFCAFE")
    assert "DEAD" not in repr(CommandApdu(0, 0xD6, data=secret)).upper()
    assert "DEAD" not in repr(ResponseApdu(secret, 0x9000)).upper()


def test_response_bytes_and_status_texts() -> None:
    response = ResponseApdu.from_bytes(bytes.fromhex("0102039000"))
    assert response.data == b"\x01\x02\x03" and response.ok and response.to_bytes().hex() == "0102039000"
    assert StatusWord.describe(0x6110) == "16 more response bytes available (GET RESPONSE)"
    assert StatusWord.describe(0x6C00) == "wrong Le; the card has 256 bytes (resend with that Le)"
    assert StatusWord.describe(0x63C2) == "verification failed, 2 tries left"
    assert StatusWord.describe(0x6A82) == "file or application not found"
    assert StatusWord.describe(0x9F12) == "unknown status 9F12"


@pytest.mark.parametrize(
    ("sw", "cls"),
    [
        (0x6D00, InsNotSupported),
        (0x6E00, ClaNotSupported),
        (0x6A86, IncorrectP1P2),
        (0x6700, WrongLength),
        (0x6C10, WrongLength),
        (0x6A82, FileNotFound),
        (0x6982, SecurityStatusNotSatisfied),
        (0x63C1, VerificationFailed),
        (0x6F00, UnexpectedStatus),
    ],
)
def test_status_words_become_the_right_errors(sw: int, cls: type) -> None:
    assert error_class_for(sw) is cls
    with pytest.raises(cls) as err:
        raise_for_status(ResponseApdu.status(sw), "reading EF.HOUSEHOLD")
    text = str(err.value)
    assert text.startswith("reading EF.HOUSEHOLD: card answered") and f"{sw:04X}" in text
    assert err.value.sw == sw


def test_accepted_warning_passes_and_tries_left() -> None:
    warning = ResponseApdu(b"\x01", StatusWord.WARNING_END_OF_FILE)
    assert raise_for_status(warning, accept=(StatusWord.WARNING_END_OF_FILE,)) is warning
    with pytest.raises(VerificationFailed) as err:
        raise_for_status(ResponseApdu.status(0x63C2))
    assert err.value.tries_left == 2
