"""One household through the desktop app on simulators: login, list import, camp, search, the wizard
(members, photos, fingers with one biometric exception, a pulled card, FKO unlock, card writing) and
the card read back. Real core, real simulators; only the keyboard and mouse are the test's."""

from __future__ import annotations

from PySide6.QtCore import Qt

from cardlib import direct
from cardlib.family import FamilyCard
from cardlib.transport import open_transport
from station.storage.models import HouseholdStatus
from tests.ui.conftest import PASSWORD

TASK_MS = 30_000


def sign_in(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    login = window.login
    assert login.user.text() == "operator"
    login.password.setText("wrong-password")
    qtbot.mouseClick(login.sign_in, Qt.MouseButton.LeftButton)
    assert login.banner.isVisible() and login.banner.level == "error"
    assert window.stack.currentWidget() is login
    login.password.setText(PASSWORD)
    qtbot.keyClick(login.password, Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.setup


def set_up_camp(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    setup = window.setup
    assert setup.list_path.text().endswith(".jsonl")
    qtbot.waitUntil(lambda: len(setup.statuses) == 4, timeout=TASK_MS)
    states = {s.kind.value: s.state.value for s in setup.statuses}
    assert states == {"family reader": "ready", "authority reader": "ready", "scanner": "ready", "camera": "ready"}
    qtbot.mouseClick(setup.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: setup.banner.level == "ok" and "imported" in setup.banner.text(), timeout=TASK_MS)
    assert setup.village.count() == 1
    qtbot.mouseClick(setup.open_button, Qt.MouseButton.LeftButton)
    assert window.backend.ctx is not None and setup.continue_button.isEnabled()
    qtbot.mouseClick(setup.continue_button, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.households


def test_one_household_through_the_wizard(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    sign_in(qtbot, window)
    set_up_camp(qtbot, window)
    households = window.households
    assert households.table.rowCount() == 2
    world = window.backend.sim.world
    first = world.households[0]
    head, spouse = first["members"][0], first["members"][1]
    households.search.setText("Bodh")  # the village's name finds all its households
    assert households.table.rowCount() == 2
    households.search.setText("no such family")
    assert households.table.rowCount() == 0
    # Search by a Devanagari name, then by URN.
    households.search.setText(head["name_local"])  # QTest cannot type Devanagari; an input method would
    assert first["urn"] in [households.table.item(r, 0).text() for r in range(households.table.rowCount())]
    households.search.clear()
    qtbot.keyClicks(households.search, first["urn"])
    assert households.table.rowCount() == 1
    qtbot.keyClick(households.search, Qt.Key.Key_Return)  # focus moves to the table
    qtbot.keyClick(households.table, Qt.Key.Key_Return)  # Enter opens the wizard
    wizard = window.wizard
    assert window.stack.currentWidget() is wizard

    # Esc leaves the wizard; Enter on the row opens it again.
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    assert window.stack.currentWidget() is households
    households.table.setFocus()
    qtbot.keyClick(households.table, Qt.Key.Key_Return)
    assert window.stack.currentWidget() is wizard

    # Page 1: the head's name is locked; a dependant's name can be corrected.
    members = wizard.members
    assert not (members.table.item(0, 1).flags() & Qt.ItemFlag.ItemIsEditable)
    assert not members.insured_box(0).isEnabled()
    members.table.item(1, 1).setText(spouse["name"] + " Devi")
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.pages.currentWidget() is wizard.capture, wizard.banner.text()
    assert window.backend.household(first["urn"]).members[1].name == spouse["name"] + " Devi"

    # Page 2: photos and fingers; the spouse's fingers are worn, which ends in a biometric exception.
    capture = wizard.capture
    assert not wizard.next_button.isEnabled()
    shown: list[str] = []  # the prompt as the operator read it, after each update
    capture.relay.prompt.connect(lambda finger, attempt: shown.append(capture.prompt.text()))
    for row in range(2):
        capture.members.setCurrentRow(row)
        if row == 1:
            capture.worn.setChecked(True)
        qtbot.mouseClick(capture.photo_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: capture.task is None, timeout=TASK_MS)
        assert "accepted" in capture.photo_result.text(), capture.photo_result.text()
        capture.members.setCurrentRow(row)
        qtbot.mouseClick(capture.finger_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: capture.task is None, timeout=TASK_MS)
        assert capture.attempts.count() >= (4 if row == 0 else 6)  # two impressions of each good finger
        if row == 0:
            assert sum("once more" in text for text in shown) == 2, shown
    assert "exception" in capture.banner.text() and capture.banner.level == "error"
    assert "right index" in capture.prompt.text() or "captured" in capture.prompt.text() or capture.prompt.text()
    view = window.backend.household(first["urn"])
    assert len(view.members[0].fingers) == 2 and view.members[0].has_photo
    assert view.members[1].exceptions == ("finger:poor_quality",)
    qtbot.waitUntil(wizard.next_button.isEnabled, timeout=5_000)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.pages.currentWidget() is wizard.card, wizard.banner.text()

    # Page 3: nothing is written before the FKO card is unlocked; a pulled card is reported.
    card = wizard.card
    assert not card.write_button.isEnabled() and card.unlock_button.isEnabled()
    qtbot.mouseClick(card.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: card.task is None, timeout=TASK_MS)
    assert window.backend.fko is not None, card.banner.text()
    qtbot.mouseClick(card.pull_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(card.write_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: card.task is None, timeout=TASK_MS)
    assert card.banner.level == "error" and "no card" in card.banner.text().lower(), card.banner.text()
    # Pulled out in the middle of writing (the card's tear fault): reported; reinserted, the write resumes.
    qtbot.mouseClick(card.insert_button, Qt.MouseButton.LeftButton)
    card.tear.setChecked(True)
    qtbot.mouseClick(card.write_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: card.task is None, timeout=TASK_MS)
    assert card.result is None and "pulled out while it was being used" in card.banner.text(), card.banner.text()
    qtbot.mouseClick(card.insert_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(card.write_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: card.task is None, timeout=TASK_MS)
    assert card.result is not None, card.banner.text()
    assert card.result.resumed_from is not None and "resumed" in card.banner.text()
    assert card.progress.value() == card.progress.maximum()
    assert card.result.card_pdf.is_file() and card.result.receipt_pdf.is_file()
    assert wizard.next_button.isEnabled()

    # The card in the family reader is this household's, activated; the database agrees.
    transport = open_transport(f"direct:{world.family_slot}")
    transport.connect()
    try:
        family = FamilyCard(transport)
        info = family.select()
        assert str(info.serial) == card.result.card_serial
        assert family.read().urn.value == first["urn"] and family.read_activation() is not None
    finally:
        transport.close()
    assert window.backend.household(first["urn"]).status is HouseholdStatus.ISSUED

    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)  # Done
    assert window.stack.currentWidget() is households
    # One card per household: opening it again is refused with the core's reason.
    households.search.setText(first["urn"])
    households.enrol_selected()
    assert window.stack.currentWidget() is households and "one card per household" in households.banner.text()

    # Summary and export.
    qtbot.mouseClick(households.summary_button, Qt.MouseButton.LeftButton)
    summary = window.summary
    qtbot.waitUntil(lambda: summary.labels["issued"][1].text() == "1", timeout=TASK_MS)
    assert summary.labels["exceptions"][1].text() == "1"
    qtbot.mouseClick(summary.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: summary.result is not None or summary.banner.level == "error", timeout=TASK_MS)
    assert summary.result is not None and summary.result.path.is_file(), summary.banner.text()
    assert summary.result.cards == 1
    assert "bundle exported" in window.who.text()
    direct.remove_card(world.family_slot)
