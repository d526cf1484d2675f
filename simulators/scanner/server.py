"""Serve a simulated ZFM module on a pseudo-terminal, reachable through a stable symlink.

``ScannerSimulator(link, bank).start()`` creates a pty pair, points ``link`` at the device side and
answers the ZFM protocol on the controller side from a background thread. ``unplug()`` closes the pty
(the host's open port starts failing with EIO, like a pulled USB-serial adapter) and removes the link;
``replug()`` makes a fresh pty and points the link at it again. All pty file-descriptor work happens on
the serving thread, so a descriptor is never closed under a read.
"""

from __future__ import annotations

import contextlib
import os
import pty
import queue
import select
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from biometrics.scanner_errors import ChecksumError
from biometrics.zfm.codes import Confirmation, PacketType
from biometrics.zfm.packets import Packet, PacketParser, encode
from simulators.scanner.glass import Glass
from simulators.scanner.module import ZfmModule

T = TypeVar("T")
WRITE_TIMEOUT = 5.0  # give up a reply nobody reads (host gone mid-upload) after this long
# What the ``garbage`` fault sends ahead of a reply: a modem probe (ModemManager's "AT"), stray high
# bytes, and a false frame start (the 0xEF01 header with a bogus address and length) that a client
# must not mistake for a reply.
LINE_NOISE = b"AT\r\n\x00\xff\xfe\xef\x01\x12\x34\xef\x01\xff"


class ScannerSimulator:
    def __init__(self, link: Path | str, bank: Path | str | None = None, glass: Glass | None = None) -> None:
        self.link = Path(link)
        self.bank = Path(bank) if bank is not None else None
        if self.bank is not None:
            self.bank.mkdir(parents=True, exist_ok=True)
        self.glass = glass or Glass(image_dir=self.bank)
        self.module = ZfmModule(self.glass, self.bank)
        self.replies = 0  # packets answered, for tests and status
        self._master: int | None = None
        self._slave: int | None = None
        self._parser = PacketParser()
        self._calls: queue.Queue[tuple[Callable[[], object], list, threading.Event]] = queue.Queue()
        self._wake_r, self._wake_w = os.pipe()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> ScannerSimulator:
        self._plug()
        self._thread = threading.Thread(target=self._serve, name=f"zfm-sim {self.link.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            os.write(self._wake_w, b"x")
            self._thread.join(timeout=5)
            self._thread = None
        self._unplug()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):  # already closed by an earlier stop()
                os.close(fd)
        self._wake_r = self._wake_w = -1

    def __enter__(self) -> ScannerSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def device_path(self) -> str | None:
        return os.ttyname(self._slave) if self._slave is not None else None

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def unplug(self) -> None:
        """Pull the cable: the host's port fails, the link disappears, the module loses its RAM."""
        self._in_loop(self._unplug)

    def replug(self) -> None:
        """Plug the module back in (a new pty behind the same link path)."""
        self._in_loop(self._plug)

    def reset(self, erase_flash: bool = False) -> None:
        """Nothing on the glass, no faults, module RAM cleared (flash too with ``erase_flash``)."""
        self.glass.reset()
        self._in_loop(lambda: self.module.reset(erase_flash))

    # --- pty handling (serving thread only, once started) -------------------------------------

    def _plug(self) -> None:
        if self._master is not None:
            return
        master, slave = pty.openpty()
        tty.setraw(slave)  # before any byte flows, or the line discipline echoes and mangles frames
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._parser = PacketParser()
        self.module.power_cycle()
        tmp = self.link.with_name(f".{self.link.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(slave))
        os.replace(tmp, self.link)  # atomic: the link never points nowhere while we swap it

    def _unplug(self) -> None:
        if self._master is None:
            return
        if self.link.is_symlink():
            self.link.unlink()
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        self.module.power_cycle()

    def _in_loop(self, fn: Callable[[], T]) -> T:
        if self._thread is None or threading.current_thread() is self._thread:
            return fn()
        result: list = []
        done = threading.Event()
        self._calls.put((fn, result, done))
        os.write(self._wake_w, b"x")
        if not done.wait(timeout=10):
            raise TimeoutError("the scanner simulator's serving thread did not respond")
        if isinstance(result[0], BaseException):
            raise result[0]
        return result[0]

    def _run_calls(self) -> None:
        while True:
            try:
                fn, result, done = self._calls.get_nowait()
            except queue.Empty:
                return
            try:
                result.append(fn())
            except Exception as exc:  # handed back to the calling thread, which re-raises it
                result.append(exc)
            done.set()

    def _serve(self) -> None:
        while not self._stop.is_set():
            fds = [self._wake_r] + ([self._master] if self._master is not None else [])
            ready, _, _ = select.select(fds, [], [], 0.5)
            if self._wake_r in ready:
                os.read(self._wake_r, 64)
                self._run_calls()
                continue
            if self._master is None or self._master not in ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except BlockingIOError:
                continue
            except OSError:
                continue  # EIO: no host has the port open right now
            self._parser.feed(data)
            self._answer_packets()
        self._run_calls()

    def _answer_packets(self) -> None:
        while True:
            try:
                packet = self._parser.next_packet()
            except ChecksumError:
                packet = None
                replies = [Packet(PacketType.ACK, bytes((Confirmation.PACKET_ERROR,)), self.module.address)]
            else:
                if packet is None:
                    return
                replies = self.module.receive(packet)
            if self.glass.faults.timeout or not replies:
                continue  # a hung module says nothing at all
            frames = [encode(p) for p in replies]
            if self.glass.take_corruption():
                first = bytearray(frames[0])
                first[-1] ^= 0x5A
                frames[0] = bytes(first)
            if self.glass.take_garbage():
                frames.insert(0, LINE_NOISE)
            self.replies += len(replies)
            self._write_all(b"".join(frames))

    def _write_all(self, data: bytes) -> None:
        view, deadline = memoryview(data), time.monotonic() + WRITE_TIMEOUT
        while view and self._master is not None and time.monotonic() < deadline:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                select.select([], [self._master], [], 0.05)
                continue
            except OSError:
                return  # host side went away mid-reply
            view = view[written:]
