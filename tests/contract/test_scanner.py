"""One contract for every Scanner backend available here: the ZFM backend over the simulator's pty,
libfprint's virtual image device, and the in-process simulator.

Each backend comes with a harness that puts a finger on its glass the way that device gets one: the
simulator's control API for ``zfm:`` and ``sim:``, the virtual device's socket for ``libfprint:``.
"""

from __future__ import annotations

import socket
import struct
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

import simulators.scanner  # noqa: F401  (registers sim:)
from biometrics.errors import PoorQualityError
from biometrics.fingers import FingerPosition
from biometrics.libfprint_scanner import libfprint_available
from biometrics.scanner import (
    CapturedImage,
    DeviceInfo,
    Scanner,
    TemplateCapture,
    available_backends,
    open_scanner,
    register_backend,
)
from biometrics.scanner_errors import ScannerConfigError, ScannerDisconnected, ScannerNotFound, ScannerTimeout
from biometrics.zfm.image import fit_to_sensor, pack_image, unpack_image
from simulators.scanner.inprocess import glass_for
from simulators.scanner.server import ScannerSimulator


@lru_cache(maxsize=8)
def finger(index: int = 0, condition: str = "normal") -> np.ndarray:
    from simulators.fingers import Condition, SyntheticFinger, finger_seed

    seed = finger_seed("contract/member-2", FingerPosition.RIGHT_THUMB)
    image = SyntheticFinger(seed).impression(index, Condition(condition))
    image.setflags(write=False)
    return image


def engine_available() -> bool:
    try:
        from biometrics.quality import assess  # noqa: F401
    except ImportError:
        return False
    return True


class Harness:
    scheme = ""
    resting_finger_is_reported = True  # the device notices a finger that stays after a capture
    scanner: Scanner

    def place(self, image: np.ndarray) -> None:
        raise NotImplementedError

    def lift(self) -> None:
        raise NotImplementedError

    def expected(self, image: np.ndarray) -> np.ndarray:
        return image

    def close(self) -> None:
        self.scanner.close()


class ZfmHarness(Harness):
    scheme = "zfm"

    def __init__(self, tmp: Path) -> None:
        self.sim = ScannerSimulator(tmp / "zfm0", tmp / "bank").start()
        self.scanner = open_scanner(f"zfm:{self.sim.link}?timeout=1")

    def place(self, image):
        self.sim.glass.place_image(image)

    def lift(self):
        self.sim.glass.lift()

    def expected(self, image):
        return unpack_image(pack_image(fit_to_sensor(image)))  # 256 x 288 window, 16 grey levels

    def close(self):
        super().close()
        self.sim.stop()


class SimHarness(Harness):
    scheme = "sim"

    def __init__(self, tmp: Path) -> None:
        name = f"contract-{uuid.uuid4().hex[:8]}"
        self.glass = glass_for(name)
        self.scanner = open_scanner(f"sim:{name}")

    def place(self, image):
        self.glass.place_image(image)

    def lift(self):
        self.glass.lift()


class LibfprintHarness(Harness):
    """A finger resting on libfprint's virtual device: each capture that waits for a finger gets it."""

    scheme = "libfprint"
    resting_finger_is_reported = False  # libfprint reports finger status only while capturing

    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.socket_path = str(tmp / "fp.sock")
        monkeypatch.setenv("FP_VIRTUAL_IMAGE", self.socket_path)  # read when the context enumerates
        self.scanner = open_scanner("libfprint:virtual_image")
        self._image: np.ndarray | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._finger, daemon=True)
        self._thread.start()

    def _finger(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + 5
        while True:  # the device may still be setting up its listener right after open
            try:
                sock.connect(self.socket_path)
                break
            except (ConnectionRefusedError, FileNotFoundError):
                if time.monotonic() > deadline or self._stop.is_set():
                    sock.close()
                    return
                time.sleep(0.02)
        with sock:
            while not self._stop.is_set():
                image = self._image
                if image is None or not self.scanner.finger_needed():
                    time.sleep(0.01)
                    continue
                height, width = image.shape
                sock.sendall(struct.pack("<ii", width, height) + image.tobytes())
                while self.scanner.finger_needed() and not self._stop.is_set():
                    time.sleep(0.01)  # this capture has its image; wait for the next one

    def place(self, image):
        self._image = np.ascontiguousarray(image)

    def lift(self):
        self._image = None

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        super().close()


BACKENDS = ["zfm", "sim", "libfprint"]


@pytest.fixture(params=BACKENDS)
def harness(request, monkeypatch) -> Iterator[Harness]:
    tmp = Path(tempfile.mkdtemp(prefix="scn-", dir="/tmp"))  # short: UNIX socket paths max 107 bytes
    if request.param == "zfm":
        h: Harness = ZfmHarness(tmp)
    elif request.param == "sim":
        h = SimHarness(tmp)
    else:
        if not libfprint_available():
            pytest.skip("libfprint 2 GObject bindings not installed")
        h = LibfprintHarness(tmp, monkeypatch)
    try:
        yield h
    finally:
        h.close()
        for p in sorted(tmp.rglob("*"), reverse=True):
            p.unlink() if not p.is_dir() else p.rmdir()
        tmp.rmdir()


# --- the contract ------------------------------------------------------------------------------


def test_device_info_names_the_backend(harness: Harness):
    info = harness.scanner.device_info()
    assert isinstance(info, DeviceInfo)
    assert info.backend == harness.scheme
    assert info.model and info.identifier
    assert 100 <= info.dpi <= 2000
    assert harness.scanner.config.startswith(f"{harness.scheme}:")


def test_capture_returns_the_finger_on_the_glass(harness: Harness):
    harness.place(finger(0))
    image = harness.scanner.capture_image(timeout=5)
    assert isinstance(image, CapturedImage)
    assert image.pixels.dtype == np.uint8 and image.pixels.ndim == 2
    assert image.dpi == 500
    assert np.array_equal(image.pixels, harness.expected(finger(0)))


def test_no_finger_times_out_near_the_deadline(harness: Harness):
    harness.lift()
    started = time.monotonic()
    with pytest.raises(ScannerTimeout, match="no finger"):
        harness.scanner.capture_image(timeout=0.4)
    assert 0.3 < time.monotonic() - started < 2.5


def test_wait_for_finger_then_capture_then_removed(harness: Harness):
    harness.place(finger(1))
    harness.scanner.wait_for_finger(timeout=5)
    image = harness.scanner.capture_image(timeout=5)
    assert np.array_equal(image.pixels, harness.expected(finger(1)))
    harness.lift()
    harness.scanner.wait_for_finger_removed(timeout=5)


def test_a_resting_finger_keeps_wait_for_removed_waiting(harness: Harness):
    if not harness.resting_finger_is_reported:
        pytest.skip(f"{harness.scheme} reports finger status only during a capture")
    harness.place(finger(0))
    harness.scanner.capture_image(timeout=5)
    with pytest.raises(ScannerTimeout, match="stayed on"):
        harness.scanner.wait_for_finger_removed(timeout=0.3)


def test_consecutive_captures_follow_the_finger(harness: Harness):
    for index in (0, 2):
        harness.place(finger(index))
        assert np.array_equal(harness.scanner.capture_image(timeout=5).pixels, harness.expected(finger(index)))
        harness.lift()


@pytest.mark.skipif(not engine_available(), reason="fingerprint engine not in this build yet")
def test_capture_template_uses_our_engine(harness: Harness):
    harness.place(finger(0))
    captured = harness.scanner.capture_template(timeout=5)
    assert isinstance(captured, TemplateCapture)
    assert 0 < captured.quality <= 100
    assert len(captured.template.minutiae) >= 10
    assert captured.template.dpi == captured.image.dpi


@pytest.mark.skipif(not engine_available(), reason="fingerprint engine not in this build yet")
def test_contact_without_ridges_is_refused(harness: Harness):
    # Something touches the glass but shows no ridges (a smear, a glove): no template may come of it.
    blank = np.clip(np.random.default_rng(5).normal(200, 8, (400, 400)), 0, 255).astype(np.uint8)
    harness.place(blank)
    with pytest.raises(PoorQualityError):
        harness.scanner.capture_template(timeout=5)


def test_scanner_is_a_context_manager(harness: Harness):
    with harness.scanner as scanner:
        assert scanner is harness.scanner


# --- the registry ------------------------------------------------------------------------------


def test_registry_lists_every_backend_in_its_error():
    assert {"zfm", "libfprint", "sim"} <= set(available_backends())
    with pytest.raises(ScannerConfigError) as info:
        open_scanner("twain:0")
    for scheme in ("zfm", "libfprint", "sim"):
        assert f"'{scheme}:…'" in str(info.value)


def test_register_backend_adds_a_scheme_and_rejects_odd_names():
    register_backend("contractsim", lambda rest: open_scanner(f"sim:{rest}"))
    assert open_scanner("contractsim:desk-9").config == "contractsim:desk-9"
    with pytest.raises(ValueError, match="plain word"):
        register_backend("no spaces please", lambda rest: open_scanner("sim:x"))


def test_missing_libfprint_device_names_what_it_found(monkeypatch):
    if not libfprint_available():
        pytest.skip("libfprint 2 GObject bindings not installed")
    monkeypatch.delenv("FP_VIRTUAL_IMAGE", raising=False)
    with pytest.raises(ScannerNotFound):
        open_scanner("libfprint:no-such-scanner")


def test_bad_sim_names_are_refused():
    with pytest.raises(ScannerConfigError, match="must be a word"):
        open_scanner("sim:")
    with pytest.raises(ScannerConfigError, match="must be a word"):
        open_scanner("sim:../desk-1")


# --- backend specifics the contract cannot express ----------------------------------------------


def test_libfprint_retry_and_removal_are_clear_errors(monkeypatch):
    if not libfprint_available():
        pytest.skip("libfprint 2 GObject bindings not installed")
    harness = LibfprintHarness(Path(tempfile.mkdtemp(prefix="scn-", dir="/tmp")), monkeypatch)
    harness._stop.set()  # this test drives the device's socket itself
    harness._thread.join(timeout=5)
    scanner = harness.scanner
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(harness.socket_path)

            def command(kind: int, arg: int) -> None:
                deadline = time.monotonic() + 5
                while not scanner.finger_needed() and time.monotonic() < deadline:
                    time.sleep(0.01)
                sock.sendall(struct.pack("<ii", kind, arg))

            threading.Thread(target=command, args=(-1, 0)).start()  # driver asks for a retry
            with pytest.raises(PoorQualityError, match="another try"):
                scanner.capture_image(timeout=5)
            threading.Thread(target=command, args=(-5, 0)).start()  # device unplugged
            with pytest.raises(ScannerDisconnected, match="plug it back in"):
                scanner.capture_image(timeout=5)
        # "Plugged back in": the next call enumerates again and opens the device afresh.
        Path(harness.socket_path).unlink(missing_ok=True)
        assert scanner.device_info().backend == "libfprint"
        with pytest.raises(ScannerTimeout):
            scanner.capture_image(timeout=0.3)
    finally:
        scanner.close()
        Path(harness.socket_path).unlink(missing_ok=True)
        Path(harness.socket_path).parent.rmdir()
