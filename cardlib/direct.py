"""The ``direct:<name>`` transport: a card object in this process, no pcscd, no reader.

Each name is a *slot* that holds at most one card. :func:`register_card` inserts a card into a slot
(creating it), :func:`remove_card` pulls it out; transports bound to the slot see the same events and
errors as with a PC/SC reader. Bytes go through ``card.process(raw)``, so the APDU encoding is
exercised exactly as it is through pcscd.

A card object may simulate faults by raising, from ``process``:

* :class:`cardlib.errors.CardRemovedError` — the card lost power mid-command (tearing): the slot
  becomes empty and listeners get ``REMOVED``; :func:`register_card` the card again to reinsert it;
* :class:`cardlib.errors.CardMuteError` or :class:`TimeoutError` — the card did not answer.
"""

from __future__ import annotations

import itertools
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, runtime_checkable

from cardlib.apdu import CommandApdu, ResponseApdu
from cardlib.errors import CardMuteError, CardRemovedError, NoCardError, ReaderNotFoundError, TransportError
from cardlib.transport import CardEvent, Transport, register_backend


@runtime_checkable
class CardObject(Protocol):
    """What an in-process card offers (the simulators' card OS implements it)."""

    def atr(self) -> bytes: ...

    def power_on(self) -> None: ...

    def power_off(self) -> None: ...

    def reset(self) -> None: ...

    def execute(self, command: CommandApdu) -> ResponseApdu: ...

    def process(self, raw: bytes) -> bytes:
        """Parse ``raw`` as a command APDU, execute it, return the response bytes (6700 if malformed)."""
        ...


class _Slot:
    """One named place for a card; ``generation`` counts insertions so a reinserted card is new."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.card: CardObject | None = None
        self.generation = 0
        self.changed = threading.Condition(threading.RLock())
        self.exclusive = threading.RLock()
        self.watchers: weakref.WeakSet[DirectTransport] = weakref.WeakSet()


_slots: dict[str, _Slot] = {}
_slots_lock = threading.Lock()


def _slot(name: str, create: bool = False) -> _Slot:
    with _slots_lock:
        slot = _slots.get(name)
        if slot is None and create:
            slot = _slots[name] = _Slot(name)
    if slot is None:
        choices = ", ".join(f"direct:{n}" for n in registered_names()) or "none registered yet"
        raise ReaderNotFoundError(
            f"no in-process card slot named {name!r}; valid choices: {choices} "
            "(a simulator registers its card with cardlib.direct.register_card)"
        )
    return slot


def registered_names() -> list[str]:
    with _slots_lock:
        return sorted(_slots)


def register_card(name: str, card: CardObject) -> None:
    """Insert ``card`` into slot ``name`` (created if new). A card already there is removed first."""
    if not name or ":" in name:
        raise ValueError(f"card slot name {name!r} must be non-empty and contain no ':'")
    if not isinstance(card, CardObject):
        raise TypeError(f"{type(card).__name__} is not a card object (needs atr, power_on, ..., process)")
    slot = _slot(name, create=True)
    if slot.card is not None:
        _take_out(slot)
    with slot.changed:
        slot.card = card
        slot.generation += 1
        slot.changed.notify_all()
    _notify(slot, CardEvent.INSERTED)


def remove_card(name: str) -> CardObject:
    """Pull the card out of slot ``name`` and return it. Raises NoCardError if the slot is empty."""
    slot = _slot(name)
    card = _take_out(slot)
    if card is None:
        raise NoCardError(f"slot direct:{name} holds no card; nothing to remove")
    return card


def unregister(name: str) -> None:
    """Forget slot ``name`` (removing its card first). Unknown names are ignored."""
    with _slots_lock:
        slot = _slots.get(name)
    if slot is not None:
        _take_out(slot)
        with _slots_lock:
            _slots.pop(name, None)


def _take_out(slot: _Slot) -> CardObject | None:
    with slot.changed:
        card, slot.card = slot.card, None
        slot.changed.notify_all()
    if card is not None:
        _notify(slot, CardEvent.REMOVED)
    return card


def _notify(slot: _Slot, event: CardEvent) -> None:
    for transport in list(slot.watchers):
        transport._emit(event)


class DirectTransport(Transport):
    scheme = "direct"

    def __init__(self, name: str) -> None:
        super().__init__()
        self._slot = _slot(name)
        self._generation: int | None = None  # insertion we are connected to; None = not connected
        self._atr = b""

    @property
    def reader_name(self) -> str:
        return self._slot.name

    @property
    def atr(self) -> bytes:
        self._require_connection()
        return self._atr

    @property
    def connected(self) -> bool:
        return self._generation is not None

    def card_present(self) -> bool:
        return self._slot.card is not None

    def connect(self) -> None:
        with self._slot.changed:
            card = self._slot.card
            if card is None:
                raise NoCardError(f"no card in direct:{self.reader_name}; insert (register) a card first")
            card.power_on()
            self._atr = bytes(card.atr())
            self._generation = self._slot.generation

    def disconnect(self) -> None:
        with self._slot.changed:
            card = self._slot.card
            still_ours = self._generation is not None and self._generation == self._slot.generation
            self._generation = None
            if card is not None and still_ours:
                card.power_off()

    def transmit_raw(self, raw: bytes) -> bytes:
        with self._slot.exclusive:
            card = self._require_connection()
            try:
                return bytes(card.process(bytes(raw)))
            except CardRemovedError:
                # The card simulated losing power (tearing): it is out of the reader now.
                self._generation = None
                if self._slot.card is card:
                    _take_out(self._slot)
                raise
            except (CardMuteError, TimeoutError) as exc:
                raise CardMuteError(
                    f"card in direct:{self.reader_name} did not answer; remove and reinsert it"
                ) from exc

    def _require_connection(self) -> CardObject:
        card = self._slot.card
        if self._generation is None:
            raise TransportError(f"not connected to direct:{self.reader_name}; call connect() first")
        if card is None or self._generation != self._slot.generation:
            self._generation = None
            raise CardRemovedError(
                f"the card was removed from direct:{self.reader_name}; reinsert it and connect again"
            )
        return card

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._slot.exclusive:
            self._require_connection()
            yield

    def _listeners_changed(self) -> None:
        if self.has_listeners:
            self._slot.watchers.add(self)
        else:
            self._slot.watchers.discard(self)

    def _wait(self, done, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._slot.changed:
            while not done():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._slot.changed.wait(remaining)
            return True

    def wait_for_card(self, timeout: float | None = None) -> bool:
        return self._wait(lambda: self._slot.card is not None, timeout)

    def wait_for_removal(self, timeout: float | None = None) -> bool:
        return self._wait(lambda: self._slot.card is None, timeout)


register_backend("direct", DirectTransport, "direct:<card name>")

_own_slots = itertools.count()


@contextmanager
def inserted(card: CardObject, purpose: str) -> Iterator[Transport]:
    """A connected transport to ``card`` in a slot of its own while the block runs; the slot is gone
    afterwards. For using a card object once (personalise it, read it) with no reader to name."""
    name = f"{purpose}-{next(_own_slots)}"
    register_card(name, card)
    transport = DirectTransport(name)
    try:
        transport.connect()
        yield transport
    finally:
        transport.close()
        unregister(name)
