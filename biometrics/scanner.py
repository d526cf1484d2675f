"""One interface for every fingerprint scanner, chosen by one config string.

``open_scanner("zfm:/dev/ttyUSB0")`` (serial ZhianTec modules: R30x, R503, AS608),
``open_scanner("libfprint:0")`` (USB image scanners through libfprint 2) and, once ``simulators`` is
imported, ``open_scanner("sim:desk-1")`` all return a :class:`Scanner`. Backends are resolved by the
scheme before the first colon; ``register_backend`` adds more (the simulators register ``sim`` that way,
because ``biometrics`` must not import ``simulators``).

A scanner delivers images; templates are always made by our own engine
(``biometrics.quality.assess`` / ``biometrics.pipeline.extract``), never by the device, so that every
template on a card is comparable with every other whichever scanner took it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from biometrics.errors import ImageFormatError, PoorQualityError
from biometrics.minutiae import FingerprintTemplate
from biometrics.registry import BackendRegistry
from biometrics.scanner_errors import ScannerConfigError

DEFAULT_TIMEOUT = 10.0  # seconds an operator gets to put a finger down before the capture gives up


@dataclass(frozen=True, slots=True, eq=False)
class CapturedImage:
    """One greyscale impression as the scanner delivered it (uint8, 0 = black ridge, 255 = white)."""

    pixels: np.ndarray
    dpi: int = 500

    def __post_init__(self) -> None:
        if not isinstance(self.pixels, np.ndarray) or self.pixels.ndim != 2 or self.pixels.dtype != np.uint8:
            raise ImageFormatError("a captured image must be a 2-D uint8 array; the backend delivered another shape")
        if not (100 <= self.dpi <= 2000):
            raise ImageFormatError(f"captured image resolution {self.dpi} dpi is outside 100..2000")

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the station shows and logs about the scanner in use."""

    backend: str  # registry scheme: "zfm", "libfprint", "sim"
    model: str  # human-readable model / driver name
    identifier: str  # port, USB device id or simulator name
    width: int  # native image size in pixels
    height: int
    dpi: int
    details: tuple[tuple[str, str], ...] = field(default=())  # backend-specific facts, e.g. library size

    def detail(self, key: str) -> str | None:
        return dict(self.details).get(key)


@dataclass(frozen=True, slots=True, eq=False)
class TemplateCapture:
    """A template made by our engine from one captured image, with the image's quality score."""

    template: FingerprintTemplate
    quality: int  # 0..100, biometrics.quality score of the image
    image: CapturedImage


class Scanner(ABC):
    """A fingerprint scanner. Not thread-safe: one workflow drives one scanner at a time."""

    config: str = ""

    @abstractmethod
    def device_info(self) -> DeviceInfo:
        """Describe the device (asks the device where it can, so it also proves the link works)."""

    @abstractmethod
    def wait_for_finger(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Return once a finger is on the glass; raise ``ScannerTimeout`` when none came in time."""

    @abstractmethod
    def capture_image(self, timeout: float = DEFAULT_TIMEOUT) -> CapturedImage:
        """Wait for a finger (up to ``timeout``) and return its image."""

    @abstractmethod
    def wait_for_finger_removed(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Return once the glass is clear; raise ``ScannerTimeout`` if the finger stays."""

    def capture_template(self, timeout: float = DEFAULT_TIMEOUT) -> TemplateCapture:
        """Capture an image and make our template from it, refusing captures below the quality gate."""
        return template_from_image(self.capture_image(timeout))

    def close(self) -> None:  # noqa: B027 - backends without resources need not override it
        """Release the device; a closed scanner must be opened again with ``open_scanner``."""

    def __enter__(self) -> Scanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def template_from_image(image: CapturedImage) -> TemplateCapture:
    """Run the engine's quality gate on one image; one extraction serves both the gate and the template.

    Raises ``PoorQualityError`` (with the engine's ``QualityIssue`` reasons) when the image is below the
    capture gate, including when it shows no finger at all.
    """
    from biometrics import quality  # imported on first capture: it pulls in the whole extraction pipeline

    report = quality.assess(image.pixels, dpi=image.dpi)
    if not report.acceptable or report.template is None:
        why = "; ".join(str(getattr(r, "value", r)) for r in report.reasons) or "low score"
        raise PoorQualityError(
            f"fingerprint quality {report.score}/100 is below the capture gate ({why}); "
            "ask for the finger to be cleaned and placed flat, then capture again",
            reasons=tuple(report.reasons),
        )
    return TemplateCapture(template=report.template, quality=int(report.score), image=image)


# --- registry -------------------------------------------------------------------------------------

ScannerFactory = Callable[[str], Scanner]

_registry: BackendRegistry[Scanner] = BackendRegistry(
    "scanner", "'zfm:/dev/ttyUSB0', 'libfprint:0'", ScannerConfigError,
    hints={"sim": "import simulators first (it registers the in-process simulator)"},
)


def register_backend(scheme: str, factory: ScannerFactory) -> None:
    """Make ``open_scanner(f"{scheme}:...")`` call ``factory(rest_of_config)``; replaces an earlier one."""
    _registry.register(scheme, factory)


def available_backends() -> tuple[str, ...]:
    return _registry.schemes()


def open_scanner(config: str) -> Scanner:
    """Open the scanner named by ``config`` (``scheme:argument``)."""
    scanner = _registry.resolve(config)
    scanner.config = config
    return scanner


def _open_zfm(rest: str) -> Scanner:
    from biometrics.zfm.backend import open_zfm

    return open_zfm(rest)


def _open_libfprint(rest: str) -> Scanner:
    from biometrics.libfprint_scanner import open_libfprint

    return open_libfprint(rest)


register_backend("zfm", _open_zfm)
register_backend("libfprint", _open_libfprint)
