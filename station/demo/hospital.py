"""The hospital counter on the simulators, headless: ``station demo --headless --hospital --out DIR``.

1. A camp (``station.demo.camp.run_demo``) issues real family cards: keys, FKO card, signed list.
2. The scheme makes a hospital card (central store), the district publishes a signed revocation list
   (one issued card revoked) and its FKO directory, the insurer a signed package list.
3. The hospital station is set up (supervisor, desk staff, trust, packages); staff log in with the
   hospital card and its PIN.
4. Patients arrive: each card is inserted and checked (timed), the patient's finger verified against
   the card, the package blocked, the stay passes, discharge debits and pays transport. One patient's
   fingerprint fails (another person's finger on the glass) and a supervisor overrides with a photo and
   a reason; the revoked card is refused offline.
5. The day's claims file is written, signed by the hospital card, and verified as the insurer would.

The clock is simulated (the policies the camp writes start next month); everything else is the
production code on simulated devices.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

import simulators  # noqa: F401 - registers the sim: scanner
from biometrics.fingers import FingerPosition
from biometrics.scanner import open_scanner
from cardlib import direct
from cardlib.authority import FkoCard, HospitalCard, personalise_hospital
from keymgmt import hierarchy, revocation
from keymgmt.signing import Signer, sign_document
from keymgmt.store import KeyStore
from simulators.camera.faces import person_seed, portrait
from simulators.cards.fko import FkoCardOS
from simulators.cards.hospital import HospitalCardOS
from simulators.fingers import SyntheticFinger, finger_seed
from simulators.scanner.inprocess import glass_for
from station.demo.camp import run_demo
from station.demo.readers import AUTHORITY, FAMILY, DemoReaders, open_readers
from station.demo.world import SimWorld
from station.hospital import claims, desk, treatment
from station.hospital.rules import PACKAGE_FORMAT, PACKAGE_PURPOSE, HospitalRules, load_package_list
from station.hospital.trust import HospitalTrust, encode_fko_directory
from station.storage import Database
from station.storage.models import Role
from station.workflows.session import create_operator, login

HOSPITAL_ID = "H0923001"
HOSPITAL_NAME = "Sadar Hospital Gaya"
PIN = "4321"
STAFF, STAFF_PASS = "desk", "desk-password-1"
SUPERVISOR, SUPERVISOR_PASS = "matron", "matron-password-1"
PACKAGES = (
    {"code": "GEN001", "name": "Fever, medical management (per day x3)", "rate": 150_000},
    {"code": "SUR014", "name": "Appendicectomy", "rate": 900_000},
    {"code": "OBG002", "name": "Normal delivery", "rate": 250_000, "sex": "F", "min_age": 15, "max_age": 50},
    {"code": "OBG012", "name": "Hysterectomy", "rate": 1_000_000, "sex": "F", "min_age": 25},
    {"code": "URO007", "name": "Prostatectomy", "rate": 1_200_000, "sex": "M", "min_age": 40},
    {"code": "PED003", "name": "Neonatal care", "rate": 400_000, "max_age": 1},
    {"code": "ONC900", "name": "Chemotherapy cycle (outside the list rates)", "rate": 2_000_000, "preauth": True},
)

Log = Callable[[str], None]


class SimClock:
    """Simulated UTC time that runs with the real one and can jump ahead (a hospital stay takes days)."""

    def __init__(self, start: datetime) -> None:
        self._start, self._real, self._jump = start, time.monotonic(), timedelta()

    def __call__(self) -> datetime:
        return (self._start + self._jump + timedelta(seconds=time.monotonic() - self._real)).replace(microsecond=0)

    def advance(self, delta: timedelta) -> None:
        self._jump += delta


# --- what the scheme, the district and the insurer hand the hospital ----------------------------------------


def make_hospital_card(central: KeyStore, state: Path, now: datetime, hospital_id: str = HOSPITAL_ID,
                       name: str = HOSPITAL_NAME, pin: str = PIN) -> None:
    """A personalised hospital authority card in ``state`` (made centrally: it holds the scheme master)."""
    with direct.inserted(HospitalCardOS(state), "hospital-perso") as transport:
        personalise_hospital(HospitalCard(transport), central, name, hospital_id, pin, now - timedelta(days=1),
                             now + timedelta(days=3 * 365))


def write_package_list(signer: Signer, path: Path, version: int = 1, packages: tuple[dict, ...] = PACKAGES) -> Path:
    data = json.dumps({"format": PACKAGE_FORMAT, "version": version, "packages": list(packages)}, indent=1,
                      ensure_ascii=False).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.with_name(path.name + ".sig").write_text(sign_document(signer, data, PACKAGE_PURPOSE).to_text())
    return path


def fko_directory(fko_state: Path) -> bytes:
    """The district's FKO directory, here with the one FKO card of the camp."""
    with direct.inserted(FkoCardOS(fko_state), "fko-read") as transport:
        card = FkoCard(transport)
        card.select()
        return encode_fko_directory([card.chain()])


def setup_station(data_dir: Path, root_cert, packages_path: Path, revocation_raw: bytes,  # type: ignore[no-untyped-def]
                  fko_dir: bytes) -> tuple[Database, HospitalTrust]:
    """A fresh hospital station: database, supervisor and desk staff, trust material, package list."""
    db = Database(f"sqlite:///{data_dir / 'hospital.db'}")
    create_operator(db, data_dir, SUPERVISOR, "Sr. Mary (matron)", SUPERVISOR_PASS, role=Role.SUPERVISOR)
    sup = login(db, data_dir, SUPERVISOR, SUPERVISOR_PASS)
    create_operator(db, data_dir, STAFF, "Ravi (insurance desk)", STAFF_PASS, role=Role.HOSPITAL_STAFF, by=sup)
    trust = HospitalTrust.load(root_cert, data_dir)
    trust.install_revocation_list(revocation_raw)
    trust.install_fko_directory(fko_dir)
    load_package_list(db, packages_path, root_cert, SUPERVISOR)
    return db, trust


# --- the demo ---------------------------------------------------------------------------------------


@dataclass
class HospitalSummary:
    patients_admitted: int = 0
    patients_discharged: int = 0
    cards_refused: list[str] = field(default_factory=list)
    overrides: int = 0
    check_seconds: list[float] = field(default_factory=list)  # insertion → card accepted
    verify_seconds: list[float] = field(default_factory=list)  # insertion → verified member (fingerprint)
    claims_file: Path | None = None
    claims_filed: int = 0
    flags: list[str] = field(default_factory=list)
    camp_seconds: float = 0.0
    readers: str = ""

    def lines(self) -> list[str]:
        def stats(values: list[float]) -> str:
            if not values:
                return "n/a"
            return f"median {statistics.median(values):.3f} s, max {max(values):.3f} s over {len(values)}"

        return [
            f"card readers:               {self.readers}",
            f"camp (issuing the cards):   {self.camp_seconds:.1f} s",
            f"patients admitted:          {self.patients_admitted}",
            f"patients discharged:        {self.patients_discharged}",
            f"cards refused:              {len(self.cards_refused)} ({'; '.join(self.cards_refused)})",
            f"fingerprint overrides:      {self.overrides}",
            f"card check (authenticity):  {stats(self.check_seconds)}",
            f"insertion → verified member: {stats(self.verify_seconds)} (software time, simulated devices)",
            f"fraud flags:                {len(self.flags)} ({'; '.join(self.flags) or 'none'})",
            f"claims filed:               {self.claims_filed} in {self.claims_file}",
        ]


def _photo(person: str) -> bytes:
    """The desk camera's still of the patient (JPEG), from the camera simulator's portrait."""
    import cv2

    ok, jpeg = cv2.imencode(".jpg", portrait(person_seed(person)), [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return jpeg.tobytes()


def _probe(person: str, position: FingerPosition, impression: int) -> np.ndarray:
    return SyntheticFinger(finger_seed(person, position)).impression(impression)


def run_hospital_demo(out: Path, families: int = 3, members: int = 2, log: Log = print,
                      readers: str | None = None) -> HospitalSummary:
    """``readers``: ``auto`` (pcscd + vpcd when installed), ``pcscd`` or ``direct`` (station.demo.readers)."""
    card_readers = open_readers(readers, out / "pcscd")
    try:
        return _run(out, families, members, log, card_readers)
    finally:
        card_readers.close()


def _run(out: Path, families: int, members: int, log: Log, card_readers: DemoReaders) -> HospitalSummary:
    summary = HospitalSummary(readers=card_readers.description)
    started = time.perf_counter()
    run_demo(out / "camp", families=families, members=members, log=lambda line: None, readers=card_readers)
    summary.camp_seconds = time.perf_counter() - started
    world = SimWorld.open(out / "camp" / "world")
    log(f"camp issued {families} family cards")
    households = world.households
    serial_of = {h["urn"]: _card_serial(world, h["urn"]) for h in households}
    revoked_urn = households[-1]["urn"]

    # What the scheme, district and insurer give the hospital.
    clock = SimClock(datetime(2027, 1, 11, 8, 0, tzinfo=UTC))  # the policies run 2026-12-01..2027-11-30
    hospital_dir = out / "hospital"
    hospital_state = hospital_dir / "cards" / "hospital.card"
    hospital_state.parent.mkdir(parents=True, exist_ok=True)
    make_hospital_card(world.central, hospital_state, datetime.now(UTC).replace(microsecond=0))
    district = hierarchy.district_signer(world.district)
    rl = revocation.publish(district, 1, family_cards=[bytes.fromhex(serial_of[revoked_urn])]).to_bytes()
    packages_path = write_package_list(district, out / "district" / "packages.json")
    db, trust = setup_station(hospital_dir, world.root_cert, packages_path, rl, fko_directory(world.fko_state))
    rules = HospitalRules(HOSPITAL_ID, beds=2, override_limit=2)

    scanner = open_scanner("sim:hospital-desk")
    glass = glass_for("hospital-desk")
    hospital_reader = card_readers.insert(AUTHORITY, HospitalCardOS(hospital_state))
    try:
        ctx = desk.open_desk(db, hospital_dir, trust, rules, hospital_reader, STAFF, STAFF_PASS, PIN, clock)
        log(f"desk open: {STAFF} with the hospital card of {ctx.hospital_certificate.holder}")
        # Probes rendered ahead (the simulator's cost, not the desk's): a fresh impression of each head's
        # first finger; any other finger is rendered when the desk asks for it.
        probes: dict[tuple, np.ndarray] = {}
        for h in households[:-1]:
            first = _first_finger(world, h["urn"])
            probes[(f"{h['urn']}/1", first)] = _probe(f"{h['urn']}/1", first, 2)
        stays: list[tuple[str, str, int, bool]] = []

        def placer(person: str) -> desk.FingerPrompt:
            def place(member: int, finger: FingerPosition, attempt: int) -> None:
                # Each placement is a fresh impression (the finger lifted and put down again).
                key = (person, finger) if attempt == 1 else (person, finger, attempt)
                if key not in probes:
                    probes[key] = _probe(person, finger, 1 + attempt)
                glass.place_image(probes[key], label=f"{person} {finger.label}")

            return place

        for n, h in enumerate(households):
            urn = h["urn"]
            card_reader = card_readers.insert(FAMILY, world_card(world, urn))
            try:
                t0 = time.perf_counter()  # the card is in and answering: the desk's time starts
                try:
                    check = desk.check_card(ctx, card_reader)
                except desk.CardRefused as exc:
                    summary.cards_refused.append(f"{serial_of[urn]}: {exc.reason}")
                    log(f"card {serial_of[urn]} refused: {exc}")
                    continue
                summary.check_seconds.append(check.seconds)
                treatment.resume(ctx, check)
                patient = 0  # the head
                impostor = n == 1  # a different person's finger on the glass: the match fails
                person = f"{households[0]['urn']}/1" if impostor else f"{urn}/1"

                verified = desk.verify_member(ctx, check, patient, scanner, placer(person))
                if verified is not None:
                    summary.verify_seconds.append(time.perf_counter() - t0)
                if verified is None:
                    photo = _photo(f"{urn}/{patient + 1}")
                    verified = desk.override(ctx, check, patient, SUPERVISOR, SUPERVISOR_PASS, photo,
                                             "worn fingertips (farm labourer); identity confirmed by ration card")
                    summary.overrides += 1
                    log(f"  {check.members[patient].name}: fingerprint failed; supervisor override recorded")
                code = "SUR014" if n % 2 == 0 else "GEN001"
                result = treatment.admit(ctx, check, verified, code, accept_flags=True)
                summary.patients_admitted += 1
                summary.flags += [f.value for f in result.flags]
                stays.append((urn, result.ref, result.blocked, not impostor))
                log(f"  admitted {check.members[patient].name} ({result.ref}, {code}): blocked Rs "
                    f"{result.blocked / 100:,.0f}, balance Rs {result.balance_after / 100:,.0f}")
            finally:
                card_readers.eject(FAMILY)
        clock.advance(timedelta(days=3))
        for urn, ref, blocked, by_finger in stays:
            card_reader = card_readers.insert(FAMILY, world_card(world, urn))
            try:
                t0 = time.perf_counter()
                check = desk.check_card(ctx, card_reader)
                summary.check_seconds.append(check.seconds)
                if by_finger:  # the patient confirms the discharge with their finger again
                    again = desk.verify_member(ctx, check, 0, scanner, placer(f"{urn}/1"))
                    if again is not None:
                        summary.verify_seconds.append(time.perf_counter() - t0)
                result = treatment.discharge(ctx, check, ref, blocked * 4 // 5)
                summary.patients_discharged += 1
                log(f"  discharged {ref}: debited Rs {result.final_amount / 100:,.0f}, released Rs "
                    f"{result.released / 100:,.0f}, transport Rs {result.transport / 100:,.0f}, balance Rs "
                    f"{result.balance_after / 100:,.0f}")
            finally:
                card_readers.eject(FAMILY)
        filed = claims.write_daily_claims(ctx, clock().date(), out / "claims")
        verified_file = claims.verify_claims_file(filed.path, world.root_cert)
        summary.claims_file, summary.claims_filed = filed.path, len(verified_file.claims)
    finally:
        scanner.close()
        card_readers.eject(AUTHORITY)
        db.close()
    return summary


def world_card(world: SimWorld, urn: str) -> object:
    from simulators.cards.family import FamilyCardOS

    return FamilyCardOS(world.card_path(urn))


def _first_finger(world: SimWorld, urn: str) -> FingerPosition:
    from biometrics.fingers import CAPTURE_ORDER

    return CAPTURE_ORDER[0]


def _card_serial(world: SimWorld, urn: str) -> str:
    from simulators.cards.family import FamilyCardOS

    return str(FamilyCardOS(world.card_path(urn)).serial)


__all__ = ["HospitalSummary", "SimClock", "make_hospital_card", "run_hospital_demo", "setup_station",
           "write_package_list"]
