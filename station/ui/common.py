"""Small pieces every screen uses: a screen base that re-translates itself, a message banner, picture
conversion, and the operator-facing wording of device failures.

No decisions about enrolment are taken here; these only turn what the core and the drivers report
into something an operator can read in the language they chose.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QAction, QActionGroup, QImage, QPixmap
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QPushButton, QWidget

from biometrics.scanner_errors import ScannerError, ScannerTimeout
from cardlib.errors import CardError, CardRemovedError, NoCardError, ReaderNotFoundError
from station.errors import Cancelled as CoreCancelled
from station.errors import RuleViolation, StationError
from station.ui.i18n import LANGUAGES, LanguageSwitcher
from station.ui.tasks import Cancelled as TaskCancelled


def tr(text: str, context: str = "Messages") -> str:
    return QCoreApplication.translate(context, text)


def button(slot: Callable[..., object], name: str = "", *, default: bool = False) -> QPushButton:
    """A push button wired to ``slot``. It has no text yet: screens set it in ``retranslate()``, so it
    follows a language switch. ``name`` is the objectName tests and scripts/screenshots.py look up."""
    widget = QPushButton()
    if name:
        widget.setObjectName(name)
    if default:
        widget.setDefault(True)
    widget.clicked.connect(slot)
    return widget


class Screen(QWidget):
    """A page of the main window. Sub-classes build widgets once and set every visible text in
    :meth:`retranslate`, which runs again whenever the language changes at run time."""

    def changeEvent(self, event: QEvent) -> None:  # Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:  # pragma: no cover - every screen overrides it
        pass

    def entered(self) -> None:
        """Called each time the window shows this screen (refresh data, focus the first field)."""


class LanguageMenu:
    """Mixin for a QMainWindow: a Language menu switching English ↔ Hindi at run time. The window sets
    ``self.languages`` (None: fixed language, menu disabled), calls :meth:`add_language_menu` once, and
    sets its texts in ``retranslate()``, which runs again on every switch."""

    languages: LanguageSwitcher | None
    language_menu: QMenu
    language_actions: dict[str, QAction]

    def add_language_menu(self) -> None:
        window: QMainWindow = self  # type: ignore[assignment]
        self.language_menu = window.menuBar().addMenu("")
        self.language_actions = {}
        group = QActionGroup(window)
        current = self.languages.language if self.languages is not None else "en"
        for code, name in LANGUAGES.items():
            action = QAction(name, window, checkable=True)
            action.setData(code)
            action.setChecked(code == current)
            action.setEnabled(self.languages is not None)
            action.triggered.connect(lambda checked=False, c=code: self.set_language(c))
            group.addAction(action)
            self.language_menu.addAction(action)
            self.language_actions[code] = action

    def set_language(self, code: str) -> None:
        if self.languages is None:
            return
        try:
            self.languages.switch(code)  # Qt posts LanguageChange to every widget; screens re-translate
        except (RuntimeError, ValueError) as exc:
            self.statusBar().showMessage(explain(exc), 10_000)  # type: ignore[attr-defined]
            return
        # Deliver those events now, so the whole window is in the new language when this returns.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)
        self.language_actions[code].setChecked(True)

    def changeEvent(self, event: QEvent) -> None:  # Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()  # type: ignore[attr-defined]
        super().changeEvent(event)  # type: ignore[misc]


class Banner(QLabel):
    """A one-line message under a screen's title: information, success or a problem to act on."""

    STYLES: ClassVar[dict[str, str]] = {
        "info": "background:#e8f0fe; color:#123; border:1px solid #9ab;",
        "ok": "background:#e6f4ea; color:#0b3d17; border:1px solid #7b9;",
        "error": "background:#fce8e6; color:#5f0b06; border:1px solid #d88;",
    }

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.level = "info"
        self.hide()

    def show_message(self, text: str, level: str = "info") -> None:
        self.level = level
        self.setStyleSheet(f"QLabel {{ {self.STYLES[level]} padding:6px; border-radius:4px; }}")
        self.setText(text)
        self.setAccessibleName(text)
        self.show()

    def clear_message(self) -> None:
        self.setText("")
        self.hide()


def bgr_pixmap(pixels: np.ndarray, width: int | None = None) -> QPixmap:
    """A camera frame (BGR, uint8) as a pixmap, optionally scaled to ``width``."""
    rgb = np.ascontiguousarray(pixels[:, :, ::-1])
    h, w = rgb.shape[:2]
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    pix = QPixmap.fromImage(image)
    return pix.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation) if width else pix


def grey_pixmap(pixels: np.ndarray, width: int | None = None) -> QPixmap:
    grey = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = grey.shape[:2]
    image = QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    pix = QPixmap.fromImage(image)
    return pix.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation) if width else pix


def jpeg_pixmap(data: bytes, width: int | None = None) -> QPixmap:
    pix = QPixmap()
    pix.loadFromData(data)
    return pix.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation) if width and not pix.isNull() else pix


def explain(exc: BaseException) -> str:
    """What happened and what to do, in the operator's language, with the core's own words after it."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, CardRemovedError):
        head = tr("The card was pulled out while it was being used. Put it back in the reader and try "
                  "again; the station continues where it stopped.")
    elif isinstance(exc, NoCardError):
        head = tr("There is no card in the reader. Insert the card and try again.")
    elif isinstance(exc, ReaderNotFoundError):
        head = tr("The card reader is missing. Check its cable, then refresh the devices on the set-up screen.")
    elif isinstance(exc, ScannerTimeout):
        head = tr("No finger was read in time. Ask for the finger again and press capture.")
    elif isinstance(exc, ScannerError):
        head = tr("The fingerprint scanner is missing or not answering. Check its cable, then refresh the "
                  "devices on the set-up screen.")
    elif isinstance(exc, CardError):
        head = tr("The card did not answer as expected. Take it out, put it back and try again.")
    elif isinstance(exc, TaskCancelled | CoreCancelled):
        head = tr("Cancelled. What was already saved stays saved.")
    elif isinstance(exc, RuleViolation):
        head = tr("Not allowed by the scheme's rules.")
    elif isinstance(exc, StationError):
        head = tr("The step did not complete.")
    else:
        head = tr("Something went wrong; the step did not complete.")
    return f"{head}\n{detail}"
