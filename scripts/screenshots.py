"""Screenshots of every screen of the desktop app, taken offscreen on simulators.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Walks one household through the app the way an operator would (sign in, import the list, open the
camp, search, the wizard with a biometric exception, FKO unlock, card writing, summary) in a fresh
temporary station, and saves each screen as a PNG — in English, and the main ones again in Hindi.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QWidget

from station.config import load_config
from station.storage.models import ExceptionReason
from station.ui.app import build_window
from station.ui.simcamp import PASSWORD
from station.ui.window import MainWindow


def wait(app: QApplication, done: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not reach the expected state in time")
        app.processEvents()
        time.sleep(0.02)
    app.processEvents()


def settle(app: QApplication, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        # processEvents() alone never runs deferred deletes; the real event loop would have.
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        time.sleep(0.02)


class Shooter:
    def __init__(self, app: QApplication, window: MainWindow, out: Path) -> None:
        self.app, self.window, self.out = app, window, out
        self.saved: list[Path] = []

    def shot(self, name: str, widget: QWidget | None = None) -> None:
        """Save the main window, or ``widget`` (a dialog is a window of its own)."""
        settle(self.app)
        path = self.out / f"{name}.png"
        if not (widget or self.window).grab().save(str(path)):
            raise OSError(f"could not write {path}")
        self.saved.append(path)


def walk(app: QApplication, window: MainWindow, shoot: Shooter) -> None:
    w = window
    wait(app, lambda: w.login.sign_in.isEnabled())
    shoot.shot("01-login")
    w.login.password.setText(PASSWORD)
    w.login.submit()
    wait(app, lambda: len(w.setup.statuses) == 4)
    w.setup.import_list()
    wait(app, lambda: w.setup.banner.level == "ok")
    w.setup.open_camp()
    shoot.shot("02-camp-setup")
    w.setup.proceed.emit()
    shoot.shot("03-households")
    form = w.households.record_form()
    form.applicant.setText("Sunita Kumari")
    form.members.setValue(4)
    form.details.setPlainText("Family of four left off the BPL list; ration card 12345 shown")
    settle(app)
    shoot.shot("18-exclusion-form", form)
    form.reject()
    world = w.backend.sim.world
    first = world.households[0]
    w.households.search.setText(first["urn"])
    w.households.enrol_selected()
    shoot.shot("04-wizard-members")
    w.wizard.go_next()
    cap = w.wizard.capture
    insured = len(cap.view.insured)
    for row in range(insured):
        cap.members.setCurrentRow(row)
        if row == insured - 1:
            cap.worn.setChecked(True)  # one member with worn fingers: the biometric exception path
        cap.take_photo()
        wait(app, lambda: cap.task is None)
        cap.members.setCurrentRow(row)
        cap.capture_fingers()
        if row == 0:
            wait(app, lambda: cap.attempts.count() >= 1)
            shoot.shot("05-wizard-capture-in-progress")
        wait(app, lambda: cap.task is None)
    cap.members.setCurrentRow(insured - 1)
    wait(app, lambda: cap.preview_task is None)
    settle(app, 0.6)
    shoot.shot("06-wizard-capture-exception")
    reasons = cap.finger_exception()
    if reasons is not None:
        reasons.reason.setCurrentIndex(reasons.reason.findData(ExceptionReason.CHILD))
        reasons.note.setText("two years old")
        settle(app)
        shoot.shot("19-exception-reason", reasons)
        reasons.reject()
    w.wizard.go_next()
    card = w.wizard.card
    shoot.shot("07-wizard-card-fko-locked")
    card.unlock()
    wait(app, lambda: card.task is None)
    card.sim_pull()
    card.write()
    wait(app, lambda: card.task is None)
    shoot.shot("08-wizard-card-pulled")
    card.sim_insert()
    card.write()
    wait(app, lambda: card.task is None)
    shoot.shot("09-wizard-card-issued")
    w.wizard.go_next()
    w.households.search.clear()
    w.households.summary.emit()
    wait(app, lambda: w.summary.figures is not None)
    shoot.shot("10-summary")
    # Hindi, switched at run time: the next household from the list to its first captured member.
    w.set_language("hi")
    w.show_screen(w.households)
    shoot.shot("11-households-hindi")
    second = world.households[1]
    w.households.search.setText(second["urn"])
    w.households.enrol_selected()
    shoot.shot("12-wizard-members-hindi")
    w.wizard.go_next()
    cap.members.setCurrentRow(0)
    cap.take_photo()
    wait(app, lambda: cap.task is None)
    cap.members.setCurrentRow(0)
    cap.capture_fingers()
    wait(app, lambda: cap.task is None)
    wait(app, lambda: cap.preview_task is None)
    settle(app, 0.6)
    shoot.shot("13-wizard-capture-hindi")
    w.wizard.leave()
    w.households.summary.emit()
    w.summary.figures = None
    w.summary.refresh()
    wait(app, lambda: w.summary.figures is not None)
    w.summary.export()
    wait(app, lambda: w.summary.result is not None or w.summary.banner.level == "error")
    shoot.shot("14-summary-exported-hindi")
    w.show_screen(w.setup)
    shoot.shot("15-camp-setup-hindi")
    w.logout()
    shoot.shot("16-login-hindi")


def hospital(app: QApplication, config, out: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    """The hospital desk (``--hospital``) after one admission, then after a supervisor's override."""
    from station.ui.hospital import HospitalWindow

    window = HospitalWindow(config)
    window.resize(1180, 760)
    window.show()
    try:
        window.start()
        for step in (None, window.open_desk, window.insert, window.check_card, window.verify, window.admit):
            if step is not None:
                step()
            wait(app, lambda: window.task is None, timeout=180)
        paths = [out / "17-hospital-desk.png", out / "20-hospital-override.png"]
        settle(app)
        window.grab().save(str(paths[0]))
        # The fallbacks: the patient's worn fingers fail, a supervisor overrides with a photo and reason.
        window.worn.setChecked(True)
        window.verify()
        wait(app, lambda: window.task is None, timeout=180)
        window.supervisor_password.setText("matron-password-1")
        window.reason.setText("worn fingertips; identity confirmed by ration card")
        window.override()
        wait(app, lambda: window.task is None, timeout=180)
        settle(app)
        window.grab().save(str(paths[1]))
        return paths
    finally:
        window.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["station-screenshots"])
    with tempfile.TemporaryDirectory(prefix="station-shots-") as tmp:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        config = load_config(path=None, env={}, overrides={"data_dir": str(Path(tmp) / "station")})
        window = build_window(app, config, families=4, members=3)
        window.resize(1180, 760)
        window.show()
        shooter = Shooter(app, window, args.out)
        try:
            walk(app, window, shooter)
        finally:
            window.set_language("en")  # the walk ends in Hindi; the hospital desk is shown in English
            window.close()
        shooter.saved.extend(hospital(app, config, args.out))
    for path in shooter.saved:
        print(path)
    return 0

if __name__ == "__main__":
    sys.exit(main())
