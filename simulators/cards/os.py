"""The card-OS framework every simulated card type is built on.

A card is an object with the in-process card protocol of ``cardlib.direct``::

    card = MyCard(state_path)       # a blank card when the file does not exist yet (None: in memory)
    card.image() -> bytes           # EEPROM snapshot; MyCard(None, image=...) restarts from one
    card.power_on()                 # the reader powers the contacts (a fresh card starts unpowered)
    card.atr() -> bytes
    card.execute(CommandApdu) -> ResponseApdu
    card.process(raw: bytes) -> bytes   # parse + execute + encode; malformed APDU -> 6700
    card.power_off()
    card.warm_reset()               # ISO warm reset: session state cleared, faults kept
    card.reset()                    # simulator reset: faults cleared too (a known state)

A silent card raises instead of answering: :class:`CardNotAnswering` (muted, or unpowered) or
:class:`CardTorn` (the tear fault fired during this command). Both are ``cardlib.errors.CardError``
subclasses, so ``direct:`` transports pass them on; the vpcd bridge answers nothing.

Writing a card type:

* subclass :class:`CardOS`, set ``card_type`` (state-file tag), ``eeprom_size`` and ``atr_bytes``
  (see :func:`make_atr`);
* mark handlers with ``@command(INS, cla=(0x00, ...))``; a handler takes the ``CommandApdu`` and
  returns response data (``bytes``, SW 9000), ``None`` (no data, 9000) or a full ``ResponseApdu``
  (for warnings). The table is keyed by INS and built when the class is defined;
* fail by raising ``CardStatusError(sw, reason)``: :meth:`CardOS.execute` is the one place that
  turns it into a response (unknown CLA -> 6E00, unknown INS -> 6D00, anything unexpected -> 6F00);
* keep persistent state only in ``self.eeprom`` (byte-accurate, tearable; see ``storage.py``), and
  session state in attributes reset by :meth:`CardOS.clear_session`. Override :meth:`format` to lay
  out a blank card and :meth:`recover` to finish or undo interrupted transactions at power-on.

After any command (or recovery) that wrote EEPROM the image is saved to the state file atomically, so a
restarted simulator is the same card, including a card torn half-way through a write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

from cardlib.apdu import ApduFormatError, CommandApdu, ResponseApdu, StatusWord
from cardlib.errors import CardMuteError, CardRemovedError
from simulators.cards.storage import Eeprom, Faults, PowerLoss, load_state, save_state

__all__ = [
    "CardNotAnswering",
    "CardOS",
    "CardStatusError",
    "CardTorn",
    "Faults",
    "command",
    "make_atr",
]

log = logging.getLogger(__name__)

#: A well-formed ATR that belongs to no card of this toolkit (what ``wrong_atr`` answers).
WRONG_ATR = bytes.fromhex("3B00")


class CardStatusError(Exception):
    """A command failed with status word ``sw``; ``reason`` is for the simulator log only."""

    def __init__(self, sw: int, reason: str = "") -> None:
        self.sw = int(sw)
        self.reason = reason
        super().__init__(f"{self.sw:04X} {StatusWord.describe(self.sw)}" + (f": {reason}" if reason else ""))


class CardNotAnswering(CardMuteError):
    """The simulated card gave no answer (mute fault, or contacts not powered)."""


class CardTorn(CardRemovedError):
    """The simulated card lost power in the middle of a write (tear fault)."""


@dataclass(frozen=True, slots=True)
class Command:
    ins: int
    method: str
    classes: frozenset[int]


def command(ins: int, *, cla: Iterable[int] = (0x00,)) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a :class:`CardOS` method as the handler of instruction ``ins`` for the given CLA bytes."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn._card_command = (ins, frozenset(cla))  # type: ignore[attr-defined]
        return fn

    return mark


def make_atr(historical: bytes) -> bytes:
    """An ISO/IEC 7816-3 ATR offering T=0 and T=1 with the given historical bytes (≤ 15)."""
    if len(historical) > 15:
        raise ValueError("an ATR carries at most 15 historical bytes")
    body = bytes((0x80 | len(historical), 0x80, 0x01)) + historical  # T0, TD1 (T=0, TD2 follows), TD2 (T=1)
    tck = 0
    for byte in body:
        tck ^= byte
    return b"\x3b" + body + bytes((tck,))


class CardOS:
    """Base class of simulated cards: dispatch, faults, power, persistence. See the module docstring."""

    card_type: ClassVar[str] = "generic"
    eeprom_size: ClassVar[int] = 32768
    atr_bytes: ClassVar[bytes] = make_atr(b"\x80\x5fSIM")
    commands: ClassVar[Mapping[int, Command]] = MappingProxyType({})
    _classes: ClassVar[frozenset[int]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = dict(cls.commands)
        for attr, value in vars(cls).items():
            spec = getattr(value, "_card_command", None)
            if spec is not None:
                ins, classes = spec
                table[ins] = Command(ins, attr, classes)
        cls.commands = MappingProxyType(table)
        cls._classes = frozenset().union(*(c.classes for c in table.values()))

    def __init__(self, state_path: Path | str | None = None, *, image: bytes | None = None) -> None:
        """A card saved in ``state_path`` (None: in memory only). A missing file means a blank card;
        ``image`` (a copy of :meth:`image`) starts the card from a snapshot instead."""
        self.state_path = Path(state_path) if state_path is not None else None
        self.faults = Faults()
        self._powered = False
        if image is not None:
            self.eeprom = Eeprom(self.eeprom_size, self.faults, image)
            self.eeprom.dirty = True
            self._persist()
        elif self.state_path is not None and self.state_path.exists():
            image = load_state(self.state_path, self.card_type, self.eeprom_size)
            self.eeprom = Eeprom(self.eeprom_size, self.faults, image)
        else:
            self.eeprom = Eeprom(self.eeprom_size, self.faults)
            self.format()
            self.eeprom.dirty = True
            self._persist()
        self.clear_session()

    def image(self) -> bytes:
        """The whole EEPROM as it is now."""
        return self.eeprom.image()

    # -- hooks for card types ------------------------------------------------------------------
    def format(self) -> None:
        """Lay out a blank card in ``self.eeprom`` (called once, when no state file exists)."""

    def recover(self) -> None:
        """Finish or roll back a transaction interrupted by power loss (called at every power-on)."""

    def clear_session(self) -> None:
        """Forget volatile (RAM) state: selected file, authentication, challenges."""

    # -- the in-process card protocol --------------------------------------------------------------
    @property
    def powered(self) -> bool:
        return self._powered

    def atr(self) -> bytes:
        return WRONG_ATR if self.faults.wrong_atr else self.atr_bytes

    def power_on(self) -> bytes:
        """Power the contacts: recover interrupted transactions, start a fresh session; return the ATR."""
        self._powered = True
        self.clear_session()
        try:
            self.recover()
        except PowerLoss:  # a tear fault armed across power-on fires during recovery, like a real card
            self._lose_power()
            raise CardTorn("the card lost power while recovering; power it on again") from None
        finally:
            self._persist()
        return self.atr()

    def power_off(self) -> None:
        self._powered = False
        self.clear_session()

    def warm_reset(self) -> bytes:
        """ISO warm reset (what a reader's RESET does): session cleared, faults kept."""
        self.power_off()
        return self.power_on()

    def reset(self) -> None:
        """Simulator reset: every fault switch off, then a power cycle. EEPROM contents are kept."""
        self.faults.clear()
        self.warm_reset()

    def execute(self, apdu: CommandApdu) -> ResponseApdu:
        if self.faults.slow:
            time.sleep(self.faults.slow)
        if self.faults.mute:
            raise CardNotAnswering("the card does not answer (mute); remove and reinsert it")
        if not self._powered:
            raise CardNotAnswering("the card is not powered; power it on (reinsert it)")
        try:
            response = self.dispatch(apdu)
        except CardStatusError as exc:
            log.debug("%s INS %02X -> %04X %s", self.card_type, apdu.ins, exc.sw, exc.reason)
            response = ResponseApdu.status(exc.sw)
        except PowerLoss:
            self._lose_power()
            self._persist()
            raise CardTorn(
                "the card lost power during a write; reinsert it: it reads as before or after the write"
            ) from None
        except Exception:  # a bug in a card type: answer as a real card does, and say where
            log.exception("%s INS %02X failed inside the simulator", self.card_type, apdu.ins)
            response = ResponseApdu.status(StatusWord.NO_PRECISE_DIAGNOSIS)
        self._persist()
        return response

    def process(self, raw: bytes) -> bytes:
        """Bytes in, bytes out (what the vpcd bridge calls); a malformed command gets 6700."""
        try:
            apdu = CommandApdu.from_bytes(raw)
        except ApduFormatError:
            if self.faults.mute or not self._powered:
                raise CardNotAnswering("the card does not answer") from None
            return ResponseApdu.status(StatusWord.WRONG_LENGTH).to_bytes()
        return self.execute(apdu).to_bytes()

    # -- internals -------------------------------------------------------------------------------
    def dispatch(self, apdu: CommandApdu) -> ResponseApdu:
        """Route one command through the INS table (override to add secure messaging around it)."""
        if apdu.cla not in self._classes:
            raise CardStatusError(StatusWord.CLA_NOT_SUPPORTED, f"CLA {apdu.cla:02X}")
        entry = self.commands.get(apdu.ins)
        if entry is None:
            raise CardStatusError(StatusWord.INS_NOT_SUPPORTED, f"INS {apdu.ins:02X}")
        if apdu.cla not in entry.classes:
            raise CardStatusError(StatusWord.CLA_NOT_SUPPORTED, f"CLA {apdu.cla:02X} for INS {apdu.ins:02X}")
        result = getattr(self, entry.method)(apdu)
        if result is None:
            return ResponseApdu(b"", StatusWord.SUCCESS)
        if isinstance(result, ResponseApdu):
            return result
        data = bytes(result)
        if apdu.ne is not None and len(data) > apdu.ne:
            raise CardStatusError(0x6C00 | (len(data) & 0xFF), "response longer than Le")
        return ResponseApdu(data, StatusWord.SUCCESS)

    def _lose_power(self) -> None:
        self._powered = False
        self.clear_session()

    def _persist(self) -> None:
        if self.eeprom.dirty and self.state_path is not None:
            save_state(self.state_path, self.card_type, self.eeprom.image())
        self.eeprom.dirty = False
