"""Hospital mode on simulators: a camp issues real cards, then the desk checks one, verifies the
patient's finger against it, admits on a package and discharges, writes the claims file, and takes the
fallbacks (attendant, supervisor override) — through the window's buttons."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from sqlalchemy import select

from station.hospital import claims
from station.hospital.models import Override, VerifyMethod
from station.ui.hospital import HospitalWindow
from tests.ui.conftest import make_config

TASK_MS = 90_000


def test_admit_and_discharge_at_the_hospital_desk(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    window = HospitalWindow(make_config(tmp_path / "station"))
    qtbot.addWidget(window)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.task is None, timeout=TASK_MS)
    assert window.household.count() == 1 and window.package.count() >= 5, window.banner.text()

    def click(button) -> None:  # type: ignore[no-untyped-def]
        assert button.isEnabled(), window.banner.text()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.task is None, timeout=TASK_MS)

    window.pin.setText("0000")
    click(window.open_button)
    assert window.ctx is None and "PIN" in window.banner.text()
    window.pin.setText("4321")
    click(window.open_button)
    assert window.ctx is not None, window.banner.text()

    click(window.insert_button)
    click(window.check_button)
    assert window.check is not None and "genuine" in window.card_info.text(), window.banner.text()
    # The patient is chosen by face: every member's card photo in the list, the chosen one large.
    assert all(not window.members.item(i).icon().isNull() for i in range(window.members.count()))
    window.members.setCurrentRow(1)
    assert not window.member_photo.pixmap().isNull()
    window.members.setCurrentRow(0)
    balance = window.check.balance
    click(window.verify_button)
    assert window.verification is not None, window.banner.text()
    window.package.setCurrentIndex(window.package.findData("SUR014"))
    click(window.admit_button)
    assert "blocked" in window.banner.text() and window.admission.count() == 1, window.banner.text()

    window.final.setValue(7_200)
    click(window.days_button)
    click(window.discharge_button)
    assert "Discharged" in window.banner.text(), window.banner.text()
    click(window.check_button)  # the card itself now holds the lower balance
    assert window.check.balance == balance - 720_000 - window.ctx.rules.transport_per_visit
    assert window.check.open_admissions == ()

    # The day's claims file: signed by the hospital card, verifiable as the insurer would.
    click(window.claims_button)
    filed = window.last_claims
    assert filed is not None and filed.claims == 1 and filed.path.is_file(), window.banner.text()
    verified = claims.verify_claims_file(filed.path, window.sim.world.root_cert)
    assert [c["package"] for c in verified.claims] == ["SUR014"]

    # Fallbacks when the patient's finger fails: another member as attendant, then a supervisor override.
    window.worn.setChecked(True)
    click(window.verify_button)
    assert window.verification is None and "did not match" in window.banner.text(), window.banner.text()
    assert window.attendant.currentData() == 1
    click(window.attendant_button)
    assert window.verification is not None and window.verification.method is VerifyMethod.ATTENDANT, window.banner.text()
    assert window.verification.attendant_index == 1
    window.supervisor_password.setText("matron-password-1")
    window.reason.setText("short")
    click(window.override_button)
    assert "reason" in window.banner.text() and window.supervisor_password.text() == ""
    window.supervisor_password.setText("matron-password-1")
    window.reason.setText("worn fingertips; identity confirmed by ration card")
    click(window.override_button)
    assert window.verification.method is VerifyMethod.OVERRIDE, window.banner.text()
    with window.ctx.db.transaction() as s:
        row = s.scalars(select(Override)).one()
        assert (row.supervisor, row.staff, row.member_index) == ("matron", "desk", 0)
        assert row.photo_ciphertext[:2] != b"\xff\xd8"  # stored encrypted, not as the JPEG

    # A procedure outside the list's rates needs the insurer's pre-authorisation number.
    window.package.setCurrentIndex(window.package.findData("ONC900"))
    assert "pre-auth" in window.package.currentText()
    click(window.admit_button)
    assert window.banner.level == "error" and "pre-authorisation" in window.banner.text(), window.banner.text()
    window.preauth.setText("PA-2027-0042")
    click(window.admit_button)
    assert "blocked" in window.banner.text() and window.preauth.text() == "", window.banner.text()
    window.close()


def test_the_hospital_desk_in_hindi(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Built in Hindi when configured so, and switched back and forth from the Language menu."""
    from PySide6.QtWidgets import QApplication

    from station.ui.i18n import LanguageSwitcher

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    languages = LanguageSwitcher(QApplication.instance())
    languages.switch("hi")
    try:
        window = HospitalWindow(make_config(tmp_path / "station"), languages)
        qtbot.addWidget(window)
        assert window.open_button.text() == "डेस्क खोलें (&O)"
        assert window.check_button.text() == "कार्ड जाँचें (&C)"
        assert window.labels["preauth"].text() == "पूर्व-अनुमति सं. (&B):"
        window.language_actions["en"].trigger()
        assert window.open_button.text() == "&Open desk" and window.labels["login"].text() == "&Login:"
        assert window.language_actions["en"].isChecked()
        window.language_actions["hi"].trigger()
        assert window.check_button.text() == "कार्ड जाँचें (&C)"
    finally:
        languages.switch("en")
