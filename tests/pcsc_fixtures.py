"""Fixtures for tests through the real PC/SC stack: one private pcscd with vpcd readers per session.

Loaded from ``tests/conftest.py`` (``pytest_plugins``). libpcsclite picks its socket from
``PCSCLITE_CSOCK_NAME`` the first time the process talks to PC/SC and keeps it, so this module sets
the variable at import, before any test can open a PC/SC context; the daemon itself starts only when
a test first asks for ``private_pcscd`` (tests skip when pcscd or vpcd is not installed).

Use ``pcsc_reader`` in a test: it hands out an empty virtual reader (round-robin over the session's
readers, so a reader that a previous test emptied has had time to settle) and pulls any card left
in it afterwards::

    def test_x(pcsc_reader):
        pcsc_reader.insert(card)              # a card object (cardlib.direct.CardObject)
        transport = open_transport(pcsc_reader.config)
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cardlib.transport import open_transport
from simulators.pcsc.runner import PcscdError, PcscdNotInstalled, PrivatePcscd, VirtualReader
from simulators.vpcd import BridgedCard, VpcdBridge

SESSION_READERS = 4

_session_dir = Path(tempfile.mkdtemp(prefix="pcsc-tests-"))
atexit.register(shutil.rmtree, _session_dir, ignore_errors=True)
SOCKET_PATH = _session_dir / "pcscd.comm"
# Must happen before the first PC/SC context of this process: see the module docstring.
os.environ["PCSCLITE_CSOCK_NAME"] = str(SOCKET_PATH)


@pytest.fixture(scope="session")
def private_pcscd() -> Iterator[PrivatePcscd]:
    """The session's pcscd (started on first use); skips when pcscd or vpcd is missing."""
    daemon = PrivatePcscd(_session_dir, SESSION_READERS, socket_path=SOCKET_PATH)
    try:
        daemon.start()
    except PcscdNotInstalled as exc:
        pytest.skip(str(exc))
    except PcscdError as exc:
        pytest.fail(f"private pcscd did not start: {exc}")
    if os.environ.get("PCSCLITE_CSOCK_NAME") != str(SOCKET_PATH):
        daemon.stop()
        pytest.fail("PCSCLITE_CSOCK_NAME was changed after tests/pcsc_fixtures.py set it")
    yield daemon
    daemon.stop()


class PcscReader:
    """One virtual reader of the session pcscd, with the card (if any) put into it by this test."""

    def __init__(self, reader: VirtualReader) -> None:
        self.reader = reader
        self.bridge: VpcdBridge | None = None

    @property
    def config(self) -> str:
        return f"pcsc:{self.reader.name}"

    @property
    def port(self) -> int:
        return self.reader.port

    def insert(self, card: BridgedCard, *, quickack: bool = True, **bridge_options: float) -> VpcdBridge:
        """Put ``card`` into the reader; returns once vpcd accepted it (pcscd sees it ~0.4 s later).

        A card already in the reader (or torn out of it) is pulled first and pcscd is given the
        time to see the slot empty, as with a person's hand: otherwise pcscd never notices the
        swap and never powers the new card up.
        """
        if self.bridge is not None:
            self.remove()
            wait_reader_empty(self.reader.name)
        self.bridge = VpcdBridge(card, self.reader.port, quickack=quickack, **bridge_options)
        self.bridge.insert()
        return self.bridge

    def remove(self) -> None:
        if self.bridge is not None:
            self.bridge.remove()
            self.bridge = None


def wait_reader_empty(reader_name: str, timeout: float = 3.0) -> None:
    transport = open_transport(f"pcsc:{reader_name}")
    try:
        if not transport.wait_for_removal(timeout):
            raise AssertionError(f"reader {reader_name!r} still holds a card after {timeout} s")
    finally:
        transport.close()


_round_robin = itertools.count()


@pytest.fixture
def pcsc_reader(private_pcscd: PrivatePcscd) -> Iterator[PcscReader]:
    readers = private_pcscd.readers
    reader = readers[next(_round_robin) % len(readers)]
    wait_reader_empty(reader.name)
    handle = PcscReader(reader)
    try:
        yield handle
    finally:
        handle.remove()


@pytest.fixture
def pcsc_reader_pair(private_pcscd: PrivatePcscd) -> Iterator[tuple[PcscReader, PcscReader]]:
    """Two different readers at once (e.g. a family card and an authority card)."""
    readers = private_pcscd.readers
    start = next(_round_robin)
    next(_round_robin)
    picked = [readers[(start + i) % len(readers)] for i in range(2)]
    for reader in picked:
        wait_reader_empty(reader.name)
    handles = tuple(PcscReader(r) for r in picked)
    try:
        yield handles  # type: ignore[misc]
    finally:
        for handle in handles:
            handle.remove()


def wait_until(predicate, timeout: float = 3.0, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until true or ``timeout``; for event tests."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
