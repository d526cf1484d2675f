"""The ``pcsc:<reader name or index>`` transport: a reader through pcscd, using pyscard's ``scard`` layer.

The low-level API is used (not pyscard's ``CardMonitor``/``ReaderMonitor`` singletons) so that each
transport owns its PC/SC contexts, survives a pcscd restart, and can tell a pulled card from other
failures:

* a command that fails because the card left (``SCARD_E_NOT_TRANSACTED`` right away, then
  ``SCARD_W_REMOVED_CARD`` once pcscd's poll notices) raises :class:`CardRemovedError`;
* an empty answer or ``SCARD_W_UNRESPONSIVE_CARD`` raises :class:`CardMuteError`;
* ``connect()`` after a reinsertion opens a fresh handle (``SCardReconnect`` would not power the card).

Which pcscd: libpcsclite takes the socket from ``PCSCLITE_CSOCK_NAME`` when the process first talks
to PC/SC, so that variable must be set before the first transport is opened.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from smartcard import scard

from cardlib.errors import (
    CardMuteError,
    CardRemovedError,
    NoCardError,
    ReaderNotFoundError,
    TransportError,
)
from cardlib.transport import CardEvent, Transport, register_backend

# How long a failed command waits for pcscd to confirm that the card left (its poll is ~0.4 s).
# pcscd polls a reader every 0.4 s; on a loaded machine it may take a few polls to notice.
REMOVAL_CONFIRM_S = 2.0
_MONITOR_POLL_MS = 500

_REMOVED = {scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD}
_COMM_FAILURE = {scard.SCARD_E_NOT_TRANSACTED, scard.SCARD_F_COMM_ERROR, scard.SCARD_E_COMM_DATA_LOST}
_MUTE = {scard.SCARD_W_UNRESPONSIVE_CARD, scard.SCARD_W_UNPOWERED_CARD, scard.SCARD_E_TIMEOUT}
_NO_READER = {scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE}
_NO_SERVICE = {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED}

_NO_SERVICE_ADVICE = (
    "the PC/SC service (pcscd) is not running; start it (systemctl start pcscd), or start simulated "
    "readers with `python -m simulators pcscd` and set PCSCLITE_CSOCK_NAME as it prints"
)


def _text(code: int) -> str:
    return f"{scard.SCardGetErrorMessage(code).rstrip('.')} ({code & 0xFFFFFFFF:08X})"


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    """Call a pyscard function; its wrapper raises SystemError on a handle pcscd already dropped."""
    try:
        return fn(*args)
    except SystemError as exc:
        raise TransportError(f"PC/SC call {fn.__name__} failed inside pyscard ({exc}); connect again") from exc


def _establish() -> int:
    hr, context = _call(scard.SCardEstablishContext, scard.SCARD_SCOPE_USER)
    if hr in _NO_SERVICE:
        raise TransportError(_NO_SERVICE_ADVICE)
    if hr != scard.SCARD_S_SUCCESS:
        raise TransportError(f"cannot reach PC/SC: {_text(hr)}; check pcscd")
    return context


@contextmanager
def _context() -> Iterator[int]:
    context = _establish()
    try:
        yield context
    finally:
        scard.SCardReleaseContext(context)


def list_readers() -> list[str]:
    """Names of the readers pcscd knows now, in its order (the index used by ``pcsc:<index>``)."""
    with _context() as context:
        hr, readers = _call(scard.SCardListReaders, context, [])
    if hr == scard.SCARD_E_NO_READERS_AVAILABLE:
        return []
    if hr in _NO_SERVICE:
        raise TransportError(_NO_SERVICE_ADVICE)
    if hr != scard.SCARD_S_SUCCESS:
        raise TransportError(f"cannot list PC/SC readers: {_text(hr)}")
    return list(readers)


def resolve_reader(spec: str, readers: list[str]) -> str:
    """The reader named by ``spec``: an index, an exact name, or a unique part of one (any case)."""
    listing = "; ".join(f"{i}: {name}" for i, name in enumerate(readers)) or "no readers connected"
    if spec.isdigit():
        index = int(spec)
        if index < len(readers):
            return readers[index]
        raise ReaderNotFoundError(f"no PC/SC reader with index {index}; readers present: {listing}")
    if spec in readers:
        return spec
    matches = [name for name in readers if spec and spec.lower() in name.lower()]
    if len(matches) == 1:
        return matches[0]
    what = "several PC/SC readers match" if matches else "no PC/SC reader matches"
    raise ReaderNotFoundError(
        f"{what} {spec!r}; use pcsc:<index> or pcsc:<name> with one of: {listing} "
        "(plug the reader in, or check its name with `opensc-tool -l`)"
    )


class PcscTransport(Transport):
    scheme = "pcsc"

    def __init__(self, reader: str) -> None:
        super().__init__()
        self._reader = reader
        self._lock = threading.RLock()  # a PC/SC context must not be used by two threads at once
        self._context: int | None = None
        self._handle: int | None = None
        self._protocol = 0
        self._atr = b""
        self._monitor: threading.Thread | None = None
        self._monitor_stop = threading.Event()

    @classmethod
    def open(cls, spec: str) -> PcscTransport:
        return cls(resolve_reader(spec, list_readers()))

    @property
    def reader_name(self) -> str:
        return self._reader

    @property
    def atr(self) -> bytes:
        if self._handle is None:
            raise TransportError(f"not connected to the card in {self._reader!r}; call connect() first")
        return self._atr

    @property
    def connected(self) -> bool:
        return self._handle is not None

    # -- connection ----------------------------------------------------------------------------------
    def _ctx(self) -> int:
        if self._context is None:
            self._context = _establish()
        return self._context

    def connect(self) -> None:
        with self._lock:
            self._drop_handle(scard.SCARD_LEAVE_CARD)
            hr, handle, protocol = _call(
                scard.SCardConnect,
                self._ctx(),
                self._reader,
                scard.SCARD_SHARE_SHARED,
                scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
            )
            if hr != scard.SCARD_S_SUCCESS:
                raise self._error(hr, "connecting to the card")
            self._handle, self._protocol = handle, protocol
            hr, _name, _state, _protocol, atr = _call(scard.SCardStatus, handle)
            if hr != scard.SCARD_S_SUCCESS:
                self._drop_handle(scard.SCARD_LEAVE_CARD)
                raise self._error(hr, "reading the card's ATR")
            self._atr = bytes(atr)

    def disconnect(self) -> None:
        with self._lock:
            # Reset, so that no authenticated session stays open for the next application.
            self._drop_handle(scard.SCARD_RESET_CARD)

    def close(self) -> None:
        super().close()
        with self._lock:
            if self._context is not None:
                scard.SCardReleaseContext(self._context)
                self._context = None

    def _drop_handle(self, disposition: int) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            # pyscard raises SystemError when pcscd already forgot the handle (card pulled, restart).
            with contextlib.suppress(SystemError):
                scard.SCardDisconnect(handle, disposition)

    def card_present(self) -> bool:
        with _context() as context:
            state = self._state(context)
        return bool(state & scard.SCARD_STATE_PRESENT)

    # -- APDUs ---------------------------------------------------------------------------------------
    def transmit_raw(self, raw: bytes) -> bytes:
        with self._lock:
            if self._handle is None:
                raise TransportError(f"not connected to the card in {self._reader!r}; call connect() first")
            hr, response = _call(scard.SCardTransmit, self._handle, self._protocol, list(raw))
            if hr == scard.SCARD_S_SUCCESS:
                if not response:
                    # Leave the card as it is: a reset on disconnect would fail on a link the reader
                    # just dropped, and pcscd then reports the slot empty until the card is pulled.
                    self._drop_handle(scard.SCARD_LEAVE_CARD)
                    raise CardMuteError(
                        f"the card in {self._reader!r} did not answer; remove and reinsert it"
                    )
                return bytes(response)
            if hr in _COMM_FAILURE:
                if self._card_left():
                    hr = scard.SCARD_W_REMOVED_CARD
                else:
                    # The reader gave up waiting for an answer while the card stayed in it.
                    self._drop_handle(scard.SCARD_LEAVE_CARD)
                    raise CardMuteError(
                        f"the card in {self._reader!r} does not answer ({_text(hr)}); "
                        "connect again, or reinsert it"
                    )
            raise self._error(hr, "sending a command")

    def _card_left(self) -> bool:
        """After a failed exchange: did the card leave? pcscd needs up to one poll to notice."""
        deadline = time.monotonic() + REMOVAL_CONFIRM_S
        while True:
            hr = _call(scard.SCardStatus, self._handle)[0]
            if hr in _REMOVED or hr == scard.SCARD_E_INVALID_HANDLE:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.03)

    def _error(self, hr: int, doing: str) -> Exception:
        reader = self._reader
        if hr in _REMOVED:
            self._drop_handle(scard.SCARD_LEAVE_CARD)
            if doing.startswith("connecting"):
                return NoCardError(f"no card in {reader!r}; insert the card and try again")
            return CardRemovedError(
                f"the card was removed from {reader!r} while {doing}; reinsert it and connect again "
                "(a write in progress is rolled back by the card)"
            )
        if hr in _MUTE:
            return CardMuteError(f"the card in {reader!r} does not answer ({_text(hr)}); reinsert it")
        if hr in _NO_READER:
            self._drop_handle(scard.SCARD_LEAVE_CARD)
            return ReaderNotFoundError(f"reader {reader!r} is gone ({_text(hr)}); plug it in again")
        if hr in _NO_SERVICE:
            self._drop_handle(scard.SCARD_LEAVE_CARD)
            self._context = None
            return TransportError(_NO_SERVICE_ADVICE)
        if hr == scard.SCARD_W_RESET_CARD:
            self._drop_handle(scard.SCARD_LEAVE_CARD)
            return TransportError(
                f"another application reset the card in {reader!r}; connect again and repeat the step"
            )
        if hr == scard.SCARD_E_SHARING_VIOLATION:
            return TransportError(f"another application holds the card in {reader!r} exclusively; close it")
        return TransportError(f"PC/SC error while {doing} with {reader!r}: {_text(hr)}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._handle is None:
                raise TransportError(f"not connected to the card in {self._reader!r}; call connect() first")
            hr = _call(scard.SCardBeginTransaction, self._handle)
            if hr != scard.SCARD_S_SUCCESS:
                raise self._error(hr, "starting an exclusive transaction")
            try:
                yield
            finally:
                if self._handle is not None:
                    _call(scard.SCardEndTransaction, self._handle, scard.SCARD_LEAVE_CARD)

    # -- events ---------------------------------------------------------------------------------------
    def _state(self, context: int, known: int = scard.SCARD_STATE_UNAWARE, timeout_ms: int = 0) -> int:
        """Reader state flags (SCARD_STATE_*); with ``known`` and a timeout, waits for a change."""
        hr, states = _call(scard.SCardGetStatusChange, context, timeout_ms, [(self._reader, known)])
        if hr == scard.SCARD_E_TIMEOUT:
            return known
        if hr != scard.SCARD_S_SUCCESS:
            raise self._error(hr, "watching the reader")
        state = states[0][1]
        if state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
            raise ReaderNotFoundError(f"reader {self._reader!r} is gone; plug it in again")
        return state

    def _wait(self, want_present: bool, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with _context() as context:
            state = self._state(context)
            while bool(state & scard.SCARD_STATE_PRESENT) != want_present:
                remaining = _MONITOR_POLL_MS if deadline is None else int((deadline - time.monotonic()) * 1000)
                if remaining <= 0:
                    return False
                state = self._state(context, state & ~scard.SCARD_STATE_CHANGED, min(remaining, 60_000))
            return True

    def wait_for_card(self, timeout: float | None = None) -> bool:
        return self._wait(True, timeout)

    def wait_for_removal(self, timeout: float | None = None) -> bool:
        return self._wait(False, timeout)

    def _listeners_changed(self) -> None:
        if self.has_listeners and (self._monitor is None or not self._monitor.is_alive()):
            self._monitor_stop.clear()
            self._monitor = threading.Thread(
                target=self._watch, name=f"pcsc-events {self._reader}", daemon=True
            )
            self._monitor.start()
        elif not self.has_listeners and self._monitor is not None:
            self._monitor_stop.set()
            if self._monitor is not threading.current_thread():
                self._monitor.join(2 * _MONITOR_POLL_MS / 1000)
            self._monitor = None

    def _watch(self) -> None:
        """Emit INSERTED/REMOVED as pcscd reports them; the high 16 bits count events, so a quick
        remove-and-reinsert between two polls still gives both events."""
        context: int | None = None
        state = scard.SCARD_STATE_UNAWARE
        while not self._monitor_stop.is_set():
            try:
                if context is None:
                    context = _establish()
                    state = self._state(context)
                new = self._state(context, state & ~scard.SCARD_STATE_CHANGED, _MONITOR_POLL_MS)
            except (TransportError, ReaderNotFoundError):
                # pcscd restarted or the reader is unplugged: start over with a new context.
                if context is not None:
                    scard.SCardReleaseContext(context)
                context = None
                self._monitor_stop.wait(_MONITOR_POLL_MS / 1000)
                continue
            was_present = bool(state & scard.SCARD_STATE_PRESENT)
            is_present = bool(new & scard.SCARD_STATE_PRESENT)
            events = ((new >> 16) - (state >> 16)) & 0xFFFF
            if was_present and (not is_present or events >= 2):
                self._emit(CardEvent.REMOVED)
            if is_present and (not was_present or events >= 2):
                self._emit(CardEvent.INSERTED)
            state = new
        if context is not None:
            scard.SCardReleaseContext(context)


register_backend("pcsc", PcscTransport.open, "pcsc:<reader name or index>")
