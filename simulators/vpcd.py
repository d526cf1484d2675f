"""The vpcd bridge: puts an in-process card object into a vsmartcard ``vpcd`` virtual reader.

vpcd is a pcscd reader driver that listens on TCP (one port per reader); the card side is a TCP
*client*. Inserting the card = connecting, removing it = closing the connection. Frames are a 2-byte
big-endian length and a payload; a 1-byte payload is a control message (``00`` power off, ``01``
power on, ``02`` reset, ``04`` get ATR — answered with the ATR), anything longer is a command APDU
answered with the response APDU from ``card.process(raw)``.

Latency: Debian's vpcd acknowledges late (delayed ACK), which costs ~44 ms per APDU. Setting
``TCP_NODELAY`` and re-arming ``TCP_QUICKACK`` before every ``recv`` (quick-ack is cleared by the
kernel after use) brings it under a millisecond. ``quickack=False`` keeps the slow path for the
benchmark baseline.

Security: vpcd listens on all interfaces; never install it on a field station.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from typing import Protocol

from cardlib.errors import CardMuteError, CardRemovedError

log = logging.getLogger(__name__)

CTRL_POWER_OFF = 0x00
CTRL_POWER_ON = 0x01
CTRL_RESET = 0x02
CTRL_GET_ATR = 0x04

_LENGTH = struct.Struct(">H")


class BridgedCard(Protocol):
    """What the bridge needs of a card (a subset of ``cardlib.direct.CardObject``)."""

    def atr(self) -> bytes: ...

    def power_on(self) -> object: ...

    def power_off(self) -> None: ...

    def process(self, raw: bytes) -> bytes: ...


class VpcdError(Exception):
    """The bridge could not reach the vpcd reader (pcscd not running, wrong port)."""


class VpcdBridge:
    """Feeds ``card`` to the vpcd reader on ``host:port``.

    ``insert()`` connects and serves in a background thread; ``remove()`` closes the connection
    (the reader sees the card leave). ``serve_forever()`` does the same in the foreground. With
    ``reconnect=True`` the card reinserts itself when pcscd drops the connection (pcscd restart).
    """

    def __init__(
        self,
        card: BridgedCard,
        port: int,
        host: str = "127.0.0.1",
        *,
        quickack: bool = True,
        reconnect: bool = True,
        connect_timeout: float = 10.0,
        mute_timeout: float = 1.0,
        reinsert_delay: float = 1.0,
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self.quickack = quickack
        self.reconnect = reconnect
        self.connect_timeout = connect_timeout
        self.mute_timeout = mute_timeout
        self.reinsert_delay = reinsert_delay
        self._reattach_now = False
        self.apdus = 0  # command APDUs answered since creation
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._lock = threading.Lock()

    # -- public API --------------------------------------------------------------------------------
    @property
    def inserted(self) -> bool:
        return self._connected.is_set()

    def insert(self, wait: bool = True) -> None:
        """Connect to vpcd and serve in a background thread; ``wait`` blocks until connected."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError(f"card already inserted into vpcd port {self.port}")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"vpcd-{self.port}", daemon=True)
        self._thread.start()
        if wait and not self._connected.wait(self.connect_timeout):
            self.remove()
            raise VpcdError(
                f"no vpcd reader listening on {self.host}:{self.port}; start pcscd with vpcd "
                "(python -m simulators pcscd) and use a port it printed"
            )

    def remove(self) -> None:
        """Pull the card: close the connection and stop serving."""
        self._stop.set()
        self._close()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`remove` is called from elsewhere."""
        self._stop.clear()
        self._run()

    # -- internals ---------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            sock = self._connect()
            if sock is None:
                return
            try:
                self._serve(sock)
            except OSError as exc:
                if not self._stop.is_set():
                    log.info("vpcd port %d: connection lost (%s)", self.port, exc)
            finally:
                self._close()
            if self._reattach_now:
                # A mute card never left the reader: re-attach even when pcscd restarts would not.
                self._reattach_now = False
                continue
            if not self.reconnect:
                return
            # Stay out long enough for pcscd's poll (~0.4 s) to see the card leave, as a person would.
            self._stop.wait(self.reinsert_delay)

    def _connect(self) -> socket.socket | None:
        deadline = time.monotonic() + self.connect_timeout
        delay = 0.02
        while not self._stop.is_set():
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                sock.connect((self.host, self.port))
            except OSError:
                sock.close()
                if time.monotonic() > deadline and not self.reconnect:
                    return None
                self._stop.wait(delay)
                delay = min(delay * 2, 0.5)
                continue
            with self._lock:
                if self._stop.is_set():
                    sock.close()
                    return None
                self._sock = sock
            self._connected.set()
            return sock
        return None

    def _close(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
            self._connected.clear()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _serve(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            header = self._recv_exact(sock, 2)
            if header is None:
                return
            (length,) = _LENGTH.unpack(header)
            payload = self._recv_exact(sock, length)
            if payload is None:
                return
            answer = self._answer(payload)
            if answer is not None:
                sock.sendall(_LENGTH.pack(len(answer)) + answer)

    def _answer(self, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            control = payload[0]
            if control == CTRL_GET_ATR:
                return bytes(self.card.atr())
            try:
                if control == CTRL_POWER_OFF:
                    self.card.power_off()
                elif control in (CTRL_POWER_ON, CTRL_RESET):
                    if control == CTRL_RESET:
                        self.card.power_off()
                    self.card.power_on()
                else:
                    log.warning("vpcd port %d: unknown control byte %02X ignored", self.port, control)
            except CardRemovedError:
                log.info("vpcd port %d: card lost power during power-on", self.port)
            return None
        try:
            response = bytes(self.card.process(payload))
        except CardMuteError:
            # vpcd never times out and an empty answer stalls it for seconds. Act as a reader's
            # firmware does on a mute card: wait the block-waiting time, then fail the exchange (vpcd
            # reports a communication error to pcscd). The card stays in the reader: re-attach at once.
            self._stop.wait(self.mute_timeout)
            self._reattach_now = True
            raise ConnectionAbortedError("card mute") from None
        except CardRemovedError:
            # The card tore: a real card leaves nothing on the wire; model it as being pulled.
            log.info("vpcd port %d: card torn, removing it", self.port)
            raise ConnectionAbortedError("card torn") from None
        self.apdus += 1
        return response

    def _recv_exact(self, sock: socket.socket, n: int) -> bytes | None:
        chunks = bytearray()
        while len(chunks) < n:
            if self.quickack:
                # The kernel clears quick-ack after use; without it vpcd waits ~40 ms for our ACK.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            chunk = sock.recv(n - len(chunks))
            if not chunk:
                return None
            chunks += chunk
        return bytes(chunks)
