"""``station run`` with a display: the desktop app.

By default every device is a simulator (``direct:`` card slots, ``sim:`` scanner and camera), and the
app then also builds a simulated camp (:mod:`station.ui.simcamp`): a signed household list to
import, an FKO card in the authority reader, a blank card per household, synthetic members who sit
for the photo and place the finger asked for. With real devices configured it uses them only.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from station.config import StationConfig, add_arguments, from_args
from station.errors import StationError
from station.ui.backend import StationBackend
from station.ui.i18n import LanguageSwitcher
from station.ui.simcamp import SimCamp
from station.ui.window import MainWindow

log = logging.getLogger(__name__)


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="station run", description="The enrolment station desktop app")
    add_arguments(parser)
    parser.add_argument("--families", type=int, default=6, help="households on a new simulated list")
    args = parser.parse_args(list(argv) if argv is not None else [])
    try:
        config = from_args(args)
    except StationError as exc:
        print(f"station: {exc}", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(["station"])
    app.setApplicationName("Enrolment station")
    window = build_window(app, config, families=args.families)  # type: ignore[arg-type]
    window.show()
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
