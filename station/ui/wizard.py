"""The enrolment wizard for one household: members → capture → card.

The wizard only moves between pages; each page calls the workflows and the core decides (head's name
locked, at most five insured, captures complete before issuing, one card per household).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from station.storage.models import Gender, Relationship
from station.ui.backend import StationBackend
from station.ui.capture import CapturePage
from station.ui.common import Banner, Screen, button, explain, tr
from station.ui.issue import CardPage
from station.workflows import households as hh
from station.workflows.households import HouseholdView

GENDERS = (Gender.MALE, Gender.FEMALE, Gender.OTHER)
RELATIONS = tuple(r for r in Relationship if r is not Relationship.HEAD)


def gender_text(g: Gender) -> str:
    return {Gender.MALE: tr("male", "Member"), Gender.FEMALE: tr("female", "Member"),
            Gender.OTHER: tr("transgender", "Member")}[g]


def relation_text(r: Relationship) -> str:
    names = {Relationship.HEAD: "head", Relationship.SPOUSE: "spouse", Relationship.SON: "son",
             Relationship.DAUGHTER: "daughter", Relationship.FATHER: "father", Relationship.MOTHER: "mother",
             Relationship.BROTHER: "brother", Relationship.SISTER: "sister", Relationship.GRANDCHILD: "grandchild",
             Relationship.DAUGHTER_IN_LAW: "daughter-in-law", Relationship.SON_IN_LAW: "son-in-law",
             Relationship.OTHER: "other"}
    return tr(names[r], "Member")


class MembersPage(Screen):
    """Who is insured (the head always, at most five) and corrections to the dependants' details."""

    COLS = 6

    def __init__(self, backend: StationBackend) -> None:
        super().__init__()
        self.backend = backend
        self.view: HouseholdView | None = None
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.table = QTableWidget(0, self.COLS)
        self.table.setObjectName("members")
        self.table.verticalHeader().hide()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        self.retranslate()

    def retranslate(self) -> None:
        self.intro.setText(self.tr("Check each member with the family. The head's name is locked to the list; "
                                   "dependants' details can be corrected. Tick who is insured (at most five)."))
        self.table.setHorizontalHeaderLabels([self.tr("Insured"), self.tr("Name"), self.tr("Name (Hindi)"),
                                              self.tr("Gender"), self.tr("Year of birth"), self.tr("Relationship")])
        # Re-label in place: rebuilding the table would throw away corrections not yet saved.
        for r in range(self.table.rowCount()):
            for c, texts in ((3, [gender_text(g) for g in GENDERS]), (5, [relation_text(x) for x in RELATIONS])):
                combo = self.table.cellWidget(r, c)
                if isinstance(combo, QComboBox):
                    for i, text in enumerate(texts):
                        combo.setItemText(i, text)
            head = self.table.item(r, 5)
            if head is not None:
                head.setText(relation_text(Relationship.HEAD))

    def load(self, view: HouseholdView) -> None:
        self.view = view
        # Qt deletes replaced cell widgets later; hide them now so none shows through for a frame.
        for r in range(self.table.rowCount()):
            for c in range(self.COLS):
                old = self.table.cellWidget(r, c)
                if old is not None:
                    old.hide()
        self.table.clearContents()
        self.table.setRowCount(len(view.members))
        for r, m in enumerate(view.members):
            head = m.relationship is Relationship.HEAD
            insured = QCheckBox()
            insured.setChecked(m.insured or head)
            insured.setEnabled(not head)
            insured.setAccessibleName(self.tr("insured: {0}").format(m.name))
            self.table.setCellWidget(r, 0, insured)
            for c, text in ((1, m.name), (2, m.name_local)):
                item = QTableWidgetItem(text)
                if head:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                    item.setToolTip(self.tr("The head's name is locked to the list"))
                self.table.setItem(r, c, item)
            gender = QComboBox()
            for g in GENDERS:
                gender.addItem(gender_text(g), g)
            gender.setCurrentIndex(GENDERS.index(m.gender))
            self.table.setCellWidget(r, 3, gender)
            year = QSpinBox()
            year.setRange(1900, 2100)
            year.setValue(m.year_of_birth)
            self.table.setCellWidget(r, 4, year)
            if head:
                item = QTableWidgetItem(relation_text(Relationship.HEAD))
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(r, 5, item)
            else:
                rel = QComboBox()
                for rr in RELATIONS:
                    rel.addItem(relation_text(rr), rr)
                rel.setCurrentIndex(RELATIONS.index(m.relationship))
                self.table.setCellWidget(r, 5, rel)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)

    def insured_box(self, row: int) -> QCheckBox:
        return self.table.cellWidget(row, 0)  # type: ignore[return-value]

    def commit(self) -> HouseholdView:
        """Save corrections and the insured choice through the workflows; raises what the core refuses."""
        assert self.view is not None and self.backend.ctx is not None
        ctx, urn = self.backend.ctx, self.view.urn
        view = self.view
        for r, m in enumerate(view.members):
            if m.relationship is Relationship.HEAD:
                continue
            name = self.table.item(r, 1).text().strip()
            local = self.table.item(r, 2).text().strip()
            gender = self.table.cellWidget(r, 3).currentData()  # type: ignore[union-attr]
            year = self.table.cellWidget(r, 4).value()  # type: ignore[union-attr]
            rel = self.table.cellWidget(r, 5).currentData()  # type: ignore[union-attr]
            changes = {k: v for k, v, old in (("name", name, m.name), ("name_local", local, m.name_local),
                                              ("gender", gender, m.gender), ("year_of_birth", year, m.year_of_birth),
                                              ("relationship", rel, m.relationship)) if v != old}
            if changes:
                view = hh.edit_member(ctx, urn, m.seq, **changes)
        chosen = {m.seq for r, m in enumerate(view.members) if self.insured_box(r).isChecked()}
        if view.needs_selection or chosen != {m.seq for m in view.insured}:
            view = hh.set_insured(ctx, urn, chosen)
        self.load(view)
        return view


class EnrolmentWizard(Screen):
    finished = Signal()  # back to the household list

    def __init__(self, backend: StationBackend) -> None:
        super().__init__()
        self.backend = backend
        self.view: HouseholdView | None = None
        self.title = QLabel()
        self.title.setObjectName("wizard_title")
        self.steps = QLabel()
        self.banner = Banner()
        self.banner.setObjectName("wizard_banner")
        self.members = MembersPage(backend)
        self.capture = CapturePage(backend)
        self.card = CardPage(backend)
        self.pages = QStackedWidget()
        for page in (self.members, self.capture, self.card):
            self.pages.addWidget(page)
        self.capture.completeness.connect(lambda _: self._buttons())
        self.card.issued.connect(lambda _: self._buttons())
        self.back_button = button(self.go_back, "wizard_back")
        self.next_button = button(self.go_next, "wizard_next", default=True)
        self.cancel_button = button(self.leave, "wizard_cancel")
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.leave)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.steps)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        layout.addLayout(buttons)
        self.retranslate()

    def retranslate(self) -> None:
        self._titles()
        self.back_button.setText(self.tr("&Back"))
        self.cancel_button.setText(self.tr("Close (Esc)"))
        self._buttons()

    def _titles(self) -> None:
        if self.view is not None:
            head = self.view.head
            self.title.setText(f"<h2>{self.view.urn} — {head.name} / {head.name_local}</h2>")
        names = [self.tr("1. Members"), self.tr("2. Photos and fingers"), self.tr("3. Card")]
        current = self.pages.currentIndex()
        self.steps.setText("  ›  ".join(f"<b>{n}</b>" if i == current else n for i, n in enumerate(names)))

    def start(self, urn: str) -> bool:
        """Open the household (the core refuses unlisted ones and second cards); False when refused."""
        assert self.backend.ctx is not None
        try:
            self.view = hh.begin_enrolment(self.backend.ctx, urn)
        except Exception as exc:  # the list screen shows it
            self.last_error = explain(exc)
            return False
        self.banner.clear_message()
        self.members.load(self.view)
        self.pages.setCurrentIndex(0)
        self._titles()
        self._buttons()
        return True

    def entered(self) -> None:
        self.members.table.setFocus()

    def _buttons(self) -> None:
        page = self.pages.currentIndex()
        self.back_button.setEnabled(page > 0 and not self.card.busy)
        texts = [self.tr("&Next: capture"), self.tr("&Next: write the card"), self.tr("&Done")]
        self.next_button.setText(texts[page])
        if page == 1:
            self.next_button.setEnabled(self.capture.complete)
        elif page == 2:
            self.next_button.setEnabled(self.card.done)
        else:
            self.next_button.setEnabled(True)

    def go_next(self) -> None:
        page = self.pages.currentIndex()
        try:
            if page == 0:
                self.view = self.members.commit()
                self.capture.load(self.view)
            elif page == 1:
                self.view = self.capture.finish()
                self.card.load(self.view)
            else:
                self.leave()
                return
        except Exception as exc:  # the core's refusal, shown where the operator is
            self.banner.show_message(explain(exc), "error")
            return
        self.banner.clear_message()
        self.pages.setCurrentIndex(page + 1)
        self.pages.currentWidget().setFocus()
        self._titles()
        self._buttons()

    def go_back(self) -> None:
        page = self.pages.currentIndex()
        if page == 0 or self.card.busy or self.capture.busy:
            return
        self.pages.setCurrentIndex(page - 1)
        self._titles()
        self._buttons()

    def leave(self) -> None:
        if self.capture.busy or self.card.busy:
            self.banner.show_message(self.tr("Wait for the device step to finish (or cancel it) before closing."),
                                     "error")
            return
        self.capture.stop_preview()
        self.finished.emit()
