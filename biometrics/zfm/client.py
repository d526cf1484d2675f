"""Host side of the ZFM protocol: one method per module command, typed results, clear errors.

The client talks to any byte link with pyserial's ``read``/``write``/``timeout``/``in_waiting``
(a ``serial.Serial`` in practice). It does not open or reopen ports; ``biometrics.zfm.backend`` does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from biometrics.scanner_errors import (
    ChecksumError,
    ScannerAuthError,
    ScannerCommandError,
    ScannerDisconnected,
    ScannerProtocolError,
    ScannerTimeout,
)
from biometrics.zfm.codes import (
    CHAR_FILE_SIZE,
    DEFAULT_ADDRESS,
    DEFAULT_PASSWORD,
    INDEX_PAGE_BYTES,
    PACKET_SIZES,
    Confirmation,
    Instruction,
    PacketType,
    Register,
    describe,
)
from biometrics.zfm.image import pack_image, unpack_image
from biometrics.zfm.packets import Packet, PacketParser, encode

_AUTH_CODES = {Confirmation.WRONG_PASSWORD, Confirmation.PASSWORD_REQUIRED, Confirmation.ADDRESS_WRONG}


class Link(Protocol):
    timeout: float | None

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    @property
    def in_waiting(self) -> int: ...


@dataclass(frozen=True, slots=True)
class SystemParameters:
    status: int
    system_id: int
    library_size: int
    security_level: int
    address: int
    packet_size: int  # bytes per data packet
    baud: int

    @classmethod
    def parse(cls, data: bytes) -> SystemParameters:
        if len(data) < 16:
            raise ScannerProtocolError("the module's system parameters reply is too short; retry")
        word = [int.from_bytes(data[i : i + 2], "big") for i in (0, 2, 4, 6, 12, 14)]
        size_code = word[4]
        if size_code >= len(PACKET_SIZES):
            raise ScannerProtocolError(f"the module reports an unknown packet size code {size_code}")
        return cls(
            status=word[0],
            system_id=word[1],
            library_size=word[2],
            security_level=word[3],
            address=int.from_bytes(data[8:12], "big"),
            packet_size=PACKET_SIZES[size_code],
            baud=word[5] * 9600,
        )


@dataclass(frozen=True, slots=True)
class SearchHit:
    page: int  # library position of the matching template
    score: int  # the module's score (0 .. ~300)


class ZfmClient:
    """Commands of one ZFM module at ``address`` over ``link``."""

    def __init__(
        self,
        link: Link,
        address: int = DEFAULT_ADDRESS,
        password: int = DEFAULT_PASSWORD,
        timeout: float = 2.0,
    ) -> None:
        self._link = link
        self.address = address
        self.password = password
        self.timeout = timeout
        self._parser = PacketParser()
        self._dirty = False  # after an error, stale bytes may still be on the wire
        self._packet_size: int | None = None

    @property
    def discarded_bytes(self) -> int:
        """Bytes skipped so far because they were not part of any frame (line noise)."""
        return self._parser.discarded

    # --- framing -----------------------------------------------------------------------------

    def _write(self, packet: Packet) -> None:
        try:
            self._link.write(encode(packet))
        except OSError as exc:  # serial.SerialException is an OSError
            raise ScannerDisconnected(
                "the fingerprint module's serial link failed while sending; check the cable. "
                "The next operation reopens the port"
            ) from exc

    def _read_packet(self, deadline: float, what: str) -> Packet:
        while True:
            try:
                packet = self._parser.next_packet()
            except ChecksumError:
                self._dirty = True
                raise
            if packet is not None:
                return packet
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._dirty = True
                raise ScannerTimeout(
                    f"the fingerprint module did not answer {what} in time; check that it is powered and "
                    "cabled, and that the baud rate and module address match"
                )
            try:
                self._link.timeout = min(remaining, 0.25)
                data = self._link.read(max(1, self._link.in_waiting))
            except OSError as exc:
                raise ScannerDisconnected(
                    "the fingerprint module's serial link went away (cable pulled or adapter reset); "
                    "reconnect it, the next operation reopens the port"
                ) from exc
            self._parser.feed(data)

    def _resync(self) -> None:
        """Drop whatever is left of an interrupted exchange: read until the line is quiet."""
        self._parser.clear()
        try:
            self._link.timeout = 0.03
            while self._link.read(4096):
                pass
        except OSError as exc:
            raise ScannerDisconnected("the fingerprint module's serial link went away; reconnect it") from exc
        self._parser.clear()
        self._dirty = False

    def command(self, instruction: Instruction, params: bytes = b"", timeout: float | None = None) -> tuple[int, bytes]:
        """Send one command packet, return (confirmation code, rest of the acknowledge payload)."""
        if self._dirty:
            self._resync()
        self._write(Packet(PacketType.COMMAND, bytes((instruction,)) + params, self.address))
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        reply = self._read_packet(deadline, instruction.name)
        if reply.kind != PacketType.ACK or not reply.payload:
            self._dirty = True
            raise ScannerProtocolError(
                f"the fingerprint module answered {instruction.name} with a {reply.kind.name} packet instead of "
                "an acknowledgement; retry the operation"
            )
        return reply.payload[0], reply.payload[1:]

    def _ok(self, instruction: Instruction, params: bytes = b"", timeout: float | None = None) -> bytes:
        code, rest = self.command(instruction, params, timeout)
        if code != Confirmation.OK:
            raise self._error(instruction, code)
        return rest

    @staticmethod
    def _error(instruction: Instruction, code: int) -> ScannerCommandError | ScannerAuthError:
        if code in _AUTH_CODES:
            return ScannerAuthError(
                f"the fingerprint module refused {instruction.name}: {describe(code)}; "
                "set the module password/address in the scanner config (zfm:PORT?password=0x...)"
            )
        return ScannerCommandError(f"fingerprint module {instruction.name} failed: {describe(code)}", code)

    def _receive_data(self, what: str) -> bytes:
        data = bytearray()
        while True:
            packet = self._read_packet(time.monotonic() + self.timeout, what)
            if packet.kind not in (PacketType.DATA, PacketType.END_DATA):
                self._dirty = True
                raise ScannerProtocolError(f"expected {what} data from the module, got a {packet.kind.name} packet")
            data += packet.payload
            if packet.kind == PacketType.END_DATA:
                return bytes(data)

    def _send_data(self, data: bytes, size: int) -> None:
        chunks = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
        for i, chunk in enumerate(chunks):
            kind = PacketType.END_DATA if i == len(chunks) - 1 else PacketType.DATA
            self._write(Packet(kind, chunk, self.address))

    # --- commands ----------------------------------------------------------------------------

    def verify_password(self) -> None:
        """Handshake: the module answers only if address and baud are right, and checks the password."""
        self._ok(Instruction.VFY_PWD, self.password.to_bytes(4, "big"))

    def set_password(self, password: int) -> None:
        self._ok(Instruction.SET_PWD, password.to_bytes(4, "big"))
        self.password = password

    def read_sys_para(self) -> SystemParameters:
        params = SystemParameters.parse(self._ok(Instruction.READ_SYS_PARA))
        self._packet_size = params.packet_size
        return params

    def packet_size(self) -> int:
        if self._packet_size is None:
            self.read_sys_para()
        assert self._packet_size is not None
        return self._packet_size

    def write_reg(self, register: Register, value: int) -> None:
        self._ok(Instruction.WRITE_REG, bytes((register, value)))
        if register == Register.PACKET_SIZE:
            self._packet_size = PACKET_SIZES[value]

    def gen_img(self) -> bool:
        """Try to take an image: True if one is in the image buffer, False if no finger is on the glass."""
        code, _ = self.command(Instruction.GEN_IMG)
        if code == Confirmation.NO_FINGER:
            return False
        if code != Confirmation.OK:
            raise self._error(Instruction.GEN_IMG, code)
        return True

    def up_image(self) -> np.ndarray:
        """Upload the image buffer (4-bit native format) and return it as a 256 x 288 uint8 image."""
        self._ok(Instruction.UP_IMAGE)
        return unpack_image(self._receive_data("image"))

    def down_image(self, pixels: np.ndarray) -> None:
        """Download a 256 x 288 image into the module's image buffer."""
        data = pack_image(pixels)
        size = self.packet_size()  # asked before the download starts: any command would abort it
        self._ok(Instruction.DOWN_IMAGE)
        self._send_data(data, size)

    def img2tz(self, buffer: int = 1) -> None:
        """Turn the image buffer into features in char buffer 1 or 2."""
        self._ok(Instruction.IMG2TZ, bytes((buffer,)))

    def reg_model(self) -> None:
        """Combine char buffers 1 and 2 into one template (raises if they are different fingers)."""
        self._ok(Instruction.REG_MODEL)

    def up_char(self, buffer: int = 1) -> bytes:
        self._ok(Instruction.UP_CHAR, bytes((buffer,)))
        data = self._receive_data("template")
        if len(data) != CHAR_FILE_SIZE:
            raise ScannerProtocolError(f"the module uploaded {len(data)} template bytes, expected {CHAR_FILE_SIZE}")
        return data

    def down_char(self, buffer: int, data: bytes) -> None:
        if len(data) != CHAR_FILE_SIZE:
            raise ValueError(f"a ZFM template is {CHAR_FILE_SIZE} bytes, not {len(data)}")
        size = self.packet_size()  # asked before the download starts: any command would abort it
        self._ok(Instruction.DOWN_CHAR, bytes((buffer,)))
        self._send_data(data, size)

    def store(self, buffer: int, page: int) -> None:
        self._ok(Instruction.STORE, bytes((buffer,)) + page.to_bytes(2, "big"))

    def load_char(self, buffer: int, page: int) -> None:
        self._ok(Instruction.LOAD_CHAR, bytes((buffer,)) + page.to_bytes(2, "big"))

    def delete_char(self, page: int, count: int = 1) -> None:
        self._ok(Instruction.DELETE_CHAR, page.to_bytes(2, "big") + count.to_bytes(2, "big"))

    def empty(self) -> None:
        self._ok(Instruction.EMPTY)

    def search(self, buffer: int = 1, start: int = 0, count: int | None = None) -> SearchHit | None:
        """1:N search of a char buffer in the module's library; None when nothing matches."""
        if count is None:
            count = self.read_sys_para().library_size
        code, rest = self.command(
            Instruction.SEARCH, bytes((buffer,)) + start.to_bytes(2, "big") + count.to_bytes(2, "big")
        )
        if code == Confirmation.NOT_FOUND:
            return None
        if code != Confirmation.OK or len(rest) < 4:
            raise self._error(Instruction.SEARCH, code)
        return SearchHit(int.from_bytes(rest[:2], "big"), int.from_bytes(rest[2:4], "big"))

    def match(self) -> int:
        """1:1 comparison of char buffers 1 and 2: the module's score, 0 when they do not match."""
        code, rest = self.command(Instruction.MATCH)
        if code == Confirmation.NO_MATCH:
            return 0
        if code != Confirmation.OK or len(rest) < 2:
            raise self._error(Instruction.MATCH, code)
        return int.from_bytes(rest[:2], "big")

    def template_count(self) -> int:
        return int.from_bytes(self._ok(Instruction.TEMPLATE_NUM)[:2], "big")

    def read_index_table(self, page: int = 0) -> tuple[bool, ...]:
        """Which of the 256 library slots on ``page`` hold a template."""
        data = self._ok(Instruction.READ_INDEX_TABLE, bytes((page,)))[:INDEX_PAGE_BYTES]
        return tuple(bool(byte >> bit & 1) for byte in data for bit in range(8))
