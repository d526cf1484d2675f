"""Wizard page 3: the FKO card unlocked by the officer's finger, then the family card written,
FKO-authorised, activated and printed — the core's crash-safe :class:`IssueCard` job, run off the UI
thread with its progress. Pressing "Write" again after a pulled card resumes where it stopped."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from biometrics.fingers import FingerPosition
from station.ui.backend import StationBackend
from station.ui.capture import finger_text
from station.ui.common import Banner, Screen, button, explain, tr
from station.ui.devices import QualityFeedback
from station.ui.tasks import Task
from station.workflows.fko import FkoSession
from station.workflows.households import HouseholdView
from station.workflows.issuance import IssuanceResult


class _Relay(QObject):
    prompt = Signal(object, int)
    quality = Signal(object)


class CardPage(Screen):
    issued = Signal(object)  # IssuanceResult
    fko_changed = Signal()

    def __init__(self, backend: StationBackend) -> None:
        super().__init__()
        self.backend = backend
        self.view: HouseholdView | None = None
        self.task: Task | None = None
        self.result: IssuanceResult | None = None
        self.relay = _Relay()
        self.relay.prompt.connect(self._fko_prompt)
        self.relay.quality.connect(self._fko_quality)
        self.banner = Banner()
        self.banner.setObjectName("card_banner")

        self.fko_box = QGroupBox()
        self.fko_state = QLabel()
        self.fko_state.setObjectName("fko_state")
        self.fko_state.setWordWrap(True)
        self.unlock_button = button(self.unlock, "unlock_fko")
        fko = QVBoxLayout(self.fko_box)
        fko.addWidget(self.fko_state)
        fko.addWidget(self.unlock_button)

        self.card_box = QGroupBox()
        self.card_state = QLabel()
        self.card_state.setObjectName("card_state")
        self.card_state.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("card_progress")
        self.write_button = button(self.write, "write_card")
        self.cancel_button = button(lambda: self.task.cancel() if self.task else None)
        self.sim_row = QWidget()
        self.insert_button = button(self.sim_insert, "sim_insert_card")
        self.pull_button = button(self.sim_pull, "sim_pull_card")
        sim = QHBoxLayout(self.sim_row)
        sim.setContentsMargins(0, 0, 0, 0)
        sim.addWidget(self.insert_button)
        sim.addWidget(self.pull_button)
        self.tear = QCheckBox()
        self.tear.setObjectName("sim_tear")
        sim.addWidget(self.tear)
        sim.addStretch(1)
        self.sim_row.setVisible(backend.sim is not None)
        card = QVBoxLayout(self.card_box)
        card.addWidget(self.card_state)
        card.addWidget(self.progress)
        row = QHBoxLayout()
        row.addWidget(self.write_button)
        row.addWidget(self.cancel_button)
        card.addLayout(row)
        card.addWidget(self.sim_row)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.fko_box)
        layout.addWidget(self.card_box)
        layout.addStretch(1)
        self.retranslate()

    def retranslate(self) -> None:
        self.fko_box.setTitle(self.tr("FKO authorisation"))
        self.unlock_button.setText(self.tr("&Unlock the FKO card"))
        self.card_box.setTitle(self.tr("Family card"))
        self.write_button.setText(self.tr("&Write and authorise the card"))
        self.cancel_button.setText(self.tr("Ca&ncel"))
        self.insert_button.setText(self.tr("Simulator: &insert this household's card"))
        self.pull_button.setText(self.tr("Simulator: pu&ll the card out"))
        self.tear.setText(self.tr("Simulator: pull it out in the &middle of writing"))
        self._texts()

    @property
    def busy(self) -> bool:
        return self.task is not None

    @property
    def done(self) -> bool:
        return self.result is not None

    def load(self, view: HouseholdView) -> None:
        self.view = view
        self.result = None
        self.progress.setValue(0)
        self.banner.clear_message()
        if self.backend.sim is not None:
            self.backend.sim.insert_family_card(view.urn)  # the operator puts a blank card in
        self._texts()
        (self.write_button if self.backend.fko else self.unlock_button).setFocus()

    def _texts(self) -> None:
        fko = self.backend.fko
        if fko is None:
            self.fko_state.setText(self.tr("The FKO card is locked. The Field Key Officer inserts their card in the "
                                           "FKO reader and places their finger when asked."))
        else:
            self.fko_state.setText(self.tr("FKO card of {0} unlocked; {1} issuances left.")
                                   .format(fko.holder, self.backend.fko_left))
        if self.result is not None:
            r = self.result
            self.card_state.setText(self.tr("Card {0} issued (FKO issuance {1}, {2} left).\nCard face: {3}\n"
                                            "Receipt: {4}").format(r.card_serial, r.issuance_number,
                                                                   r.fko_counter_left, r.card_pdf, r.receipt_pdf))
        elif fko is None:
            self.card_state.setText(self.tr("Unlock the FKO card before writing the family card."))
        else:
            self.card_state.setText(self.tr("Insert a blank card in the family reader and press Write."))
        idle = self.task is None
        self.unlock_button.setEnabled(idle and fko is None)
        self.write_button.setEnabled(idle and fko is not None and self.result is None)
        self.cancel_button.setEnabled(not idle)

    # -- FKO -----------------------------------------------------------------------------------------
    def unlock(self) -> None:
        self.backend.devices.scanner().on_capture = self.relay.quality.emit
        self._run(lambda progress: self.backend.unlock_fko(self.relay.prompt.emit, progress), self._unlocked,
                  "unlock FKO")

    def _fko_prompt(self, finger: FingerPosition, attempt: int) -> None:
        self.fko_state.setText(self.tr("FKO: place your {0} on the scanner (try {1})")
                               .format(finger_text(finger), attempt))

    def _fko_quality(self, feedback: QualityFeedback) -> None:
        if not feedback.accepted:
            self.banner.show_message(self.tr("Finger quality {0}/100 was not good enough; place it again.")
                                     .format(feedback.score), "error")

    def _unlocked(self, session: FkoSession) -> None:
        self.banner.show_message(self.tr("FKO card unlocked."), "ok")
        self.fko_changed.emit()
        self.write_button.setFocus()

    # -- family card ---------------------------------------------------------------------------------
    def write(self) -> None:
        if self.view is None:
            return
        urn = self.view.urn
        self.banner.clear_message()
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        if self.backend.sim is not None and self.tear.isChecked():
            self.backend.sim.pull_during_next_write()
            self.tear.setChecked(False)
        self._run(lambda progress: self.backend.issue_card(urn, progress), self._issued, "issue card")

    def _issued(self, result: IssuanceResult) -> None:
        self.result = result
        note = self.tr(" (resumed from {0})").format(result.resumed_from.value) if result.resumed_from else ""
        self.banner.show_message(self.tr("The card is issued{0}. Hand it to the family with the receipt.")
                                 .format(note), "ok")
        self.issued.emit(result)

    def sim_insert(self) -> None:
        if self.backend.sim is not None and self.view is not None:
            self.backend.sim.insert_family_card(self.view.urn)
            self.banner.show_message(self.tr("Card inserted."), "info")

    def sim_pull(self) -> None:
        if self.backend.sim is not None:
            self.backend.sim.pull_family_card()
            self.banner.show_message(self.tr("Card pulled out."), "info")

    # -- running -------------------------------------------------------------------------------------
    def _run(self, fn, on_success, name: str) -> None:  # type: ignore[no-untyped-def]
        self.task = self.backend.runner.start(fn, name)
        self.task.progress.connect(self._progress)
        self.task.succeeded.connect(on_success)
        self.task.failed.connect(lambda message, exc: self.banner.show_message(explain(exc), "error"))
        self.task.ended.connect(self._ended)
        self._texts()

    def _progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(tr(message, "Progress") + " (%p%)")

    def _ended(self) -> None:
        self.task = None
        self._texts()
