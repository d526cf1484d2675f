"""The main window: one screen at a time (login → camp set-up → households → wizard / summary), a
language menu that switches English ↔ Hindi at run time, and a status bar saying who, where and
whether the FKO card is unlocked."""

from __future__ import annotations

from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QStackedWidget

from station.ui.backend import StationBackend
from station.ui.common import LanguageMenu, Screen, explain
from station.ui.households import HouseholdsScreen
from station.ui.i18n import LanguageSwitcher
from station.ui.login import LoginScreen
from station.ui.setup import SetupScreen
from station.ui.summary import SummaryScreen
from station.ui.wizard import EnrolmentWizard


class MainWindow(LanguageMenu, QMainWindow):
    def __init__(self, backend: StationBackend, languages: LanguageSwitcher) -> None:
        super().__init__()
        self.backend = backend
        self.languages = languages
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.login = LoginScreen(backend)
        self.setup = SetupScreen(backend)
        self.households = HouseholdsScreen(backend)
        self.wizard = EnrolmentWizard(backend)
        self.summary = SummaryScreen(backend)
        for screen in (self.login, self.setup, self.households, self.wizard, self.summary):
            self.stack.addWidget(screen)
        self.login.logged_in.connect(lambda: self.show_screen(self.setup))
        self.setup.proceed.connect(lambda: self.show_screen(self.households))
        self.households.enrol.connect(self.enrol)
        self.households.summary.connect(lambda: self.show_screen(self.summary))
        self.households.back.connect(lambda: self.show_screen(self.setup))
        self.wizard.finished.connect(lambda: self.show_screen(self.households))
        self.wizard.card.fko_changed.connect(self._status)
        self.wizard.card.issued.connect(lambda _: self._status())
        self.summary.back.connect(lambda: self.show_screen(self.households))
        self.summary.exported.connect(self._status)

        self.station_menu = self.menuBar().addMenu("")
        self.logout_action = QAction(self)
        self.logout_action.triggered.connect(self.logout)
        self.quit_action = QAction(self)
        self.quit_action.setShortcut("Ctrl+Q")
        self.quit_action.triggered.connect(self.close)
        self.form_action = QAction(self)
        self.form_action.setObjectName("form_action")
        self.form_action.setShortcut("Ctrl+G")
        self.form_action.triggered.connect(self.record_form)
        self.station_menu.addAction(self.form_action)
        self.station_menu.addAction(self.logout_action)
        self.station_menu.addAction(self.quit_action)
        self.add_language_menu()
        self.who = QLabel()
        self.statusBar().addPermanentWidget(self.who)
        self.resize(1100, 720)
        self.retranslate()
        self.show_screen(self.login)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Enrolment station"))
        self.station_menu.setTitle(self.tr("&Station"))
        self.form_action.setText(self.tr("Exclusion / grievance &form…"))
        self.logout_action.setText(self.tr("&Log out"))
        self.quit_action.setText(self.tr("&Quit"))
        self.language_menu.setTitle(self.tr("&Language"))
        self._status()

    # -- navigation ----------------------------------------------------------------------------------
    def show_screen(self, screen: Screen) -> None:
        self.stack.setCurrentWidget(screen)
        screen.entered()
        self._status()

    def enrol(self, urn: str) -> None:
        if self.wizard.start(urn):
            self.show_screen(self.wizard)
        else:
            self.households.banner.show_message(self.wizard.last_error, "error")

    def record_form(self) -> None:
        """Station ▸ form (Ctrl+G): from anywhere once a camp is open, over the household list."""
        if self.backend.ctx is None:
            self.statusBar().showMessage(self.tr("Open the camp first."), 10_000)
            return
        if self.stack.currentWidget() is not self.wizard:
            self.show_screen(self.households)
        self.households.record_form()

    def logout(self) -> None:
        if self.wizard.capture.busy or self.wizard.card.busy:
            return
        self.wizard.capture.stop_preview()
        self.backend.logout()
        self.show_screen(self.login)

    def _status(self) -> None:
        op, ctx = self.backend.op, self.backend.ctx
        parts = []
        if op is not None:
            parts.append(self.tr("Operator: {0}").format(op.name))
        if ctx is not None and self.backend.exported is not None:
            parts.append(self.tr("Camp closed: bundle exported"))
        elif ctx is not None:
            parts.append(self.tr("Camp open ({0})").format(ctx.station_id))
        if self.backend.fko is not None:
            parts.append(self.tr("FKO unlocked: {0}").format(self.backend.fko.holder))
        elif op is not None:
            parts.append(self.tr("FKO locked"))
        if self.backend.sim is not None:
            parts.append(self.tr("SIMULATORS"))
        self.who.setText("  |  ".join(parts))

    # -- start and stop ------------------------------------------------------------------------------
    def start_backend(self) -> None:
        """Open the database (and build the simulated camp) off the UI thread; sign-in waits for it."""
        task = self.backend.runner.start(self.backend.start, "start")
        task.progress.connect(self.login.on_start_progress)
        task.succeeded.connect(lambda _: (self.login.set_starting(False), self.login.entered()))
        task.failed.connect(lambda message, exc: self.login.banner.show_message(explain(exc), "error"))
        self.start_task = task

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt's name
        self.wizard.capture.stop_preview()
        for task in (self.wizard.capture.task, self.wizard.card.task):
            if task is not None:
                task.cancel()
        QApplication.processEvents()
        self.backend.close()
        super().closeEvent(event)
