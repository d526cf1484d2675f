"""Camp summary and export: what this camp did, and the signed, encrypted bundle for the district."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QVBoxLayout,
)

from station.storage.models import HouseholdStatus
from station.ui.backend import StationBackend
from station.ui.common import Banner, Screen, button, explain
from station.ui.households import status_text
from station.workflows.export import BundleResult


@dataclass(frozen=True)
class CampFigures:
    by_status: dict[HouseholdStatus, int]
    members_enrolled: int
    exceptions: int
    cards: int


def camp_figures(backend: StationBackend) -> CampFigures:
    """Counted from the workflows' own views of each household (a camp is at most a few hundred)."""
    rows = backend.search("")
    by_status = Counter(r.status for r in rows)
    members = exceptions = cards = 0
    for r in rows:
        if r.status is HouseholdStatus.LISTED:
            continue
        view = backend.household(r.urn)
        members += sum(1 for m in view.insured if m.complete)
        exceptions += sum(len(m.exceptions) for m in view.insured)
        cards += view.cards_issued
    return CampFigures(dict(by_status), members, exceptions, cards)


class SummaryScreen(Screen):
    back = Signal()
    exported = Signal()

    def __init__(self, backend: StationBackend) -> None:
        super().__init__()
        self.backend = backend
        self.figures: CampFigures | None = None
        self.title = QLabel()
        self.banner = Banner()
        self.banner.setObjectName("summary_banner")
        self.box = QGroupBox()
        self.form = QFormLayout(self.box)
        self.labels: dict[str, tuple[QLabel, QLabel]] = {}
        for key in ("listed", "enrolling", "captured", "issued", "members", "exceptions", "cards", "fko"):
            name, value = QLabel(), QLabel()
            value.setObjectName(f"figure_{key}")
            self.form.addRow(name, value)
            self.labels[key] = (name, value)
        self.export_box = QGroupBox()
        self.export_state = QLabel()
        self.export_state.setWordWrap(True)
        self.export_state.setObjectName("export_state")
        self.export_progress = QProgressBar()
        self.unlock_button = button(self.unlock, "summary_unlock")
        self.export_button = button(self.export, "export")
        ex = QVBoxLayout(self.export_box)
        ex.addWidget(self.export_state)
        ex.addWidget(self.export_progress)
        row = QHBoxLayout()
        row.addWidget(self.unlock_button)
        row.addWidget(self.export_button)
        ex.addLayout(row)
        self.back_button = button(self.back.emit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.banner)
        layout.addWidget(self.box)
        layout.addWidget(self.export_box)
        layout.addStretch(1)
        layout.addWidget(self.back_button)
        self.result: BundleResult | None = None
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText("<h2>" + self.tr("Camp summary") + "</h2>")
        self.box.setTitle(self.tr("This camp"))
        names = {"listed": status_text(HouseholdStatus.LISTED), "enrolling": status_text(HouseholdStatus.ENROLLING),
                 "captured": status_text(HouseholdStatus.CAPTURED), "issued": status_text(HouseholdStatus.ISSUED),
                 "members": self.tr("members enrolled"), "exceptions": self.tr("biometric exceptions"),
                 "cards": self.tr("cards issued"), "fko": self.tr("FKO issuances left")}
        for key, (label, _) in self.labels.items():
            label.setText(names[key][:1].upper() + names[key][1:] + ":")
        self.export_box.setTitle(self.tr("Export for the district"))
        self.unlock_button.setText(self.tr("&Unlock the FKO card"))
        self.export_button.setText(self.tr("&Export the camp bundle"))
        self.back_button.setText(self.tr("&Back to the household list"))
        self._show()

    def entered(self) -> None:
        self.refresh()
        self.export_button.setFocus()

    def refresh(self) -> None:
        if self.backend.ctx is None:
            return
        task = self.backend.runner.start(lambda progress: camp_figures(self.backend), "camp figures")
        task.succeeded.connect(self._figures)
        task.failed.connect(lambda message, exc: self.banner.show_message(explain(exc), "error"))

    def _figures(self, figures: CampFigures) -> None:
        self.figures = figures
        self._show()

    def _show(self) -> None:
        f = self.figures
        values = {"fko": "—" if self.backend.fko_left is None else str(self.backend.fko_left)}
        if f is not None:
            issued = f.by_status.get(HouseholdStatus.ISSUED, 0)
            values.update(listed=str(f.by_status.get(HouseholdStatus.LISTED, 0)),
                          enrolling=str(f.by_status.get(HouseholdStatus.ENROLLING, 0)),
                          captured=str(f.by_status.get(HouseholdStatus.CAPTURED, 0)
                                       + f.by_status.get(HouseholdStatus.ISSUING, 0)),
                          issued=str(issued), members=str(f.members_enrolled), exceptions=str(f.exceptions),
                          cards=str(f.cards))
        for key, (_, value) in self.labels.items():
            value.setText(values.get(key, "…"))
        fko = self.backend.fko is not None
        self.unlock_button.setVisible(not fko)
        self.export_button.setEnabled(fko and self.result is None)
        if self.result is not None:
            r = self.result
            self.export_state.setText(self.tr("Bundle written: {0}\n{1} households, {2} cards, {3} ledger entries\n"
                                              "SHA-256 {4}").format(r.path, r.households, r.cards,
                                                                    r.ledger_entries, r.sha256))
        elif not fko:
            self.export_state.setText(self.tr("The bundle carries the FKO card's signed ledger: unlock the FKO "
                                              "card first."))
        else:
            self.export_state.setText(self.tr("Exporting closes the camp. The bundle is sealed to the district."))

    def unlock(self) -> None:
        task = self.backend.runner.start(lambda progress: self.backend.unlock_fko(lambda f, a: None, progress),
                                         "unlock FKO")
        self.unlock_button.setEnabled(False)
        task.succeeded.connect(lambda _: self._show())
        task.failed.connect(lambda message, exc: self.banner.show_message(explain(exc), "error"))
        task.ended.connect(lambda: self.unlock_button.setEnabled(True))

    def export(self) -> None:
        self.export_button.setEnabled(False)
        task = self.backend.runner.start(self.backend.export, "export")
        task.progress.connect(lambda d, t, m: (self.export_progress.setRange(0, max(t, 1)),
                                               self.export_progress.setValue(d)))
        task.succeeded.connect(self._exported)
        task.failed.connect(lambda message, exc: (self.banner.show_message(explain(exc), "error"), self._show()))

    def _exported(self, result: BundleResult) -> None:
        self.result = result
        self.banner.show_message(self.tr("Camp bundle exported; the camp is closed."), "ok")
        self._show()
        self.exported.emit()
