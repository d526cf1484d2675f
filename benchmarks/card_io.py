"""Family card I/O: personalise and read back a full five-member family, in process and through pcscd.

    .venv/bin/python benchmarks/card_io.py [--rounds N] [--apdus N] [--no-pcscd] [--slow-ack]

The family is the largest the profile allows (tests/cardlib/family_samples.full_family: five members,
4 KB photos, two 300-byte templates each, two policies, a full 32-record log). Each round uses a new
blank simulated card; the figures are medians over ``--rounds``.

* ``direct``: the card object in this process (``direct:`` transport, no pcscd);
* ``pcscd``: the same card behind a vpcd virtual reader of a private pcscd (simulators.pcsc.runner),
  reached through pyscard exactly as a USB reader would be — the baseline it is compared with is the
  direct run in the same process, printed as the ratio pcscd/direct.

Also: APDUs per second for short reads (READ BINARY, Le = 256) and for extended reads of a 4 KB photo
file in one APDU. ``--slow-ack`` adds one pcscd round without the vpcd quick-ack fix (Debian's vpcd
then waits ~40 ms per APDU for a delayed ACK) to show what the fix is worth.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cardlib import direct  # noqa: E402
from cardlib import family_profile as fp  # noqa: E402
from cardlib.apdu import CommandApdu  # noqa: E402
from cardlib.family import FamilyCard, personalisation_files  # noqa: E402
from cardlib.transport import Transport, open_transport  # noqa: E402
from simulators.cards.family import FamilyCardOS  # noqa: E402
from tests.cardlib.family_samples import full_family  # noqa: E402  (the family the tests verify)

KEY = bytes(range(16))
FAMILY = full_family()


@dataclass
class Figures:
    personalise_s: list[float]
    read_s: list[float]
    personalise_apdus: int = 0
    read_apdus: int = 0
    short_apdus_per_s: float = 0.0
    extended_apdus_per_s: float = 0.0

    @property
    def personalise(self) -> float:
        return statistics.median(self.personalise_s)

    @property
    def read(self) -> float:
        return statistics.median(self.read_s)

    @property
    def family_apdus_per_s(self) -> float:
        return (self.personalise_apdus + self.read_apdus) / (self.personalise + self.read)


class CountingCard(FamilyCardOS):
    """A family card that counts the command APDUs it answers (what crossed the transport)."""

    apdus = 0

    def process(self, raw: bytes) -> bytes:
        self.apdus += 1
        return super().process(raw)


# A reader: insert(card) -> connected transport; eject() takes the card out again.
Reader = tuple[Callable[[CountingCard], Transport], Callable[[], None]]


@contextmanager
def direct_reader() -> Iterator[Reader]:
    slot = "bench-family"
    transport: list[Transport] = []

    def insert(card: CountingCard) -> Transport:
        direct.register_card(slot, card)
        transport.append(open_transport(f"direct:{slot}"))
        transport[-1].connect()
        return transport[-1]

    def eject() -> None:
        transport.pop().close()
        direct.unregister(slot)

    yield insert, eject


@contextmanager
def private_pcscd() -> Iterator[object]:
    """One private pcscd for the whole run: libpcsclite reads its socket once, on the first PC/SC call."""
    from simulators.pcsc.runner import PrivatePcscd

    with tempfile.TemporaryDirectory(prefix="bench-pcscd-") as tmp:
        daemon = PrivatePcscd(tmp, 2)
        daemon.start()
        os.environ.update(daemon.environ())
        try:
            yield daemon
        finally:
            daemon.stop()


def pcscd_reader(daemon: object, quickack: bool = True) -> Reader:
    """The daemon's first reader; ``quickack=False`` is the bridge without the delayed-ACK fix."""
    from simulators.vpcd import VpcdBridge

    reader = daemon.readers[0]  # type: ignore[attr-defined]
    state: list[tuple[VpcdBridge, Transport]] = []

    def insert(card: CountingCard) -> Transport:
        bridge = VpcdBridge(card, reader.port, quickack=quickack)
        bridge.insert()
        transport = open_transport(f"pcsc:{reader.name}")
        if not transport.wait_for_card(5):
            raise RuntimeError(f"pcscd did not see the card in {reader.name!r}")
        transport.connect()
        state.append((bridge, transport))
        return transport

    def eject() -> None:
        bridge, transport = state.pop()
        transport.close()
        bridge.remove()
        watcher = open_transport(f"pcsc:{reader.name}")
        watcher.wait_for_removal(5)
        watcher.close()

    return insert, eject


def throughput(transport: Transport, count: int, extended: bool) -> float:
    """APDUs per second: READ BINARY of EF.PHOTO1, 256 bytes (short) or all 4,104 bytes (extended)."""
    transport.transmit(CommandApdu(0x00, fp.INS_SELECT, 0x04, 0x0C, fp.AID))
    transport.transmit(CommandApdu(0x00, fp.INS_SELECT, 0x02, 0x0C, fp.FID_PHOTO[0].to_bytes(2, "big")))
    apdu = CommandApdu(0x00, fp.INS_READ_BINARY, 0, 0, ne=fp.SIZE_PHOTO if extended else 256)
    want = fp.SIZE_PHOTO if extended else 256
    start = time.perf_counter()
    for _ in range(count):
        response = transport.transmit(apdu)
        if not response.ok or len(response.data) != want:
            raise RuntimeError(f"READ BINARY answered {response!r}")
    return count / (time.perf_counter() - start)


def measure(reader: Reader, rounds: int, apdus: int) -> Figures:
    insert, eject = reader
    figures = Figures([], [])
    for _ in range(rounds):
        card = CountingCard(None)
        transport = insert(card)
        try:
            client = FamilyCard(transport)
            client.select()  # warm: the first exchange opens the PC/SC handle's path
            before = card.apdus
            start = time.perf_counter()
            client.personalise(FAMILY, KEY)
            figures.personalise_s.append(time.perf_counter() - start)
            figures.personalise_apdus = card.apdus - before
            before = card.apdus
            start = time.perf_counter()
            family = client.read()
            figures.read_s.append(time.perf_counter() - start)
            figures.read_apdus = card.apdus - before
            if family != FAMILY:
                raise RuntimeError("the family read back differs from the one written")
        finally:
            eject()
    if apdus:
        transport = insert(card)
        try:
            figures.short_apdus_per_s = throughput(transport, apdus, extended=False)
            figures.extended_apdus_per_s = throughput(transport, max(1, apdus // 4), extended=True)
        finally:
            eject()
    return figures


def report(name: str, f: Figures) -> None:
    print(f"{name:<18} personalise {f.personalise * 1000:8.1f} ms ({f.personalise_apdus} APDUs)   "
          f"read {f.read * 1000:8.1f} ms ({f.read_apdus} APDUs)   {f.family_apdus_per_s:8.0f} APDUs/s in the family "
          f"I/O" + (f"   short reads {f.short_apdus_per_s:7.0f}/s   4 KB extended reads {f.extended_apdus_per_s:6.0f}/s"
                     if f.short_apdus_per_s else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="blank cards personalised and read per backend")
    parser.add_argument("--apdus", type=int, default=2000, help="READ BINARY commands for the APDU/s figure")
    parser.add_argument("--no-pcscd", action="store_true", help="in-process only")
    parser.add_argument("--slow-ack", action="store_true", help="also one pcscd round without the quick-ack fix")
    args = parser.parse_args(argv)
    size = sum(len(content) for _, content in personalisation_files(FAMILY))
    print(f"family: {len(FAMILY.members)} members, {size} bytes of files + {len(FAMILY.log)} log records; "
          f"median of {args.rounds} blank cards each")
    with direct_reader() as reader:
        base = measure(reader, args.rounds, args.apdus)
    report("direct", base)
    if args.no_pcscd:
        return 0
    from simulators.pcsc.runner import PcscdNotInstalled

    try:
        with private_pcscd() as daemon:
            via = measure(pcscd_reader(daemon), args.rounds, args.apdus)
            report("pcscd + vpcd", via)
            print(f"{'ratio pcscd/direct':<18} personalise {via.personalise / base.personalise:6.1f}x   "
                  f"read {via.read / base.read:6.1f}x   APDUs/s {via.family_apdus_per_s / base.family_apdus_per_s:6.3f}x")
            if args.slow_ack:
                slow = measure(pcscd_reader(daemon, quickack=False), 1, 0)
                report("no quick-ack", slow)
                print(f"{'quick-ack gain':<18} personalise {slow.personalise / via.personalise:6.1f}x slower without "
                      f"the fix, read {slow.read / via.read:6.1f}x")
    except PcscdNotInstalled as exc:
        print(f"pcscd figures skipped: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
