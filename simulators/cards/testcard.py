"""A small ISO/IEC 7816-4 test card: what transports and outside tools are checked against.

It answers every APDU case in short and extended form and can behave like a T=0 card, so the
``Transport`` contract suite runs the same checks through ``direct:`` and through pcscd + vpcd.
All state is RAM (session) state; nothing is written to EEPROM.

Commands (CLA 00):

=========  ====================================================================================
``A4``     SELECT by AID (P1=04): :data:`TEST_AID` → 9000 (with P2=00 and Le: an FCI ``6F``
           template holding the AID in ``84``); other AIDs 6A82; other P1 6A86.
``10``     ECHO: case 3 keeps the data in RAM (no answer data), case 4 returns it.
``12``     PATTERN: returns P1P2 bytes ``00 01 02 …`` (case 2); a short Le below that gets 6Cxx.
``14``     PING: case 1, 9000.
``16``     READ KEPT: returns the data an ECHO case 3 kept.
``18``     T0 PATTERN: as PATTERN, but the way a T=0 card answers: ``61xx``, the data then comes
           by GET RESPONSE (``C0``), in pieces of at most 256 bytes; a GET RESPONSE asking for more
           than is left gets ``6Cxx``.
``C0``     GET RESPONSE.
=========  ====================================================================================
"""

from __future__ import annotations

from cardlib.apdu import CommandApdu, ResponseApdu, StatusWord
from simulators.cards.os import CardOS, CardStatusError, command, make_atr

TEST_AID = bytes.fromhex("F054455354434152440001")  # F0 "TESTCARD" 00 01: a proprietary (F) AID


def pattern(length: int) -> bytes:
    return bytes(i & 0xFF for i in range(length))


class TestCard(CardOS):
    card_type = "testcard"
    eeprom_size = 256
    atr_bytes = make_atr(b"\x80\x5fTESTCARD")

    __test__ = False  # not a pytest test class despite its name

    def clear_session(self) -> None:
        self.selected = False
        self.kept = b""
        self.pending = b""  # T=0 response data waiting for GET RESPONSE

    @command(0xA4)
    def select(self, apdu: CommandApdu) -> bytes | None:
        if apdu.p1 != 0x04 or apdu.p2 not in (0x00, 0x0C):
            raise CardStatusError(StatusWord.INCORRECT_P1P2, "only SELECT by AID")
        if apdu.data != TEST_AID:
            self.selected = False
            raise CardStatusError(StatusWord.FILE_NOT_FOUND, "unknown AID")
        self.selected = True
        if apdu.p2 == 0x0C or apdu.ne is None:
            return None
        fci = b"\x84" + bytes((len(TEST_AID),)) + TEST_AID
        return b"\x6f" + bytes((len(fci),)) + fci

    @command(0x10)
    def echo(self, apdu: CommandApdu) -> bytes | None:
        if not apdu.data:
            raise CardStatusError(StatusWord.WRONG_LENGTH, "ECHO needs data")
        if apdu.ne is None:
            self.kept = apdu.data
            return None
        return apdu.data

    @command(0x12)
    def pattern(self, apdu: CommandApdu) -> bytes:
        return pattern(self._length(apdu))

    @command(0x14)
    def ping(self, apdu: CommandApdu) -> None:
        if apdu.data or apdu.ne is not None:
            raise CardStatusError(StatusWord.WRONG_LENGTH, "PING is case 1")

    @command(0x16)
    def read_kept(self, apdu: CommandApdu) -> bytes:
        return self.kept

    @command(0x18)
    def t0_pattern(self, apdu: CommandApdu) -> ResponseApdu:
        self.pending = pattern(self._length(apdu))
        return ResponseApdu(b"", 0x6100 | (min(len(self.pending), 256) & 0xFF))

    @command(0xC0)
    def get_response(self, apdu: CommandApdu) -> ResponseApdu:
        if not self.pending:
            raise CardStatusError(StatusWord.CONDITIONS_NOT_SATISFIED, "no response data pending")
        ne = apdu.ne or 256
        if ne > len(self.pending):
            return ResponseApdu(b"", 0x6C00 | (len(self.pending) & 0xFF))
        piece, self.pending = self.pending[:ne], self.pending[ne:]
        if self.pending:
            return ResponseApdu(piece, 0x6100 | (min(len(self.pending), 256) & 0xFF))
        return ResponseApdu(piece, StatusWord.SUCCESS)

    @staticmethod
    def _length(apdu: CommandApdu) -> int:
        if apdu.data:
            raise CardStatusError(StatusWord.WRONG_LENGTH, "no command data expected")
        return apdu.p1 << 8 | apdu.p2
