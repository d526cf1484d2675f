"""``sim:<name>``: a scanner with no link at all, for fast tests and the demo.

Each name has one ``Glass`` for the life of the process; ``glass_for(name)`` hands it to the test or
demo that decides which finger is on it (same control API as the serial simulator's glass).
"""

from __future__ import annotations

import threading
import time

from biometrics.scanner import DEFAULT_TIMEOUT, CapturedImage, DeviceInfo, Scanner, register_backend
from biometrics.scanner_errors import ScannerConfigError, ScannerTimeout
from simulators.scanner.glass import Glass

DPI = 500
NOMINAL_SIZE = 400  # synthetic impressions are 400 x 400; folder images keep their own size
POLL_INTERVAL = 0.01

_lock = threading.Lock()
_glasses: dict[str, Glass] = {}


def glass_for(name: str) -> Glass:
    """The glass of the in-process scanner ``name`` (created on first use)."""
    with _lock:
        return _glasses.setdefault(name, Glass())


class SimScanner(Scanner):
    def __init__(self, name: str) -> None:
        if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ScannerConfigError(f"sim scanner name {name!r} must be a word such as 'desk-1'")
        self.name = name
        self.glass = glass_for(name)

    def device_info(self) -> DeviceInfo:
        return DeviceInfo("sim", "in-process simulated scanner", self.name, NOMINAL_SIZE, NOMINAL_SIZE, DPI)

    def _wait(self, want_finger: bool, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.glass.faults.timeout or self.glass.present() != want_finger:
            if time.monotonic() >= deadline:
                if self.glass.faults.timeout:
                    raise ScannerTimeout(f"simulated scanner {self.name!r} did not answer within {timeout:g} s")
                raise ScannerTimeout(
                    f"no finger was placed on scanner {self.name!r} within {timeout:g} s; ask for the finger again"
                    if want_finger
                    else f"the finger stayed on scanner {self.name!r} for {timeout:g} s; ask for it to be lifted"
                )
            time.sleep(POLL_INTERVAL)

    def wait_for_finger(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._wait(True, timeout)

    def wait_for_finger_removed(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._wait(False, timeout)

    def capture_image(self, timeout: float = DEFAULT_TIMEOUT) -> CapturedImage:
        deadline = time.monotonic() + timeout
        while True:
            self._wait(True, max(0.0, deadline - time.monotonic()))
            image = self.glass.read()
            if image is not None:  # the finger may have been lifted between the check and the read
                return CapturedImage(image, DPI)


register_backend("sim", SimScanner)
