"""Bad things during card issuance: a clear error, nothing lost, and running the job again finishes it.

The station is the demo's (keys, signed list, FKO card, cards as simulated card OSes in in-process
readers); the faults are the simulators' own switches: a card torn after N written bytes, a card
pulled out of its reader, a damaged stored capture, the FKO card pulled before it counted.
Every test checks the household ends with exactly one valid card and the FKO counted it once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from biometrics.camera import open_camera
from biometrics.scanner import open_scanner
from cardlib import direct
from cardlib.errors import CardError, CardRemovedError
from cardlib.family import FamilyCard
from cardlib.family_profile import INS_ACTIVATE, Lifecycle
from simulators.cards.family import FamilyCardOS
from station.demo.camp import DemoSummary, enrol_household, setup_station
from station.demo.readers import AUTHORITY, FAMILY, InProcessReaders
from station.demo.world import FKO_PERSON, SimWorld
from station.errors import DecryptionError, StationError
from station.storage.models import Capture, CaptureKind, Household, HouseholdStatus, IssuanceState
from station.workflows.capture import discard_captures
from station.workflows.fko import FkoSession, unlock_fko
from station.workflows.issuance import IssueCard

HOUSEHOLDS = 5


@dataclasses.dataclass(frozen=True)
class Row:
    serial: str
    state: IssuanceState


@dataclasses.dataclass
class Station:
    world: SimWorld
    ctx: object
    trust: object
    fko: FkoSession
    out: Path
    scanner: object
    camera: object

    def unlock(self) -> FkoSession:
        transport = self.world.insert_fko()
        prompt = self.world.finger_prompt(FKO_PERSON)
        self.fko = unlock_fko(self.ctx, transport, self.trust.root, self.scanner,  # type: ignore[attr-defined]
                              prompt=lambda f, a: prompt(f, a + 1))
        return self.fko

    def captured(self, index: int) -> str:
        urn = self.world.households[index]["urn"]
        enrol_household(self.ctx, self.world, urn, self.scanner, self.camera, DemoSummary(), lambda line: None)
        return urn

    def issue(self, urn: str, card: FamilyCardOS | None = None, progress=None):  # type: ignore[no-untyped-def]
        transport = self.world.readers.insert(FAMILY, card or FamilyCardOS(self.world.card_path(urn)))
        return IssueCard(self.ctx, urn, transport, self.fko, self.out / "print", progress=progress).run()

    def rows(self, urn: str) -> list[Row]:
        with self.ctx.db.transaction() as s:  # type: ignore[attr-defined]
            h = s.scalar(select(Household).where(Household.urn == urn))
            return [Row(i.card_serial, i.state) for i in sorted(h.issuances, key=lambda i: i.number)]

    def status(self, urn: str) -> HouseholdStatus:
        with self.ctx.db.transaction() as s:  # type: ignore[attr-defined]
            return s.scalar(select(Household.status).where(Household.urn == urn))

    def ledger_for(self, urn: str) -> int:
        return sum(1 for e in self.fko.card.read_ledger() if e.urn == urn)


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    out = tmp_path_factory.mktemp("faults")
    world = SimWorld.create(out / "world", HOUSEHOLDS, members=1)
    world.readers = InProcessReaders(prefix="faults-")
    # Every head has worn fingers (a biometric exception): no finger rendering, only the FKO officer's.
    world.no_prints.update(f"{h['urn']}/1" for h in world.households)
    world.prepare_prints(FKO_PERSON, impressions=2, fingers=1)
    db, ctx, trust = setup_station(out, world, lambda line: None)
    scanner, camera = open_scanner(f"sim:{world.scanner_name}"), open_camera("sim:faces")
    camera.open()
    st = Station(world, ctx, trust, None, out, scanner, camera)  # type: ignore[arg-type]
    st.unlock()
    yield st
    camera.close()
    scanner.close()
    world.readers.close()
    db.close()


def assert_one_valid_card(st: Station, urn: str) -> None:
    valid = [r for r in st.rows(urn) if r.state is not IssuanceState.VOID]
    assert [r.state for r in valid] == [IssuanceState.COMPLETE]
    assert st.status(urn) is HouseholdStatus.ISSUED
    assert st.ledger_for(urn) == 1  # counted once, whatever happened on the way


def test_torn_card_write_during_issuance(station: Station) -> None:
    urn = station.captured(0)
    counter = station.fko.counter()
    card = FamilyCardOS(station.world.card_path(urn))
    card.faults.tear_after_bytes = 1_500  # the card loses power in the middle of the head's photo
    with pytest.raises(CardRemovedError) as torn:
        station.issue(urn, card)
    assert "still blank: reinsert it and personalise again" in str(torn.value)
    assert [r.state for r in station.rows(urn)] == [IssuanceState.INTENT]
    assert station.fko.counter() == counter  # nothing authorised
    with station.ctx.db.transaction() as s:  # type: ignore[attr-defined]
        assert s.scalar(select(Capture.id).limit(1)) is not None  # the captures are all still there
    result = station.issue(urn)  # the same card, reinserted (its saved state: still blank)
    assert result.resumed_from is IssuanceState.INTENT
    assert station.fko.counter() == counter - 1
    assert_one_valid_card(station, urn)


class TearOnActivate(FamilyCardOS):
    """A family card that loses power a few bytes into the ACTIVATE write (after the FKO counted it)."""

    def process(self, raw: bytes) -> bytes:
        if len(raw) > 1 and raw[1] == INS_ACTIVATE:
            self.faults.tear_after_bytes = 8
        return super().process(raw)


def test_card_torn_after_the_fko_counted_is_activated_without_counting_again(station: Station) -> None:
    urn = station.captured(1)
    counter = station.fko.counter()
    with pytest.raises(CardError):
        station.issue(urn, TearOnActivate(station.world.card_path(urn)))
    assert station.fko.counter() == counter - 1 and station.ledger_for(urn) == 1
    assert [r.state for r in station.rows(urn)] == [IssuanceState.PERSONALISED]
    card = FamilyCardOS(station.world.card_path(urn))
    assert card.lifecycle is Lifecycle.PERSONALISED  # the torn activation was rolled back by the card
    result = station.issue(urn, card)
    assert result.resumed_from is IssuanceState.PERSONALISED
    assert station.fko.counter() == counter - 1  # not counted twice
    assert_one_valid_card(station, urn)


def test_family_reader_pulled_before_writing(station: Station) -> None:
    urn = station.captured(2)

    def pull_reader(done: int, total: int, message: str) -> None:
        if message.startswith("Writing"):
            direct.unregister(f"{station.world.readers.prefix}{FAMILY}")  # type: ignore[attr-defined]

    with pytest.raises(CardRemovedError, match="reinsert"):
        station.issue(urn, progress=pull_reader)
    assert [r.state for r in station.rows(urn)] == [IssuanceState.INTENT]
    station.issue(urn)  # reader plugged back, card in it
    assert_one_valid_card(station, urn)


def test_fko_card_pulled_before_it_counted(station: Station) -> None:
    urn = station.captured(3)
    counter = station.fko.counter()

    def pull_fko(done: int, total: int, message: str) -> None:
        if message.startswith("FKO authorisation"):
            direct.remove_card(f"{station.world.readers.prefix}{AUTHORITY}")  # type: ignore[attr-defined]

    with pytest.raises(CardRemovedError, match="reinsert"):
        station.issue(urn, progress=pull_fko)
    assert [r.state for r in station.rows(urn)] == [IssuanceState.PERSONALISED]
    station.unlock()  # the FKO puts the card back and unlocks it again
    assert station.fko.counter() == counter
    station.issue(urn)
    assert station.fko.counter() == counter - 1
    assert_one_valid_card(station, urn)


def test_damaged_stored_capture_stops_before_anything_is_recorded_then_is_retaken(station: Station) -> None:
    urn = station.captured(4)
    with station.ctx.db.transaction() as s:  # type: ignore[attr-defined]
        h = s.scalar(select(Household).where(Household.urn == urn))
        photo = next(c for c in h.head.captures)
        photo.ciphertext = photo.ciphertext[:-1] + bytes([photo.ciphertext[-1] ^ 1])  # one flipped bit on disk
    with pytest.raises(DecryptionError, match="re-capture") as damaged:
        station.issue(urn)
    assert isinstance(damaged.value, StationError)
    assert station.rows(urn) == [] and station.status(urn) is HouseholdStatus.CAPTURED
    card = FamilyCard(station.world.readers.insert(FAMILY, FamilyCardOS(station.world.card_path(urn))))
    assert card.select().lifecycle is Lifecycle.BLANK  # the card was never touched
    # As the message says: re-capture the member, then issue.
    assert discard_captures(station.ctx, urn, 1, CaptureKind.PHOTO, "photo does not decrypt") == 1
    assert station.status(urn) is HouseholdStatus.ENROLLING
    station.captured(4)
    with station.ctx.db.transaction() as s:  # type: ignore[attr-defined]
        head = s.scalar(select(Household).where(Household.urn == urn)).head
        assert len(head.exceptions) == 1  # the fingers' exception kept; only the photo was retaken
    station.issue(urn)
    assert_one_valid_card(station, urn)
