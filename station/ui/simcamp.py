"""The simulated camp the desktop app runs on by default: the people and cards in front of the station.

On a real station the household list arrives from the district, the FKO inserts their card and each
member puts a finger on the scanner. On simulators this module plays those parts with the headless
demo's world builder (:mod:`station.demo.world`): scheme keys, a signed list, an FKO card in the
authority slot, a blank family card per household, synthetic faces and fingers that appear when the
station asks for them. The station code driven through the UI is the production code.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from biometrics.fingers import FingerPosition
from cardlib import direct
from cardlib.errors import NoCardError, ReaderNotFoundError
from station.config import StationConfig
from station.demo.world import FKO_PERSON, KEY_PASS, SimWorld
from station.storage import Database
from station.trust import ROOT_FILE, SchemeTrust
from station.workflows.session import create_operator

OPERATOR, PASSWORD, OPERATOR_NAME = "operator", "demo-operator-pass", "Asha Kumari"

def _slot(config_value: str) -> str | None:
    backend, _, name = config_value.partition(":")
    return name if backend == "direct" and name else None


class SimCamp:
    """A world under ``root`` (created the first time, reopened afterwards) wired to the configured devices."""

    def __init__(self, root: Path, config: StationConfig, families: int = 6, members: int = 4) -> None:
        self.root = root
        self.config = config
        self.families, self.members = families, members
        self.world: SimWorld | None = None
        self.family_card = None  # the simulated card object in the family reader, for its fault switches

    @property
    def enabled_for_cards(self) -> bool:
        return _slot(self.config.reader_family) is not None

    def prepare(self) -> SimWorld:
        """Build or reopen the world; put the FKO card in the authority reader. Takes 1-3 s the first time."""
        world_dir = self.root / "world"
        world = SimWorld.open(world_dir) if (world_dir / "world.json").exists() else None
        if world is None:
            world = SimWorld.create(world_dir, self.families, self.members)
            world.save_manifest()
        backend, _, name = self.config.scanner.partition(":")
        if backend == "sim":
            world.scanner_name = name
        world.family_slot = _slot(self.config.reader_family) or world.family_slot
        world.authority_slot = _slot(self.config.reader_authority) or world.authority_slot
        self.world = world
        if _slot(self.config.reader_authority):
            self.insert_fko()
        if _slot(self.config.reader_family):
            # The family reader exists (empty) from the start, as a plugged-in reader would.
            self.insert_family_card("spare")
            self.pull_family_card()
        return world

    @property
    def list_path(self) -> Path:
        assert self.world is not None
        return self.world.list_path

    def install_station(self, data_dir: Path, db: Database) -> None:
        """First start only: the scheme root the district would install, and the demo operator."""
        assert self.world is not None
        if not (data_dir / ROOT_FILE).exists():
            SchemeTrust(self.world.root_cert).install(data_dir)
            create_operator(db, data_dir, OPERATOR, OPERATOR_NAME, PASSWORD)

    # -- cards ---------------------------------------------------------------------------------------
    def insert_fko(self) -> None:
        from simulators.cards.fko import FkoCardOS

        assert self.world is not None
        direct.register_card(self.world.authority_slot, FkoCardOS(self.world.fko_state))

    def pull_fko(self) -> None:
        assert self.world is not None
        with contextlib.suppress(NoCardError, ReaderNotFoundError):  # already out
            direct.remove_card(self.world.authority_slot)

    def insert_family_card(self, urn: str) -> None:
        """The card kept for this household (blank the first time) goes into the family reader."""
        from simulators.cards.family import FamilyCardOS

        assert self.world is not None
        self.world.card_path(urn).parent.mkdir(parents=True, exist_ok=True)
        self.family_card = FamilyCardOS(self.world.card_path(urn))
        direct.register_card(self.world.family_slot, self.family_card)

    def pull_during_next_write(self, after_bytes: int = 300) -> None:
        """The operator pulls the card out part-way through writing (the card's tear fault)."""
        if self.family_card is not None:
            self.family_card.faults.tear_after_bytes = after_bytes

    def pull_family_card(self) -> None:
        assert self.world is not None
        with contextlib.suppress(NoCardError, ReaderNotFoundError):  # already out
            direct.remove_card(self.world.family_slot)

    # -- people --------------------------------------------------------------------------------------
    @staticmethod
    def person(urn: str, seq: int) -> str:
        return f"{urn}/{seq}"

    def sit_for_photo(self, urn: str, seq: int) -> None:
        assert self.world is not None
        self.world.sit_for_photo(self.person(urn, seq))

    def set_worn(self, urn: str, seq: int, worn: bool) -> None:
        assert self.world is not None
        key = self.person(urn, seq)
        (self.world.no_prints.add if worn else self.world.no_prints.discard)(key)

    def is_worn(self, urn: str, seq: int) -> bool:
        return self.world is not None and self.person(urn, seq) in self.world.no_prints

    def member_prompt(self, urn: str, seq: int):  # type: ignore[no-untyped-def]
        """What the member does when the station says "place finger X": places it (rendered on demand)."""
        assert self.world is not None
        return self.world.finger_prompt(self.person(urn, seq))

    def fko_prompt(self):  # type: ignore[no-untyped-def]
        assert self.world is not None
        place = self.world.finger_prompt(FKO_PERSON)

        def prompt(finger: FingerPosition, attempt: int) -> None:
            place(finger, attempt + 1)  # the officer's first rendered impression is the enrolled one

        return prompt


__all__ = ["KEY_PASS", "OPERATOR", "PASSWORD", "SimCamp"]
