"""The ZFM module simulator on a real pty: faults, persistence, a pulled cable, the control socket,
the command line, and an independent client library (pyfingerprint) working unchanged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import pytest

from biometrics.fingers import FingerPosition
from biometrics.scanner_errors import (
    ChecksumError,
    ScannerAuthError,
    ScannerDisconnected,
    ScannerNotFound,
    ScannerTimeout,
)
from biometrics.zfm.backend import ZfmScanner
from biometrics.zfm.image import fit_to_sensor, pack_image, unpack_image
from simulators.scanner.control import ControlServer, control_path, send
from simulators.scanner.server import ScannerSimulator

REPO = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=16)
def impression(person: str, position: FingerPosition, index: int, condition: str = "normal") -> np.ndarray:
    from simulators.fingers import Condition, SyntheticFinger, finger_seed

    image = SyntheticFinger(finger_seed(person, position)).impression(index, Condition(condition))
    image.setflags(write=False)
    return image


def thumb(index: int = 0, condition: str = "normal") -> np.ndarray:
    return impression("household-7/member-2", FingerPosition.RIGHT_THUMB, index, condition)


def sensor_view(image: np.ndarray) -> np.ndarray:
    return unpack_image(pack_image(fit_to_sensor(image)))


def engine_available() -> bool:
    try:
        from biometrics.matching import THRESHOLDS, match  # noqa: F401
        from biometrics.quality import assess  # noqa: F401
    except ImportError:
        return False
    return True


needs_engine = pytest.mark.skipif(not engine_available(), reason="fingerprint engine not in this build yet")


@pytest.fixture
def sim(tmp_path):
    with ScannerSimulator(tmp_path / "zfm0", tmp_path / "bank") as simulator:
        yield simulator


@pytest.fixture
def scanner(sim):
    scanner = ZfmScanner(str(sim.link), timeout=0.5)
    yield scanner
    scanner.close()


def test_capture_over_the_pty_is_the_finger_on_the_glass(sim, scanner):
    sim.glass.place_image(thumb())
    image = scanner.capture_image(timeout=2)
    assert image.pixels.shape == (288, 256) and image.dpi == 500
    assert np.array_equal(image.pixels, sensor_view(thumb()))


def test_synthetic_finger_by_member_position_and_impression(sim, scanner):
    sim.glass.place_finger("household-7/member-2", "right thumb", 3)
    assert np.array_equal(scanner.capture_image(timeout=2).pixels, sensor_view(thumb(3)))
    assert sim.glass.status()["finger"] == "household-7/member-2 right thumb #3"


def test_no_finger_fault_hides_the_finger(sim, scanner):
    sim.glass.place_image(thumb())
    sim.glass.set_fault("no_finger")
    started = time.monotonic()
    with pytest.raises(ScannerTimeout, match="no finger was placed"):
        scanner.capture_image(timeout=0.3)
    assert time.monotonic() - started < 1.5
    sim.glass.set_fault("no_finger", False)
    scanner.capture_image(timeout=1)


def test_timeout_fault_makes_the_module_silent_then_it_recovers(sim, scanner):
    sim.glass.set_fault("timeout")
    with pytest.raises(ScannerTimeout, match="did not answer"):
        scanner.device_info()
    sim.glass.set_fault("timeout", False)
    assert scanner.device_info().backend == "zfm"


def test_one_corrupted_reply_is_retried_a_corrupted_line_is_reported(sim, scanner):
    sim.glass.place_image(thumb())
    sim.glass.set_fault("corrupt_checksum", 1)
    assert np.array_equal(scanner.capture_image(timeout=1).pixels, sensor_view(thumb()))
    assert sim.glass.faults.corrupt_checksum == 0
    sim.glass.set_fault("corrupt_checksum", True)  # every reply
    with pytest.raises(ChecksumError, match="check the cable"):
        scanner.device_info()
    sim.glass.set_fault("corrupt_checksum", 0)
    assert scanner.device_info().dpi == 500


def test_line_noise_before_replies_is_skipped_over_the_pty(sim, scanner):
    """A modem probe, stray bytes and a false frame header ahead of every reply (the noise a long
    cable or ModemManager produces): the backend skips them and counts them, captures still work."""
    from simulators.scanner.server import LINE_NOISE

    sim.glass.place_image(thumb())
    sim.glass.set_fault("garbage", True)
    before = scanner.module.discarded_bytes
    assert np.array_equal(scanner.capture_image(timeout=1).pixels, sensor_view(thumb()))
    assert scanner.device_info().dpi == 500
    assert scanner.module.discarded_bytes - before >= 2 * len(LINE_NOISE)
    sim.glass.set_fault("garbage", 0)
    assert scanner.module.template_count() == 0


def test_wet_and_dry_faults_change_what_the_sensor_sees(sim, scanner):
    sim.glass.place_finger("household-7/member-2", FingerPosition.RIGHT_THUMB, 0)
    normal = scanner.capture_image(timeout=1).pixels
    sim.glass.set_fault("wet")
    wet = scanner.capture_image(timeout=1).pixels
    sim.glass.set_fault("dry")
    dry = scanner.capture_image(timeout=1).pixels
    assert np.array_equal(wet, sensor_view(thumb(0, "wet")))
    assert np.array_equal(dry, sensor_view(thumb(0, "dry")))
    assert not np.array_equal(wet, normal) and not np.array_equal(dry, normal)


def test_conditions_degrade_folder_images_too(sim, scanner):
    sim.glass.place_image(thumb())
    normal = scanner.capture_image(timeout=1).pixels.astype(float)
    sim.glass.set_fault("wet")
    assert scanner.capture_image(timeout=1).pixels.mean() < normal.mean() - 20  # flooded: darker
    sim.glass.set_fault("dry")
    assert scanner.capture_image(timeout=1).pixels.mean() > normal.mean() + 10  # faint ridges


@needs_engine
def test_smudged_finger_fails_the_quality_gate(sim, scanner):
    from biometrics.errors import PoorQualityError

    sim.glass.place_image(thumb(), condition="smudged")
    with pytest.raises(PoorQualityError):
        scanner.capture_template(timeout=1)


def test_pulled_cable_is_reported_and_the_backend_recovers(sim, scanner):
    sim.glass.place_image(thumb())
    scanner.capture_image(timeout=1)
    sim.unplug()
    with pytest.raises(ScannerDisconnected):
        scanner.capture_image(timeout=1)
    with pytest.raises(ScannerNotFound, match="plug in the scanner"):
        scanner.capture_image(timeout=1)
    sim.replug()
    assert scanner.capture_image(timeout=1).pixels.shape == (288, 256)


def test_template_library_survives_a_restart(tmp_path):
    char_file = bytes(range(256)) * 2
    with ScannerSimulator(tmp_path / "zfm0", tmp_path / "bank") as sim:
        scanner = ZfmScanner(str(sim.link), timeout=0.5)
        scanner.module.down_char(1, char_file)
        scanner.module.store(1, 5)
        scanner.close()
    assert not (tmp_path / "zfm0").exists()
    with ScannerSimulator(tmp_path / "zfm0", tmp_path / "bank") as sim:
        scanner = ZfmScanner(str(sim.link), timeout=0.5)
        assert scanner.module.template_count() == 1
        scanner.module.load_char(2, 5)
        assert scanner.module.up_char(2) == char_file
        scanner.close()
        sim.reset(erase_flash=True)
        assert ZfmScanner(str(sim.link)).module.template_count() == 0


def test_password_is_required_and_kept_in_flash(tmp_path):
    with ScannerSimulator(tmp_path / "zfm0", tmp_path / "bank") as sim:
        scanner = ZfmScanner(str(sim.link), timeout=0.5)
        scanner.module.set_password(0x00C0FFEE)
        scanner.close()
    with ScannerSimulator(tmp_path / "zfm0", tmp_path / "bank") as sim:
        with pytest.raises(ScannerAuthError, match="password"):
            ZfmScanner(str(sim.link), timeout=0.5)
        ZfmScanner(str(sim.link), password=0x00C0FFEE, timeout=0.5).close()


def test_control_socket_places_fingers_and_refuses_bad_requests(sim, scanner, tmp_path):
    cv2.imwrite(str(tmp_path / "bank" / "probe.png"), thumb(1))
    control = ControlServer(sim).start()
    try:
        path = control_path(sim.link)
        reply = send(path, {"op": "place", "file": "probe.png"})
        assert reply["ok"] and reply["finger"] == "probe.png" and "probe.png" in reply["images"]
        assert np.array_equal(scanner.capture_image(timeout=1).pixels, sensor_view(thumb(1)))
        reply = send(path, {"op": "place", "person": "hh-1/member-2", "finger": "sixth toe"})
        assert not reply["ok"] and "unknown finger" in reply["error"]
        assert send(path, {"op": "status"})["finger"] == "probe.png"  # the bad request changed nothing
        assert not send(path, {"op": "fault", "name": "gremlins"})["ok"]
        assert not send(path, {"op": "teleport"})["ok"]
        assert send(path, {"op": "fault", "name": "no_finger"})["faults"]["no_finger"] is True
        assert send(path, {"op": "reset"})["finger"] is None
    finally:
        control.stop()


def test_command_line_serves_until_sigterm(tmp_path):
    link, bank = tmp_path / "zfm-cli", tmp_path / "bank"
    bank.mkdir()
    cv2.imwrite(str(bank / "101_1.png"), thumb(2))
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulators", "scanner", "--link", str(link), "--bank", str(bank)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert "scanner ready" in proc.stdout.readline()
        assert send(control_path(link), {"op": "place", "file": "101_1.png"})["ok"]
        with ZfmScanner(str(link), timeout=1) as scanner:
            assert np.array_equal(scanner.capture_image(timeout=2).pixels, sensor_view(thumb(2)))
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert not link.exists() and not control_path(link).exists()


# --- an independent client library, unchanged ---------------------------------------------------


@pytest.fixture
def pyfp(sim):
    module = pytest.importorskip("pyfingerprint.pyfingerprint")
    return module.PyFingerprint(str(sim.link), 57600, 0xFFFFFFFF, 0x00000000)


def test_pyfingerprint_handshake_capture_and_4bit_image_download(sim, pyfp, tmp_path):
    from PIL import Image

    assert pyfp.verifyPassword() is True
    assert pyfp.getStorageCapacity() == sim.module.library_size
    assert pyfp.getTemplateCount() == 0
    assert pyfp.readImage() is False  # no finger
    sim.glass.place_image(thumb())
    assert pyfp.readImage() is True
    pyfp.downloadImage(str(tmp_path / "finger.png"))
    downloaded = np.asarray(Image.open(tmp_path / "finger.png"))
    assert np.array_equal(downloaded, sensor_view(thumb()))
    char_file = [(i * 7) % 256 for i in range(512)]  # the library's own upload-then-read-back check
    assert pyfp.uploadCharacteristics(0x02, char_file) is True
    assert pyfp.downloadCharacteristics(0x02) == char_file


def test_pyfingerprint_wrong_password_is_refused(tmp_path):
    module = pytest.importorskip("pyfingerprint.pyfingerprint")
    with ScannerSimulator(tmp_path / "zfm0", tmp_path / "bank") as sim:
        sim.module.state["password"] = 0x1234
        sim.module.power_cycle()
        assert module.PyFingerprint(str(sim.link), 57600, 0xFFFFFFFF, 0x9999).verifyPassword() is False


@needs_engine
def test_pyfingerprint_enrol_store_search_and_compare(sim, pyfp):
    from biometrics import matching, quality

    assert pyfp.verifyPassword()
    sim.glass.place_image(thumb(0))
    for buffer in (0x01, 0x02):  # enrol as the library's example does: read the resting finger twice
        assert pyfp.readImage()
        pyfp.convertImage(buffer)
    assert pyfp.compareCharacteristics() > 50  # above the module's match threshold
    assert pyfp.createTemplate() is True
    assert pyfp.storeTemplate() == 0
    assert pyfp.getTemplateCount() == 1
    assert len(pyfp.downloadCharacteristics(0x01)) == 512

    assert pyfp.readImage()
    pyfp.convertImage(0x01)
    position, score = pyfp.searchTemplate()
    assert position == 0 and 50 <= score <= 300

    # Another impression: the module must answer exactly what our matcher decides for the two crops.
    enrolled, probe = (quality.assess(sensor_view(thumb(i)), 500).template for i in (0, 2))
    expected = matching.match(enrolled, probe).score >= matching.THRESHOLDS[0.001]  # security level 3
    sim.glass.place_image(thumb(2))
    assert pyfp.readImage()
    pyfp.convertImage(0x01)
    assert (pyfp.searchTemplate()[0] == 0) is expected

    other = impression("household-9/member-1", FingerPosition.LEFT_INDEX, 0)
    sim.glass.place_image(other)
    assert pyfp.readImage()
    pyfp.convertImage(0x01)
    assert pyfp.searchTemplate() == (-1, -1)
    pyfp.loadTemplate(0, 0x02)
    assert pyfp.compareCharacteristics() == 0

    sim.glass.lift()
    assert pyfp.readImage() is False


def test_simulator_stops_cleanly_even_when_a_host_keeps_the_port_open(tmp_path):
    sim = ScannerSimulator(tmp_path / "zfm0").start()
    fd = os.open(sim.link, os.O_RDWR | os.O_NOCTTY)
    try:
        sim.stop()
        assert not (tmp_path / "zfm0").exists()
    finally:
        os.close(fd)


def test_wrong_module_address_is_a_timeout_naming_the_address(sim):
    with pytest.raises(ScannerTimeout, match="module address"):
        ZfmScanner(str(sim.link), address=0x12345678, timeout=0.3)
