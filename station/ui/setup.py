"""Camp set-up: import the district's signed household list, open the camp in a village, and check the
four devices (family reader, authority reader, fingerprint scanner, camera)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from station.ui.backend import StationBackend
from station.ui.common import Banner, Screen, button, explain, tr
from station.ui.devices import DeviceKind, DeviceState, DeviceStatus

STATE_COLOURS = {DeviceState.READY: "#d7f0dc", DeviceState.MISSING: "#fbd3cf", DeviceState.ERROR: "#fde7c0"}


def device_name(kind: DeviceKind) -> str:
    return {
        DeviceKind.FAMILY_READER: tr("Family card reader", "Devices"),
        DeviceKind.AUTHORITY_READER: tr("FKO card reader", "Devices"),
        DeviceKind.SCANNER: tr("Fingerprint scanner", "Devices"),
        DeviceKind.CAMERA: tr("Camera", "Devices"),
    }[kind]


def state_text(status: DeviceStatus) -> str:
    if status.state is DeviceState.READY:
        if status.card_present is False:
            return tr("ready, no card", "Devices")
        return tr("ready", "Devices")
    if status.state is DeviceState.MISSING:
        return tr("MISSING", "Devices")
    return tr("NOT WORKING", "Devices")


class SetupScreen(Screen):
    proceed = Signal()

    def __init__(self, backend: StationBackend) -> None:
        super().__init__()
        self.backend = backend
        self.statuses: tuple[DeviceStatus, ...] = ()
        self.title = QLabel()
        self.banner = Banner()
        self.banner.setObjectName("setup_banner")

        self.list_box = QGroupBox()
        self.list_label = QLabel()
        self.list_path = QLineEdit()
        self.list_path.setObjectName("list_path")
        self.list_label.setBuddy(self.list_path)
        self.browse = button(self.choose_file)
        self.import_button = button(self.import_list, "import_list")
        self.import_progress = QProgressBar()
        self.import_progress.hide()
        row = QHBoxLayout()
        row.addWidget(self.list_label)
        row.addWidget(self.list_path, 1)
        row.addWidget(self.browse)
        row.addWidget(self.import_button)
        box = QVBoxLayout(self.list_box)
        box.addLayout(row)
        box.addWidget(self.import_progress)

        self.camp_box = QGroupBox()
        self.village_label = QLabel()
        self.village = QComboBox()
        self.village.setObjectName("village")
        self.village_label.setBuddy(self.village)
        self.open_button = button(self.open_camp, "open_camp")
        self.camp_state = QLabel()
        camp_row = QHBoxLayout(self.camp_box)
        camp_row.addWidget(self.village_label)
        camp_row.addWidget(self.village, 1)
        camp_row.addWidget(self.open_button)
        camp_row.addWidget(self.camp_state, 1)

        self.device_box = QGroupBox()
        self.devices = QTableWidget(len(DeviceKind), 4)
        self.devices.setObjectName("device_table")
        self.devices.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.devices.verticalHeader().hide()
        self.devices.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.devices.setWordWrap(True)
        self.refresh_button = button(self.refresh_devices, "refresh_devices")
        dev = QVBoxLayout(self.device_box)
        dev.addWidget(self.devices)
        dev.addWidget(self.refresh_button)

        self.continue_button = button(self.proceed.emit, "continue")
        self.continue_button.setEnabled(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.banner)
        layout.addWidget(self.list_box)
        layout.addWidget(self.camp_box)
        layout.addWidget(self.device_box, 1)
        layout.addWidget(self.continue_button)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText("<h2>" + self.tr("Camp set-up") + "</h2>")
        self.list_box.setTitle(self.tr("1. Household list from the district"))
        self.list_label.setText(self.tr("List &file:"))
        self.browse.setText(self.tr("&Browse…"))
        self.import_button.setText(self.tr("&Import list"))
        self.camp_box.setTitle(self.tr("2. Camp"))
        self.village_label.setText(self.tr("&Village:"))
        self.open_button.setText(self.tr("&Open camp"))
        self.device_box.setTitle(self.tr("3. Devices"))
        self.devices.setHorizontalHeaderLabels([self.tr("Device"), self.tr("Configured as"), self.tr("State"),
                                                self.tr("Details")])
        self.refresh_button.setText(self.tr("&Refresh devices"))
        self.continue_button.setText(self.tr("&Continue to the household list"))
        self._camp_text()
        self.show_devices(self.statuses)

    def entered(self) -> None:
        default = self.backend.default_list()
        if default is not None and not self.list_path.text():
            self.list_path.setText(str(default))
        self.load_villages()
        if not self.statuses:
            self.refresh_devices()
        self.import_button.setFocus()

    # -- list ----------------------------------------------------------------------------------------
    def choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, self.tr("Household list"), self.list_path.text(),
                                              self.tr("Household lists (*.jsonl);;All files (*)"))
        if name:
            self.list_path.setText(name)

    def import_list(self) -> None:
        path = Path(self.list_path.text().strip())
        if not path.is_file():
            self.banner.show_message(self.tr("There is no file at {0}. Choose the list the district sent.")
                                     .format(path), "error")
            return
        self.import_button.setEnabled(False)
        self.import_progress.show()
        task = self.backend.runner.start(lambda progress: self.backend.import_list(path, progress), "import list")
        task.progress.connect(self._progress)
        task.succeeded.connect(self._imported)
        task.failed.connect(self._failed)
        task.ended.connect(lambda: (self.import_button.setEnabled(True), self.import_progress.hide()))

    def _progress(self, done: int, total: int, message: str) -> None:
        self.import_progress.setRange(0, max(total, 1))
        self.import_progress.setValue(done)

    def _imported(self, result) -> None:  # type: ignore[no-untyped-def]
        self.banner.show_message(
            self.tr("List imported: {0} households, {1} people, signed by district {2}.")
            .format(result.households, result.members, result.signer), "ok")
        self.load_villages()

    def _failed(self, message: str, exc: BaseException) -> None:
        self.banner.show_message(explain(exc), "error")

    # -- camp ----------------------------------------------------------------------------------------
    def load_villages(self) -> None:
        current = self.village.currentData()
        self.village.clear()
        for v in self.backend.villages():
            self.village.addItem(f"{v.name} ({v.code})", v.code)
        if current is not None and self.village.findData(current) >= 0:
            self.village.setCurrentIndex(self.village.findData(current))
        self.open_button.setEnabled(self.village.count() > 0)

    def open_camp(self) -> None:
        code = self.village.currentData()
        if code is None:
            self.banner.show_message(self.tr("Import the household list first."), "error")
            return
        try:
            self.backend.open_camp(code)
        except Exception as exc:  # shown to the operator
            self.banner.show_message(explain(exc), "error")
            return
        self._camp_text()
        self.banner.show_message(self.tr("Camp open in {0}.").format(self.village.currentText()), "ok")
        self.continue_button.setEnabled(True)
        self.continue_button.setFocus()

    def _camp_text(self) -> None:
        self.camp_state.setText(self.tr("Camp open") if self.backend.ctx is not None else self.tr("No camp open"))

    # -- devices -------------------------------------------------------------------------------------
    def refresh_devices(self) -> None:
        self.refresh_button.setEnabled(False)
        task = self.backend.runner.start(lambda progress: self.backend.devices.probe_all(), "probe devices")
        task.succeeded.connect(self.show_devices)
        task.failed.connect(self._failed)
        task.ended.connect(lambda: self.refresh_button.setEnabled(True))

    def show_devices(self, statuses: tuple[DeviceStatus, ...]) -> None:
        self.statuses = tuple(statuses)
        problems = []
        for row, status in enumerate(self.statuses):
            cells = [device_name(status.kind), status.config, state_text(status), status.detail]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setBackground(QBrush(QColor(STATE_COLOURS[status.state])))
                item.setToolTip(text)
                self.devices.setItem(row, col, item)
            if status.state is not DeviceState.READY:
                problems.append(status)
        self.devices.resizeColumnsToContents()
        self.devices.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        if problems:
            lines = [self.tr("{0} is missing or not working: {1}").format(device_name(p.kind), p.detail)
                     for p in problems]
            self.banner.show_message("\n".join(lines) + "\n" + self.tr(
                "Check the cable and the configuration, then press Refresh devices."), "error")
