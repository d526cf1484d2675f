"""Hospital desk: time from family-card insertion to accepted card, and to verified member.

    .venv/bin/python benchmarks/hospital_check.py [--rounds N] [--no-pcscd]

Cards are issued through the real FKO flow (tests/station/hospital/conftest.py). Two families:

* ``small``: three members with tiny photos — the card of the hospital tests, with real templates;
* ``full``: five members with 4 KB photos (the largest card the profile allows): the check must read
  every photo to verify the FKO's signature over the family data.

Per transport (``direct``: the card object in process; ``pcscd``: behind a vpcd reader of a private
pcscd, through pyscard, as a USB reader would be; the hospital card stays in process), medians over
``--rounds`` insertions of:

* detect: insertion until the reader reports a card that answers (pcscd's polling; not desk time);
* check: from then, ``station.hospital.desk.check_card`` (read, mutual authentication through the hospital card,
  signature, revocation, policy);
* verified: from then, check → the spouse's fingerprint captured on the simulated scanner (template
  extraction included) and matched against the card's template (``small`` card only).

The ratio pcscd/direct is printed for each figure (same run, same cards).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from biometrics.fingers import FingerPosition  # noqa: E402
from cardlib.model import Gender, Relationship  # noqa: E402
from simulators.cards.family import FamilyCardOS  # noqa: E402
from simulators.fingers import SyntheticFinger, finger_seed  # noqa: E402
from simulators.pcsc.runner import PcscdError  # noqa: E402
from simulators.scanner.inprocess import glass_for  # noqa: E402
from station.hospital import desk  # noqa: E402
from tests.station.hospital.conftest import _make_scheme, open_test_desk  # noqa: E402


def full_photo(seed: int) -> bytes:
    rng = random.Random(seed)
    return b"\xff\xd8\xff\xe0" + rng.randbytes(4096 - 6) + b"\xff\xd9"


def measure(d, insert, eject, name: str, rounds: int, probe) -> tuple[list[float], ...]:  # type: ignore[no-untyped-def]
    detect, checks, verified = [], [], []
    glass = glass_for(d.glass_name)
    for n in range(rounds + 1):  # round 0 warms caches (imports, matcher tables) and is not counted
        card = FamilyCardOS(None, image=d.scheme.families[name])
        inserted = time.perf_counter()
        transport = insert(card)
        # From here the card answers: the desk's time. Before it: the reader noticing the card (pcscd polls).
        start = time.perf_counter()
        if n:
            detect.append(start - inserted)
        try:
            check = desk.check_card(d.ctx, transport)
            if n:
                checks.append(time.perf_counter() - start)
            if probe is not None:
                v = desk.verify_member(d.ctx, check, 1, d.scanner, lambda m, f, a: glass.place_image(probe))
                if v is None:
                    raise RuntimeError("the spouse's probe did not match; pick another impression")
                if n:
                    verified.append(time.perf_counter() - start)
        finally:
            eject()
    return detect, checks, verified


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-pcscd", action="store_true")
    args = parser.parse_args(argv)
    from card_io import direct_reader, pcscd_reader, private_pcscd

    with tempfile.TemporaryDirectory(prefix="bench-hospital-") as tmp:
        print("issuing the cards (keys, FKO and hospital cards, templates)...", flush=True)
        scheme = _make_scheme(Path(tmp) / "scheme")
        base = scheme.family("10092310010000005", tuple(
            (f"Member {i}", Gender.FEMALE if i % 2 else Gender.MALE, 1960 + 9 * i,
             Relationship.HEAD if i == 0 else Relationship.SON, False) for i in range(5)))
        big = replace(base, members=tuple(replace(m, photo=full_photo(i)) for i, m in enumerate(base.members)))
        scheme.families["full"] = scheme.issue(big)
        probe = SyntheticFinger(finger_seed("10092310010000001/Sita Devi", FingerPosition.RIGHT_INDEX)).impression(1)
        d = open_test_desk(scheme, Path(tmp) / "station")
        readers = []
        with direct_reader() as (insert, eject):
            readers.append(("direct", {n: measure(d, lambda c: insert(c), eject, n, args.rounds, p)
                                       for n, p in (("gaya", probe), ("full", None))}))
        if not args.no_pcscd:
            try:
                with private_pcscd() as daemon:
                    insert, eject = pcscd_reader(daemon)
                    readers.append(("pcscd", {n: measure(d, insert, eject, n, args.rounds, p)
                                              for n, p in (("gaya", probe), ("full", None))}))
            except (PcscdError, RuntimeError) as exc:  # no pcscd/vpcd here: only that half is skipped
                print(f"pcscd run skipped: {exc}")
        base_figures: dict[str, float] = {}
        for transport, results in readers:
            for name, (detect, checks, verified) in results.items():
                label = "small card" if name == "gaya" else "full card (5 x 4 KB photos)"
                for what, values in (("reader reports the card", detect), ("card in → card accepted", checks),
                                     ("card in → verified member", verified)):
                    if not values:
                        continue
                    med = statistics.median(values)
                    key = f"{name}/{what}"
                    shown = key in base_figures and not what.startswith("reader")
                    ratio = f"   x{med / base_figures[key]:.2f} vs direct" if shown else ""
                    base_figures.setdefault(key, med)
                    print(f"{transport:<7} {label:<28} {what:<28} median {med * 1000:7.1f} ms   "
                          f"max {max(values) * 1000:7.1f} ms   ({len(values)} rounds){ratio}")
        d.scanner.close()
        d.db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
