"""What the desktop app holds while it runs: configuration, database, devices, the operator's camp
context and the unlocked FKO session — and thin calls into the Qt-free workflows.

Every rule (who may enrol, how many are insured, when a card may be issued) is decided by
``station.workflows``; the methods here only pass the app's state into them. The screens call these
from :class:`station.ui.tasks.TaskRunner` tasks when they may take long.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from biometrics.fingers import FingerPosition
from station.config import StationConfig
from station.errors import WorkflowError
from station.households import ImportResult, import_list
from station.storage import Database
from station.storage.models import Village
from station.trust import SchemeTrust
from station.ui.devices import DeviceKind, Devices
from station.ui.simcamp import SimCamp
from station.ui.tasks import ProgressFn, TaskRunner
from station.workflows import households as hh
from station.workflows.capture import FingerCapture, FingerOutcome, PhotoOutcome, capture_photo
from station.workflows.export import BundleResult, export_bundle
from station.workflows.fko import FkoSession, unlock_fko
from station.workflows.issuance import IssuanceResult, IssueCard
from station.workflows.session import CampContext, OperatorSession, login, open_camp

FingerPrompt = Callable[[FingerPosition, int], None]


@dataclass(frozen=True)
class VillageChoice:
    code: str
    name: str


class StationBackend:
    """One per running app. ``sim`` is the simulated camp when the app runs on simulators."""

    def __init__(self, config: StationConfig, sim: SimCamp | None = None) -> None:
        self.config = config
        self.sim = sim
        self.data_dir = config.data_dir
        self.db: Database | None = None
        self.devices = Devices(config)
        self.runner = TaskRunner(max_threads=2)
        self.op: OperatorSession | None = None
        self.ctx: CampContext | None = None
        self.fko: FkoSession | None = None
        self._fko_transport = None
        self.trust: SchemeTrust | None = None
        self.fko_left: int | None = None  # issuances left on the FKO card, as last read from it
        self.exported: BundleResult | None = None  # the camp's bundle, once exported (the camp is closed)

    # -- start-up ------------------------------------------------------------------------------------
    def start(self, progress: ProgressFn) -> None:
        """Open (and migrate) the database; on simulators also build the simulated camp. Off the UI thread."""
        total = 3 if self.sim else 1
        if self.sim is not None:
            progress(0, total, "Preparing the simulated camp (keys, signed list, FKO card)")
            self.sim.prepare()
        progress(total - 1, total, "Opening the station database")
        self.db = Database(self.config.effective_database_url)
        if self.sim is not None:
            self.sim.install_station(self.data_dir, self.db)
        progress(total, total, "Ready")

    @property
    def ready(self) -> bool:
        return self.db is not None

    def login(self, name: str, password: str) -> OperatorSession:
        assert self.db is not None
        self.op = login(self.db, self.data_dir, name, password)
        return self.op

    def logout(self) -> None:
        self.close_fko()
        self.op = self.ctx = None

    # -- camp set-up ---------------------------------------------------------------------------------
    def default_list(self) -> Path | None:
        return self.sim.list_path if self.sim is not None and self.sim.world is not None else None

    def import_list(self, path: Path, progress: ProgressFn) -> ImportResult:
        assert self.db is not None and self.op is not None
        self.trust = SchemeTrust.load(self.data_dir)
        return import_list(self.db, path, self.trust, actor=self.op.login, progress=progress)

    def villages(self) -> list[VillageChoice]:
        assert self.db is not None
        with self.db.transaction() as s:
            return [VillageChoice(v.code, v.name) for v in s.scalars(select(Village).order_by(Village.code))]

    def open_camp(self, village_code: str) -> CampContext:
        assert self.db is not None and self.op is not None
        self.trust = self.trust or SchemeTrust.load(self.data_dir)
        self.ctx = open_camp(self.db, self.op, village_code, self.config.station_id, self.data_dir)
        self.exported = None
        return self.ctx

    # -- households ----------------------------------------------------------------------------------
    def search(self, text: str) -> tuple[hh.HouseholdSummary, ...]:
        assert self.ctx is not None
        return hh.search(self.ctx, text, limit=500)

    def household(self, urn: str) -> hh.HouseholdView:
        assert self.ctx is not None
        return hh.load(self.ctx, urn)

    # -- capture -------------------------------------------------------------------------------------
    def take_photo(self, urn: str, seq: int) -> PhotoOutcome:
        assert self.ctx is not None
        if self.sim is not None:
            self.sim.sit_for_photo(urn, seq)
        return capture_photo(self.ctx, urn, seq, self.devices.camera())

    def capture_fingers(self, urn: str, seq: int, prompt: FingerPrompt, progress: ProgressFn) -> FingerOutcome:
        assert self.ctx is not None
        member = self.sim.member_prompt(urn, seq) if self.sim is not None else None

        def both(finger: FingerPosition, attempt: int) -> None:
            prompt(finger, attempt)  # the screen shows which finger to place
            if member is not None:
                member(finger, attempt)  # the simulated member places it

        job = FingerCapture(self.ctx, urn, seq, self.devices.scanner(), prompt=both,
                            tries=self.config.capture_tries, timeout=10.0, progress=progress)
        return job.run()

    # -- FKO and issuance ----------------------------------------------------------------------------
    def unlock_fko(self, prompt: FingerPrompt, progress: ProgressFn) -> FkoSession:
        assert self.ctx is not None
        self.trust = self.trust or SchemeTrust.load(self.data_dir)
        self.close_fko()
        progress(0, 2, "Reading the FKO card")
        transport = self.devices.reader(DeviceKind.AUTHORITY_READER)
        officer = self.sim.fko_prompt() if self.sim is not None else None

        def both(finger: FingerPosition, attempt: int) -> None:
            prompt(finger, attempt)
            if officer is not None:
                officer(finger, attempt)

        try:
            self.fko = unlock_fko(self.ctx, transport, self.trust.root, self.devices.scanner(), prompt=both)
        except BaseException:
            with contextlib.suppress(Exception):
                transport.close()
            raise
        self._fko_transport = transport
        self.fko_left = self.fko.info.counter
        progress(2, 2, "FKO card unlocked")
        return self.fko

    def close_fko(self) -> None:
        if self._fko_transport is not None:
            with contextlib.suppress(Exception):
                self._fko_transport.close()
        self.fko, self._fko_transport, self.fko_left = None, None, None

    def issue_card(self, urn: str, progress: ProgressFn) -> IssuanceResult:
        assert self.ctx is not None
        if self.fko is None:
            raise WorkflowError("unlock the FKO card first")
        transport = self.devices.reader(DeviceKind.FAMILY_READER)
        try:
            result = IssueCard(self.ctx, urn, transport, self.fko, self.data_dir / "print", progress=progress).run()
            self.fko_left = result.fko_counter_left
            return result
        finally:
            with contextlib.suppress(Exception):
                transport.close()

    def export(self, progress: ProgressFn) -> BundleResult:
        assert self.ctx is not None and self.trust is not None
        if self.fko is None:
            raise WorkflowError("unlock the FKO card first: the bundle carries its signed ledger")
        progress(0, 1, "Reading the FKO ledger and sealing the bundle")
        result = export_bundle(self.ctx, self.fko, self.trust, self.data_dir / "bundles")
        self.exported = result
        progress(1, 1, "Bundle written")
        return result

    def close(self) -> None:
        self.runner.wait(10_000)
        self.close_fko()
        self.devices.close()
        if self.db is not None:
            self.db.close()
