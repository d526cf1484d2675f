"""The demo station's two card readers — the family-card reader and the authority (FKO) reader.

Two kinds, one interface, so the demo's station code is the same either way:

* :class:`PcscdReaders`: the real PC/SC stack — a private pcscd with two vpcd virtual readers; each
  simulated card is put into its reader through the vpcd bridge and the station talks to it through
  pyscard (``pcsc:<reader name>``), exactly as with USB readers;
* :class:`InProcessReaders`: ``direct:`` slots in this process (no pcscd), when pcscd or vpcd is not
  installed, or when asked for.

:func:`open_readers` picks one: ``"auto"`` (pcscd + vpcd when installed, in-process otherwise),
``"pcscd"`` or ``"direct"``; ``STATION_DEMO_READERS`` sets the choice for ``station demo``.
Waiting for pcscd to notice an inserted or removed card (its poll is ~0.4 s) stands for the operator
handling the card, so it is counted in :attr:`DemoReaders.waited` and kept out of station time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from abc import ABC, abstractmethod
from pathlib import Path

from cardlib import direct
from cardlib.direct import CardObject
from cardlib.transport import Transport, open_transport
from station.errors import ConfigError, WorkflowError

FAMILY, AUTHORITY = "family", "authority"
ROLES = (FAMILY, AUTHORITY)
MODES = ("auto", "pcscd", "direct")
ENV_VAR = "STATION_DEMO_READERS"
CARD_EVENT_TIMEOUT = 5.0


class DemoReaders(ABC):
    """Insert a simulated card into the family or authority reader and get a connected transport."""

    description: str = ""

    def __init__(self) -> None:
        self.waited = 0.0  # seconds spent waiting for card insert/remove events (not station time)
        self._transports: dict[str, Transport] = {}

    def insert(self, role: str, card: CardObject) -> Transport:
        """Put ``card`` into the ``role`` reader (ejecting what was there); a connected transport."""
        if role not in ROLES:
            raise ValueError(f"reader role {role!r} is not one of {', '.join(ROLES)}")
        self.eject(role)
        transport = self._insert(role, card)
        self._transports[role] = transport
        return transport

    def eject(self, role: str) -> None:
        """Take the card out of the ``role`` reader (nothing happens when it is empty)."""
        transport = self._transports.pop(role, None)
        if transport is not None:
            with contextlib.suppress(Exception):  # a card pulled mid-command is already gone
                transport.close()
        self._eject(role)

    def close(self) -> None:
        for role in ROLES:
            self.eject(role)
        self._close()

    @abstractmethod
    def _insert(self, role: str, card: CardObject) -> Transport: ...

    @abstractmethod
    def _eject(self, role: str) -> None: ...

    @abstractmethod
    def _close(self) -> None:
        """Release what the readers hold (the private pcscd)."""


class InProcessReaders(DemoReaders):
    """``direct:<prefix>family`` and ``direct:<prefix>authority`` slots in this process."""

    def __init__(self, reason: str = "asked for", prefix: str = "") -> None:
        super().__init__()
        self.prefix = prefix
        self.description = f"in-process (direct:, no pcscd; {reason})"

    def _slot(self, role: str) -> str:
        return f"{self.prefix}{role}"

    def _insert(self, role: str, card: CardObject) -> Transport:
        direct.register_card(self._slot(role), card)
        transport = open_transport(f"direct:{self._slot(role)}")
        transport.connect()
        return transport

    def _eject(self, role: str) -> None:
        direct.unregister(self._slot(role))

    def _close(self) -> None:
        pass  # slots are forgotten on eject


class PcscdReaders(DemoReaders):
    """Two vpcd readers of a pcscd: ``readers`` maps each role to ``(reader name, vpcd port)``.

    ``daemon`` (a :class:`simulators.pcsc.runner.PrivatePcscd`) is stopped by :meth:`close` when given;
    tests pass the readers of their session pcscd and no daemon.
    """

    def __init__(self, readers: dict[str, tuple[str, int]], daemon: object | None = None,
                 workdir: Path | None = None) -> None:
        super().__init__()
        self.workdir = workdir
        missing = set(ROLES) - set(readers)
        if missing:
            raise ValueError(f"PC/SC demo readers need a reader for {', '.join(sorted(missing))}")
        self.readers = dict(readers)
        self.daemon = daemon
        names = ", ".join(f"{role} = {name!r}" for role, (name, _port) in self.readers.items())
        self.description = f"pcscd + vpcd ({'private pcscd; ' if daemon is not None else ''}{names})"
        self._bridges: dict[str, object] = {}

    def _insert(self, role: str, card: CardObject) -> Transport:
        from simulators.vpcd import VpcdBridge, VpcdError

        name, port = self.readers[role]
        bridge = VpcdBridge(card, port)
        try:
            bridge.insert()
        except VpcdError as exc:
            raise WorkflowError(f"cannot put the simulated card into the {role} reader: {exc}") from exc
        self._bridges[role] = bridge
        transport = open_transport(f"pcsc:{name}")
        started = time.perf_counter()
        present = transport.wait_for_card(CARD_EVENT_TIMEOUT)
        self.waited += time.perf_counter() - started
        if not present:
            transport.close()
            raise WorkflowError(f"pcscd did not see the card in {name!r} within {CARD_EVENT_TIMEOUT:.0f} s; "
                                "check the private pcscd (its log is in its directory)")
        transport.connect()
        return transport

    def _eject(self, role: str) -> None:
        bridge = self._bridges.pop(role, None)
        if bridge is None:
            return
        bridge.remove()  # type: ignore[attr-defined]
        # The next card must not meet pcscd still believing the old one is in: wait for it to notice.
        watcher = open_transport(f"pcsc:{self.readers[role][0]}")
        started = time.perf_counter()
        try:
            watcher.wait_for_removal(CARD_EVENT_TIMEOUT)
        finally:
            self.waited += time.perf_counter() - started
            watcher.close()

    def _close(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()  # type: ignore[attr-defined]
            self.daemon = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


def _pcsc_socket_fixed() -> str | None:
    """The pcscd this process is already bound to: PC/SC was used (libpcsclite keeps its first socket),
    or ``PCSCLITE_CSOCK_NAME`` was chosen by someone else (a test session's pcscd, the operator)."""
    chosen = os.environ.get("PCSCLITE_CSOCK_NAME")
    if chosen:
        return chosen
    if "cardlib.pcsc" in sys.modules or "smartcard.scard" in sys.modules:
        return "the system pcscd"
    return None


def start_private_readers(workdir: Path | None = None) -> PcscdReaders:
    """A private pcscd with two vpcd readers for this process; raises PcscdError when it cannot start.

    Its files go to ``workdir`` (removed on close) when its socket path is short enough, else to a
    temporary directory. Must run before this process first talks to PC/SC: libpcsclite reads
    ``PCSCLITE_CSOCK_NAME`` once.
    """
    from simulators.pcsc.runner import PcscdError, PrivatePcscd

    fixed = _pcsc_socket_fixed()
    if fixed is not None:
        raise PcscdError(f"PC/SC in this process is bound to {fixed}; the demo does not take it over "
                         "(unset PCSCLITE_CSOCK_NAME to let it start its own)")
    # A UNIX socket path must stay under ~100 bytes.
    if workdir is not None and len(os.fsencode(workdir.resolve() / "pcscd.comm")) <= 100:
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix="station-pcscd-"))
    # The station process is the parent: a kill -9 of it takes pcscd down too (the bridges die with it).
    daemon = PrivatePcscd(workdir, 2, die_with_parent=True)
    try:
        daemon.start()
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    os.environ.update(daemon.environ())
    family, authority = daemon.readers[0], daemon.readers[1]
    return PcscdReaders({FAMILY: (family.name, family.port), AUTHORITY: (authority.name, authority.port)}, daemon,
                        workdir)


def open_readers(mode: str | None = None, workdir: Path | None = None) -> DemoReaders:
    """The demo's readers for ``mode`` (default: ``$STATION_DEMO_READERS``, else ``auto``); a private
    pcscd keeps its files in ``workdir`` when given (see :func:`start_private_readers`)."""
    mode = (mode or os.environ.get(ENV_VAR) or "auto").strip().lower()
    if mode not in MODES:
        raise ConfigError(f"{ENV_VAR}={mode!r} is not understood; use one of: {', '.join(MODES)}")
    if mode == "direct":
        return InProcessReaders("asked for")
    from simulators.pcsc.runner import PcscdError, PcscdNotInstalled

    try:
        return start_private_readers(workdir)
    except PcscdNotInstalled as exc:
        if mode == "pcscd":
            raise WorkflowError(f"the demo cannot use pcscd: {exc}") from exc
        return InProcessReaders(f"{exc}".split(";")[0])
    except PcscdError as exc:
        if mode == "pcscd":
            raise WorkflowError(f"the demo cannot start its private pcscd: {exc}") from exc
        return InProcessReaders(f"private pcscd did not start: {str(exc).splitlines()[0]}")
