"""The exclusion / grievance form (Station menu, Ctrl+G, or the household list's button) and the reason
picker for a biometric exception — driven from the keyboard where an operator would, checked in the
station's database."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from sqlalchemy import select

from station.storage.models import BiometricException, CaptureKind, ExceptionReason, Form, FormKind
from tests.ui.test_wizard import set_up_camp, sign_in


def test_forms_and_exception_reasons(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    sign_in(qtbot, window)
    set_up_camp(qtbot, window)
    households = window.households
    world = window.backend.sim.world
    listed = world.households[0]

    # Ctrl+G opens the form over the household list; typed fields, Enter saves.
    qtbot.keyClick(households.search, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    dialog = households.form_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.chosen_kind() is FormKind.EXCLUSION and dialog.village_code() == listed["village_code"]
    qtbot.keyClicks(dialog.applicant, "Sunita Kumari")
    dialog.members.setValue(4)
    qtbot.keyClicks(dialog.details, "Family of four left off the BPL list; ration card 12345")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert not dialog.isVisible() and "recorded" in households.banner.text(), dialog.banner.text()

    # An exclusion form for a family that is on the list is refused with the core's reason; as a
    # grievance about that family it is accepted.
    dialog = households.record_form()
    dialog.applicant.setText("Ram Lal")
    dialog.urn.setText(listed["urn"])
    dialog.details.setPlainText("Card not given last year")
    dialog.save()
    assert dialog.isVisible() and dialog.banner.level == "error" and "enrol it instead" in dialog.banner.text()
    dialog.kind.setCurrentIndex(dialog.kind.findData(FormKind.GRIEVANCE))
    dialog.save()
    assert not dialog.isVisible(), dialog.banner.text()

    with window.backend.db.transaction() as s:
        forms = [(f.kind, f.applicant_name, f.village_code, f.urn, f.members_claimed, f.details)
                 for f in s.scalars(select(Form).order_by(Form.id))]
    assert forms == [
        (FormKind.EXCLUSION, "Sunita Kumari", listed["village_code"], "", 4,
         "Family of four left off the BPL list; ration card 12345"),
        (FormKind.GRIEVANCE, "Ram Lal", listed["village_code"], listed["urn"], 0, "Card not given last year"),
    ]

    # Biometric exceptions with the reason the operator picks (not always "refused" / "poor quality").
    households.search.setText(listed["urn"])
    households.enrol_selected()
    window.wizard.go_next()
    capture = window.wizard.capture
    assert window.wizard.pages.currentWidget() is capture, window.wizard.banner.text()
    capture.members.setCurrentRow(1)
    dialog = capture.finger_exception()
    assert [dialog.reason.itemData(i) for i in range(dialog.reason.count())][:3] == [
        ExceptionReason.MISSING_FINGERS, ExceptionReason.INJURY, ExceptionReason.CHILD]
    dialog.reason.setCurrentIndex(dialog.reason.findData(ExceptionReason.CHILD))
    qtbot.keyClicks(dialog.note, "two years old")
    qtbot.keyClick(dialog.note, Qt.Key.Key_Return)  # Enter confirms
    assert not capture.finger_button.isEnabled() and not capture.no_finger_button.isEnabled()
    capture.members.setCurrentRow(1)
    dialog = capture.photo_exception()
    dialog.reason.setCurrentIndex(dialog.reason.findData(ExceptionReason.INJURY))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    capture.members.setCurrentRow(0)
    capture.finger_exception().reject()  # cancelled: nothing recorded for the head
    assert "exception" not in capture.members.item(0).text()

    with window.backend.db.transaction() as s:
        rows = [(e.kind, e.reason, e.note) for e in s.scalars(select(BiometricException).order_by(BiometricException.id))]
    assert rows == [(CaptureKind.FINGER, ExceptionReason.CHILD, "two years old"),
                    (CaptureKind.PHOTO, ExceptionReason.INJURY, "recorded from the capture screen")]
    assert window.backend.household(listed["urn"]).members[1].exceptions == ("finger:child", "photo:injury")
    window.wizard.leave()
