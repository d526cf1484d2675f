"""Shared set-up for the authority-card tests: a scheme with one district, cards, fingers, a family.

Fingerprints here are minutiae templates made directly (a finger = a seeded minutia set; a new
impression of it = the same minutiae moved, rotated, jittered and partly missing), so the on-card
matcher is the real one while the tests stay fast.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from biometrics import cardtemplate
from biometrics.minutiae import FingerprintTemplate, Minutia, MinutiaType
from cardlib import authority as ca
from cardlib.family import FamilyCard, family_digest
from cardlib.model import Activation, CardSerial, Family, Gender, Member, Relationship, Urn
from cardlib.transport import Transport
from keymgmt import hierarchy
from keymgmt.store import FileKeyStore
from simulators.cards.district import DistrictCardOS
from simulators.cards.family import FamilyCardOS
from simulators.cards.fko import FkoCardOS
from simulators.cards.hospital import HospitalCardOS

# One card-slot helper for all card tests; re-exported because the authority-card suites import it from here.
from tests.cardlib.family_samples import inserted as inserted
from tests.cardlib.family_samples import reinsert as reinsert

PASSPHRASE = "correct horse battery"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DISTRICT = "0923"
PIN = "246810"


def finger(seed: int, impression: int = 0) -> bytes:
    """Card-template bytes of one impression of synthetic finger ``seed`` (0 = the enrolment)."""
    rng = random.Random(seed)
    points: list[tuple[int, int, float, MinutiaType]] = []
    while len(points) < 45:
        x, y = rng.randrange(80, 420), rng.randrange(80, 460)
        if all((x - p[0]) ** 2 + (y - p[1]) ** 2 > 400 for p in points):
            points.append((x, y, rng.uniform(0, 2 * math.pi), rng.choice((MinutiaType.ENDING, MinutiaType.BIFURCATION))))
    if impression:
        move = random.Random(seed * 7919 + impression)
        rot, dx, dy = move.uniform(-0.15, 0.15), move.randint(-12, 12), move.randint(-12, 12)
        c, s = math.cos(rot), math.sin(rot)
        points = [
            (
                int(250 + (x - 250) * c - (y - 250) * s + dx + move.randint(-3, 3)),
                int(250 + (x - 250) * s + (y - 250) * c + dy + move.randint(-3, 3)),
                (a - rot + move.uniform(-0.05, 0.05)) % (2 * math.pi),
                k,
            )
            for x, y, a, k in points[5:]
        ]
    minutiae = tuple(Minutia(x, y, a, k, 60) for x, y, a, k in points)
    return cardtemplate.encode(FingerprintTemplate(500, 560, 500, minutiae, 60))


OFFICER_FINGER = 101


@dataclass
class World:
    base: Path
    central: FileKeyStore
    district: FileKeyStore

    @property
    def root(self):
        return hierarchy.root_certificate(self.central)


def make_world(base: Path) -> World:
    central = FileKeyStore.create(base / "central.json", PASSPHRASE, scrypt_n=2**10)
    district = FileKeyStore.create(base / f"district-{DISTRICT}.json", PASSPHRASE, scrypt_n=2**10)
    hierarchy.create_scheme(central, "RSBY", "Test scheme", now=NOW - timedelta(days=60))
    hierarchy.create_district(central, district, DISTRICT, "Test district", now=NOW - timedelta(days=60))
    return World(base, central, district)


def new_fko(world: World, state: Path | None = None, issuances: int = 300, days: int = 365) -> FkoCardOS:
    card = FkoCardOS(state)
    with inserted(card) as t:
        ca.personalise_fko(
            ca.FkoCard(t), world.district, "Asha Verma", "FKO-0923-07", (finger(OFFICER_FINGER),),
            NOW - timedelta(days=1), NOW + timedelta(days=days), issuances,
        )
    return card


def new_district_card(world: World) -> DistrictCardOS:
    card = DistrictCardOS(None)
    with inserted(card) as t:
        ca.personalise_district_card(
            ca.DistrictCard(t), world.district, "Desk officer", "DESK-0923", PIN, NOW - timedelta(days=1),
            NOW + timedelta(days=365),
        )
    return card


def new_hospital_card(world: World) -> HospitalCardOS:
    card = HospitalCardOS(None)
    with inserted(card) as t:
        ca.personalise_hospital(
            ca.HospitalCard(t), world.central, "District Hospital", "HOSP-0923-01", PIN, NOW - timedelta(days=1),
            NOW + timedelta(days=365),
        )
    return card


def family(urn: str = "09230100101000013", district: str = DISTRICT) -> Family:
    return Family(
        urn=Urn(urn), scheme="RSBY", state_code="09", district_code=district, village_code="00101000",
        members=(Member("गोपाल", Gender.MALE, 1950, Relationship.HEAD),),
    )


def new_family_card(card_key_source, fam: Family | None = None) -> FamilyCardOS:
    """A personalised family card whose key comes from ``card_key_source(serial) -> key``."""
    card = FamilyCardOS(None)
    with inserted(card) as t:
        client = FamilyCard(t)
        client.personalise(fam or family(), card_key_source(client.serial().value))
    return card


def district_key(world: World) -> Callable[[bytes], bytes]:
    """The key source (serial -> key) of family cards of the test district, for ``new_family_card``."""
    return lambda serial: hierarchy.family_card_key(world.district, serial)


def unlocked_fko(transport: Transport) -> ca.FkoCard:
    """The FKO card on ``transport``, selected and unlocked by a fresh impression of the officer's finger."""
    fko = ca.FkoCard(transport)
    fko.select()
    fko.unlock(finger(OFFICER_FINGER, impression=1))
    return fko


def issue(
    fko: ca.FkoCard, family_transport: Transport, fam: Family, time: datetime = NOW
) -> ca.IssuanceAuthorisation:
    """One issuance as at a camp: the FKO authenticates and authorises the card, which is then activated."""
    fc = FamilyCard(family_transport)
    fc.authenticate(fko)
    serial = fc.serial().value
    auth = fko.authorise_issuance(serial, fam.urn.value, family_digest(fam), "CAMP-01", time)
    fc.activate(Activation(CardSerial(fko.info().serial), auth.number, time, auth.activation_cryptogram))
    return auth
