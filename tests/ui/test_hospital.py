"""Hospital mode on simulators: a camp issues real cards, then the desk checks one, verifies the
patient's finger against it, admits on a package and discharges — through the window's buttons."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

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
    window.close()


def test_the_hospital_desk_in_hindi(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    from station.ui.i18n import LanguageSwitcher

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    languages = LanguageSwitcher(QApplication.instance())
    languages.switch("hi")
    try:
        window = HospitalWindow(make_config(tmp_path / "station"))
        qtbot.addWidget(window)
        assert window.open_button.text() == "डेस्क खोलें (&O)"
        assert window.check_button.text() == "कार्ड जाँचें (&C)"
    finally:
        languages.switch("en")
