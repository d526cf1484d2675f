"""Wizard page 2: for each insured member a checked photo (live camera preview) and two fingers.

The finger capture is the core's :class:`~station.workflows.capture.FingerCapture` job (up to N tries
per finger, then the next finger, then a biometric exception); this page runs it off the UI thread,
says which finger to place, and draws the quality score of every try as the scanner reports it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from biometrics.fingers import FingerPosition
from station.storage.models import CaptureKind, ExceptionReason
from station.ui.backend import StationBackend
from station.ui.common import Banner, Screen, bgr_pixmap, button, explain, grey_pixmap, tr
from station.ui.devices import QualityFeedback
from station.ui.tasks import Task
from station.workflows import households as hh
from station.workflows.capture import FingerOutcome, PhotoOutcome, finish_capture, record_exception
from station.workflows.households import HouseholdView, MemberView

PREVIEW_MS = 400
PREVIEW_WIDTH = 320


def finger_text(finger: FingerPosition) -> str:
    names = {FingerPosition.RIGHT_THUMB: "right thumb", FingerPosition.RIGHT_INDEX: "right index finger",
             FingerPosition.RIGHT_MIDDLE: "right middle finger", FingerPosition.RIGHT_RING: "right ring finger",
             FingerPosition.RIGHT_LITTLE: "right little finger", FingerPosition.LEFT_THUMB: "left thumb",
             FingerPosition.LEFT_INDEX: "left index finger", FingerPosition.LEFT_MIDDLE: "left middle finger",
             FingerPosition.LEFT_RING: "left ring finger", FingerPosition.LEFT_LITTLE: "left little finger"}
    return tr(names.get(finger, finger.label), "Fingers")


def reason_text(reason: ExceptionReason) -> str:
    names = {ExceptionReason.POOR_QUALITY: "fingers too worn to read (poor quality)",
             ExceptionReason.MISSING_FINGERS: "missing fingers (amputation or from birth)",
             ExceptionReason.INJURY: "injury (bandage, burn, cut)",
             ExceptionReason.CHILD: "child too young for stable prints",
             ExceptionReason.PHOTO_REFUSED: "refuses to be photographed",
             ExceptionReason.DEVICE_FAILURE: "the device broke during the camp"}
    return tr(names[reason], "Reasons")


# Which reasons make sense for which capture: a child's face can be photographed, a photo is not "worn".
PHOTO_REASONS = (ExceptionReason.PHOTO_REFUSED, ExceptionReason.INJURY, ExceptionReason.DEVICE_FAILURE)
FINGER_REASONS = (ExceptionReason.MISSING_FINGERS, ExceptionReason.INJURY, ExceptionReason.CHILD,
                  ExceptionReason.POOR_QUALITY, ExceptionReason.DEVICE_FAILURE)


class ExceptionDialog(QDialog):
    """The operator picks why a member has no photo or no fingers, with an optional note."""

    def __init__(self, kind: CaptureKind, member: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exception_dialog")
        self.kind = kind
        self.what = QLabel()
        self.what.setWordWrap(True)
        self.reason = QComboBox()
        self.reason.setObjectName("exception_reason")
        for reason in PHOTO_REASONS if kind is CaptureKind.PHOTO else FINGER_REASONS:
            self.reason.addItem(reason_text(reason), reason)
        self.note = QLineEdit()
        self.note.setObjectName("exception_note")
        self.note.setMaxLength(400)
        self.reason_label, self.note_label = QLabel(), QLabel()
        self.reason_label.setBuddy(self.reason)
        self.note_label.setBuddy(self.note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setDefault(True)  # Enter records it
        form = QFormLayout()
        form.addRow(self.reason_label, self.reason)
        form.addRow(self.note_label, self.note)
        layout = QVBoxLayout(self)
        layout.addWidget(self.what)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        if kind is CaptureKind.PHOTO:
            self.setWindowTitle(self.tr("No photo possible"))
            self.what.setText(self.tr("Record why {0} cannot be photographed. The card is issued without a "
                                      "photo of this member.").format(member))
        else:
            self.setWindowTitle(self.tr("No fingers possible"))
            self.what.setText(self.tr("Record why no two fingers of {0} can be captured. The card is issued "
                                      "without their fingerprints; the hospital then needs another check.")
                              .format(member))
        self.reason_label.setText(self.tr("&Reason:"))
        self.note_label.setText(self.tr("&Note (optional):"))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("&Record exception"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Cancel"))
        self.reason.setFocus()

    def chosen(self) -> ExceptionReason:
        return ExceptionReason(self.reason.currentData())


class Relay(QObject):
    """Carries device callbacks from a worker thread to the UI thread (queued signal delivery)."""

    quality = Signal(object)
    prompt = Signal(object, int)


class CapturePage(Screen):
    completeness = Signal(bool)

    def __init__(self, backend: StationBackend) -> None:
        super().__init__()
        self.backend = backend
        self.view: HouseholdView | None = None
        self.task: Task | None = None
        self.current_try: tuple[FingerPosition, int] | None = None
        self.accepted_finger: FingerPosition | None = None  # the finger whose last placement passed
        self.preview_task: Task | None = None
        self.relay = Relay()
        self.relay.quality.connect(self.show_quality)
        self.relay.prompt.connect(self.show_prompt)
        self.banner = Banner()
        self.banner.setObjectName("capture_banner")

        self.members = QListWidget()
        self.members.setObjectName("capture_members")
        self.members.currentRowChanged.connect(self._member_changed)
        self.members_label = QLabel()
        self.members_label.setBuddy(self.members)

        self.photo_box = QGroupBox()
        self.preview = QLabel()
        self.preview.setObjectName("camera_preview")
        self.preview.setFixedSize(PREVIEW_WIDTH, PREVIEW_WIDTH * 3 // 4)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background:#222; color:#ddd;")
        self.photo_button = button(self.take_photo, "take_photo")
        self.no_photo_button = button(self.photo_exception)
        self.photo_result = QLabel()
        self.photo_result.setWordWrap(True)
        photo = QVBoxLayout(self.photo_box)
        photo.addWidget(self.preview)
        row = QHBoxLayout()
        row.addWidget(self.photo_button)
        row.addWidget(self.no_photo_button)
        photo.addLayout(row)
        photo.addWidget(self.photo_result)

        self.finger_box = QGroupBox()
        self.prompt = QLabel()
        self.prompt.setObjectName("finger_prompt")
        self.prompt.setWordWrap(True)
        self.prompt.setStyleSheet("font-size:15pt; font-weight:bold;")
        self.quality = QProgressBar()
        self.quality.setObjectName("finger_quality")
        self.quality.setRange(0, 100)
        self.quality_label = QLabel()
        self.quality_label.setWordWrap(True)
        self.print_image = QLabel()
        self.print_image.setFixedSize(150, 150)
        self.print_image.setStyleSheet("background:#fff; border:1px solid #aaa;")
        self.attempts = QListWidget()
        self.attempts.setObjectName("finger_attempts")
        self.finger_button = button(self.capture_fingers, "capture_fingers")
        self.no_finger_button = button(self.finger_exception, "no_fingers")
        self.exception_dialog: ExceptionDialog | None = None
        self.cancel_button = button(self.cancel)
        self.cancel_button.setEnabled(False)
        self.job_progress = QProgressBar()
        self.worn = QCheckBox()
        self.worn.setObjectName("sim_worn")
        self.worn.setVisible(backend.sim is not None)
        self.worn.toggled.connect(self._worn_changed)
        grid = QGridLayout(self.finger_box)
        grid.addWidget(self.prompt, 0, 0, 1, 2)
        grid.addWidget(self.print_image, 1, 0, 3, 1)
        grid.addWidget(self.quality, 1, 1)
        grid.addWidget(self.quality_label, 2, 1)
        grid.addWidget(self.attempts, 3, 1)
        grid.addWidget(self.job_progress, 4, 0, 1, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.finger_button)
        buttons.addWidget(self.no_finger_button)
        buttons.addWidget(self.cancel_button)
        grid.addLayout(buttons, 5, 0, 1, 2)
        grid.addWidget(self.worn, 6, 0, 1, 2)

        left = QVBoxLayout()
        left.addWidget(self.members_label)
        left.addWidget(self.members, 1)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addWidget(self.photo_box)
        body.addWidget(self.finger_box, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(PREVIEW_MS)
        self.timer.timeout.connect(self._tick)
        self.setTabOrder(self.members, self.photo_button)
        self.setTabOrder(self.photo_button, self.no_photo_button)
        self.setTabOrder(self.no_photo_button, self.finger_button)
        self.setTabOrder(self.finger_button, self.no_finger_button)
        self.retranslate()

    # -- texts ---------------------------------------------------------------------------------------
    def retranslate(self) -> None:
        self.members_label.setText(self.tr("&Members to capture:"))
        self.photo_box.setTitle(self.tr("Photo"))
        self.photo_button.setText(self.tr("Take &photo"))
        self.no_photo_button.setText(self.tr("No photo &possible"))
        self.finger_box.setTitle(self.tr("Fingerprints"))
        self.finger_button.setText(self.tr("Capture &fingers"))
        self.no_finger_button.setText(self.tr("No fin&gers possible"))
        self.cancel_button.setText(self.tr("Ca&ncel capture"))
        self.worn.setText(self.tr("Simulator: this member's fingers are worn (cannot be read)"))
        if not self.prompt.text():
            self.prompt.setText(self.tr("Press Capture fingers, then ask for the finger shown here."))
        if self.preview.pixmap() is None or self.preview.pixmap().isNull():
            self.preview.setText(self.tr("Camera preview"))
        self._fill_members()

    # -- household -----------------------------------------------------------------------------------
    def load(self, view: HouseholdView) -> None:
        self.view = view
        self.attempts.clear()
        self.quality.setValue(0)
        self.banner.clear_message()
        self.backend.devices.scanner().on_capture = self.relay.quality.emit
        self._fill_members()
        first = next((i for i, m in enumerate(view.insured) if not m.complete), 0)
        self.members.setCurrentRow(first)
        self.timer.start()
        self.completeness.emit(self.complete)

    def reload(self) -> None:
        assert self.view is not None
        row = self.members.currentRow()
        self.view = hh.load(self.backend.ctx, self.view.urn)  # type: ignore[arg-type]
        self._fill_members()
        self.members.setCurrentRow(max(row, 0))
        self._enable()  # the same row stays current, so no row-change signal refreshes the buttons
        self.completeness.emit(self.complete)

    @property
    def complete(self) -> bool:
        return self.view is not None and all(m.complete for m in self.view.insured)

    @property
    def busy(self) -> bool:
        return self.task is not None

    def member(self) -> MemberView | None:
        row = self.members.currentRow()
        insured = self.view.insured if self.view else ()
        return insured[row] if 0 <= row < len(insured) else None

    def _fill_members(self) -> None:
        if self.view is None:
            return
        row = self.members.currentRow()
        self.members.blockSignals(True)
        self.members.clear()
        for m in self.view.insured:
            photo = "✓" if m.has_photo else ("✗" if any(e.startswith("photo:") for e in m.exceptions) else "…")
            fingers = (self.tr("exception") if any(e.startswith("finger:") for e in m.exceptions)
                       else f"{len(m.fingers)}/2")
            mark = "✔" if m.complete else "○"
            text = self.tr("{0} {1} — photo {2}, fingers {3}").format(mark, m.name, photo, fingers)
            QListWidgetItem(text, self.members)
        self.members.setCurrentRow(row)
        self.members.blockSignals(False)

    def _member_changed(self, row: int) -> None:
        m = self.member()
        if m is None or self.view is None:
            return
        self.photo_result.setText("")
        if self.backend.sim is not None:
            self.worn.blockSignals(True)
            self.worn.setChecked(self.backend.sim.is_worn(self.view.urn, m.seq))
            self.worn.blockSignals(False)
        self._enable()

    def _worn_changed(self, worn: bool) -> None:
        m = self.member()
        if self.backend.sim is not None and m is not None and self.view is not None:
            self.backend.sim.set_worn(self.view.urn, m.seq, worn)

    def _enable(self) -> None:
        idle = self.task is None
        m = self.member()
        self.photo_button.setEnabled(idle and m is not None)
        self.no_photo_button.setEnabled(idle and m is not None and not m.has_photo)
        fingers_open = m is not None and len(m.fingers) < 2 and not any(e.startswith("finger:") for e in m.exceptions)
        self.finger_button.setEnabled(idle and fingers_open)
        self.no_finger_button.setEnabled(idle and fingers_open)
        self.cancel_button.setEnabled(not idle)
        self.members.setEnabled(idle)

    # -- camera --------------------------------------------------------------------------------------
    def _tick(self) -> None:
        if self.preview_task is not None or not self.isVisible():
            return
        m = self.member()
        if self.backend.sim is not None and m is not None and self.view is not None:
            self.backend.sim.sit_for_photo(self.view.urn, m.seq)
        task = self.backend.runner.start(lambda progress: self.backend.devices.camera().preview_frame(), "preview")
        self.preview_task = task
        task.succeeded.connect(lambda frame: self.preview.setPixmap(bgr_pixmap(frame.pixels, PREVIEW_WIDTH)))
        task.failed.connect(self._preview_failed)
        task.ended.connect(lambda: setattr(self, "preview_task", None))

    def _preview_failed(self, message: str, exc: BaseException) -> None:
        self.timer.stop()  # a missing camera is reported once, not every 400 ms
        self.preview.setText(self.tr("No camera picture"))
        self.banner.show_message(self.tr("The camera is missing or not working. Check its cable, then take the "
                                         "photo again.") + "\n" + message, "error")

    def stop_preview(self) -> None:
        self.timer.stop()

    def take_photo(self) -> None:
        m = self.member()
        if m is None or self.view is None:
            return
        urn, seq = self.view.urn, m.seq
        self.timer.start()
        self._run(lambda progress: self.backend.take_photo(urn, seq), self._photo_done, "photo")

    def _photo_done(self, outcome: PhotoOutcome) -> None:
        if outcome.accepted:
            self.photo_result.setText(self.tr("Photo accepted ({0} bytes).").format(outcome.jpeg_bytes))
        else:
            self.photo_result.setText(self.tr("Photo refused: {0}. Adjust and take it again.")
                                      .format(", ".join(outcome.reasons)))
        self.reload()

    def photo_exception(self) -> ExceptionDialog | None:
        return self._ask_exception(CaptureKind.PHOTO)

    def finger_exception(self) -> ExceptionDialog | None:
        """No fingers can be taken at all (missing, injured, a small child): recorded without trying.
        Fingers that fail the quality gate end in a poor-quality exception by themselves."""
        return self._ask_exception(CaptureKind.FINGER)

    def _ask_exception(self, kind: CaptureKind) -> ExceptionDialog | None:
        """Ask for the reason (window-modal, the event loop keeps running); record it when confirmed."""
        m = self.member()
        if m is None or self.view is None or self.backend.ctx is None:
            return None
        urn, seq = self.view.urn, m.seq
        dialog = ExceptionDialog(kind, m.name, self)
        dialog.accepted.connect(lambda: self._record_exception(urn, seq, kind, dialog.chosen(), dialog.note.text()))
        dialog.finished.connect(lambda _: (setattr(self, "exception_dialog", None), dialog.deleteLater()))
        self.exception_dialog = dialog
        dialog.open()
        return dialog

    def _record_exception(self, urn: str, seq: int, kind: CaptureKind, reason: ExceptionReason, note: str) -> None:
        assert self.backend.ctx is not None
        try:
            record_exception(self.backend.ctx, urn, seq, kind, reason,
                             note=note.strip() or "recorded from the capture screen")
        except Exception as exc:  # shown
            self.banner.show_message(explain(exc), "error")
        else:
            self.banner.show_message(self.tr("Exception recorded: {0}.").format(reason_text(reason)), "ok")
        self.reload()

    # -- fingers -------------------------------------------------------------------------------------
    def capture_fingers(self) -> None:
        m = self.member()
        if m is None or self.view is None:
            return
        urn, seq = self.view.urn, m.seq
        self.attempts.clear()
        self.current_try = None
        self.accepted_finger = None
        self.banner.clear_message()
        self._run(lambda progress: self.backend.capture_fingers(urn, seq, self.relay.prompt.emit, progress),
                  self._fingers_done, "fingers")

    def show_prompt(self, finger: FingerPosition, attempt: int) -> None:
        self.current_try = (finger, attempt)
        if finger == self.accepted_finger:
            # The capture job asks for a second impression of a finger it has just accepted.
            self.prompt.setText(self.tr("Place the {0} on the scanner once more: a second impression covers "
                                        "more of the finger").format(finger_text(finger)))
            return
        self.prompt.setText(self.tr("Place the {0} on the scanner (try {1} of {2})")
                            .format(finger_text(finger), attempt, self.backend.config.capture_tries))

    def show_quality(self, feedback: QualityFeedback) -> None:
        self.quality.setValue(feedback.score)
        colour = "#2e7d32" if feedback.accepted else "#c62828"
        self.quality.setStyleSheet(f"QProgressBar::chunk {{ background:{colour}; }}")
        if feedback.image is not None:
            self.print_image.setPixmap(grey_pixmap(feedback.image.pixels, 150))
        if feedback.accepted:
            text = self.tr("Quality {0}/100: accepted.").format(feedback.score)
        else:
            text = self.tr("Quality {0}/100: not good enough — {1}").format(
                feedback.score, "; ".join(feedback.reasons) or self.tr("try again"))
        self.quality_label.setText(text)
        if self.current_try is not None:
            finger, attempt = self.current_try
            self.accepted_finger = finger if feedback.accepted else None
            text = f"{finger_text(finger)} #{attempt}: {text}"
        QListWidgetItem(text, self.attempts)
        self.attempts.scrollToBottom()

    def _fingers_done(self, outcome: FingerOutcome) -> None:
        if outcome.exception is not None:
            self.prompt.setText(self.tr("Fingers could not be read"))
            self.banner.show_message(
                self.tr("The fingers failed the quality check after {0} tries. A biometric exception ({1}) was "
                        "recorded for this member; the card can still be issued.")
                .format(len(outcome.attempts), reason_text(outcome.exception)), "error")
        else:
            self.prompt.setText(self.tr("Both fingers captured"))
            self.banner.show_message(self.tr("Fingers stored: {0}.").format(
                ", ".join(finger_text(f) for f in outcome.fingers)), "ok")
        self.reload()
        nxt = next((i for i, m in enumerate(self.view.insured) if not m.complete), None) if self.view else None
        if nxt is not None:
            self.members.setCurrentRow(nxt)

    # -- running -------------------------------------------------------------------------------------
    def _run(self, fn, on_success, name: str) -> None:  # type: ignore[no-untyped-def]
        self.task = self.backend.runner.start(fn, name)
        self.task.progress.connect(self._progress)
        self.task.succeeded.connect(on_success)
        self.task.failed.connect(lambda message, exc: (self.banner.show_message(explain(exc), "error"),
                                                       self.reload()))
        self.task.ended.connect(self._ended)
        self._enable()

    def _progress(self, done: int, total: int, message: str) -> None:
        self.job_progress.setRange(0, max(total, 1))
        self.job_progress.setValue(done)
        self.job_progress.setFormat(tr(message, "Progress"))

    def _ended(self) -> None:
        self.task = None
        self._enable()
        self.completeness.emit(self.complete)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def finish(self) -> HouseholdView:
        """Mark the household captured (the core checks every insured member is complete)."""
        assert self.view is not None and self.backend.ctx is not None
        finish_capture(self.backend.ctx, self.view.urn)
        self.stop_preview()
        self.view = hh.load(self.backend.ctx, self.view.urn)
        return self.view
