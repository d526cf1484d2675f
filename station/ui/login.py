"""Login: the operator's name and password unlock the station's data key for this session."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QProgressBar, QVBoxLayout

from station.ui.backend import StationBackend
from station.ui.common import Banner, Screen, button, explain, tr
from station.ui.simcamp import OPERATOR, PASSWORD


class LoginScreen(Screen):
    logged_in = Signal()

    def __init__(self, backend: StationBackend) -> None:
        super().__init__()
        self.backend = backend
        self.title = QLabel()
        self.title.setObjectName("title")
        self.banner = Banner()
        self.user = QLineEdit()
        self.user.setObjectName("login_user")
        self.password = QLineEdit()
        self.password.setObjectName("login_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.user_label, self.password_label = QLabel(), QLabel()
        self.user_label.setBuddy(self.user)
        self.password_label.setBuddy(self.password)
        self.sign_in = button(self.submit, "sign_in", default=True)
        self.sign_in.setAutoDefault(True)
        self.password.returnPressed.connect(self.submit)
        self.user.returnPressed.connect(self.password.setFocus)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.startup = QProgressBar()
        self.startup.setTextVisible(True)

        form = QFormLayout()
        form.addRow(self.user_label, self.user)
        form.addRow(self.password_label, self.password)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.banner)
        layout.addLayout(form)
        layout.addWidget(self.sign_in, alignment=Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.hint)
        layout.addWidget(self.startup)
        layout.addStretch(2)
        self.setTabOrder(self.user, self.password)
        self.setTabOrder(self.password, self.sign_in)
        self.set_starting(True)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText("<h2>" + self.tr("Enrolment station — sign in") + "</h2>")
        self.user_label.setText(self.tr("&Login:"))
        self.password_label.setText(self.tr("&Password:"))
        self.sign_in.setText(self.tr("&Sign in"))
        if self.backend.sim is not None:
            self.hint.setText(self.tr("Simulated camp: sign in as “{0}” with the password “{1}”.")
                              .format(OPERATOR, PASSWORD))

    def set_starting(self, starting: bool) -> None:
        """While the database (and the simulated camp) is being prepared, signing in waits."""
        self.sign_in.setEnabled(not starting)
        self.startup.setVisible(starting)
        if not starting and self.backend.sim is not None and not self.user.text():
            self.user.setText(OPERATOR)

    def on_start_progress(self, done: int, total: int, message: str) -> None:
        self.startup.setRange(0, max(total, 1))
        self.startup.setValue(done)
        self.startup.setFormat(tr(message, "Progress"))

    def entered(self) -> None:
        (self.password if self.user.text() else self.user).setFocus()

    def submit(self) -> None:
        if not self.sign_in.isEnabled():
            return
        try:
            self.backend.login(self.user.text().strip(), self.password.text())
        except Exception as exc:  # every refusal is shown, none is fatal
            self.banner.show_message(explain(exc), "error")
            self.password.selectAll()
            self.password.setFocus()
            return
        self.password.clear()
        self.banner.clear_message()
        self.logged_in.emit()
