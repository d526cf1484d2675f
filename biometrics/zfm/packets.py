"""ZFM packet framing: ``EF 01`` | address (4) | packet type (1) | length (2) | payload | sum (2).

``length`` counts the payload plus the two checksum bytes; the checksum is the 16-bit sum of the type,
the two length bytes and the payload. All numbers are big-endian. The same code frames both directions,
so the host client and the simulator cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from biometrics.scanner_errors import ChecksumError
from biometrics.zfm.codes import START_CODE, PacketType

HEADER_SIZE = 9  # start code + address + type + length
MAX_PAYLOAD = 256  # the largest data packet a module sends (packet size code 3)


@dataclass(frozen=True, slots=True)
class Packet:
    kind: PacketType
    payload: bytes
    address: int = 0xFFFFFFFF

    def __post_init__(self) -> None:
        if len(self.payload) > MAX_PAYLOAD:
            raise ValueError(f"a ZFM packet carries at most {MAX_PAYLOAD} bytes, not {len(self.payload)}")
        if not (0 <= self.address <= 0xFFFFFFFF):
            raise ValueError("a ZFM module address is a 32-bit number")


def checksum(kind: int, payload: bytes) -> int:
    length = len(payload) + 2
    return (kind + (length >> 8) + (length & 0xFF) + sum(payload)) & 0xFFFF


def encode(packet: Packet) -> bytes:
    length = len(packet.payload) + 2
    return (
        START_CODE
        + packet.address.to_bytes(4, "big")
        + bytes((packet.kind,))
        + length.to_bytes(2, "big")
        + packet.payload
        + checksum(packet.kind, packet.payload).to_bytes(2, "big")
    )


class PacketParser:
    """Incremental decoder: feed bytes as they arrive, take whole packets out.

    Bytes before a start code (line noise, a module's power-on byte) are skipped and counted in
    ``discarded``. A header with an impossible type or length is treated as noise too, so one stray
    ``EF 01`` cannot swallow the real frame behind it. A frame whose checksum fails is dropped and
    reported as ``ChecksumError``; decoding continues with the bytes after it.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.discarded = 0

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def clear(self) -> None:
        self.discarded += len(self._buffer)
        self._buffer.clear()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def next_packet(self) -> Packet | None:
        """The next complete packet, or None if more bytes are needed. Raises ``ChecksumError``."""
        buf = self._buffer
        while True:
            start = buf.find(START_CODE)
            if start < 0:
                # keep a trailing EF: it may be the first half of a start code still on the wire
                keep = 1 if buf.endswith(START_CODE[:1]) else 0
                self.discarded += len(buf) - keep
                del buf[: len(buf) - keep]
                return None
            if start:
                self.discarded += start
                del buf[:start]
            if len(buf) < HEADER_SIZE:
                return None
            kind, length = buf[6], int.from_bytes(buf[7:9], "big")
            if kind not in PacketType._value2member_map_ or not (2 < length <= MAX_PAYLOAD + 2):
                self.discarded += 1
                del buf[:1]  # not a real header: resync on the next start code
                continue
            total = HEADER_SIZE + length
            if len(buf) < total:
                return None
            frame = bytes(buf[:total])
            del buf[:total]
            payload = frame[HEADER_SIZE:-2]
            if int.from_bytes(frame[-2:], "big") != checksum(kind, payload):
                raise ChecksumError(
                    "a packet from the fingerprint module failed its checksum; the reply was dropped. "
                    "Retry; if it keeps happening check the cable and the baud rate"
                )
            return Packet(PacketType(kind), payload, int.from_bytes(frame[2:6], "big"))
