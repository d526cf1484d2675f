"""The household list of the open camp, searchable by name (Latin or Devanagari), URN or village."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from station.storage.models import HouseholdStatus
from station.ui.backend import StationBackend
from station.ui.common import Banner, Screen, button, explain, tr
from station.ui.forms import FormDialog
from station.workflows.households import HouseholdSummary


def status_text(status: HouseholdStatus) -> str:
    return {
        HouseholdStatus.LISTED: tr("listed", "Status"),
        HouseholdStatus.ENROLLING: tr("enrolling", "Status"),
        HouseholdStatus.CAPTURED: tr("captured", "Status"),
        HouseholdStatus.ISSUING: tr("issuing", "Status"),
        HouseholdStatus.ISSUED: tr("card issued", "Status"),
    }[status]


class HouseholdsScreen(Screen):
    enrol = Signal(str)  # URN
    summary = Signal()
    back = Signal()

    def __init__(self, backend: StationBackend) -> None:
        super().__init__()
        self.backend = backend
        self.rows: tuple[HouseholdSummary, ...] = ()
        self.title = QLabel()
        self.banner = Banner()
        self.search_label = QLabel()
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setClearButtonEnabled(True)
        self.search_label.setBuddy(self.search)
        self.search.textChanged.connect(self.refresh)
        self.search.returnPressed.connect(self._focus_table)
        self.count = QLabel()
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("households")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self.enrol_selected)
        # Enter on a row starts its enrolment, as a double click does.
        for key in ("Return", "Enter"):
            shortcut = QShortcut(QKeySequence(key), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self.enrol_selected)
        self.enrol_button = button(self.enrol_selected, "enrol")
        self.summary_button = button(self.summary.emit)
        self.back_button = button(self.back.emit)
        self.form_button = button(self.record_form, "record_form")
        self.form_dialog: FormDialog | None = None

        top = QHBoxLayout()
        top.addWidget(self.search_label)
        top.addWidget(self.search, 1)
        top.addWidget(self.count)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.form_button)
        buttons.addWidget(self.summary_button)
        buttons.addWidget(self.enrol_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.banner)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.setTabOrder(self.search, self.table)
        self.setTabOrder(self.table, self.enrol_button)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText("<h2>" + self.tr("Households") + "</h2>")
        self.search_label.setText(self.tr("&Search:"))
        self.search.setPlaceholderText(self.tr("name, URN or village"))
        self.table.setHorizontalHeaderLabels([self.tr("URN"), self.tr("Head of household"), self.tr("Name (Hindi)"),
                                              self.tr("Village"), self.tr("Insured"), self.tr("Status")])
        self.enrol_button.setText(self.tr("&Enrol selected household"))
        self.summary_button.setText(self.tr("Camp s&ummary"))
        self.form_button.setText(self.tr("Exclusion / grievance &form…"))
        self.back_button.setText(self.tr("&Back to set-up"))
        self._fill()

    def entered(self) -> None:
        self.refresh()
        self.search.setFocus()
        self.search.selectAll()

    def refresh(self) -> None:
        if self.backend.ctx is None:
            return
        try:
            self.rows = self.backend.search(self.search.text())
        except Exception as exc:  # shown to the operator
            self.banner.show_message(explain(exc), "error")
            return
        self.banner.clear_message()
        self._fill()

    def _fill(self) -> None:
        self.table.setRowCount(len(self.rows))
        for r, h in enumerate(self.rows):
            for c, text in enumerate((h.urn, h.head_name, h.head_name_local, h.village_code, str(h.members),
                                      status_text(h.status))):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        if self.rows and not self.table.selectedItems():
            self.table.selectRow(0)
        self.count.setText(self.tr("Households: {0}").format(len(self.rows)))

    def _focus_table(self) -> None:
        if self.rows:
            self.table.setFocus()
            self.table.selectRow(max(self.table.currentRow(), 0))

    def selected_urn(self) -> str | None:
        row = self.table.currentRow()
        return self.rows[row].urn if 0 <= row < len(self.rows) else None

    def record_form(self) -> FormDialog | None:
        """Open the form (window-modal, not blocking the event loop); the selected family's URN is
        filled in for a grievance about it. The banner confirms what the core stored."""
        if self.backend.ctx is None:
            return None
        row = self.table.currentRow()
        listed = self.rows[row] if 0 <= row < len(self.rows) else None
        dialog = FormDialog(self.backend, "", listed.village_code if listed else "", self)
        dialog.accepted.connect(lambda: self._form_saved(dialog))
        self.form_dialog = dialog
        dialog.open()
        return dialog

    def _form_saved(self, dialog: FormDialog) -> None:
        if dialog.saved is not None:
            kind = (self.tr("Exclusion form") if dialog.saved.kind.value == "exclusion"
                    else self.tr("Grievance form"))
            self.banner.show_message(self.tr("{0} no. {1} recorded for {2}.").format(
                kind, dialog.saved.id, dialog.saved.applicant_name), "ok")
        self.form_dialog = None
        dialog.deleteLater()

    def enrol_selected(self) -> None:
        urn = self.selected_urn()
        if urn is None:
            self.banner.show_message(self.tr("Choose a household first."), "error")
            return
        self.enrol.emit(urn)
