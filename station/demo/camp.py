"""A whole camp on the simulators, headless: ``station demo --headless --families N --out DIR``.

Steps (each the production workflow): make keys, a signed list and an FKO card; set up a station
(operator, trust anchor, list import, camp); unlock the FKO card with the officer's finger; for each
household capture photos and fingers (one member's fingers are worn: a biometric exception), write,
authorise and print the card; export the sealed camp bundle; read every card back and check it
against the database and the bundle. Prints a summary, which names the card readers used: a private
pcscd with two vpcd readers when pcscd and vpcd are installed, in-process ``direct:`` slots otherwise
(:mod:`station.demo.readers`; ``STATION_DEMO_READERS=direct|pcscd|auto`` forces the choice).

``stop_after`` (tests) kills the process with SIGKILL right after the named step of a household, as a
power cut would; running the demo again with ``resume=True`` continues from what the database and the
cards say.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from biometrics.camera import open_camera
from biometrics.scanner import open_scanner
from cardlib.family import FamilyCard
from station.demo.readers import DemoReaders, open_readers
from station.demo.world import FKO_PERSON, VILLAGE, SimWorld
from station.errors import Cancelled
from station.households import import_list
from station.storage import Database
from station.storage.models import CaptureKind, ExceptionReason, HouseholdStatus
from station.trust import SchemeTrust
from station.workflows import households as hh
from station.workflows.capture import FingerCapture, capture_photo, finish_capture, record_exception
from station.workflows.export import BundleResult, export_bundle
from station.workflows.fko import FkoSession, unlock_fko
from station.workflows.issuance import IssuanceResult, IssueCard
from station.workflows.session import CampContext, create_operator, login, open_camp

OPERATOR, PASSWORD = "operator", "demo-operator-pass"
STATION_ID = "DEMO-STN-01"
PHOTO_TRIES = 3

Log = Callable[[str], None]


@dataclass
class DemoSummary:
    households_issued: int = 0
    members_enrolled: int = 0
    biometric_exceptions: int = 0
    station_seconds: float = 0.0  # station software time for the households (simulated devices included)
    card_wait_seconds: float = 0.0  # waiting for pcscd to see cards go in and out (the operator's time)
    readers: str = ""  # which card readers the demo used
    simulator_prep_seconds: float = 0.0  # rendering synthetic fingers beforehand (not station time)
    fko_counter_left: int | None = None
    outputs: dict[str, Path] = field(default_factory=dict)
    issued: list[IssuanceResult] = field(default_factory=list)
    bundle: BundleResult | None = None

    @property
    def seconds_per_household(self) -> float:
        return self.station_seconds / self.households_issued if self.households_issued else 0.0

    def lines(self) -> list[str]:
        out = [
            f"households issued:        {self.households_issued}",
            f"members enrolled:         {self.members_enrolled} ({self.biometric_exceptions} biometric exception(s))",
            f"seconds per household:    {self.seconds_per_household:.2f} (station software time, simulated devices)",
            f"simulator preparation:    {self.simulator_prep_seconds:.1f} s (synthetic fingers, not station time)",
            f"FKO issuances left:       {self.fko_counter_left}",
            f"card readers:             {self.readers}",
        ]
        if self.card_wait_seconds:
            out.insert(4, f"card insert/remove waits: {self.card_wait_seconds:.1f} s (pcscd noticing cards, "
                          "not station time)")
        out += [f"{name + ':':<26}{path}" for name, path in self.outputs.items()]
        return out


def _stop(stop_after: str | None, step: str, urn: str, index: int) -> None:
    # "capture:2" = stop after household 2's captures; steps: capture, intent, personalised, authorised, issued
    if stop_after and stop_after == f"{step}:{index}":
        print(f"killing myself with SIGKILL after {step} of household {index}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


def setup_station(out: Path, world: SimWorld, log: Log) -> tuple[Database, CampContext, SchemeTrust]:
    data_dir = out / "station"
    db = Database(f"sqlite:///{data_dir / 'station.db'}")
    trust = SchemeTrust(world.root_cert)
    fresh = not (data_dir / "scheme-root.cert").exists()
    if fresh:
        trust.install(data_dir)
        create_operator(db, data_dir, OPERATOR, "Asha Kumari", PASSWORD)
    op = login(db, data_dir, OPERATOR, PASSWORD)
    if fresh:
        result = import_list(db, world.list_path, SchemeTrust.load(data_dir), actor=OPERATOR)
        log(f"list imported: {result.households} households, {result.members} people, signed by district {result.signer}")
    ctx = open_camp(db, op, VILLAGE, STATION_ID, data_dir)
    return db, ctx, trust


def enrol_household(ctx: CampContext, world: SimWorld, urn: str, scanner, camera, summary: DemoSummary,  # type: ignore[no-untyped-def]
                    log: Log) -> None:
    view = hh.begin_enrolment(ctx, urn)
    for m in view.insured:
        if m.complete:
            continue  # captured before a restart
        person = f"{urn}/{m.seq}"
        if not m.has_photo and not any(e.startswith("photo:") for e in m.exceptions):
            world.sit_for_photo(person)
            for _ in range(PHOTO_TRIES):
                if capture_photo(ctx, urn, m.seq, camera).accepted:
                    break
            else:
                record_exception(ctx, urn, m.seq, CaptureKind.PHOTO, ExceptionReason.DEVICE_FAILURE,
                                 note="photo check refused three pictures")
        if len(m.fingers) >= 2 or any(e.startswith("finger:") for e in m.exceptions):
            continue  # only the photo was missing (e.g. retaken after a damaged one was discarded)
        outcome = FingerCapture(ctx, urn, m.seq, scanner, prompt=world.finger_prompt(person), timeout=2.0).run()
        if outcome.exception is not None:
            summary.biometric_exceptions += 1
            log(f"  {m.name}: biometric exception ({outcome.exception.value}) after {len(outcome.attempts)} tries")
    finish_capture(ctx, urn)


def run_demo(out: Path, families: int = 3, members: int = 3, log: Log = print, resume: bool = False,
             stop_after: str | None = None, readers: str | DemoReaders | None = None) -> DemoSummary:
    """Run the camp; ``readers`` is a mode for :func:`station.demo.readers.open_readers` (default:
    ``$STATION_DEMO_READERS`` or auto) or readers the caller owns (left open)."""
    summary = DemoSummary()
    world_dir = out / "world"
    if resume and world_dir.exists():
        world = SimWorld.open(world_dir)
    else:
        world = SimWorld.create(world_dir, families, members)
    # One member whose fingers cannot be read: the capture ends in a biometric exception.
    worn = f"{world.households[0]['urn']}/{len(world.households[0]['members'])}"
    world.no_prints.add(worn)
    own_readers = not isinstance(readers, DemoReaders)
    # A pcscd of the demo's own keeps its files beside the outputs (a kill -9 leaves nothing in /tmp).
    card_readers = open_readers(readers, out / "pcscd") if not isinstance(readers, DemoReaders) else readers
    world.readers = card_readers
    summary.readers = card_readers.description
    try:
        return _run_camp(out, world, worn, summary, log, stop_after)
    finally:
        if own_readers:
            card_readers.close()


def _run_camp(out: Path, world: SimWorld, worn: str, summary: DemoSummary, log: Log,
              stop_after: str | None) -> DemoSummary:
    db, ctx, trust = setup_station(out, world, log)
    t0 = time.perf_counter()
    world.prepare_prints(FKO_PERSON, impressions=2, fingers=1)
    for h in world.households:
        if hh.load(ctx, h["urn"]).status in (HouseholdStatus.ISSUING, HouseholdStatus.ISSUED):
            continue  # resumed camp: these households' captures are done
        for seq in range(1, len(h["members"]) + 1):
            if f"{h['urn']}/{seq}" != worn:
                world.prepare_prints(f"{h['urn']}/{seq}")
    summary.simulator_prep_seconds = time.perf_counter() - t0

    scanner = open_scanner(f"sim:{world.scanner_name}")
    camera = open_camera("sim:faces")
    camera.open()
    fko_transport = world.insert_fko()
    try:
        start, waited = time.perf_counter(), world.readers.waited
        prompt = world.finger_prompt(FKO_PERSON)
        fko = unlock_fko(ctx, fko_transport, trust.root, scanner, prompt=lambda f, a: prompt(f, a + 1))
        log(f"FKO card of {fko.holder} unlocked; {fko.info.counter} issuances left")
        for index, h in enumerate(world.households, start=1):
            urn = h["urn"]
            view = hh.load(ctx, urn)
            if view.status is HouseholdStatus.ISSUED:
                continue
            if view.status is not HouseholdStatus.ISSUING:  # captures are closed once a card is under way
                enrol_household(ctx, world, urn, scanner, camera, summary, log)
            _stop(stop_after, "capture", urn, index)
            result = issue(ctx, world, urn, fko, out, stop_after, index)
            summary.issued.append(result)
            summary.members_enrolled += len(hh.load(ctx, urn).insured)
            log(f"{urn}: card {result.card_serial} issued (FKO issuance {result.issuance_number})"
                + (f", resumed from {result.resumed_from.value}" if result.resumed_from else ""))
        summary.card_wait_seconds = world.readers.waited - waited
        summary.station_seconds = time.perf_counter() - start - summary.card_wait_seconds
        summary.households_issued = len(summary.issued)
        summary.bundle = export_bundle(ctx, fko, trust, out / "bundle")
        summary.fko_counter_left = fko.counter()
    finally:
        camera.close()
        scanner.close()
        world.eject_fko()
        db.close()
    summary.outputs = {"station database": out / "station" / "station.db", "printed cards": out / "print",
                       "camp bundle": summary.bundle.path, "household list": world.list_path}
    return summary


def issue(ctx: CampContext, world: SimWorld, urn: str, fko: FkoSession, out: Path, stop_after: str | None,
          index: int) -> IssuanceResult:
    transport = world.insert_family_card(urn)
    try:
        job = IssueCard(ctx, urn, transport, fko, out / "print", progress=_stopper(stop_after, index))
        return job.run()
    except Cancelled:
        raise
    finally:
        world.eject_family_card()


def _stopper(stop_after: str | None, index: int) -> Callable[[int, int, str], None]:
    # The issuance job reports its steps; a test can cut the power right after one of them committed.
    marks = {1: "intent", 2: "personalised", 3: "counted", 4: "activated", 5: "authorised"}

    def progress(done: int, total: int, message: str) -> None:
        step = marks.get(done)
        if step:
            _stop(stop_after, step, "", index)

    return progress


def read_back(world: SimWorld, urn: str):  # type: ignore[no-untyped-def]
    """The family card of ``urn`` read from its saved state (for checks after the demo)."""
    transport = world.insert_family_card(urn)
    try:
        card = FamilyCard(transport)
        return card.read(), card.read_activation()
    finally:
        world.eject_family_card()
