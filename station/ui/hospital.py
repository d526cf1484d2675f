"""Hospital mode: the insurance desk of an empanelled hospital (``station run --hospital``).

Open the desk (staff login + hospital card PIN), insert a family card and check it (authenticity,
policy, balance), verify the patient's finger against the card — or, when it fails, another member's
finger as attendant, or a supervisor's override with a photo of the patient and a reason — admit on a
package (block), at discharge debit the final amount, and write the day's signed claims file — each step the Qt-free core's (:mod:`station.hospital`), run off the
UI thread. On simulators, :class:`HospitalSim` first runs a small camp to issue real family cards and
makes the hospital card, package list and trust files the scheme, district and insurer would send.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from biometrics.fingers import FingerPosition
from cardlib import direct
from cardlib.transport import Transport, open_transport
from station.config import StationConfig
from station.hospital import claims, desk, treatment
from station.hospital.models import VerifyMethod
from station.hospital.rules import HospitalRules, packages
from station.storage import Database
from station.ui.common import Banner, LanguageMenu, button, explain, jpeg_pixmap
from station.ui.i18n import LanguageSwitcher
from station.ui.tasks import TaskRunner

FAMILY_SLOT, HOSPITAL_SLOT = "hospital-family", "hospital-authority"


class HospitalSim:
    """Issued family cards, a hospital card and the hospital station's files, all on simulators."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hospital_dir = root / "hospital"
        self.world = None
        self.db: Database | None = None
        self.trust = None
        self.clock = None

    def prepare(self, progress) -> None:  # type: ignore[no-untyped-def]
        from keymgmt import hierarchy, revocation
        from station.demo import hospital as demo
        from station.demo.camp import run_demo
        from station.demo.readers import InProcessReaders
        from station.demo.world import SimWorld
        from station.hospital.trust import HospitalTrust

        camp = self.root / "camp"
        if not (self.hospital_dir / "hospital.db").exists():
            # Three members: the camp gives the last one worn fingers, so the second can be an attendant.
            progress(0, 3, "Issuing family cards at a simulated camp")
            run_demo(camp, families=1, members=3, log=lambda line: None, readers=InProcessReaders(prefix="hcamp-"))
            world = SimWorld.open(camp / "world")
            progress(1, 3, "Making the hospital card and the package list")
            state = self.hospital_dir / "cards" / "hospital.card"
            state.parent.mkdir(parents=True, exist_ok=True)
            demo.make_hospital_card(world.central, state, datetime.now(UTC).replace(microsecond=0))
            district = hierarchy.district_signer(world.district)
            rl = revocation.publish(district, 1, family_cards=[]).to_bytes()
            pk = demo.write_package_list(district, self.root / "district" / "packages.json")
            self.db, self.trust = demo.setup_station(self.hospital_dir, world.root_cert, pk, rl,
                                                     demo.fko_directory(world.fko_state))
        else:
            world = SimWorld.open(camp / "world")
            self.db = Database(f"sqlite:///{self.hospital_dir / 'hospital.db'}")
            self.trust = HospitalTrust.load(world.root_cert, self.hospital_dir)
        self.world = world
        # The camp's policies start next month: the desk runs on a simulated clock inside them.
        self.clock = demo.SimClock(datetime(2027, 1, 11, 8, 0, tzinfo=UTC))
        progress(2, 3, "Inserting the hospital card")
        from simulators.cards.hospital import HospitalCardOS

        direct.register_card(HOSPITAL_SLOT, HospitalCardOS(self.hospital_dir / "cards" / "hospital.card"))
        progress(3, 3, "Ready")

    def urns(self) -> list[str]:
        return [h["urn"] for h in self.world.households] if self.world else []

    def insert_family_card(self, urn: str) -> None:
        from simulators.cards.family import FamilyCardOS

        direct.register_card(FAMILY_SLOT, FamilyCardOS(self.world.card_path(urn)))  # type: ignore[union-attr]

    def placer(self, urn: str, worn: int | None = None):  # type: ignore[no-untyped-def]
        """The patient puts the finger the desk asks for on the glass (a fresh impression each time);
        member ``worn`` has worn fingertips (a manual worker), which no capture reads."""
        from simulators.scanner.inprocess import glass_for

        glass = glass_for("hospital-desk")

        def place(member: int, finger: FingerPosition, attempt: int) -> None:
            if member == worn:  # ridges too flat to show: the scanner sees a blank print
                glass.place_image(np.full((400, 300), 235, dtype=np.uint8), label="worn fingertip")
            else:
                glass.place_finger(f"{urn}/{member + 1}", finger, impression=1 + attempt)

        return place

    def patient_photo(self, urn: str, member: int) -> bytes:
        """The desk camera's still of the patient now (JPEG), from the camera simulator's portrait."""
        import cv2

        from simulators.camera.faces import person_seed, portrait

        ok, jpeg = cv2.imencode(".jpg", portrait(person_seed(f"{urn}/{member + 1}")), [cv2.IMWRITE_JPEG_QUALITY, 80])
        if not ok:
            raise RuntimeError("the simulated camera could not encode the photo")
        return jpeg.tobytes()


class HospitalWindow(LanguageMenu, QMainWindow):
    def __init__(self, config: StationConfig, languages: LanguageSwitcher | None = None) -> None:
        super().__init__()
        self.config = config
        self.languages = languages
        self.sim = HospitalSim(config.data_dir / "sim-hospital")
        self.runner = TaskRunner(max_threads=1)
        self.ctx: desk.DeskContext | None = None
        self.check: desk.CardCheck | None = None
        self.verification: desk.Verification | None = None
        self.task = None
        self.scanner = None
        self.last_claims: claims.ClaimsFile | None = None
        self.photos: list[QPixmap] = []  # the checked card's member photos
        self.banner = Banner()
        self.banner.setObjectName("hospital_banner")
        self.progress = QProgressBar()

        self.desk_box = QGroupBox()
        self.user, self.password, self.pin = QLineEdit("desk"), QLineEdit("desk-password-1"), QLineEdit("4321")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.open_button = button(self.open_desk)
        self.labels: dict[str, QLabel] = {}
        form = QFormLayout(self.desk_box)
        for key, field in (("login", self.user), ("password", self.password), ("pin", self.pin)):
            form.addRow(self._label(key, field), field)
        form.addRow(self.open_button)

        self.card_box = QGroupBox()
        self.household = QComboBox()
        self.insert_button = button(self.insert)
        self.check_button = button(self.check_card)
        self.card_info = QLabel()
        self.card_info.setWordWrap(True)
        # Staff choose the patient by face and name: the card's own photos, large for the one chosen.
        self.members = QListWidget()
        self.members.setObjectName("members")
        self.members.setIconSize(QSize(48, 60))
        self.member_photo = QLabel()
        self.member_photo.setObjectName("member_photo")
        self.member_photo.setFixedSize(150, 188)
        self.member_photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.members.currentRowChanged.connect(self._show_member)
        card = QVBoxLayout(self.card_box)
        row = QHBoxLayout()
        row.addWidget(self.household, 1)
        row.addWidget(self.insert_button)
        row.addWidget(self.check_button)
        card.addLayout(row)
        card.addWidget(self.card_info)
        chooser = QHBoxLayout()
        chooser.addWidget(self.members, 1)
        chooser.addWidget(self.member_photo)
        card.addLayout(chooser)

        self.care_box = QGroupBox()
        self.verify_button = button(self.verify)
        self.package = QComboBox()
        self.preauth = QLineEdit()
        self.preauth.setObjectName("preauth")
        self.admit_button = button(self.admit)
        self.admission = QComboBox()
        self.final = QSpinBox()
        self.final.setRange(0, 10_000_000)
        self.final.setSuffix(" Rs")
        self.discharge_button = button(self.discharge)
        self.worn = QCheckBox()
        self.worn.setObjectName("sim_worn")
        self.attendant = QComboBox()
        self.attendant.setObjectName("attendant")
        self.attendant_button = button(self.verify_attendant)
        self.supervisor = QLineEdit("matron")
        self.supervisor_password = QLineEdit()
        self.supervisor_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.reason = QLineEdit()
        self.reason.setObjectName("override_reason")
        self.override_button = button(self.override)
        self.claims_button = button(self.write_claims)
        self.days_button = button(lambda: self.sim.clock.advance(timedelta(days=3)) if self.sim.clock else None)
        care = QFormLayout(self.care_box)
        care.addRow(self.verify_button)
        care.addRow(self.worn)
        care.addRow(self._label("attendant", self.attendant), self.attendant)
        care.addRow(self.attendant_button)
        care.addRow(self._label("supervisor", self.supervisor), self.supervisor)
        care.addRow(self._label("supervisor_password", self.supervisor_password), self.supervisor_password)
        care.addRow(self._label("reason", self.reason), self.reason)
        care.addRow(self.override_button)
        care.addRow(self._label("package", self.package), self.package)
        care.addRow(self._label("preauth", self.preauth), self.preauth)
        care.addRow(self.admit_button)
        care.addRow(self._label("admission", self.admission), self.admission)
        care.addRow(self._label("final", self.final), self.final)
        care.addRow(self.discharge_button)
        care.addRow(self.claims_button)
        care.addRow(self.days_button)

        self.add_language_menu()  # English and Hindi, switched at any time as in the camp station

        body = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self.desk_box)
        left.addWidget(self.care_box)
        body.addLayout(left)
        body.addWidget(self.card_box, 1)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addWidget(self.progress)
        layout.addLayout(body, 1)
        self.setCentralWidget(central)
        self.resize(1100, 700)
        self.retranslate()
        self._enable()

    def _label(self, key: str, field: QWidget) -> QLabel:
        label = self.labels[key] = QLabel()
        label.setBuddy(field)  # its Alt+letter moves to the field
        return label

    def retranslate(self) -> None:
        """Every fixed text of the window (messages already shown stay in the language they were shown in)."""
        self.setWindowTitle(self.tr("Enrolment station — hospital desk (simulators)"))
        self.language_menu.setTitle(self.tr("&Language"))
        self.desk_box.setTitle(self.tr("1. Open the desk"))
        self.card_box.setTitle(self.tr("2. Family card"))
        self.care_box.setTitle(self.tr("3. Patient"))
        for widget, text in (
            (self.open_button, self.tr("&Open desk")),
            (self.insert_button, self.tr("Simulator: insert this &household's card")),
            (self.check_button, self.tr("&Check the card")),
            (self.verify_button, self.tr("&Verify the patient's finger")),
            (self.admit_button, self.tr("&Admit (block the package rate)")),
            (self.discharge_button, self.tr("&Discharge (debit the final amount)")),
            (self.worn, self.tr("Simulator: the patient's fingertips are worn (&none can be read)")),
            (self.attendant_button, self.tr("Verify an a&ttendant's finger (another member)")),
            (self.override_button, self.tr("Supervisor ove&rride (photo of the patient + reason)")),
            (self.claims_button, self.tr("&Write today's claims file")),
            (self.days_button, self.tr("Simulator: three da&ys pass")),
        ):
            widget.setText(text)
        for key, text in (
            ("login", self.tr("&Login:")), ("password", self.tr("&Password:")),
            ("pin", self.tr("Hospital card P&IN:")), ("attendant", self.tr("Attendant:")),
            ("supervisor", self.tr("S&upervisor:")), ("supervisor_password", self.tr("Supervisor pa&ssword:")),
            ("reason", self.tr("R&eason:")), ("package", self.tr("Pac&kage:")),
            ("preauth", self.tr("Pre-authorisation num&ber:")), ("admission", self.tr("Open ad&mission:")),
            ("final", self.tr("&Final amount:")),
        ):
            self.labels[key].setText(text)
        self.preauth.setPlaceholderText(self.tr("the insurer's authorisation number (packages marked pre-auth)"))
        self.reason.setPlaceholderText(self.tr("why the finger cannot be used, how identity was confirmed"))
        self._show_member(self.members.currentRow())

    # -- running -------------------------------------------------------------------------------------
    def start(self) -> None:
        self._run(self.sim.prepare, self._prepared)

    def _prepared(self, _: object) -> None:
        self.household.clear()
        self.household.addItems(self.sim.urns())
        self.package.clear()
        for p in packages(self.sim.db):  # type: ignore[arg-type]
            marker = " — " + self.tr("pre-auth") if p.preauth else ""
            self.package.addItem(f"{p.code} — {p.name} (Rs {p.rate / 100:,.0f}){marker}", p.code)
        self.banner.show_message(self.tr("Hospital card in its reader. Open the desk."), "info")

    def _run(self, fn, on_success) -> None:  # type: ignore[no-untyped-def]
        self.task = self.runner.start(fn, "hospital")
        self.task.progress.connect(lambda d, t, m: (self.progress.setRange(0, max(t, 1)), self.progress.setValue(d),
                                                    self.progress.setFormat(m)))
        self.task.succeeded.connect(on_success)
        self.task.failed.connect(lambda message, exc: self.banner.show_message(explain(exc), "error"))
        self.task.ended.connect(self._ended)
        self._enable()

    def _ended(self) -> None:
        self.task = None
        self._enable()

    def _enable(self) -> None:
        idle = self.task is None
        ready = self.sim.db is not None
        self.open_button.setEnabled(idle and ready and self.ctx is None)
        for b in (self.insert_button, self.check_button):
            b.setEnabled(idle and self.ctx is not None)
        self.verify_button.setEnabled(idle and self.check is not None)
        self.attendant_button.setEnabled(idle and self.check is not None and self.attendant.count() > 1)
        self.override_button.setEnabled(idle and self.check is not None)
        self.claims_button.setEnabled(idle and self.ctx is not None)
        self.admit_button.setEnabled(idle and self.verification is not None)
        self.discharge_button.setEnabled(idle and self.check is not None and self.admission.count() > 0)

    # -- steps ---------------------------------------------------------------------------------------
    def _reader(self, slot: str) -> Transport:
        transport = open_transport(f"direct:{slot}")
        transport.connect()
        return transport

    def open_desk(self) -> None:
        from biometrics.scanner import open_scanner

        user, password, pin = self.user.text(), self.password.text(), self.pin.text()
        rules = HospitalRules("H0923001", beds=5)

        def work(progress):  # type: ignore[no-untyped-def]
            self.scanner = self.scanner or open_scanner("sim:hospital-desk")
            return desk.open_desk(self.sim.db, self.sim.hospital_dir, self.sim.trust, rules,  # type: ignore[arg-type]
                                  self._reader(HOSPITAL_SLOT), user, password, pin, self.sim.clock)

        self._run(work, self._opened)

    def _opened(self, ctx: desk.DeskContext) -> None:
        self.ctx = ctx
        self.banner.show_message(self.tr("Desk open: {0}, hospital card of {1}.")
                                 .format(ctx.staff.name, ctx.hospital_certificate.holder), "ok")

    def insert(self) -> None:
        self.sim.insert_family_card(self.household.currentText())
        self.check = self.verification = None
        self.banner.show_message(self.tr("Card inserted; press Check the card."), "info")
        self._enable()

    def check_card(self) -> None:
        def work(progress):  # type: ignore[no-untyped-def]
            check = desk.check_card(self.ctx, self._reader(FAMILY_SLOT), progress)  # type: ignore[arg-type]
            treatment.resume(self.ctx, check)  # type: ignore[arg-type]
            return check

        self._run(work, self._checked)

    def _checked(self, check: desk.CardCheck) -> None:
        self.check, self.verification = check, None
        self.card_info.setText(self.tr("Card {0} of {1} is genuine (checked in {2:.1f} ms), issued by {3}.\n"
                                       "Policy {4}: balance Rs {5:,.0f}.").format(
            check.serial, check.urn, check.seconds * 1000, check.issued_by, check.policy.policy_number, check.balance / 100))
        self.members.clear()
        self.photos = [jpeg_pixmap(m.photo) for m in check.members]  # decoded once per card, shown small and large
        for m, photo in zip(check.members, self.photos, strict=True):
            item = QListWidgetItem(f"{m.index + 1}. {m.name} ({m.gender}, {m.age}, {m.relationship})")
            if not photo.isNull():
                item.setIcon(QIcon(photo))
            self.members.addItem(item)
        self.members.setCurrentRow(0)
        self.attendant.clear()
        for m in check.members:
            self.attendant.addItem(f"{m.index + 1}. {m.name}", m.index)
        self.attendant.setCurrentIndex(min(1, self.attendant.count() - 1))
        self.admission.clear()
        for a in check.open_admissions:
            self.admission.addItem(f"{a.reference} at {a.place_id}: Rs {a.amount / 100:,.0f}", a.reference)
            self.final.setValue(a.amount // 100)
        self.banner.show_message(self.tr("Card accepted."), "ok")

    def _show_member(self, row: int) -> None:
        photo = self.photos[row] if 0 <= row < len(self.photos) else QPixmap()
        if photo.isNull():
            self.member_photo.clear()
            self.member_photo.setText(self.tr("no photo on the card") if 0 <= row < len(self.photos) else "")
        else:
            self.member_photo.setPixmap(photo.scaled(self.member_photo.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                     Qt.TransformationMode.SmoothTransformation))

    def _patient(self) -> int:
        return max(self.members.currentRow(), 0)

    def _placer(self):  # type: ignore[no-untyped-def]
        patient = self._patient()
        return self.sim.placer(self.check.urn, patient if self.worn.isChecked() else None)  # type: ignore[union-attr]

    def verify(self) -> None:
        index, check, place = self._patient(), self.check, self._placer()
        self._run(lambda progress: desk.verify_member(self.ctx, check, index, self.scanner, place),  # type: ignore[arg-type]
                  self._verified)

    def verify_attendant(self) -> None:
        """The patient's fingers failed: another insured member of the family proves their own finger."""
        patient, attendant, check, place = self._patient(), self.attendant.currentData(), self.check, self._placer()
        self._run(lambda progress: desk.verify_attendant(self.ctx, check, patient, attendant,  # type: ignore[arg-type]
                                                         self.scanner, place), self._verified)

    def override(self) -> None:
        """Last resort: a supervisor's own login, a photo of the patient taken now, and a written reason."""
        patient, check = self._patient(), self.check
        supervisor, password, reason = self.supervisor.text(), self.supervisor_password.text(), self.reason.text()

        def work(progress):  # type: ignore[no-untyped-def]
            photo = self.sim.patient_photo(check.urn, patient)  # type: ignore[union-attr]
            return desk.override(self.ctx, check, patient, supervisor, password, photo, reason)  # type: ignore[arg-type]

        self.supervisor_password.clear()  # typed once per override, never kept on screen
        self._run(work, self._verified)

    def _verified(self, verification: desk.Verification | None) -> None:
        self.verification = verification
        if verification is None:
            self.banner.show_message(self.tr("The fingerprint did not match. Try an attendant's finger or a "
                                             "supervisor's override."), "error")
            return
        methods = {VerifyMethod.FINGER: self.tr("own finger"),
                   VerifyMethod.OTHER_FINGER: self.tr("own other finger"),
                   VerifyMethod.ATTENDANT: self.tr("attendant's finger"),
                   VerifyMethod.OVERRIDE: self.tr("supervisor override")}
        text = self.tr("Patient verified ({0}, {1} tries).").format(methods.get(verification.method,
                                                                                verification.method.value),
                                                                    len(verification.attempts))
        if verification.flags:
            text += " " + self.tr("Fraud flag raised: {0}.").format(", ".join(f.value for f in verification.flags))
        self.banner.show_message(text, "error" if verification.flags else "ok")

    def write_claims(self) -> None:
        """The day's signed claims file for the insurer (queued claims up to today, caught-up days too)."""
        ctx = self.ctx
        out = self.sim.hospital_dir / "claims"
        self._run(lambda progress: claims.write_daily_claims(ctx, ctx.now().date(), out),  # type: ignore[union-attr]
                  self._claims_written)

    def _claims_written(self, filed: claims.ClaimsFile) -> None:
        self.last_claims = filed
        self.banner.show_message(self.tr("Claims file for {0}: {1} claims, {2} fraud flags, signed by the hospital "
                                         "card.\n{3}").format(filed.day.isoformat(), filed.claims, filed.flags,
                                                              filed.path), "ok")

    def admit(self) -> None:
        code, check, verification, preauth = (self.package.currentData(), self.check, self.verification,
                                              self.preauth.text())
        # Fraud flags do not stop an admission (a doctor decides); they go on the banner and into the claims.
        self._run(lambda progress: treatment.admit(self.ctx, check, verification, code,  # type: ignore[arg-type]
                                                   preauth_ref=preauth, accept_flags=True), self._admitted)

    def _admitted(self, result: treatment.AdmissionResult) -> None:
        self.admission.addItem(f"{result.ref}: Rs {result.blocked / 100:,.0f}", result.ref)
        self.admission.setCurrentIndex(self.admission.count() - 1)
        self.final.setValue(result.blocked // 100)
        self.preauth.clear()
        text = self.tr("Admitted {0}: Rs {1:,.0f} blocked, balance Rs {2:,.0f}.").format(
            result.ref, result.blocked / 100, result.balance_after / 100)
        if result.flags:
            text += " " + self.tr("Fraud flag raised: {0}.").format(", ".join(f.value for f in result.flags))
        self.banner.show_message(text, "error" if result.flags else "ok")

    def discharge(self) -> None:
        ref, check, amount = self.admission.currentData(), self.check, self.final.value() * 100
        self._run(lambda progress: treatment.discharge(self.ctx, check, ref, amount), self._discharged)  # type: ignore[arg-type]

    def _discharged(self, result: treatment.DischargeResult) -> None:
        self.admission.removeItem(self.admission.currentIndex())
        self.banner.show_message(self.tr("Discharged {0}: Rs {1:,.0f} debited, Rs {2:,.0f} released, transport "
                                         "Rs {3:,.0f}; balance Rs {4:,.0f}.").format(
            result.ref, result.final_amount / 100, result.released / 100, result.transport / 100,
            result.balance_after / 100), "ok")

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # Qt's name
        self.runner.wait(10_000)
        if self.scanner is not None:
            self.scanner.close()
        if self.sim.db is not None:
            self.sim.db.close()
        super().closeEvent(event)
