"""Run-time language switching (English ↔ Hindi through Qt translations) and the device-missing message."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from station.ui.devices import DeviceState
from tests.ui.conftest import PASSWORD, make_config, open_window


def test_switching_to_hindi_and_back_retranslates_every_screen(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    assert window.login.sign_in.text() == "&Sign in"
    window.set_language("hi")
    assert window.languages.language == "hi"
    assert window.login.sign_in.text() == "साइन इन (&S)"  # mnemonic kept for the keyboard
    assert window.windowTitle() == "नामांकन स्टेशन"
    assert window.language_actions["hi"].isChecked()
    # Screens not shown yet were re-translated too, including texts built by helpers (other contexts).
    assert window.setup.import_button.text() == "सूची आयात करें (&I)"
    assert window.wizard.capture.finger_button.text() == "उंगलियाँ कैप्चर करें (&F)"
    assert window.summary.labels["issued"][0].text() == "कार्ड जारी:"
    # Signing in still works, and a refusal explains itself in Hindi.
    window.login.password.setText("not-the-password")
    qtbot.keyClick(window.login.password, Qt.Key.Key_Return)
    assert "योजना" in window.login.banner.text() or "चरण" in window.login.banner.text()
    window.login.password.setText(PASSWORD)
    qtbot.keyClick(window.login.password, Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.setup
    qtbot.waitUntil(lambda: len(window.setup.statuses) == 4, timeout=20_000)
    assert window.setup.devices.item(0, 0).text() == "परिवार कार्ड रीडर"
    window.set_language("en")
    assert window.login.sign_in.text() == "&Sign in"
    assert window.setup.devices.item(0, 0).text() == "Family card reader"
    assert window.setup.import_button.text() == "&Import list"


def test_a_missing_scanner_is_reported_with_what_to_do(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    config = make_config(tmp_path / "station", scanner="zfm:/dev/ttyNO-SUCH-SCANNER")
    window = open_window(qtbot, config)
    try:
        window.login.password.setText(PASSWORD)
        qtbot.mouseClick(window.login.sign_in, Qt.MouseButton.LeftButton)
        setup = window.setup
        qtbot.waitUntil(lambda: len(setup.statuses) == 4, timeout=20_000)
        states = {s.kind.value: s.state for s in setup.statuses}
        assert states["scanner"] is DeviceState.MISSING
        assert states["camera"] is DeviceState.READY and states["family reader"] is DeviceState.READY
        assert setup.banner.level == "error"
        text = setup.banner.text()
        assert "Fingerprint scanner is missing or not working" in text and "/dev/ttyNO-SUCH-SCANNER" in text
        assert "Refresh devices" in text
        assert setup.devices.item(2, 2).text() == "MISSING"
    finally:
        window.close()
