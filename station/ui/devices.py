"""The station's four devices as the desktop app holds them: opened once, probed on demand, shared safely.

Nothing here decides anything about enrolment; it only opens devices through their packages'
registries (one config string each), reports what those registries and drivers say, and lets the
UI watch each fingerprint capture so it can show the quality score while the core's capture job runs.
"""

from __future__ import annotations

import contextlib
import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from biometrics.camera import Camera, CameraError, Frame, open_camera
from biometrics.errors import BiometricsError, PoorQualityError
from biometrics.scanner import (
    DEFAULT_TIMEOUT,
    CapturedImage,
    DeviceInfo,
    Scanner,
    TemplateCapture,
    open_scanner,
    template_from_image,
)
from biometrics.scanner_errors import ScannerError
from cardlib.errors import CardError, ReaderNotFoundError
from cardlib.transport import Transport, open_transport
from station.config import StationConfig


class DeviceKind(enum.Enum):
    FAMILY_READER = "family reader"
    AUTHORITY_READER = "authority reader"
    SCANNER = "scanner"
    CAMERA = "camera"


class DeviceState(enum.Enum):
    READY = "ready"
    MISSING = "missing"
    ERROR = "error"


@dataclass(frozen=True)
class DeviceStatus:
    kind: DeviceKind
    config: str
    state: DeviceState
    detail: str  # the driver's or registry's own words (device model, or what went wrong and what to do)
    card_present: bool | None = None  # readers only


# Errors that mean "the device is not there" rather than "it is there but misbehaving".
_MISSING_NAMES = ("NotFound", "Disconnected")


def _state_for(exc: BaseException) -> DeviceState:
    if isinstance(exc, ReaderNotFoundError) or any(n in type(exc).__name__ for n in _MISSING_NAMES):
        return DeviceState.MISSING
    return DeviceState.ERROR


@dataclass(frozen=True)
class QualityFeedback:
    """One capture as the operator sees it: the score, the engine's reasons and the image."""

    score: int
    accepted: bool
    reasons: tuple[str, ...]  # advice texts from biometrics.quality
    image: CapturedImage | None


class WatchedScanner(Scanner):
    """Passes every call to the real scanner and tells ``on_capture`` how each template capture went.

    The gate is biometrics' own (:func:`biometrics.scanner.template_from_image`); this wrapper only
    looks at the result so the UI can draw the score bar while the core's job decides what happens.
    """

    def __init__(self, inner: Scanner) -> None:
        self.inner = inner
        self.config = inner.config
        self.on_capture: Callable[[QualityFeedback], None] | None = None

    def device_info(self) -> DeviceInfo:
        return self.inner.device_info()

    def wait_for_finger(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.inner.wait_for_finger(timeout)

    def wait_for_finger_removed(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.inner.wait_for_finger_removed(timeout)

    def capture_image(self, timeout: float = DEFAULT_TIMEOUT) -> CapturedImage:
        return self.inner.capture_image(timeout)

    def capture_template(self, timeout: float = DEFAULT_TIMEOUT) -> TemplateCapture:
        image = self.inner.capture_image(timeout)
        try:
            result = template_from_image(image)
        except PoorQualityError as exc:
            self._tell(QualityFeedback(_score_of(exc), False, _advice(exc.reasons), image))
            raise
        self._tell(QualityFeedback(result.quality, True, (), image))
        return result

    def _tell(self, feedback: QualityFeedback) -> None:
        if self.on_capture is not None:
            self.on_capture(feedback)

    def close(self) -> None:
        self.inner.close()


def _advice(reasons: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(getattr(r, "advice", None) or str(getattr(r, "value", r)) for r in reasons)


def _score_of(exc: PoorQualityError) -> int:
    """The score biometrics put in its refusal ("quality 23/100 ..."); 0 when it did not say."""
    text = str(exc)
    marker = text.find("/100")
    if marker <= 0:
        return 0
    digits = ""
    for ch in reversed(text[:marker]):
        if not ch.isdigit():
            break
        digits = ch + digits
    return int(digits) if digits else 0


class SharedCamera:
    """One open camera used by the preview timer and by the photo step, one call at a time."""

    def __init__(self, camera: Camera) -> None:
        self.camera = camera
        self._lock = threading.Lock()

    def preview_frame(self) -> Frame:
        with self._lock:
            return self.camera.preview_frame()

    def take_photo(self) -> Frame:
        with self._lock:
            return self.camera.take_photo()

    def close(self) -> None:
        with self._lock:
            self.camera.close()


class Devices:
    """Opens each configured device on first use and keeps it; ``forget`` drops a failed one."""

    def __init__(self, config: StationConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._scanner: WatchedScanner | None = None
        self._camera: SharedCamera | None = None

    def scanner(self) -> WatchedScanner:
        with self._lock:
            if self._scanner is None:
                self._scanner = WatchedScanner(open_scanner(self.config.scanner))
            return self._scanner

    def camera(self) -> SharedCamera:
        with self._lock:
            if self._camera is None:
                cam = open_camera(self.config.camera)
                cam.open()
                self._camera = SharedCamera(cam)
            return self._camera

    def reader(self, kind: DeviceKind) -> Transport:
        """A connected transport to the card in that reader (raises NoCardError when it is empty)."""
        config = self.config.reader_family if kind is DeviceKind.FAMILY_READER else self.config.reader_authority
        transport = open_transport(config)
        transport.connect()
        return transport

    def forget(self, kind: DeviceKind) -> None:
        with self._lock:
            if kind is DeviceKind.SCANNER and self._scanner is not None:
                scanner, self._scanner = self._scanner, None
                _quietly(scanner.close)
            if kind is DeviceKind.CAMERA and self._camera is not None:
                camera, self._camera = self._camera, None
                _quietly(camera.close)

    def close(self) -> None:
        self.forget(DeviceKind.SCANNER)
        self.forget(DeviceKind.CAMERA)

    # -- status ----------------------------------------------------------------------------------------
    def probe(self, kind: DeviceKind) -> DeviceStatus:
        """Ask the device (not a cache) whether it works now; never raises."""
        config = {DeviceKind.FAMILY_READER: self.config.reader_family,
                  DeviceKind.AUTHORITY_READER: self.config.reader_authority,
                  DeviceKind.SCANNER: self.config.scanner, DeviceKind.CAMERA: self.config.camera}[kind]
        try:
            if kind is DeviceKind.SCANNER:
                info = self.scanner().device_info()
                detail = f"{info.model} ({info.identifier}, {info.width}×{info.height} @ {info.dpi} dpi)"
            elif kind is DeviceKind.CAMERA:
                camera = self.camera()
                frame = camera.preview_frame()
                info = camera.camera.device_info()
                detail = f"{info.model} ({frame.width}×{frame.height})"
            else:
                detail, present = _probe_reader(config)
                return DeviceStatus(kind, config, DeviceState.READY, detail, present)
        except (CardError, ScannerError, CameraError, BiometricsError, OSError, ValueError) as exc:
            if kind in (DeviceKind.SCANNER, DeviceKind.CAMERA):
                self.forget(kind)
            return DeviceStatus(kind, config, _state_for(exc), str(exc) or type(exc).__name__)
        return DeviceStatus(kind, config, DeviceState.READY, detail)

    def probe_all(self) -> tuple[DeviceStatus, ...]:
        return tuple(self.probe(kind) for kind in DeviceKind)


def _probe_reader(config: str) -> tuple[str, bool]:
    """(reader name, whether a card is in it); raises the transport's error when the reader is not usable.

    Only asks for presence: connecting would power-cycle a card another step holds open (the FKO card).
    """
    transport = open_transport(config)
    try:
        return transport.reader_name, transport.card_present()
    finally:
        _quietly(transport.close)


def _quietly(fn: Callable[[], None]) -> None:
    # Closing a device that already failed must not hide the first error.
    with contextlib.suppress(Exception):
        fn()
