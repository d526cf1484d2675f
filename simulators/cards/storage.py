"""The card's non-volatile memory: a byte-accurate EEPROM model and its state file.

An :class:`Eeprom` is a fixed-size byte array. Every write goes through :meth:`Eeprom.write`, which
counts bytes against the card's ``tear_after_bytes`` fault: when the budget runs out mid-write, exactly
the bytes allowed so far land in memory and :class:`PowerLoss` is raised, as when a card is pulled
while its charge pump is programming a page. Reads never write.

The state file holds the whole EEPROM image plus the card type, written atomically (temp file +
fsync + ``os.replace`` + directory fsync), so a simulator killed at any moment restarts as the same
card: either the state before the command or the state after it.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

from keymgmt.files import write_atomic

MAGIC = b"CARDSIM1"
_HEADER = struct.Struct(">8sB")  # magic, length of the card-type name


class StateFileError(Exception):
    """A state file that is not a card image of the expected type (or is damaged)."""


class PowerLoss(Exception):
    """Raised inside the card when the tear fault fires: the write stopped part-way."""


@dataclass(slots=True)
class Faults:
    """Fault switches of a simulated card; :meth:`clear` puts them back to "no fault".

    ``tear_after_bytes``: the card loses power after this many more EEPROM bytes are written
    (0 = at the next byte); it fires once, then resets to ``None``.
    ``mute``: the card does not answer at all. ``slow``: seconds of delay before every answer.
    ``wrong_atr``: the card answers reset with an ATR that is not its own.
    """

    tear_after_bytes: int | None = None
    mute: bool = False
    slow: float = 0.0
    wrong_atr: bool = False

    def clear(self) -> None:
        self.tear_after_bytes = None
        self.mute = False
        self.slow = 0.0
        self.wrong_atr = False


class Eeprom:
    """Fixed-size non-volatile memory with byte-accurate tearing."""

    def __init__(self, size: int, faults: Faults, image: bytes | None = None) -> None:
        if image is not None and len(image) != size:
            raise StateFileError(f"EEPROM image is {len(image)} bytes, the card has {size}")
        self.size = size
        self._faults = faults
        self._mem = bytearray(image) if image is not None else bytearray(size)
        self.bytes_written = 0  # since this object was made: lets tests size a transaction
        self.dirty = False

    def read(self, offset: int, length: int) -> bytes:
        self._check(offset, length)
        return bytes(self._mem[offset : offset + length])

    def write(self, offset: int, data: bytes) -> None:
        self._check(offset, len(data))
        budget = self._faults.tear_after_bytes
        if budget is not None and budget < len(data):
            if budget:
                self._mem[offset : offset + budget] = data[:budget]
                self.bytes_written += budget
                self.dirty = True
            self._faults.tear_after_bytes = None
            raise PowerLoss(f"power lost after {budget} of {len(data)} bytes at EEPROM offset {offset}")
        self._mem[offset : offset + len(data)] = data
        self.bytes_written += len(data)
        if data:
            self.dirty = True
        if budget is not None:
            self._faults.tear_after_bytes = budget - len(data)

    def image(self) -> bytes:
        return bytes(self._mem)

    def _check(self, offset: int, length: int) -> None:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise IndexError(f"EEPROM access {offset}+{length} outside 0..{self.size}")


def save_state(path: Path, card_type: str, image: bytes) -> None:
    """Write the card image to ``path`` atomically (temp + fsync + replace + dir fsync)."""
    name = card_type.encode("ascii")
    body = _HEADER.pack(MAGIC, len(name)) + name + image
    blob = body + hashlib.sha256(body).digest()
    write_atomic(Path(path), blob, sync_dir=True)


def load_state(path: Path, card_type: str, size: int) -> bytes:
    """The EEPROM image stored in ``path``; raises :class:`StateFileError` if it is not one."""
    blob = Path(path).read_bytes()
    if len(blob) < _HEADER.size + 32 or not blob.startswith(MAGIC):
        raise StateFileError(f"{path} is not a simulated-card state file; delete it for a blank card")
    body, digest = blob[:-32], blob[-32:]
    if hashlib.sha256(body).digest() != digest:
        raise StateFileError(f"{path} is damaged (checksum mismatch); restore it or delete it")
    _, name_len = _HEADER.unpack_from(body)
    name = body[_HEADER.size : _HEADER.size + name_len].decode("ascii", "replace")
    if name != card_type:
        raise StateFileError(f"{path} holds a {name!r} card, not a {card_type!r} card; use another file")
    image = body[_HEADER.size + name_len :]
    if len(image) != size:
        raise StateFileError(f"{path} holds {len(image)} bytes of EEPROM, a {card_type} card has {size}")
    return image
