"""``libfprint:<index or name>``: USB image scanners through libfprint 2 (GObject introspection).

libfprint drives the USB optical and capacitive image scanners Linux supports (DigitalPersona
U.are.U 4000/4500, many Elan, Upek, AuthenTec, ... sensors). We only ask it for images
(``capture_sync``); templates are made by our own engine like for every other scanner.

``libfprint:`` or ``libfprint:0`` opens the first device, ``libfprint:1`` the second, and
``libfprint:uru4000`` / ``libfprint:U.are.U`` the first whose driver id or name contains the text.
Needs ``gir1.2-fprint-2.0`` from apt and ``pygobject<3.51`` in the venv.
"""

from __future__ import annotations

import contextlib
import threading
import time

import numpy as np

from biometrics.errors import PoorQualityError
from biometrics.scanner import DEFAULT_TIMEOUT, CapturedImage, DeviceInfo, Scanner
from biometrics.scanner_errors import ScannerDisconnected, ScannerError, ScannerNotFound, ScannerTimeout

DEFAULT_DPI = 500  # what libfprint's own minutiae code assumes when a driver reports no resolution
_INSTALL_HINT = "install apt gir1.2-fprint-2.0 and `pip install 'pygobject<3.51'` (the libfprint extra)"


def _load_gi():
    try:
        import gi

        gi.require_version("FPrint", "2.0")
        from gi.repository import FPrint, Gio, GLib
    except (ImportError, ValueError) as exc:
        raise ScannerNotFound(f"libfprint is not available to Python; {_INSTALL_HINT}") from exc
    return FPrint, Gio, GLib


def libfprint_available() -> bool:
    try:
        _load_gi()
    except ScannerNotFound:
        return False
    return True


def open_libfprint(rest: str) -> LibfprintScanner:
    return LibfprintScanner(rest.strip())


class LibfprintScanner(Scanner):
    """One libfprint image device. The device is opened at construction and on reconnection."""

    def __init__(self, selector: str = "") -> None:
        self.selector = selector
        self._fp, self._gio, self._glib = _load_gi()
        self._device = None
        self._pending: CapturedImage | None = None  # image taken by wait_for_finger, not yet handed out
        self._last_size = (0, 0)
        self._open()

    # --- device management ---------------------------------------------------------------------

    def _find(self):
        # A fresh context per (re)open: libfprint enumerates devices when the context is created, so a
        # replugged scanner is only seen by a new one.
        devices = list(self._fp.Context().get_devices())
        found = [f"{i}: {d.get_driver()} ({d.get_name()})" for i, d in enumerate(devices)]
        if not devices:
            raise ScannerNotFound("libfprint finds no fingerprint scanner; plug one in (see docs/devices-scanners.md)")
        if self.selector == "":
            return devices[0]
        if self.selector.isdigit():
            index = int(self.selector)
            if index < len(devices):
                return devices[index]
        else:
            needle = self.selector.lower()
            for device in devices:
                if needle in device.get_driver().lower() or needle in device.get_name().lower():
                    return device
        raise ScannerNotFound(
            f"no libfprint scanner matches {self.selector!r}; found: {'; '.join(found)}. "
            "Use 'libfprint:<index>' or part of a driver or device name"
        )

    def _open(self) -> None:
        device = self._find()
        if not device.has_feature(self._fp.DeviceFeature.CAPTURE):
            raise ScannerNotFound(
                f"the libfprint device {device.get_name()!r} is a match-on-chip reader that never hands out "
                "images; the station needs an image scanner (see docs/devices-scanners.md)"
            )
        try:
            device.open_sync(None)
        except self._glib.Error as exc:
            raise ScannerDisconnected(
                f"libfprint could not open {device.get_name()!r} ({exc.message}); replug it, check that "
                "fprintd is not holding it, and retry"
            ) from exc
        self._device = device

    def _dev(self):
        if self._device is None:
            self._open()
        return self._device

    def close(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            with contextlib.suppress(self._glib.Error):  # already gone (unplugged): nothing to release
                device.close_sync(None)

    # --- Scanner -------------------------------------------------------------------------------

    def device_info(self) -> DeviceInfo:
        device = self._dev()
        return DeviceInfo(
            backend="libfprint",
            model=device.get_name(),
            identifier=f"{device.get_driver()}:{device.get_device_id()}",
            width=self._last_size[0],  # 0 until the first capture: libfprint reports sizes per image
            height=self._last_size[1],
            dpi=DEFAULT_DPI,
            details=(("driver", device.get_driver()), ("scan_type", device.get_scan_type().value_nick)),
        )

    def _capture(self, timeout: float) -> CapturedImage:
        device = self._dev()
        cancellable = self._gio.Cancellable()
        timer = threading.Timer(timeout, cancellable.cancel)
        timer.start()
        try:
            image = device.capture_sync(True, cancellable)
        except self._glib.Error as exc:
            raise self._translate(exc, timeout) from exc
        finally:
            timer.cancel()
        width, height = image.get_width(), image.get_height()
        pixels = np.frombuffer(bytes(image.get_data()), dtype=np.uint8)
        if pixels.size != width * height:
            raise ScannerError(f"libfprint delivered {pixels.size} pixels for a {width}x{height} image; capture again")
        ppmm = image.get_ppmm()
        dpi = round(ppmm * 25.4) if ppmm and ppmm > 0 else DEFAULT_DPI
        self._last_size = (width, height)
        return CapturedImage(pixels.reshape(height, width).copy(), dpi)

    def _translate(self, exc, timeout: float) -> Exception:
        if exc.matches(self._gio.io_error_quark(), self._gio.IOErrorEnum.CANCELLED):
            return ScannerTimeout(f"no finger was placed on the scanner within {timeout:g} s; ask for the finger again")
        if exc.domain == self._glib.quark_to_string(self._fp.device_retry_quark()):
            return PoorQualityError(f"the scanner asks for another try ({exc.message}); place the finger again")
        errors = self._fp.device_error_quark()
        if exc.matches(errors, self._fp.DeviceError.REMOVED) or exc.matches(errors, self._fp.DeviceError.PROTO):
            self._device = None  # reopened by the next call
            return ScannerDisconnected(
                f"the USB scanner went away ({exc.message}); plug it back in, the next capture reopens it"
            )
        return ScannerError(f"libfprint capture failed: {exc.message}; retry, or replug the scanner")

    def wait_for_finger(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        # libfprint image devices report a finger only by capturing it; keep that image for capture_image.
        if self._pending is None:
            self._pending = self._capture(timeout)

    def capture_image(self, timeout: float = DEFAULT_TIMEOUT) -> CapturedImage:
        image, self._pending = self._pending, None
        return image if image is not None else self._capture(timeout)

    def finger_needed(self) -> bool:
        """Whether the device is waiting for a finger right now (a capture is running): for UI prompts."""
        device = self._device
        return device is not None and bool(device.get_finger_status() & self._fp.FingerStatusFlags.NEEDED)

    def wait_for_finger_removed(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        device = self._dev()
        present = self._fp.FingerStatusFlags.PRESENT
        context = self._glib.MainContext.default()
        deadline = time.monotonic() + timeout
        while device.get_finger_status() & present:
            if time.monotonic() >= deadline:
                raise ScannerTimeout(f"the finger stayed on the scanner for {timeout:g} s; ask for it to be lifted")
            context.iteration(False)
            time.sleep(0.01)
