"""ISO/IEC 7816-4 command and response APDUs as typed, immutable values.

Encoding follows ISO/IEC 7816-4 section 5.1: the four cases (no data / no Le; Le only; data only;
data and Le) in short form when Lc <= 255 and Ne <= 256, and extended form otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

SHORT_MAX_LC = 255
SHORT_MAX_NE = 256
EXTENDED_MAX_LC = 65535
EXTENDED_MAX_NE = 65536


class ApduFormatError(ValueError):
    """Bytes that are not a well-formed APDU, or values that cannot be encoded as one."""


@dataclass(frozen=True, slots=True)
class CommandApdu:
    cla: int
    ins: int
    p1: int = 0
    p2: int = 0
    data: bytes = b""
    ne: int | None = None  # expected response length; None = absent, 256/65536 = "all available"
    force_extended: bool = False

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise ApduFormatError(f"{name.upper()} must be one byte, got {value:#x}")
        if not isinstance(self.data, bytes):
            raise ApduFormatError("APDU data must be bytes")
        if len(self.data) > EXTENDED_MAX_LC:
            raise ApduFormatError(f"APDU data of {len(self.data)} bytes exceeds {EXTENDED_MAX_LC}")
        if self.ne is not None and not 1 <= self.ne <= EXTENDED_MAX_NE:
            raise ApduFormatError(f"Ne must be 1..{EXTENDED_MAX_NE}, got {self.ne}")

    @property
    def case(self) -> int:
        """ISO case 1-4."""
        if not self.data:
            return 1 if self.ne is None else 2
        return 3 if self.ne is None else 4

    @property
    def extended(self) -> bool:
        return (
            self.force_extended
            or len(self.data) > SHORT_MAX_LC
            or (self.ne is not None and self.ne > SHORT_MAX_NE)
        )

    def with_ne(self, ne: int | None) -> CommandApdu:
        return CommandApdu(self.cla, self.ins, self.p1, self.p2, self.data, ne, self.force_extended)

    def to_bytes(self) -> bytes:
        header = bytes((self.cla, self.ins, self.p1, self.p2))
        if self.extended:
            body = b""
            if self.data:
                body += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.ne is not None:
                le = 0 if self.ne == EXTENDED_MAX_NE else self.ne
                # With data present Le is two bytes; without, it carries the 00 marker byte.
                body += (b"" if self.data else b"\x00") + le.to_bytes(2, "big")
            return header + body
        body = b""
        if self.data:
            body += bytes((len(self.data),)) + self.data
        if self.ne is not None:
            body += bytes((0 if self.ne == SHORT_MAX_NE else self.ne,))
        return header + body

    @classmethod
    def from_bytes(cls, raw: bytes) -> CommandApdu:
        raw = bytes(raw)
        if len(raw) < 4:
            raise ApduFormatError(f"a command APDU needs at least 4 bytes, got {len(raw)}")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, ne=body[0] or SHORT_MAX_NE)
        if body[0] != 0:
            lc = body[0]
            if len(body) == 1 + lc:
                return cls(cla, ins, p1, p2, body[1:])
            if len(body) == 2 + lc:
                return cls(cla, ins, p1, p2, body[1 : 1 + lc], body[-1] or SHORT_MAX_NE)
            raise ApduFormatError(f"short APDU: Lc={lc} but {len(body) - 1} bytes follow")
        # Extended length: body starts with 00.
        if len(body) == 3:
            le = int.from_bytes(body[1:3], "big")
            return cls(cla, ins, p1, p2, ne=le or EXTENDED_MAX_NE, force_extended=True)
        if len(body) < 3:
            raise ApduFormatError("extended APDU is truncated")
        lc = int.from_bytes(body[1:3], "big")
        rest = body[3:]
        if lc == 0:
            raise ApduFormatError("extended APDU with Lc=0")
        if len(rest) == lc:
            return cls(cla, ins, p1, p2, rest, force_extended=True)
        if len(rest) == lc + 2:
            le = int.from_bytes(rest[-2:], "big")
            return cls(cla, ins, p1, p2, rest[:lc], le or EXTENDED_MAX_NE, force_extended=True)
        raise ApduFormatError(f"extended APDU: Lc={lc} but {len(rest)} bytes follow")

    def __repr__(self) -> str:  # never print data: it may hold templates or cryptograms
        return (
            f"CommandApdu(cla={self.cla:02X}, ins={self.ins:02X}, p1={self.p1:02X}, p2={self.p2:02X}, "
            f"lc={len(self.data)}, ne={self.ne})"
        )


class StatusWord(IntEnum):
    """Status words used by the toolkit's cards, with their ISO/IEC 7816-4 meanings."""

    SUCCESS = 0x9000
    WARNING_NV_UNCHANGED = 0x6200
    WARNING_END_OF_FILE = 0x6282
    WARNING_NV_CHANGED = 0x6300
    EXECUTION_ERROR = 0x6400
    MEMORY_FAILURE = 0x6581
    WRONG_LENGTH = 0x6700
    CLA_FUNCTION_NOT_SUPPORTED = 0x6800
    LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881
    SECURE_MESSAGING_NOT_SUPPORTED = 0x6882
    COMMAND_NOT_ALLOWED = 0x6900
    COMMAND_INCOMPATIBLE_WITH_FILE = 0x6981
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_NOT_USABLE = 0x6984
    CONDITIONS_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED_NO_EF = 0x6986
    SM_DATA_OBJECTS_MISSING = 0x6987
    SM_DATA_OBJECTS_INCORRECT = 0x6988
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    RECORD_NOT_FOUND = 0x6A83
    NOT_ENOUGH_MEMORY = 0x6A84
    INCORRECT_P1P2 = 0x6A86
    REFERENCED_DATA_NOT_FOUND = 0x6A88
    FILE_ALREADY_EXISTS = 0x6A89
    WRONG_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00

    @property
    def meaning(self) -> str:
        return _MEANINGS.get(self, self.name.replace("_", " ").lower())

    @classmethod
    def describe(cls, sw: int) -> str:
        """Human text for any status word, including the 61xx/63Cx/6Cxx families."""
        sw1, sw2 = sw >> 8, sw & 0xFF
        if sw1 == 0x61:
            return f"{sw2 or 256} more response bytes available (GET RESPONSE)"
        if sw1 == 0x6C:
            return f"wrong Le; the card has {sw2 or 256} bytes (resend with that Le)"
        if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
            return f"verification failed, {sw2 & 0x0F} tries left"
        try:
            return cls(sw).meaning
        except ValueError:
            return f"unknown status {sw:04X}"


_MEANINGS: dict[StatusWord, str] = {
    StatusWord.SUCCESS: "success",
    StatusWord.WARNING_END_OF_FILE: "end of file reached before reading Ne bytes",
    StatusWord.WARNING_NV_CHANGED: "state of non-volatile memory changed",
    StatusWord.MEMORY_FAILURE: "memory failure (write did not complete)",
    StatusWord.WRONG_LENGTH: "wrong length (Lc or Le)",
    StatusWord.SECURITY_STATUS_NOT_SATISFIED: "security status not satisfied (authenticate first)",
    StatusWord.AUTH_METHOD_BLOCKED: "authentication method blocked",
    StatusWord.CONDITIONS_NOT_SATISFIED: "conditions of use not satisfied",
    StatusWord.SM_DATA_OBJECTS_MISSING: "expected secure-messaging data objects missing",
    StatusWord.SM_DATA_OBJECTS_INCORRECT: "secure-messaging data objects incorrect (bad MAC?)",
    StatusWord.WRONG_DATA: "incorrect parameters in the data field",
    StatusWord.FILE_NOT_FOUND: "file or application not found",
    StatusWord.RECORD_NOT_FOUND: "record not found",
    StatusWord.NOT_ENOUGH_MEMORY: "not enough memory space in the file",
    StatusWord.INCORRECT_P1P2: "incorrect parameters P1-P2",
    StatusWord.REFERENCED_DATA_NOT_FOUND: "referenced data or key not found",
    StatusWord.INS_NOT_SUPPORTED: "instruction code not supported",
    StatusWord.CLA_NOT_SUPPORTED: "class not supported",
}


@dataclass(frozen=True, slots=True)
class ResponseApdu:
    data: bytes
    sw: int

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytes):
            raise ApduFormatError("response data must be bytes")
        if not 0 <= self.sw <= 0xFFFF:
            raise ApduFormatError(f"status word {self.sw:#x} is not two bytes")

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == StatusWord.SUCCESS

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def from_bytes(cls, raw: bytes) -> ResponseApdu:
        raw = bytes(raw)
        if len(raw) < 2:
            raise ApduFormatError(f"a response APDU needs at least 2 bytes, got {len(raw)}")
        return cls(raw[:-2], int.from_bytes(raw[-2:], "big"))

    @classmethod
    def status(cls, sw: int) -> ResponseApdu:
        return cls(b"", int(sw))

    def __repr__(self) -> str:
        return f"ResponseApdu(len={len(self.data)}, sw={self.sw:04X} {StatusWord.describe(self.sw)!r})"
