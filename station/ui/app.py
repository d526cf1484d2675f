"""``station run`` with a display: the desktop app (``python -m station.ui.app --hospital``: the hospital desk).

By default every device is a simulator (``direct:`` card slots, ``sim:`` scanner and camera), and the
app then also builds a simulated camp (:mod:`station.ui.simcamp`): a signed household list to
import, an FKO card in the authority reader, a blank card per household, synthetic members who sit
for the photo and place the finger asked for. With real devices configured it uses them only.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QLabel, QProgressBar, QVBoxLayout, QWidget

from station.config import StationConfig, add_arguments, from_args
from station.errors import StationError

if TYPE_CHECKING:
    from station.ui.hospital import HospitalWindow
    from station.ui.window import MainWindow

log = logging.getLogger(__name__)
# The heavy part of start-up is importing these (SQLAlchemy, Alembic, NumPy, OpenCV, the simulators);
# :class:`Launcher` does it on a thread while a small window already tells the operator it is starting.
HEAVY_MODULES = ("station.ui.window", "station.ui.backend", "station.ui.simcamp", "station.ui.i18n")


def uses_simulators(config: StationConfig) -> bool:
    return any(value.split(":", 1)[0] in ("direct", "sim")
               for value in (config.reader_family, config.reader_authority, config.scanner, config.camera))


def _fonts(app: QApplication) -> None:
    # Devanagari names must render on a station whose default font lacks them (fonts-lohit-deva).
    families = set(QFontDatabase.families())
    for family in ("Lohit Devanagari", "Noto Sans Devanagari"):
        if family in families:
            font = app.font()
            font.setFamilies(["DejaVu Sans", family])
            font.setPointSize(max(font.pointSize(), 10))
            app.setFont(font)
            return
    log.warning("no Devanagari font found; install fonts-lohit-deva to show Hindi names")
    app.setFont(QFont(app.font()))


def build_window(app: QApplication, config: StationConfig, families: int = 6, members: int = 4,
                 start: bool = True) -> MainWindow:
    """The main window on ``config`` (shown by the caller); ``start`` opens the database in the background."""
    from station.ui.backend import StationBackend
    from station.ui.i18n import LanguageSwitcher
    from station.ui.simcamp import SimCamp
    from station.ui.window import MainWindow

    _fonts(app)
    sim = SimCamp(config.data_dir / "sim-camp", config, families, members) if uses_simulators(config) else None
    backend = StationBackend(config, sim)
    languages = LanguageSwitcher(app)
    window = MainWindow(backend, languages)
    if config.language != "en":
        window.set_language(config.language)
    if start:
        window.start_backend()
    return window


class Splash(QWidget):
    """Shown within a few hundred milliseconds of a double-click, until the main window is built."""

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.SplashScreen)
        self.label = QLabel("Enrolment station — starting…\nनामांकन स्टेशन — शुरू हो रहा है…")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        bar = QProgressBar()
        bar.setRange(0, 0)  # busy: the imports give no progress to report
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(bar)
        self.resize(420, 120)


class Launcher(QObject):
    """Shows the splash, imports the app's modules on a thread, then builds and shows the main window."""

    def __init__(self, app: QApplication, config: StationConfig, families: int = 6, members: int = 4,
                 hospital: bool = False) -> None:
        super().__init__()
        self.app, self.config, self.families, self.members = app, config, families, members
        self.hospital = hospital
        self.window: MainWindow | HospitalWindow | None = None
        self.error: BaseException | None = None
        self.splash = Splash()
        self.splash.show()
        # Paint it now: once the import thread runs, it holds the GIL for long stretches.
        for _ in range(3):
            app.processEvents()
        self.splash_shown = time.perf_counter()
        self._thread = threading.Thread(target=self._preload, name="station-imports", daemon=True)
        self._thread.start()
        self._timer = QTimer(self)
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._check)
        self._timer.start()

    def _preload(self) -> None:
        try:
            for name in HEAVY_MODULES + (("station.ui.hospital",) if self.hospital else ()):
                importlib.import_module(name)
        except BaseException as exc:  # shown on the splash instead of dying silently on a thread
            self.error = exc

    def _check(self) -> None:
        if self._thread.is_alive():
            return
        self._timer.stop()
        if self.error is not None:
            self.splash.label.setText(f"The station could not start: {self.error}")
            return
        if self.hospital:
            from station.ui.hospital import HospitalWindow
            from station.ui.i18n import LanguageSwitcher

            _fonts(self.app)
            self.languages = LanguageSwitcher(self.app)
            if self.config.language != "en":
                self.languages.switch(self.config.language)
            hospital_window = HospitalWindow(self.config, self.languages)
            hospital_window.show()
            hospital_window.start()
            self.window = hospital_window
        else:
            self.window = build_window(self.app, self.config, self.families, self.members)
            self.window.show()
        self.splash.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="station run", description="The enrolment station desktop app")
    add_arguments(parser)
    parser.add_argument("--families", type=int, default=6, help="households on a new simulated list")
    parser.add_argument("--hospital", action="store_true", help="the hospital insurance desk instead of the camp")
    args = parser.parse_args(list(argv) if argv is not None else [])
    try:
        config = from_args(args)
    except StationError as exc:
        print(f"station: {exc}", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(["station"])
    app.setApplicationName("Enrolment station")
    launcher = Launcher(app, config, families=args.families, hospital=args.hospital)  # type: ignore[arg-type]
    code = int(app.exec())
    del launcher
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
