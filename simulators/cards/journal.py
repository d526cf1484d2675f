"""A redo journal in EEPROM: several writes that land all together or not at all, whatever the tear.

Layout (``size`` bytes at ``base``)::

    +0  state   00 = empty, A5 = committed (the single byte whose write is the commit point)
    +1  count   number of entries
    +2  used    bytes of entries (2, big-endian)
    +4  entries offset(2) length(2) data(length) ...

:meth:`Journal.commit` writes the entries, then ``count``/``used``, then the state byte ``A5`` (the
commit point), then applies each entry to its target, then clears the state byte. A tear before the
commit point leaves the targets untouched (the old state); a tear after it leaves a committed journal
that :meth:`Journal.recover` replays at the next power-on (the new state). Replaying is idempotent, so
a tear during recovery is recovered the same way.
"""

from __future__ import annotations

from simulators.cards.storage import Eeprom

EMPTY = 0x00
COMMITTED = 0xA5
HEADER = 4
ENTRY_HEADER = 4


class JournalFull(Exception):
    """The writes do not fit in the journal: the card must refuse the command (nothing written)."""


class Journal:
    def __init__(self, eeprom: Eeprom, base: int, size: int) -> None:
        self.eeprom = eeprom
        self.base = base
        self.size = size

    @property
    def capacity(self) -> int:
        """Bytes of data one transaction can carry (one entry)."""
        return self.size - HEADER - ENTRY_HEADER

    def commit(self, writes: list[tuple[int, bytes]]) -> None:
        body = b"".join(offset.to_bytes(2, "big") + len(data).to_bytes(2, "big") + data for offset, data in writes)
        if HEADER + len(body) > self.size or len(writes) > 255:
            raise JournalFull(f"{len(body)} bytes of journal entries exceed {self.size - HEADER}")
        self.eeprom.write(self.base + HEADER, body)
        self.eeprom.write(self.base + 1, bytes((len(writes),)) + len(body).to_bytes(2, "big"))
        self.eeprom.write(self.base, bytes((COMMITTED,)))
        self._apply(writes)
        self.eeprom.write(self.base, bytes((EMPTY,)))

    def recover(self) -> bool:
        """Replay a committed journal; return whether there was one."""
        if self.eeprom.read(self.base, 1)[0] != COMMITTED:
            return False
        self._apply(self._entries())
        self.eeprom.write(self.base, bytes((EMPTY,)))
        return True

    def _entries(self) -> list[tuple[int, bytes]]:
        header = self.eeprom.read(self.base, HEADER)
        count, used = header[1], int.from_bytes(header[2:4], "big")
        body = self.eeprom.read(self.base + HEADER, used)
        entries, pos = [], 0
        for _ in range(count):
            offset = int.from_bytes(body[pos : pos + 2], "big")
            length = int.from_bytes(body[pos + 2 : pos + 4], "big")
            entries.append((offset, body[pos + 4 : pos + 4 + length]))
            pos += 4 + length
        return entries

    def _apply(self, writes: list[tuple[int, bytes]]) -> None:
        for offset, data in writes:
            self.eeprom.write(offset, data)
