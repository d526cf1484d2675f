"""The exclusion / grievance form: a family left off the list asks to be included, or anyone at the camp
complains. The core (:func:`station.workflows.forms.record_form`) checks and stores it; this dialog only
collects the fields and shows the core's refusal (for example an exclusion form for a listed family).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from station.storage.models import FormKind
from station.ui.backend import StationBackend
from station.ui.common import Banner, explain
from station.workflows.forms import FormView


class FormDialog(QDialog):
    """Modal; ``saved`` holds the stored form once the core accepted it."""

    def __init__(self, backend: StationBackend, urn: str = "", village_code: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.saved: FormView | None = None
        self.setObjectName("form_dialog")
        self.setModal(True)
        self.banner = Banner()
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.kind = QComboBox()
        self.kind.setObjectName("form_kind")
        self.applicant = QLineEdit()
        self.applicant.setObjectName("form_applicant")
        self.applicant.setMaxLength(120)
        self.village = QComboBox()
        self.village.setObjectName("form_village")
        self.village.setEditable(True)  # a family from a neighbouring village may come to the camp
        for v in backend.villages():
            self.village.addItem(f"{v.code} — {v.name}", v.code)
        if village_code:
            index = self.village.findData(village_code)
            self.village.setCurrentIndex(index if index >= 0 else 0)
        self.urn = QLineEdit(urn)
        self.urn.setObjectName("form_urn")
        self.members = QSpinBox()
        self.members.setObjectName("form_members")
        self.members.setRange(0, 20)
        self.details = QPlainTextEdit()
        self.details.setObjectName("form_details")
        self.details.setTabChangesFocus(True)  # Tab moves on to the buttons, as in every other field
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setDefault(True)  # Enter in a field saves
        self.form = QFormLayout()
        self.labels = [QLabel() for _ in range(6)]
        for label, field in zip(self.labels, (self.kind, self.applicant, self.village, self.urn, self.members,
                                              self.details), strict=True):
            label.setBuddy(field)
            self.form.addRow(label, field)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(self.banner)
        layout.addLayout(self.form)
        layout.addWidget(self.buttons)
        self.resize(560, 460)
        self.retranslate()
        self.kind.setCurrentIndex(1 if urn else 0)  # a listed family files a grievance, not an exclusion
        self.applicant.setFocus()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Exclusion or grievance form"))
        self.hint.setText(self.tr("For a family that is not on the list (exclusion) or any complaint (grievance). "
                                  "The form goes to the district with the camp bundle."))
        current = self.kind.currentIndex()
        self.kind.clear()
        self.kind.addItem(self.tr("Exclusion: family not on the list"), FormKind.EXCLUSION)
        self.kind.addItem(self.tr("Grievance: a complaint"), FormKind.GRIEVANCE)
        self.kind.setCurrentIndex(max(current, 0))
        texts = (self.tr("&Kind:"), self.tr("&Applicant's name:"), self.tr("&Village:"),
                 self.tr("&URN (if listed):"), self.tr("&Members claimed:"), self.tr("&Details:"))
        for label, text in zip(self.labels, texts, strict=True):
            label.setText(text)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(self.tr("&Save form"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Cancel"))

    def chosen_kind(self) -> FormKind:
        return FormKind(self.kind.currentData())  # Qt hands the enum back as its plain string

    def village_code(self) -> str:
        data = self.village.currentData()
        text = self.village.currentText().strip()
        # An edited entry has no data, or data that no longer matches the text: take the code typed.
        if data is not None and text.startswith(str(data)):
            return str(data)
        return text.split(" ", 1)[0]

    def save(self) -> None:
        """One short transaction in the core: run on the UI thread, like the other single-row steps."""
        from station.workflows.forms import record_form

        if self.backend.ctx is None:
            self.banner.show_message(self.tr("Open the camp first."), "error")
            return
        try:
            self.saved = record_form(self.backend.ctx, self.chosen_kind(), self.applicant.text(),
                                     self.village_code(), self.details.toPlainText(), urn=self.urn.text(),
                                     members_claimed=self.members.value())
        except Exception as exc:  # the core's reason, shown to the operator
            self.banner.show_message(explain(exc), "error")
            return
        self.accept()
