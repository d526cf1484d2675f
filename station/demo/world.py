"""Everything a camp needs, made on simulators: scheme and district keys, a signed household list,
an FKO card, blank family cards, people with synthetic faces and fingers.

Used by ``station demo`` and by the end-to-end tests; the station code it drives is the production
code — only the devices are simulated: cards in two readers (pcscd + vpcd, or in-process ``direct:``
slots; see :mod:`station.demo.readers`), ``sim:`` scanner and camera.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

import simulators  # noqa: F401 - registers the sim: scanner and camera backends
from biometrics import cardtemplate, pipeline
from biometrics.fingers import CAPTURE_ORDER, FingerPosition
from cardlib import direct
from cardlib.authority import FkoCard, personalise_fko
from cardlib.transport import Transport
from keymgmt import hierarchy
from keymgmt.certs import Certificate
from keymgmt.signing import sign_document
from keymgmt.store import FileKeyStore, KeyStore
from simulators.camera.backends import camera_control
from simulators.cards.family import FamilyCardOS
from simulators.cards.fko import FkoCardOS
from simulators.fingers import SyntheticFinger, finger_seed
from simulators.scanner.inprocess import glass_for
from station.demo.readers import AUTHORITY, FAMILY, DemoReaders, InProcessReaders
from station.households import encode_list, signature_path
from station.trust import LIST_PURPOSE

DISTRICT = "0923"
STATE = "10"
VILLAGE = "1001"
SCHEME = "RSBY"
KEY_PASS = "demo-store-passphrase"
FKO_PERSON = "fko/officer"
# Latin and Devanagari given names and family names for the synthetic list ("Devi", often seen on
# women's names in Bihar, is not a family name: a list with "Shyam Devi" as a male head looks wrong).
MEN = [("Ram", "राम"), ("Shyam", "श्याम"), ("Mohan", "मोहन"), ("Suresh", "सुरेश"), ("Ajay", "अजय"), ("Krishna", "कृष्ण")]
WOMEN = [("Sita", "सीता"), ("Gita", "गीता"), ("Lakshmi", "लक्ष्मी"), ("Sunita", "सुनीता"), ("Priya", "प्रिया"),
         ("Shraddha", "श्रद्धा")]
SURNAMES = [("Prasad", "प्रसाद"), ("Yadav", "यादव"), ("Kumar", "कुमार"), ("Paswan", "पासवान"), ("Manjhi", "मांझी")]


def urn_for(i: int) -> str:
    return f"{STATE}{DISTRICT}{VILLAGE}{i:07d}"  # 2 + 4 + 4 + 7 = the 17 characters of a URN


def sample_households(n: int, members: int = 3, seed: int = 1) -> list[dict]:
    """``n`` households of ``members`` people (head, spouse, children), with Devanagari names."""
    rng = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        (sur, sur_hi) = rng.choice(SURNAMES)
        (head, head_hi), (wife, wife_hi) = rng.choice(MEN), rng.choice(WOMEN)
        people = [{"name": f"{head} {sur}", "name_local": f"{head_hi} {sur_hi}", "gender": "M",
                   "age": rng.randint(28, 60), "relationship": "head"},
                  {"name": f"{wife} {sur}", "name_local": f"{wife_hi} {sur_hi}", "gender": "F",
                   "age": rng.randint(25, 55), "relationship": "spouse"}]
        for _ in range(max(0, members - 2)):
            boy = rng.random() < 0.5
            (name, name_hi) = rng.choice(MEN if boy else WOMEN)
            people.append({"name": f"{name} {sur}", "name_local": f"{name_hi} {sur_hi}", "gender": "M" if boy else "F",
                           "age": rng.randint(2, 20), "relationship": "son" if boy else "daughter"})
        father = rng.choice(MEN)
        out.append({"urn": urn_for(i), "village_code": VILLAGE, "guardian_name": f"{father[0]} {sur}",
                    "insurer": "New India Assurance", "policy_number": f"NIA/{DISTRICT}/{i:06d}",
                    "policy_start": "2026-12-01", "policy_end": "2027-11-30", "members": people[:max(1, members)]})
    return out


@dataclass
class SimWorld:
    """Keys, list, cards and people of one simulated camp, all files under ``root``."""

    root: Path
    central: KeyStore
    district: KeyStore
    root_cert: Certificate
    list_path: Path
    households: list[dict]
    fko_state: Path
    scanner_name: str = "demo"
    family_slot: str = "family"  # in-process slot names (the desktop app's simulated camp uses them)
    authority_slot: str = "authority"
    # The station's two card readers; in-process until the demo hands over pcscd ones.
    readers: DemoReaders = field(default_factory=InProcessReaders)
    # person key -> finger -> pre-rendered impressions (station time is measured without the simulator's)
    prints: dict[str, dict[FingerPosition, list[np.ndarray]]] = field(default_factory=dict)
    no_prints: set[str] = field(default_factory=set)  # people whose fingers cannot be read (worn)

    @classmethod
    def create(cls, root: Path, families: int, members: int = 3, scrypt_n: int = 2**12) -> SimWorld:
        root.mkdir(parents=True, exist_ok=True)
        keys = root / "keys"
        keys.mkdir(exist_ok=True)
        central = FileKeyStore.create(keys / "central.keys", KEY_PASS, scrypt_n=scrypt_n)
        root_cert = hierarchy.create_scheme(central, SCHEME, "Rashtriya Swasthya Bima Yojana")
        district = FileKeyStore.create(keys / f"district-{DISTRICT}.keys", KEY_PASS, scrypt_n=scrypt_n)
        hierarchy.create_district(central, district, DISTRICT, "Gaya")
        households = sample_households(families, members)
        header = {"state_code": STATE, "district_code": DISTRICT, "district_name": "Gaya", "scheme_code": SCHEME,
                  "scheme_name": "Rashtriya Swasthya Bima Yojana", "as_of": "2026-11-01",
                  "sum_insured_rupees": 30000, "villages": [{"code": VILLAGE, "name": "Bodh"}]}
        data = encode_list(header, households)
        list_path = root / f"households-{DISTRICT}-{VILLAGE}.jsonl"
        list_path.write_bytes(data)
        signature_path(list_path).write_text(
            sign_document(hierarchy.district_signer(district), data, LIST_PURPOSE).to_text())
        world = cls(root, central, district, root_cert, list_path, households, root / "cards" / "fko.card")
        world.make_fko_card()
        return world

    @classmethod
    def open(cls, root: Path) -> SimWorld:
        """The world :meth:`create` left in ``root`` (after a restart: stores, list and card files)."""
        from station.households import parse_list

        keys = root / "keys"
        central = FileKeyStore.open(keys / "central.keys", KEY_PASS)
        district = FileKeyStore.open(keys / f"district-{DISTRICT}.keys", KEY_PASS)
        list_path = root / f"households-{DISTRICT}-{VILLAGE}.jsonl"
        lines = list_path.read_bytes().decode("utf-8").splitlines()[1:]
        parse_list(list_path.read_bytes())  # a damaged world file is refused here, not half-used
        households = [json.loads(line) for line in lines]
        return cls(root, central, district, hierarchy.root_certificate(central), list_path, households,
                   root / "cards" / "fko.card")

    # -- cards -----------------------------------------------------------------------------------------
    def make_fko_card(self) -> None:
        self.fko_state.parent.mkdir(parents=True, exist_ok=True)
        with direct.inserted(FkoCardOS(self.fko_state), "fko-perso") as transport:
            officer = SyntheticFinger(finger_seed(FKO_PERSON, FingerPosition.RIGHT_INDEX))
            template = cardtemplate.encode(pipeline.extract(officer.impression(0)))
            now = datetime.now(UTC).replace(microsecond=0)
            personalise_fko(FkoCard(transport), self.district, "S. Sharma", "FKO-0923-0001", (template,),
                            now - timedelta(days=1), now + timedelta(days=365))

    def insert_fko(self) -> Transport:
        """The FKO card (from its state file) in the authority reader; connected transport."""
        return self.readers.insert(AUTHORITY, FkoCardOS(self.fko_state))

    def eject_fko(self) -> None:
        self.readers.eject(AUTHORITY)

    def card_path(self, urn: str) -> Path:
        return self.root / "cards" / f"family-{urn}.card"

    def insert_family_card(self, urn: str) -> Transport:
        """The family card reserved for ``urn`` (blank the first time, its saved state after a restart)."""
        return self.readers.insert(FAMILY, FamilyCardOS(self.card_path(urn)))

    def eject_family_card(self) -> None:
        self.readers.eject(FAMILY)

    # -- people ----------------------------------------------------------------------------------------
    def prepare_prints(self, person: str, impressions: int = 2, fingers: int = 2) -> None:
        """Render a person's finger impressions ahead of the camp (the simulator's cost, not the station's)."""
        per = self.prints.setdefault(person, {})
        for position in CAPTURE_ORDER[:fingers]:
            # Rendering is deterministic (seeded by person and finger), so a resumed camp reuses the
            # impressions rendered before the restart instead of spending seconds on them again.
            cache = self.root / "prints" / f"{person.replace('/', '_')}-{int(position)}-{impressions}.npy"
            try:
                per[position] = list(np.load(cache))
                continue
            except (OSError, ValueError):
                pass
            finger = SyntheticFinger(finger_seed(person, position))
            per[position] = [finger.impression(i) for i in range(impressions)]
            cache.parent.mkdir(exist_ok=True)
            tmp = cache.with_suffix(".tmp.npy")
            np.save(tmp, np.stack(per[position]))
            tmp.replace(cache)  # atomic: a kill -9 mid-save leaves no half-written cache

    def finger_prompt(self, person: str):  # type: ignore[no-untyped-def]
        """The callback the capture job calls: 'place finger X' — here the simulated person obeys."""
        glass = glass_for(self.scanner_name)

        def place(position: FingerPosition, attempt: int) -> None:
            if person in self.no_prints:
                # Worn fingers: the sensor sees skin without ridges, every time.
                glass.place_image(np.full((400, 400), 225, np.uint8), label=f"{person} worn")
                return
            rendered = self.prints.get(person, {}).get(position)
            if rendered:
                glass.place_image(rendered[(attempt - 1) % len(rendered)], label=f"{person} {position.label}")
            else:
                glass.place_finger(person, position, impression=attempt - 1)

        return place

    def sit_for_photo(self, person: str) -> None:
        camera_control().set(subject=person)

    def save_manifest(self) -> Path:
        path = self.root / "world.json"
        path.write_text(json.dumps({"list": str(self.list_path), "fko_state": str(self.fko_state),
                                    "households": [h["urn"] for h in self.households],
                                    "created": date.today().isoformat()}, indent=1))
        return path
