"""A device that fails during capture gives a clear message and loses nothing.

The scanner is the ZFM serial simulator on a real pty (the same bytes a USB-serial module sends), so a
pulled cable, line noise and a wrong handshake are the real failures of the real driver; the camera
is the simulator with its device gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from biometrics.fingers import FingerPosition
from biometrics.scanner import open_scanner
from biometrics.scanner_errors import ScannerDisconnected
from simulators.fingers import SyntheticFinger, finger_seed
from simulators.scanner.server import ScannerSimulator
from station.storage.models import BiometricException, Capture, CaptureKind
from station.workflows import households as hh
from station.workflows.capture import DeviceFailed, FingerCapture, capture_photo
from station.workflows.session import CampContext

URN = "10092310010000003"  # two members in the camp fixture's list


@lru_cache(maxsize=4)
def impression(position: FingerPosition) -> np.ndarray:
    return SyntheticFinger(finger_seed(f"{URN}/1", position)).impression(0)


@pytest.fixture
def zfm(tmp_path: Path) -> Iterator[ScannerSimulator]:
    sim = ScannerSimulator(tmp_path / "zfm0", tmp_path / "bank").start()
    yield sim
    sim.stop()


def counts(ctx: CampContext) -> tuple[int, int]:
    with ctx.db.transaction() as s:
        fingers = s.scalar(select(func.count(Capture.id)).where(Capture.kind == CaptureKind.FINGER))
        exceptions = s.scalar(select(func.count(BiometricException.id)))
    return int(fingers or 0), int(exceptions or 0)


def test_scanner_pulled_mid_capture_keeps_the_first_finger_and_resumes(camp: CampContext, zfm) -> None:
    hh.begin_enrolment(camp, URN)
    scanner = open_scanner(f"zfm:{zfm.link}?timeout=2")
    placed: list[FingerPosition] = []

    def prompt(finger: FingerPosition, attempt: int) -> None:
        if placed:  # the first finger went in; now the cable comes out
            zfm.unplug()
            return
        placed.append(finger)
        zfm.glass.place_image(impression(finger))

    with pytest.raises(DeviceFailed) as failure:
        FingerCapture(camp, URN, 1, scanner, prompt=prompt, timeout=2.0).run()
    message = str(failure.value)
    assert "fingerprint scanner" in message and "ScannerDisconnected" in message and "replug" in message
    assert placed[0].label in message  # says which finger is kept
    assert counts(camp) == (1, 0)  # the first finger is stored, and no exception blamed on the person

    zfm.replug()
    scanner.close()
    scanner = open_scanner(f"zfm:{zfm.link}?timeout=2")
    try:
        outcome = FingerCapture(camp, URN, 1, scanner, timeout=2.0,
                                prompt=lambda finger, attempt: zfm.glass.place_image(impression(finger))).run()
    finally:
        scanner.close()
    assert outcome.exception is None and len(outcome.fingers) == 2 and placed[0] in outcome.fingers
    assert counts(camp) == (2, 0)


def test_line_noise_on_every_reply_stops_with_a_clear_error(camp: CampContext, zfm) -> None:
    hh.begin_enrolment(camp, URN)
    scanner = open_scanner(f"zfm:{zfm.link}?timeout=2")
    try:
        def prompt(finger: FingerPosition, attempt: int) -> None:
            zfm.glass.place_image(impression(finger))
            zfm.glass.set_fault("corrupt_checksum", True)

        with pytest.raises(DeviceFailed, match="ChecksumError") as failure:
            FingerCapture(camp, URN, 1, scanner, prompt=prompt, timeout=2.0).run()
    finally:
        zfm.glass.set_fault("corrupt_checksum", 0)
        scanner.close()
    assert "no finger yet" in str(failure.value)
    assert counts(camp) == (0, 0)


def test_scanner_refusing_the_handshake_is_a_device_error(camp: CampContext, zfm) -> None:
    hh.begin_enrolment(camp, URN)
    scanner = open_scanner(f"zfm:{zfm.link}?timeout=2")
    try:
        # Someone set a module password (the module keeps it in flash); our config does not know it.
        scanner.module.set_password(0x1234)
        zfm.unplug()
        zfm.replug()  # power cycle: the module now asks for the password
        with pytest.raises(ScannerDisconnected):
            scanner.device_info()  # the driver notices the replug; its next call reconnects
        with pytest.raises(DeviceFailed, match="ScannerAuthError") as failure:
            FingerCapture(camp, URN, 1, scanner, prompt=lambda f, a: None, timeout=2.0).run()
    finally:
        scanner.close()
    assert "password" in str(failure.value)
    assert counts(camp) == (0, 0)


def test_camera_gone_gives_a_clear_error_and_stores_nothing(camp: CampContext) -> None:
    from biometrics.camera import open_camera

    hh.begin_enrolment(camp, URN)
    camera = open_camera("sim:faces")
    camera.open()
    camera.close()  # the camera is unplugged: take_photo fails
    with pytest.raises(DeviceFailed, match="camera"):
        capture_photo(camp, URN, 1, camera)
    with camp.db.transaction() as s:
        assert s.scalar(select(func.count(Capture.id))) == 0
