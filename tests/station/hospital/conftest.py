"""Hospital-counter fixtures: a scheme made once per session (keys, FKO card, two hospital cards, family
cards issued through the real FKO flow with real fingerprint templates), and a fresh desk per test
(database, staff, trust, packages, card copies) — every card is a copy of a session image, so tests
never see each other's transactions."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

import simulators  # noqa: F401 - registers the sim: scanner
from biometrics import cardtemplate, pipeline
from biometrics.fingers import FingerPosition
from biometrics.scanner import Scanner, open_scanner
from cardlib import direct
from cardlib.authority import FkoCard, HospitalCard, personalise_fko, personalise_hospital
from cardlib.family import FamilyCard, family_digest
from cardlib.model import (
    Activation,
    CardSerial,
    Family,
    FingerSlot,
    Gender,
    Issuance,
    Member,
    Policy,
    Relationship,
    Urn,
)
from cardlib.transport import Transport, open_transport
from keymgmt import hierarchy, revocation, scp
from keymgmt.certs import Certificate
from keymgmt.store import FileKeyStore, KeyStore
from simulators.cards.family import FamilyCardOS
from simulators.cards.fko import FkoCardOS
from simulators.cards.hospital import HospitalCardOS
from simulators.fingers import SyntheticFinger, finger_seed
from simulators.scanner.inprocess import glass_for
from station.demo.hospital import PIN, STAFF, STAFF_PASS, setup_station, write_package_list
from station.hospital import desk
from station.hospital.rules import HospitalRules
from station.hospital.trust import encode_fko_directory
from station.storage import Database

PASS = "test-store-passphrase"
FINGERS = (FingerPosition.RIGHT_INDEX, FingerPosition.LEFT_INDEX)
JPEG = b"\xff\xd8\xff\xe0" + bytes(64) + b"\xff\xd9"
_slots = itertools.count()


@functools.cache
def template(person: str, finger: FingerPosition, impression: int = 0) -> bytes:
    return cardtemplate.encode(pipeline.extract(SyntheticFinger(finger_seed(person, finger)).impression(impression)))


def insert(card: object) -> Transport:
    name = f"hosp-test-{next(_slots)}"
    direct.register_card(name, card)  # type: ignore[arg-type]
    transport = open_transport(f"direct:{name}")
    transport.connect()
    return transport


def reinsert(transport: Transport, card: object) -> None:
    direct.register_card(transport.reader_name, card)  # type: ignore[arg-type]
    transport.connect()


@dataclass
class Scheme:
    """Keys, authority cards and issued family cards (EEPROM images), made once."""

    root: Path
    central: KeyStore
    district: KeyStore
    root_cert: Certificate
    fko_image: bytes
    hospital_images: dict[str, bytes]
    fko_directory: bytes
    probes: dict[tuple[str, FingerPosition, int], np.ndarray]
    families: dict[str, bytes] = field(default_factory=dict)  # name -> family card image

    def family(self, urn: str, people: tuple[tuple[str, Gender, int, Relationship, bool], ...]) -> Family:
        today = date.today()
        members = tuple(
            Member(name, gender, yob, rel, photo=JPEG,
                   fingers=tuple(FingerSlot(int(f), template(f"{urn}/{name}", f)) for f in FINGERS) if fingers else ())
            for name, gender, yob, rel, fingers in people
        )
        policy = Policy("New India Assurance", f"NIA/{urn[-4:]}", today - timedelta(days=60), today + timedelta(days=300),
                        3_000_000, 3_000_000)
        return Family(Urn(urn), "RSBY", "10", "0923", "1001", members, (policy, None))

    def issue(self, family: Family, *, key: bytes | None = None, issuance_from: bytes | None = None) -> bytes:
        """Personalise, FKO-authorise and activate a card for ``family``; returns its EEPROM image.

        ``key`` other than the district's makes a forgery (the forger computes its own activation);
        ``issuance_from`` copies another card's signed issuance record onto this one (altered data).
        """
        card = FamilyCardOS(None)
        t = insert(card)
        fko_t = insert(FkoCardOS(None, image=self.fko_image))
        try:
            client = FamilyCard(t)
            serial = client.select().serial.value
            genuine = key is None
            card_key = hierarchy.family_card_key(self.district, serial) if genuine else key
            client.personalise(family, card_key)
            if genuine and issuance_from is None:
                fko = FkoCard(fko_t)
                fko.select()
                fko.unlock(template("fko/officer", FingerPosition.RIGHT_INDEX))
                client.authenticate(fko)
                now = datetime.now(UTC).replace(microsecond=0)
                auth = fko.authorise_issuance(serial, family.urn.value, family_digest(family), "TEST-STN", now)
                fko_serial = CardSerial(fko.info().serial)
                client.activate(Activation(fko_serial, auth.number, now, auth.activation_cryptogram),
                                Issuance("TEST-STN", fko_serial, now, auth.signature))
            else:
                donor = FamilyCardOS(None, image=issuance_from or next(iter(self.families.values())))
                dt = insert(donor)
                stolen = FamilyCard(dt).read_issuance()
                dt.close()
                assert stolen is not None
                number = 7
                crypt = scp.activation_cryptogram(card_key, serial, family.urn.value.encode("ascii"), number)
                client.activate(Activation(stolen.authority_serial, number, stolen.time, crypt), stolen)
        finally:
            t.close()
            fko_t.close()
        return card.image()


def _make_scheme(root: Path) -> Scheme:
    keys = root / "keys"
    keys.mkdir(parents=True)
    central = FileKeyStore.create(keys / "central.keys", PASS, scrypt_n=2**10)
    root_cert = hierarchy.create_scheme(central, "RSBY", "test scheme")
    district = FileKeyStore.create(keys / "district.keys", PASS, scrypt_n=2**10)
    hierarchy.create_district(central, district, "0923", "Gaya")
    now = datetime.now(UTC).replace(microsecond=0)
    fko_os = FkoCardOS(None)
    t = insert(fko_os)
    personalise_fko(FkoCard(t), district, "S. Sharma", "FKO-1", (template("fko/officer", FingerPosition.RIGHT_INDEX),),
                    now - timedelta(days=1), now + timedelta(days=365))
    fko = FkoCard(t)
    fko.select()
    directory = encode_fko_directory([fko.chain()])
    t.close()
    hospitals = {}
    for hid in ("H0923001", "H0923002"):
        h_os = HospitalCardOS(None)
        ht = insert(h_os)
        personalise_hospital(HospitalCard(ht), central, f"Hospital {hid}", hid, PIN, now - timedelta(days=1),
                             now + timedelta(days=365))
        ht.close()
        hospitals[hid] = h_os.image()
    probes = {}
    scheme = Scheme(root, central, district, root_cert, fko_os.image(), hospitals, directory, probes)
    gaya = scheme.family("10092310010000001", (
        ("Ram Yadav", Gender.MALE, 1980, Relationship.HEAD, True),
        ("Sita Devi", Gender.FEMALE, 1985, Relationship.SPOUSE, True),
        ("Ajay Yadav", Gender.MALE, 2015, Relationship.SON, False),
    ))
    scheme.families["gaya"] = scheme.issue(gaya)
    other = scheme.family("10092310010000002", (("Mohan Kumar", Gender.MALE, 1960, Relationship.HEAD, False),))
    scheme.families["other"] = scheme.issue(other)
    # Fresh impressions for the desk's captures: attempt n shows impression n (a finger placed again).
    for who, f, attempt in (("Ram Yadav", FingerPosition.LEFT_INDEX, 1), ("Sita Devi", FingerPosition.RIGHT_INDEX, 1)):
        probes[(who, f, attempt)] = SyntheticFinger(finger_seed(f"10092310010000001/{who}", f)).impression(attempt)
    probes[("stranger", FingerPosition.RIGHT_INDEX, 1)] = SyntheticFinger(
        finger_seed("stranger", FingerPosition.RIGHT_INDEX)).impression(0)
    # A forgery: another key, the issuance record copied from the genuine card.
    scheme.families["forged"] = scheme.issue(replace(gaya, urn=Urn("10092310010000009")), key=bytes(range(16)))
    # Altered data under a genuine key (an insider): the FKO's signature no longer matches the data.
    altered = replace(gaya, members=(replace(gaya.members[0], name="Someone Else"), *gaya.members[1:]))
    scheme.families["altered"] = scheme.issue(altered, key=None, issuance_from=scheme.families["gaya"])
    return scheme


@pytest.fixture(scope="session")
def scheme(tmp_path_factory: pytest.TempPathFactory) -> Scheme:
    return _make_scheme(tmp_path_factory.mktemp("hospital-scheme"))


@dataclass
class Desk:
    """One hospital station with a logged-in desk; ``insert_family(name)`` puts a fresh card copy in."""

    scheme: Scheme
    data_dir: Path
    db: Database
    ctx: desk.DeskContext
    hospital_os: HospitalCardOS
    scanner: Scanner
    glass_name: str
    cards: dict[str, FamilyCardOS] = field(default_factory=dict)
    clock_offset: list[timedelta] = field(default_factory=lambda: [timedelta()])

    def insert_family(self, name: str) -> tuple[FamilyCardOS, Transport]:
        card = self.cards.get(name) or FamilyCardOS(None, image=self.scheme.families[name])
        self.cards[name] = card
        return card, insert(card)

    def check(self, name: str) -> desk.CardCheck:
        return desk.check_card(self.ctx, self.insert_family(name)[1])

    def place(self, who: str, finger: FingerPosition = FingerPosition.RIGHT_INDEX) -> Callable[..., None]:
        glass = glass_for(self.glass_name)

        def prompt(member: int, asked: FingerPosition, attempt: int) -> None:
            key = ("stranger", FingerPosition.RIGHT_INDEX, 1) if who == "stranger" else (who, asked, attempt)
            glass.place_image(self.scheme.probes[key], label=who)

        return prompt

    def advance(self, delta: timedelta) -> None:
        self.clock_offset[0] += delta


def open_test_desk(scheme: Scheme, data_dir: Path, hospital_id: str = "H0923001", rules: HospitalRules | None = None,
                   revoked: tuple[bytes, ...] = ()) -> Desk:
    district = hierarchy.district_signer(scheme.district)
    rl = revocation.publish(district, 1, family_cards=revoked).to_bytes()
    packages = write_package_list(district, data_dir / "packages.json")
    db, trust = setup_station(data_dir, scheme.root_cert, packages, rl, scheme.fko_directory)
    hospital_os = HospitalCardOS(None, image=scheme.hospital_images[hospital_id])
    offset = [timedelta()]
    clock = lambda: datetime.now(UTC) + offset[0]  # noqa: E731
    ctx = desk.open_desk(db, data_dir, trust, rules or HospitalRules(hospital_id), insert(hospital_os), STAFF,
                         STAFF_PASS, PIN, clock)
    name = f"hosp-scanner-{next(_slots)}"
    return Desk(scheme, data_dir, db, ctx, hospital_os, open_scanner(f"sim:{name}"), name, clock_offset=offset)


@pytest.fixture
def make_desk(scheme: Scheme, tmp_path: Path) -> Iterator[Callable[..., Desk]]:
    made: list[Desk] = []

    def make(**kwargs: object) -> Desk:
        d = open_test_desk(scheme, tmp_path / f"station-{len(made)}", **kwargs)  # type: ignore[arg-type]
        made.append(d)
        return d

    yield make
    for d in made:
        d.scanner.close()
        d.db.close()


@pytest.fixture
def hospital(make_desk: Callable[..., Desk]) -> Desk:
    return make_desk()
