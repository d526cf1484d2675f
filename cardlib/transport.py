"""One interface to a card, whatever carries the bytes: a PC/SC reader or an in-process card.

A transport is chosen by one config string and resolved by :func:`open_transport`:

* ``pcsc:<reader name or index>`` — a reader through pcscd and pyscard (:mod:`cardlib.pcsc`);
* ``direct:<card name>`` — a card object registered in this process (:mod:`cardlib.direct`).

:meth:`Transport.transmit` resolves the T=0 conventions every backend may meet: ``61xx`` (more data:
GET RESPONSE until done) and ``6Cxx`` (wrong Le: resend with Le = xx), so callers only see final
answers. Card events (inserted/removed) reach listeners added with :meth:`Transport.add_listener`;
:meth:`Transport.wait_for_card` and :meth:`Transport.wait_for_removal` block for them.
"""

from __future__ import annotations

import importlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from enum import Enum
from types import TracebackType
from typing import ClassVar

from cardlib.apdu import ApduFormatError, CommandApdu, ResponseApdu
from cardlib.errors import TransportConfigError, TransportError

INS_GET_RESPONSE = 0xC0
# A card that keeps answering 61xx past this much data is broken; stop instead of looping forever.
MAX_CHAINED_RESPONSE = 65536 + 256


class CardEvent(Enum):
    INSERTED = "inserted"
    REMOVED = "removed"


CardListener = Callable[[CardEvent], None]


class Transport(ABC):
    """A connection to the card in one reader (or one in-process card slot).

    Life cycle: ``open_transport(config)`` → ``connect()`` (power the card, read its ATR) →
    ``transmit(...)`` … → ``disconnect()``. A transport can connect again after the card was pulled
    and reinserted. Also usable as a context manager (connects on entry, disconnects on exit).
    """

    scheme: ClassVar[str]

    def __init__(self) -> None:
        self._listeners: list[CardListener] = []
        self._listeners_lock = threading.Lock()

    # -- identity and state ------------------------------------------------------------------------
    @property
    @abstractmethod
    def reader_name(self) -> str:
        """The reader (or slot) name, as it appears in the config string."""

    @property
    @abstractmethod
    def atr(self) -> bytes:
        """ATR of the connected card; raises TransportError when not connected."""

    @property
    @abstractmethod
    def connected(self) -> bool: ...

    @property
    def config(self) -> str:
        return f"{self.scheme}:{self.reader_name}"

    @abstractmethod
    def card_present(self) -> bool:
        """Whether a card sits in the reader now (connected or not)."""

    # -- connection --------------------------------------------------------------------------------
    @abstractmethod
    def connect(self) -> None:
        """Power the card and read its ATR. Raises NoCardError when the reader is empty."""

    @abstractmethod
    def disconnect(self) -> None:
        """Release the card (powering it down). Safe to call twice or after the card was pulled."""

    @abstractmethod
    def transmit_raw(self, raw: bytes) -> bytes:
        """One exchange of bytes with the card, with no T=0 handling.

        Raises CardRemovedError if the card left, CardMuteError on timeout, TransportError otherwise.
        """

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Exclusive access: no other client talks to the card inside this ``with`` block."""

    def close(self) -> None:
        """Disconnect and stop watching for card events."""
        with self._listeners_lock:
            self._listeners.clear()
        self._listeners_changed()
        self.disconnect()

    def __enter__(self) -> Transport:
        self.connect()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.disconnect()

    # -- APDUs ---------------------------------------------------------------------------------------
    def transmit(self, command: CommandApdu) -> ResponseApdu:
        """Send one command; return the final response, with 61xx/6Cxx resolved."""
        response = self._exchange(command)
        if response.sw1 != 0x61:
            return response
        data = bytearray(response.data)
        while response.sw1 == 0x61:
            # GET RESPONSE keeps the logical-channel bits of the command that produced the data.
            get_response = CommandApdu(command.cla & 0x03, INS_GET_RESPONSE, 0, 0, ne=response.sw2 or 256)
            response = self._exchange(get_response)
            data += response.data
            if len(data) > MAX_CHAINED_RESPONSE:
                raise TransportError(
                    f"card in {self.reader_name!r} kept answering 61xx past {MAX_CHAINED_RESPONSE} bytes; "
                    "remove and reinsert the card"
                )
        return ResponseApdu(bytes(data), response.sw)

    def _exchange(self, command: CommandApdu) -> ResponseApdu:
        response = self._parse(self.transmit_raw(command.to_bytes()))
        if response.sw1 == 0x6C:
            # The card told us how many bytes it has: resend once with exactly that Le.
            response = self._parse(self.transmit_raw(command.with_ne(response.sw2 or 256).to_bytes()))
        return response

    def _parse(self, raw: bytes) -> ResponseApdu:
        try:
            return ResponseApdu.from_bytes(raw)
        except ApduFormatError as exc:
            raise TransportError(
                f"reader {self.reader_name!r} returned {len(raw)} bytes, not a response; "
                "remove and reinsert the card"
            ) from exc

    # -- events --------------------------------------------------------------------------------------
    def add_listener(self, listener: CardListener) -> None:
        """Call ``listener(CardEvent)`` on each insertion/removal (on a background thread for pcsc)."""
        with self._listeners_lock:
            self._listeners.append(listener)
        self._listeners_changed()

    def remove_listener(self, listener: CardListener) -> None:
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
        self._listeners_changed()

    @property
    def has_listeners(self) -> bool:
        with self._listeners_lock:
            return bool(self._listeners)

    @abstractmethod
    def _listeners_changed(self) -> None:
        """Hook: backends start or stop watching the reader when listeners come and go."""

    def _emit(self, event: CardEvent) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event)

    @abstractmethod
    def wait_for_card(self, timeout: float | None = None) -> bool:
        """Block until a card is present; False when ``timeout`` seconds passed first."""

    @abstractmethod
    def wait_for_removal(self, timeout: float | None = None) -> bool:
        """Block until the reader is empty; False when ``timeout`` seconds passed first."""


# -- registry ------------------------------------------------------------------------------------------
TransportFactory = Callable[[str], Transport]

_FACTORIES: dict[str, TransportFactory] = {}
# Built-in backends are imported on first use: `pcsc` needs pyscard and libpcsclite, `direct` nothing.
_BUILTIN_MODULES = {"pcsc": "cardlib.pcsc", "direct": "cardlib.direct"}
_FORMS = {"pcsc": "pcsc:<reader name or index>", "direct": "direct:<card name>"}


def register_backend(scheme: str, factory: TransportFactory, form: str | None = None) -> None:
    """Make ``<scheme>:<argument>`` resolve to ``factory(argument)``."""
    _FACTORIES[scheme] = factory
    _FORMS.setdefault(scheme, form or f"{scheme}:<argument>")


def valid_forms() -> list[str]:
    return [_FORMS[scheme] for scheme in sorted(set(_FORMS) | set(_FACTORIES))]


def open_transport(config: str) -> Transport:
    """Resolve a config string such as ``pcsc:0`` or ``direct:family`` to a transport (not connected).

    Raises TransportConfigError for an unknown scheme, ReaderNotFoundError for an unknown reader;
    both messages list the valid choices.
    """
    scheme, sep, argument = config.partition(":")
    scheme = scheme.strip().lower()
    if scheme not in _FACTORIES and scheme in _BUILTIN_MODULES:
        importlib.import_module(_BUILTIN_MODULES[scheme])
    factory = _FACTORIES.get(scheme)
    if not sep or factory is None:
        raise TransportConfigError(
            f"card reader setting {config!r} is not understood; use one of: {', '.join(valid_forms())}"
        )
    return factory(argument.strip())
